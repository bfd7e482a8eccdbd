// Package expr parses and evaluates DynamoDB expressions: condition (and filter and key
// condition) expressions, update expressions and projection expressions, with document paths
// (a.b[0].c) and ExpressionAttributeNames / ExpressionAttributeValues placeholders.
//
// Placeholders are resolved while parsing, so a parsed expression is self-contained and is
// evaluated against an item.Item without further context. All errors are *Error, carrying
// DynamoDB's message for a ValidationException.
package expr

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stateward/stateward/internal/dynamodb/item"
)

// Error is an invalid expression or parameter; Msg is DynamoDB's message.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) *Error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// MaxExpressionSize is DynamoDB's limit on one expression's length in bytes.
const MaxExpressionSize = 4096

// Env holds one request's ExpressionAttributeNames and ExpressionAttributeValues and notes
// which of them the request's expressions use, since DynamoDB refuses unused ones.
type Env struct {
	names      map[string]string
	values     map[string]item.Value
	usedNames  map[string]bool
	usedValues map[string]bool
}

// NewEnv checks the placeholders' spelling and returns an Env over them. Either map may be nil.
func NewEnv(names map[string]string, values map[string]item.Value) (*Env, error) {
	if names != nil && len(names) == 0 {
		return nil, errorf("ExpressionAttributeNames must not be empty")
	}
	if values != nil && len(values) == 0 {
		return nil, errorf("ExpressionAttributeValues must not be empty")
	}
	for _, k := range slices.Sorted(maps.Keys(names)) {
		if !validPlaceholder(k, '#') {
			return nil, errorf("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
		}
		if names[k] == "" {
			return nil, errorf("ExpressionAttributeNames contains invalid value: Empty attribute name provided for key %s", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if !validPlaceholder(k, ':') {
			return nil, errorf("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
		}
	}
	return &Env{names: names, values: values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}, nil
}

func validPlaceholder(k string, sigil byte) bool {
	if len(k) < 2 || k[0] != sigil {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !isWordByte(k[i]) {
			return false
		}
	}
	return true
}

// CheckUnused returns an error naming the placeholders no parsed expression used. Call it
// after parsing all of a request's expressions.
func (e *Env) CheckUnused() error {
	if u := unused(e.names, e.usedNames); u != "" {
		return errorf("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", u)
	}
	if u := unused(e.values, e.usedValues); u != "" {
		return errorf("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", u)
	}
	return nil
}

func unused[V any](m map[string]V, used map[string]bool) string {
	var out []string
	for k := range m {
		if !used[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// name resolves a #placeholder.
func (e *Env) name(k string) (string, bool) {
	v, ok := e.names[k]
	if ok {
		e.usedNames[k] = true
	}
	return v, ok
}

// value resolves a :placeholder.
func (e *Env) value(k string) (item.Value, bool) {
	v, ok := e.values[k]
	if ok {
		e.usedValues[k] = true
	}
	return v, ok
}
