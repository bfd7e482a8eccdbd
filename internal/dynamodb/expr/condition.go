package expr

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/dynamodb/item"
)

// Condition is a parsed condition (or filter) expression.
type Condition struct{ root cond }

// Eval reports whether it satisfies c. A nil item is an absent one: every attribute is
// missing, so attribute_not_exists holds and comparisons fail.
func (c *Condition) Eval(it item.Item) bool { return c.root.eval(it) }

// Paths are the document paths c reads.
func (c *Condition) Paths() []Path {
	var out []Path
	c.root.paths(&out)
	return out
}

type cond interface {
	eval(item.Item) bool
	paths(*[]Path)
}

type operand interface {
	value(item.Item) (item.Value, bool)
	paths(*[]Path)
}

type (
	andCond struct{ l, r cond }
	orCond  struct{ l, r cond }
	notCond struct{ c cond }
	cmpCond struct {
		op   string
		l, r operand
	}
	betweenCond struct{ v, lo, hi operand }
	inCond      struct {
		v    operand
		list []operand
	}
	funcCond struct {
		name string
		args []operand
		typ  item.Type // attribute_type's type
	}
	pathOp  struct{ path Path }
	valueOp struct{ v item.Value }
	sizeOp  struct{ path Path }
)

func (c *andCond) eval(it item.Item) bool { return c.l.eval(it) && c.r.eval(it) }
func (c *orCond) eval(it item.Item) bool  { return c.l.eval(it) || c.r.eval(it) }
func (c *notCond) eval(it item.Item) bool { return !c.c.eval(it) }

func (c *cmpCond) eval(it item.Item) bool {
	l, lok := c.l.value(it)
	r, rok := c.r.value(it)
	if c.op == "<>" {
		// A missing attribute is unequal to everything.
		return !lok || !rok || !item.Equal(l, r)
	}
	if !lok || !rok {
		return false
	}
	if c.op == "=" {
		return item.Equal(l, r)
	}
	n, ok := item.Compare(l, r)
	if !ok {
		return false
	}
	switch c.op {
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	case ">=":
		return n >= 0
	}
	return false
}

func (c *betweenCond) eval(it item.Item) bool {
	v, ok1 := c.v.value(it)
	lo, ok2 := c.lo.value(it)
	hi, ok3 := c.hi.value(it)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	a, oka := item.Compare(lo, v)
	b, okb := item.Compare(v, hi)
	return oka && okb && a <= 0 && b <= 0
}

func (c *inCond) eval(it item.Item) bool {
	v, ok := c.v.value(it)
	if !ok {
		return false
	}
	for _, o := range c.list {
		if w, ok := o.value(it); ok && item.Equal(v, w) {
			return true
		}
	}
	return false
}

func (c *funcCond) eval(it item.Item) bool {
	a, aok := c.args[0].value(it)
	switch c.name {
	case "attribute_exists":
		return aok
	case "attribute_not_exists":
		return !aok
	case "attribute_type":
		return aok && a.Type == c.typ
	}
	b, bok := c.args[1].value(it)
	if !aok || !bok {
		return false
	}
	switch c.name {
	case "begins_with":
		switch {
		case a.Type == item.S && b.Type == item.S:
			return strings.HasPrefix(a.S, b.S)
		case a.Type == item.B && b.Type == item.B:
			return bytes.HasPrefix(a.B, b.B)
		}
	case "contains":
		switch a.Type {
		case item.S:
			return b.Type == item.S && strings.Contains(a.S, b.S)
		case item.B:
			return b.Type == item.B && bytes.Contains(a.B, b.B)
		case item.SS, item.NS, item.BS:
			return a.Contains(b)
		case item.L:
			for _, e := range a.L {
				if item.Equal(e, b) {
					return true
				}
			}
		}
	}
	return false
}

func (o *pathOp) value(it item.Item) (item.Value, bool) { return Get(it, o.path) }
func (o *valueOp) value(item.Item) (item.Value, bool)   { return o.v, true }
func (o *sizeOp) value(it item.Item) (item.Value, bool) {
	v, ok := Get(it, o.path)
	if !ok {
		return item.Value{}, false
	}
	n, ok := v.Len()
	if !ok {
		return item.Value{}, false
	}
	return item.Number(strconv.Itoa(n)), true
}

func (c *andCond) paths(out *[]Path) { c.l.paths(out); c.r.paths(out) }
func (c *orCond) paths(out *[]Path)  { c.l.paths(out); c.r.paths(out) }
func (c *notCond) paths(out *[]Path) { c.c.paths(out) }
func (c *cmpCond) paths(out *[]Path) { c.l.paths(out); c.r.paths(out) }
func (c *betweenCond) paths(out *[]Path) {
	c.v.paths(out)
	c.lo.paths(out)
	c.hi.paths(out)
}
func (c *inCond) paths(out *[]Path) {
	c.v.paths(out)
	for _, o := range c.list {
		o.paths(out)
	}
}
func (c *funcCond) paths(out *[]Path) {
	for _, o := range c.args {
		o.paths(out)
	}
}
func (o *pathOp) paths(out *[]Path) { *out = append(*out, o.path) }
func (o *valueOp) paths(*[]Path)    {}
func (o *sizeOp) paths(out *[]Path) { *out = append(*out, o.path) }
