package expr

import (
	"slices"

	"github.com/stateward/stateward/internal/dynamodb/item"
)

// Update is a parsed update expression.
type Update struct{ actions []action }

type action struct {
	kind    string // SET, REMOVE, ADD, DELETE
	path    Path
	value   setExpr    // SET
	operand item.Value // ADD, DELETE
}

// Paths are the document paths the update writes, in expression order.
func (u *Update) Paths() []Path {
	out := make([]Path, len(u.actions))
	for i, a := range u.actions {
		out[i] = a.path
	}
	return out
}

var (
	errOperandType = errorf("An operand in the update expression has an incorrect data type")
	errNoAttribute = errorf("The provided expression refers to an attribute that does not exist in the item")
)

// Apply returns a new item: base with the update applied. Every value on the right-hand side
// is read from base, before any action changes it, as DynamoDB does. base is not modified.
func (u *Update) Apply(base item.Item) (item.Item, error) {
	sets := make([]item.Value, len(u.actions))
	for i, a := range u.actions {
		if a.kind == "SET" {
			v, err := a.value.eval(base)
			if err != nil {
				return nil, err
			}
			sets[i] = v
		}
	}
	root := item.Map(map[string]item.Value(base.Clone()))
	if root.M == nil {
		root.M = map[string]item.Value{}
	}
	var err error
	var removes []Path
	for i, a := range u.actions {
		switch a.kind {
		case "SET":
			root, err = setIn(root, a.path, sets[i].Clone())
		case "REMOVE":
			removes = append(removes, a.path)
		case "ADD":
			cur, ok := Get(root.M, a.path)
			var nv item.Value
			switch {
			case !ok:
				nv = a.operand.Clone()
			case cur.Type == item.N && a.operand.Type == item.N:
				if nv, err = item.Add(cur, a.operand); err != nil {
					return nil, err
				}
			case cur.IsSet() && cur.Type == a.operand.Type:
				nv = item.Union(cur, a.operand)
			default:
				return nil, errOperandType
			}
			root, err = setIn(root, a.path, nv)
		case "DELETE":
			cur, ok := Get(root.M, a.path)
			switch {
			case !ok:
				continue
			case cur.Type != a.operand.Type:
				return nil, errOperandType
			}
			nv := item.Difference(cur, a.operand)
			if n, _ := nv.Len(); n == 0 {
				root = removeIn(root, a.path)
			} else {
				root, err = setIn(root, a.path, nv)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	// Highest list indexes first, so removing one element does not shift the next target.
	slices.SortFunc(removes, func(a, b Path) int { return comparePaths(b, a) })
	for _, p := range removes {
		root = removeIn(root, p)
	}
	return item.Item(root.M), nil
}

type setExpr interface {
	eval(item.Item) (item.Value, error)
}

type (
	pathExpr    struct{ path Path }
	literalExpr struct{ v item.Value }
	arithExpr   struct {
		minus bool
		l, r  setExpr
	}
	ifNotExistsExpr struct {
		path Path
		def  setExpr
	}
	listAppendExpr struct{ l, r setExpr }
)

func (e *pathExpr) eval(it item.Item) (item.Value, error) {
	v, ok := Get(it, e.path)
	if !ok {
		return item.Value{}, errNoAttribute
	}
	return v, nil
}

func (e *literalExpr) eval(item.Item) (item.Value, error) { return e.v, nil }

func (e *arithExpr) eval(it item.Item) (item.Value, error) {
	l, err := e.l.eval(it)
	if err != nil {
		return item.Value{}, err
	}
	r, err := e.r.eval(it)
	if err != nil {
		return item.Value{}, err
	}
	if l.Type != item.N || r.Type != item.N {
		return item.Value{}, errOperandType
	}
	if e.minus {
		return item.Sub(l, r)
	}
	return item.Add(l, r)
}

func (e *ifNotExistsExpr) eval(it item.Item) (item.Value, error) {
	if v, ok := Get(it, e.path); ok {
		return v, nil
	}
	return e.def.eval(it)
}

func (e *listAppendExpr) eval(it item.Item) (item.Value, error) {
	l, err := e.l.eval(it)
	if err != nil {
		return item.Value{}, err
	}
	r, err := e.r.eval(it)
	if err != nil {
		return item.Value{}, err
	}
	if l.Type != item.L || r.Type != item.L {
		return item.Value{}, errOperandType
	}
	out := make([]item.Value, 0, len(l.L)+len(r.L))
	out = append(out, l.L...)
	return item.List(append(out, r.L...)...), nil
}
