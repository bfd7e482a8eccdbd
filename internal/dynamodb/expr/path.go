package expr

import (
	"slices"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/dynamodb/item"
)

// PathElem is one step of a document path: a map key or a list index.
type PathElem struct {
	Name    string
	Index   int
	IsIndex bool
}

// Path is a document path such as a.b[0].c; its first element is always a name, the
// item's top-level attribute.
type Path []PathElem

// String renders p as DynamoDB's messages do: [a, b, [0]].
func (p Path) String() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.IsIndex {
			parts[i] = "[" + strconv.Itoa(e.Index) + "]"
		} else {
			parts[i] = e.Name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Attribute is the top-level attribute the path starts at.
func (p Path) Attribute() string { return p[0].Name }

func (e PathElem) equal(o PathElem) bool {
	return e.IsIndex == o.IsIndex && e.Index == o.Index && e.Name == o.Name
}

// overlaps reports whether one path is a prefix of (or equal to) the other.
func overlaps(a, b Path) bool {
	n := min(len(a), len(b))
	for i := range n {
		if !a[i].equal(b[i]) {
			return false
		}
	}
	return true
}

// checkOverlap refuses paths of which one contains another.
func checkOverlap(kind string, paths []Path) error {
	for i := range paths {
		for j := i + 1; j < len(paths); j++ {
			if overlaps(paths[i], paths[j]) {
				return errorf("Invalid %s: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s",
					kind, paths[i], paths[j])
			}
		}
	}
	return nil
}

// Get returns the value at p in it.
func Get(it item.Item, p Path) (item.Value, bool) {
	v, ok := it[p[0].Name]
	if !ok {
		return item.Value{}, false
	}
	for _, e := range p[1:] {
		switch {
		case e.IsIndex && v.Type == item.L && e.Index < len(v.L):
			v = v.L[e.Index]
		case !e.IsIndex && v.Type == item.M:
			if v, ok = v.M[e.Name]; !ok {
				return item.Value{}, false
			}
		default:
			return item.Value{}, false
		}
	}
	return v, true
}

var errInvalidUpdatePath = errorf("The document path provided in the update expression is invalid for update")

// setIn returns v with nv stored at p, changing v's maps and lists in place (the caller owns
// them). Every step but the last must exist; a list index past the end appends.
func setIn(v item.Value, p Path, nv item.Value) (item.Value, error) {
	if len(p) == 0 {
		return nv, nil
	}
	e := p[0]
	if e.IsIndex {
		if v.Type != item.L {
			return v, errInvalidUpdatePath
		}
		if e.Index >= len(v.L) {
			if len(p) > 1 {
				return v, errInvalidUpdatePath
			}
			v.L = append(v.L, nv)
			return v, nil
		}
		child, err := setIn(v.L[e.Index], p[1:], nv)
		if err != nil {
			return v, err
		}
		v.L[e.Index] = child
		return v, nil
	}
	if v.Type != item.M {
		return v, errInvalidUpdatePath
	}
	child, ok := v.M[e.Name]
	if !ok && len(p) > 1 {
		return v, errInvalidUpdatePath
	}
	child, err := setIn(child, p[1:], nv)
	if err != nil {
		return v, err
	}
	v.M[e.Name] = child
	return v, nil
}

// removeIn returns v without the value at p; a missing path changes nothing.
func removeIn(v item.Value, p Path) item.Value {
	e := p[0]
	switch {
	case e.IsIndex && v.Type == item.L && e.Index < len(v.L):
		if len(p) == 1 {
			v.L = slices.Delete(v.L, e.Index, e.Index+1)
		} else {
			v.L[e.Index] = removeIn(v.L[e.Index], p[1:])
		}
	case !e.IsIndex && v.Type == item.M:
		child, ok := v.M[e.Name]
		switch {
		case !ok:
		case len(p) == 1:
			delete(v.M, e.Name)
		default:
			v.M[e.Name] = removeIn(child, p[1:])
		}
	}
	return v
}

// comparePaths orders paths element by element, indexes numerically, for applying REMOVE
// actions from the highest list index down.
func comparePaths(a, b Path) int {
	for i := range min(len(a), len(b)) {
		x, y := a[i], b[i]
		if x.IsIndex != y.IsIndex {
			if x.IsIndex {
				return 1
			}
			return -1
		}
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		if x.Index != y.Index {
			if x.Index < y.Index {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

// Projection is a parsed projection expression.
type Projection struct {
	paths []Path
	root  *projNode
}

// projNode is a trie of the projected paths; a leaf takes the whole value beneath it.
type projNode struct {
	leaf    bool
	names   map[string]*projNode
	indexes map[int]*projNode
}

func newProjection(paths []Path) *Projection {
	root := &projNode{}
	for _, p := range paths {
		n := root
		for _, e := range p {
			var next *projNode
			if e.IsIndex {
				if n.indexes == nil {
					n.indexes = map[int]*projNode{}
				}
				if next = n.indexes[e.Index]; next == nil {
					next = &projNode{}
					n.indexes[e.Index] = next
				}
			} else {
				if n.names == nil {
					n.names = map[string]*projNode{}
				}
				if next = n.names[e.Name]; next == nil {
					next = &projNode{}
					n.names[e.Name] = next
				}
			}
			n = next
		}
		n.leaf = true
	}
	return &Projection{paths: paths, root: root}
}

// NewProjection projects the named top-level attributes, as the legacy AttributesToGet does.
func NewProjection(names []string) *Projection {
	paths := make([]Path, len(names))
	for i, n := range names {
		paths[i] = Path{{Name: n}}
	}
	return newProjection(paths)
}

// NewPathProjection projects the given paths, such as an update's, for UPDATED_OLD and
// UPDATED_NEW.
func NewPathProjection(paths []Path) *Projection { return newProjection(paths) }

// Apply returns the parts of it the projection names; missing parts are left out, and
// projected list elements keep their order, without gaps.
func (p *Projection) Apply(it item.Item) item.Item {
	if it == nil {
		return nil
	}
	out := item.Item{}
	for name, child := range p.root.names {
		if v, ok := it[name]; ok {
			if pv, ok := child.apply(v); ok {
				out[name] = pv
			}
		}
	}
	return out
}

func (n *projNode) apply(v item.Value) (item.Value, bool) {
	if n.leaf {
		return v, true
	}
	switch {
	case v.Type == item.M && n.names != nil:
		m := map[string]item.Value{}
		for name, child := range n.names {
			if cv, ok := v.M[name]; ok {
				if pv, ok := child.apply(cv); ok {
					m[name] = pv
				}
			}
		}
		if len(m) == 0 {
			return item.Value{}, false
		}
		return item.Map(m), true
	case v.Type == item.L && n.indexes != nil:
		idx := make([]int, 0, len(n.indexes))
		for i := range n.indexes {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		var l []item.Value
		for _, i := range idx {
			if i < len(v.L) {
				if pv, ok := n.indexes[i].apply(v.L[i]); ok {
					l = append(l, pv)
				}
			}
		}
		if len(l) == 0 {
			return item.Value{}, false
		}
		return item.List(l...), true
	}
	return item.Value{}, false
}
