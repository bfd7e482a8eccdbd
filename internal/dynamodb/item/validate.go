package item

import "fmt"

// Error is a value that DynamoDB would refuse; its message is DynamoDB's, for a
// ValidationException.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) *Error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Limits on items and values.
const (
	MaxItemSize = 400 << 10 // bytes, by Size
	MaxDepth    = 32        // nesting of maps and lists
)

// Validate reports whether v could be stored: a known type, numbers in range, sets non-empty
// and free of duplicates, nesting at most MaxDepth deep.
func (v Value) Validate() error { return v.validate(0) }

func (v Value) validate(depth int) error {
	switch v.Type {
	case S, B, BOOL, NULL:
		return nil
	case N:
		return checkNumber(v.N)
	case M, L:
		if depth >= MaxDepth {
			return errorf("Nesting Levels have exceeded supported limits")
		}
		for _, e := range v.M {
			if err := e.validate(depth + 1); err != nil {
				return err
			}
		}
		for _, e := range v.L {
			if err := e.validate(depth + 1); err != nil {
				return err
			}
		}
		return nil
	case SS, NS, BS:
		n, _ := v.Len()
		if n == 0 {
			return errorf("One or more parameter values were invalid: An %s set  may not be empty",
				map[Type]string{SS: "string", NS: "number", BS: "binary"}[v.Type])
		}
		for _, s := range v.NS {
			if err := checkNumber(s); err != nil {
				return err
			}
		}
		if len(v.setKeys()) != n {
			return errorf("One or more parameter values were invalid: Input collection contains duplicates")
		}
		return nil
	}
	return errorf("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
}

func checkNumber(s string) error {
	d, ok := parseDecimal(s)
	if !ok {
		return errorf("The parameter cannot be converted to a numeric value: %s", s)
	}
	if msg := d.checkRange(); msg != "" {
		return errorf("%s", msg)
	}
	return nil
}

// Validate checks every value of it and its total size.
func (it Item) Validate() error {
	for _, v := range it {
		if err := v.validate(0); err != nil {
			return err
		}
	}
	if it.Size() > MaxItemSize {
		return errorf("Item size has exceeded the maximum allowed size")
	}
	return nil
}

// Size is DynamoDB's size of v in bytes: UTF-8 bytes of strings, raw bytes of binaries, about
// one byte per two significant digits of numbers, one byte for BOOL and NULL, the sum of the
// members of sets, and 3 bytes plus one per element (plus map keys) for lists and maps.
func (v Value) Size() int {
	switch v.Type {
	case S:
		return len(v.S)
	case N:
		return numberSize(v.N)
	case B:
		return len(v.B)
	case BOOL, NULL:
		return 1
	case SS:
		n := 0
		for _, s := range v.SS {
			n += len(s)
		}
		return n
	case NS:
		n := 0
		for _, s := range v.NS {
			n += numberSize(s)
		}
		return n
	case BS:
		n := 0
		for _, b := range v.BS {
			n += len(b)
		}
		return n
	case M:
		n := 3
		for k, e := range v.M {
			n += len(k) + e.Size() + 1
		}
		return n
	case L:
		n := 3
		for _, e := range v.L {
			n += e.Size() + 1
		}
		return n
	}
	return 0
}

// Size is the item's size: each attribute's name length plus its value's size.
func (it Item) Size() int {
	n := 0
	for k, v := range it {
		n += len(k) + v.Size()
	}
	return n
}
