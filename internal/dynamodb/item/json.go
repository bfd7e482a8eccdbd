package item

import (
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"
)

// MarshalJSON writes v in DynamoDB's wire form, e.g. {"S":"x"}, {"N":"1.5"}, {"B":"<base64>"}.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// MarshalJSON writes the item with its attributes in sorted order.
func (it Item) MarshalJSON() ([]byte, error) { return it.AppendJSON(nil), nil }

// AppendJSON appends the item's wire form to dst.
func (it Item) AppendJSON(dst []byte) []byte {
	if it == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	for i, k := range it.Names() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = it[k].AppendJSON(dst)
	}
	return append(dst, '}')
}

// AppendJSON appends v's wire form to dst.
func (v Value) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"`...)
	dst = append(dst, v.Type.String()...)
	dst = append(dst, `":`...)
	switch v.Type {
	case S:
		dst = appendString(dst, v.S)
	case N:
		dst = appendString(dst, v.N)
	case B:
		dst = appendBase64(dst, v.B)
	case BOOL:
		dst = appendBool(dst, v.Bool)
	case NULL:
		dst = append(dst, "true"...)
	case M:
		dst = Item(v.M).AppendJSON(dst)
	case L:
		dst = append(dst, '[')
		for i, e := range v.L {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.AppendJSON(dst)
		}
		dst = append(dst, ']')
	case SS, NS:
		members := v.SS
		if v.Type == NS {
			members = v.NS
		}
		dst = append(dst, '[')
		for i, s := range members {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, s)
		}
		dst = append(dst, ']')
	case BS:
		dst = append(dst, '[')
		for i, b := range v.BS {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendBase64(dst, b)
		}
		dst = append(dst, ']')
	default:
		dst = append(dst, "null"...)
	}
	return append(dst, '}')
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

func appendBase64(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Valid UTF-8 passes through unchanged, so a string
// decodes to exactly the bytes it was stored as.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// wireValue is the decoding shape of an attribute value: every member optional, so that
// "none" and "more than one" can be told apart.
type wireValue struct {
	S    *string           `json:"S"`
	N    *string           `json:"N"`
	B    *[]byte           `json:"B"`
	BOOL *bool             `json:"BOOL"`
	NULL *bool             `json:"NULL"`
	M    *map[string]Value `json:"M"`
	L    *[]Value          `json:"L"`
	SS   *[]string         `json:"SS"`
	NS   *[]string         `json:"NS"`
	BS   *[][]byte         `json:"BS"`
}

// UnmarshalJSON reads v from its wire form. JSON that does not fit the shape is a
// *json.UnmarshalTypeError or syntax error (a SerializationException); a well-formed value
// DynamoDB would refuse (no type or several, a bad number, an empty or duplicated set,
// NULL:false) is an *Error (a ValidationException). Nested values are checked as they are
// decoded; nesting depth is left to Validate.
func (v *Value) UnmarshalJSON(b []byte) error {
	var w wireValue
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	var out Value
	n := 0
	set := func(t Type) {
		n++
		out.Type = t
	}
	if w.S != nil {
		set(S)
		out.S = *w.S
	}
	if w.N != nil {
		set(N)
		out.N = *w.N
	}
	if w.B != nil {
		set(B)
		out.B = *w.B
		if out.B == nil {
			out.B = []byte{}
		}
	}
	if w.BOOL != nil {
		set(BOOL)
		out.Bool = *w.BOOL
	}
	if w.NULL != nil {
		set(NULL)
		if !*w.NULL {
			return errorf("One or more parameter values were invalid: Null attribute value types must have the value of true")
		}
	}
	if w.M != nil {
		set(M)
		out.M = *w.M
		if out.M == nil {
			out.M = map[string]Value{}
		}
	}
	if w.L != nil {
		set(L)
		out.L = *w.L
		if out.L == nil {
			out.L = []Value{}
		}
	}
	if w.SS != nil {
		set(SS)
		out.SS = *w.SS
	}
	if w.NS != nil {
		set(NS)
		out.NS = *w.NS
	}
	if w.BS != nil {
		set(BS)
		out.BS = *w.BS
	}
	switch {
	case n == 0:
		return errorf("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	case n > 1:
		return errorf("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	// Children have validated themselves; check this level only.
	switch out.Type {
	case N, SS, NS, BS:
		if err := out.validate(0); err != nil {
			return err
		}
	}
	for i := range out.BS {
		if out.BS[i] == nil {
			out.BS[i] = []byte{}
		}
	}
	*v = out
	return nil
}
