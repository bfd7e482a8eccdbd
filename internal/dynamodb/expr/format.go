package expr

import (
	"strconv"
	"strings"
)

// Canonical renderings of parsed expressions, fully parenthesized with placeholders
// resolved: for logs and golden tests.

func (p Path) dotted() string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.IsIndex:
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			if plainName(e.Name) {
				b.WriteString(e.Name)
			} else {
				b.WriteString(strconv.Quote(e.Name))
			}
		}
	}
	return b.String()
}

func plainName(s string) bool {
	if s == "" || keyword(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

func (c *Condition) String() string { return c.root.(interface{ String() string }).String() }

func (c *andCond) String() string { return "(" + str(c.l) + " AND " + str(c.r) + ")" }
func (c *orCond) String() string  { return "(" + str(c.l) + " OR " + str(c.r) + ")" }
func (c *notCond) String() string { return "(NOT " + str(c.c) + ")" }
func (c *cmpCond) String() string { return str(c.l) + " " + c.op + " " + str(c.r) }
func (c *betweenCond) String() string {
	return str(c.v) + " BETWEEN " + str(c.lo) + " AND " + str(c.hi)
}
func (c *inCond) String() string {
	parts := make([]string, len(c.list))
	for i, o := range c.list {
		parts[i] = str(o)
	}
	return str(c.v) + " IN (" + strings.Join(parts, ", ") + ")"
}
func (c *funcCond) String() string {
	parts := make([]string, len(c.args))
	for i, o := range c.args {
		parts[i] = str(o)
	}
	return c.name + "(" + strings.Join(parts, ", ") + ")"
}
func (o *pathOp) String() string  { return o.path.dotted() }
func (o *valueOp) String() string { return string(o.v.AppendJSON(nil)) }
func (o *sizeOp) String() string  { return "size(" + o.path.dotted() + ")" }

func str(v any) string { return v.(interface{ String() string }).String() }

func (u *Update) String() string {
	parts := make([]string, len(u.actions))
	for i, a := range u.actions {
		switch a.kind {
		case "SET":
			parts[i] = "SET " + a.path.dotted() + " = " + str(a.value)
		case "REMOVE":
			parts[i] = "REMOVE " + a.path.dotted()
		default:
			parts[i] = a.kind + " " + a.path.dotted() + " " + string(a.operand.AppendJSON(nil))
		}
	}
	return strings.Join(parts, "; ")
}

func (e *pathExpr) String() string    { return e.path.dotted() }
func (e *literalExpr) String() string { return string(e.v.AppendJSON(nil)) }
func (e *arithExpr) String() string {
	op := " + "
	if e.minus {
		op = " - "
	}
	return "(" + str(e.l) + op + str(e.r) + ")"
}
func (e *ifNotExistsExpr) String() string {
	return "if_not_exists(" + e.path.dotted() + ", " + str(e.def) + ")"
}
func (e *listAppendExpr) String() string {
	return "list_append(" + str(e.l) + ", " + str(e.r) + ")"
}

func (p *Projection) String() string {
	parts := make([]string, len(p.paths))
	for i, path := range p.paths {
		parts[i] = path.dotted()
	}
	return strings.Join(parts, ", ")
}
