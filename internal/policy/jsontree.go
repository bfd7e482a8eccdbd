package policy

import (
	"encoding/json"
	"io"
	"strings"
)

// jkind is the JSON type of a jvalue.
type jkind uint8

const (
	jString jkind = iota
	jNumber
	jBool
	jNull
	jArray
	jObject
)

// jvalue is a JSON value read with its members in document order, so that duplicate keys,
// which encoding/json silently merges, can be refused as IAM refuses them.
type jvalue struct {
	kind jkind
	s    string // a string's value, a number's text, "true" or "false"
	arr  []jvalue
	obj  []jmember
}

type jmember struct {
	key string
	val jvalue
}

// maxJSONDepth bounds nesting. The deepest valid policy is six levels (document, Statement
// list, statement, Condition, operator, value list); anything deeper is refused before it
// can cost stack or memory.
const maxJSONDepth = 8

// readJSON reads exactly one JSON value from text. Errors are *SyntaxError.
func readJSON(text string) (jvalue, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	v, err := readValue(dec, 1)
	if err != nil {
		return jvalue{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jvalue{}, syntaxErr("Syntax errors in policy.")
	}
	return v, nil
}

func readValue(dec *json.Decoder, depth int) (jvalue, error) {
	tok, err := dec.Token()
	if err != nil {
		return jvalue{}, syntaxErr("Syntax errors in policy.")
	}
	switch t := tok.(type) {
	case string:
		return jvalue{kind: jString, s: t}, nil
	case json.Number:
		return jvalue{kind: jNumber, s: string(t)}, nil
	case bool:
		if t {
			return jvalue{kind: jBool, s: "true"}, nil
		}
		return jvalue{kind: jBool, s: "false"}, nil
	case nil:
		return jvalue{kind: jNull}, nil
	case json.Delim:
		if depth > maxJSONDepth {
			return jvalue{}, syntaxErr("Syntax errors in policy.")
		}
		switch t {
		case '[':
			v := jvalue{kind: jArray}
			for dec.More() {
				e, err := readValue(dec, depth+1)
				if err != nil {
					return jvalue{}, err
				}
				v.arr = append(v.arr, e)
			}
			if _, err := dec.Token(); err != nil {
				return jvalue{}, syntaxErr("Syntax errors in policy.")
			}
			return v, nil
		case '{':
			v := jvalue{kind: jObject}
			var seen map[string]bool // only for large objects, where a scan would be quadratic
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return jvalue{}, syntaxErr("Syntax errors in policy.")
				}
				k, ok := kt.(string)
				if !ok {
					return jvalue{}, syntaxErr("Syntax errors in policy.")
				}
				if dupKey(v.obj, &seen, k) {
					return jvalue{}, syntaxErr("Syntax errors in policy. Duplicate field " + k + ".")
				}
				e, err := readValue(dec, depth+1)
				if err != nil {
					return jvalue{}, err
				}
				v.obj = append(v.obj, jmember{k, e})
			}
			if _, err := dec.Token(); err != nil {
				return jvalue{}, syntaxErr("Syntax errors in policy.")
			}
			return v, nil
		}
	}
	return jvalue{}, syntaxErr("Syntax errors in policy.")
}

// dupKey tells whether k is already a key of obj; seen is built once obj grows large.
func dupKey(obj []jmember, seen *map[string]bool, k string) bool {
	if len(obj) < 16 {
		for _, m := range obj {
			if m.key == k {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]bool, 2*len(obj))
		for _, m := range obj {
			(*seen)[m.key] = true
		}
	}
	if (*seen)[k] {
		return true
	}
	(*seen)[k] = true
	return false
}
