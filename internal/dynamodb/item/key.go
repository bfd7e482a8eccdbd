package item

import "fmt"

// Key encoding. Every encoding is prefix-free (no encoded value is a prefix of another), so a
// hash key's encoding followed by a range key's stays ordered by (hash, range), and bytewise
// order of encodings is DynamoDB's order of the values: strings and binaries by unsigned
// bytes, numbers by value.
//
//	S, B: the bytes with 0x00 escaped as 0x00 0xff, then the terminator 0x00 0x01
//	N:    see decimal.appendKey

// AppendKey appends the encoding of the key value v, which must be S, N or B.
func AppendKey(dst []byte, v Value) ([]byte, error) {
	switch v.Type {
	case S:
		return appendEscaped(dst, v.S), nil
	case B:
		return appendEscaped(dst, string(v.B)), nil
	case N:
		d, ok := v.decimal()
		if !ok {
			return dst, errorf("The parameter cannot be converted to a numeric value: %s", v.N)
		}
		return d.appendKey(dst), nil
	}
	return dst, fmt.Errorf("item: %s is not a key type", v.Type)
}

func appendEscaped(dst []byte, s string) []byte {
	dst = appendEscapedPrefix(dst, s)
	return append(dst, 0x00, 0x01)
}

// AppendKeyPrefix appends the part of the encoding that every S or B key beginning with v
// starts with, for begins_with. It panics on other types.
func AppendKeyPrefix(dst []byte, v Value) []byte {
	switch v.Type {
	case S:
		return appendEscapedPrefix(dst, v.S)
	case B:
		return appendEscapedPrefix(dst, string(v.B))
	}
	panic("item: AppendKeyPrefix of " + v.Type.String())
}

func appendEscapedPrefix(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0x00, 0xff)
		} else {
			dst = append(dst, s[i])
		}
	}
	return dst
}

// IsKeyType reports whether t may be a key attribute's type.
func (t Type) IsKeyType() bool { return t == S || t == N || t == B }
