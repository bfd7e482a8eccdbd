// Package item is DynamoDB's attribute value model: typed values with their exact JSON wire
// form, comparison as conditions and keys need it, DynamoDB's size accounting, validation,
// and an order-preserving byte encoding of key values for storage keys.
//
// Numbers keep the decimal text the client sent; they are validated as DynamoDB numbers (38
// significant digits, magnitude 1E-130 to 1E+126) and compared by value.
package item

import (
	"bytes"
	"cmp"
	"maps"
	"slices"
)

// Type is an attribute value's data type.
type Type uint8

// The DynamoDB data types, named as on the wire.
const (
	Invalid Type = iota
	S
	N
	B
	BOOL
	NULL
	M
	L
	SS
	NS
	BS
)

var typeNames = [...]string{Invalid: "", S: "S", N: "N", B: "B", BOOL: "BOOL", NULL: "NULL",
	M: "M", L: "L", SS: "SS", NS: "NS", BS: "BS"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return ""
}

// ParseType returns the type named name ("S", "NS", …).
func ParseType(name string) (Type, bool) {
	for t, n := range typeNames {
		if n == name && n != "" {
			return Type(t), true
		}
	}
	return Invalid, false
}

// Value is one attribute value. Type says which field holds it; the others are zero. Values
// are treated as immutable once built: share them freely, copy with Clone before changing.
type Value struct {
	Type Type
	S    string // S
	N    string // N: the decimal text as sent
	B    []byte // B
	Bool bool   // BOOL
	M    map[string]Value
	L    []Value
	SS   []string // SS
	NS   []string // NS: decimal texts
	BS   [][]byte // BS
}

// Item is one item: attribute name to value.
type Item map[string]Value

// Constructors, one per type. Number does not check its text; Validate does.

func String(s string) Value             { return Value{Type: S, S: s} }
func Number(text string) Value          { return Value{Type: N, N: text} }
func Binary(b []byte) Value             { return Value{Type: B, B: b} }
func Bool(b bool) Value                 { return Value{Type: BOOL, Bool: b} }
func Null() Value                       { return Value{Type: NULL} }
func Map(m map[string]Value) Value      { return Value{Type: M, M: m} }
func List(l ...Value) Value             { return Value{Type: L, L: l} }
func StringSet(members ...string) Value { return Value{Type: SS, SS: members} }
func NumberSet(members ...string) Value { return Value{Type: NS, NS: members} }
func BinarySet(members ...[]byte) Value { return Value{Type: BS, BS: members} }

func numberOf(d decimal) Value           { return Number(d.String()) }
func (v Value) decimal() (decimal, bool) { return parseDecimal(v.N) }

// IsSet reports whether v is SS, NS or BS.
func (v Value) IsSet() bool { return v.Type == SS || v.Type == NS || v.Type == BS }

// Len is the number of members or elements of a set, list or map, the bytes of a binary and
// the UTF-8 bytes of a string: what size() means in an expression. ok is false for other types.
func (v Value) Len() (n int, ok bool) {
	switch v.Type {
	case S:
		return len(v.S), true
	case B:
		return len(v.B), true
	case SS:
		return len(v.SS), true
	case NS:
		return len(v.NS), true
	case BS:
		return len(v.BS), true
	case L:
		return len(v.L), true
	case M:
		return len(v.M), true
	}
	return 0, false
}

// Equal reports whether a and b are the same value: numbers by value, sets regardless of
// order, lists and maps element by element.
func Equal(a, b Value) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case S:
		return a.S == b.S
	case N:
		da, oka := a.decimal()
		db, okb := b.decimal()
		if !oka || !okb {
			return a.N == b.N
		}
		return cmpDecimal(da, db) == 0
	case B:
		return bytes.Equal(a.B, b.B)
	case BOOL:
		return a.Bool == b.Bool
	case NULL:
		return true
	case M:
		if len(a.M) != len(b.M) {
			return false
		}
		for k, va := range a.M {
			vb, ok := b.M[k]
			if !ok || !Equal(va, vb) {
				return false
			}
		}
		return true
	case L:
		return slices.EqualFunc(a.L, b.L, Equal)
	case SS, NS, BS:
		ka, kb := a.setKeys(), b.setKeys()
		if len(ka) != len(kb) {
			return false
		}
		for k := range ka {
			if _, ok := kb[k]; !ok {
				return false
			}
		}
		return true
	}
	return false
}

// Compare orders two values of the same scalar type S, N or B: strings and binaries bytewise,
// numbers by value. ok is false for any other pair, which no ordering comparison satisfies.
func Compare(a, b Value) (c int, ok bool) {
	if a.Type != b.Type {
		return 0, false
	}
	switch a.Type {
	case S:
		return cmp.Compare(a.S, b.S), true
	case B:
		return bytes.Compare(a.B, b.B), true
	case N:
		da, oka := a.decimal()
		db, okb := b.decimal()
		if !oka || !okb {
			return 0, false
		}
		return cmpDecimal(da, db), true
	}
	return 0, false
}

// setKeys maps each member of a set to a canonical key (numbers by value).
func (v Value) setKeys() map[string]struct{} {
	keys := make(map[string]struct{})
	switch v.Type {
	case SS:
		for _, s := range v.SS {
			keys[s] = struct{}{}
		}
	case NS:
		for _, s := range v.NS {
			keys[numberKey(s)] = struct{}{}
		}
	case BS:
		for _, b := range v.BS {
			keys[string(b)] = struct{}{}
		}
	}
	return keys
}

func numberKey(s string) string {
	if d, ok := parseDecimal(s); ok {
		return d.canonical()
	}
	return s
}

// Contains reports whether the set v has member m (of the set's scalar type).
func (v Value) Contains(m Value) bool {
	switch {
	case v.Type == SS && m.Type == S:
		return slices.Contains(v.SS, m.S)
	case v.Type == NS && m.Type == N:
		k := numberKey(m.N)
		return slices.ContainsFunc(v.NS, func(s string) bool { return numberKey(s) == k })
	case v.Type == BS && m.Type == B:
		return slices.ContainsFunc(v.BS, func(b []byte) bool { return bytes.Equal(b, m.B) })
	}
	return false
}

// MemberType is the scalar type of a set's members, or Invalid.
func (t Type) MemberType() Type {
	switch t {
	case SS:
		return S
	case NS:
		return N
	case BS:
		return B
	}
	return Invalid
}

// Union returns the members of a and b (same set type), a's first.
func Union(a, b Value) Value {
	out := Value{Type: a.Type}
	seen := a.setKeys()
	switch a.Type {
	case SS:
		out.SS = slices.Clone(a.SS)
		for _, s := range b.SS {
			if _, ok := seen[s]; !ok {
				seen[s] = struct{}{}
				out.SS = append(out.SS, s)
			}
		}
	case NS:
		out.NS = slices.Clone(a.NS)
		for _, s := range b.NS {
			if k := numberKey(s); !has(seen, k) {
				seen[k] = struct{}{}
				out.NS = append(out.NS, s)
			}
		}
	case BS:
		out.BS = slices.Clone(a.BS)
		for _, m := range b.BS {
			if k := string(m); !has(seen, k) {
				seen[k] = struct{}{}
				out.BS = append(out.BS, m)
			}
		}
	}
	return out
}

// Difference returns the members of a not in b (same set type); it may be empty.
func Difference(a, b Value) Value {
	out := Value{Type: a.Type}
	drop := b.setKeys()
	switch a.Type {
	case SS:
		for _, s := range a.SS {
			if !has(drop, s) {
				out.SS = append(out.SS, s)
			}
		}
	case NS:
		for _, s := range a.NS {
			if !has(drop, numberKey(s)) {
				out.NS = append(out.NS, s)
			}
		}
	case BS:
		for _, m := range a.BS {
			if !has(drop, string(m)) {
				out.BS = append(out.BS, m)
			}
		}
	}
	return out
}

func has(m map[string]struct{}, k string) bool { _, ok := m[k]; return ok }

// Add returns the sum of two numbers, checked against DynamoDB's limits.
func Add(a, b Value) (Value, error) { return arith(a, b, false) }

// Sub returns a-b, checked against DynamoDB's limits.
func Sub(a, b Value) (Value, error) { return arith(a, b, true) }

func arith(a, b Value, sub bool) (Value, error) {
	da, oka := a.decimal()
	db, okb := b.decimal()
	if a.Type != N || b.Type != N || !oka || !okb {
		return Value{}, errorf("An operand in the update expression has an incorrect data type")
	}
	if sub {
		db = db.negate()
	}
	r := addDecimal(da, db)
	if msg := r.checkRange(); msg != "" {
		return Value{}, errorf("%s", msg)
	}
	return numberOf(r), nil
}

// Clone returns a deep copy of v.
func (v Value) Clone() Value {
	switch v.Type {
	case B:
		v.B = bytes.Clone(v.B)
	case M:
		m := make(map[string]Value, len(v.M))
		for k, e := range v.M {
			m[k] = e.Clone()
		}
		v.M = m
	case L:
		l := make([]Value, len(v.L))
		for i, e := range v.L {
			l[i] = e.Clone()
		}
		v.L = l
	case SS:
		v.SS = slices.Clone(v.SS)
	case NS:
		v.NS = slices.Clone(v.NS)
	case BS:
		bs := make([][]byte, len(v.BS))
		for i, b := range v.BS {
			bs[i] = bytes.Clone(b)
		}
		v.BS = bs
	}
	return v
}

// Clone returns a deep copy of it.
func (it Item) Clone() Item {
	if it == nil {
		return nil
	}
	out := make(Item, len(it))
	for k, v := range it {
		out[k] = v.Clone()
	}
	return out
}

// Names returns the item's attribute names in sorted order.
func (it Item) Names() []string { return slices.Sorted(maps.Keys(it)) }
