package expr

import (
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/dynamodb/item"
)

// maxListIndex bounds list indexes in paths; DynamoDB items cannot hold longer lists.
const maxListIndex = 1 << 20

// parser is a recursive-descent parser over one expression's tokens.
type parser struct {
	env  *Env
	kind string // "ConditionExpression", "UpdateExpression", …: the message prefix
	src  string
	toks []token
	i    int
}

func newParser(env *Env, kind, src string) (*parser, error) {
	if len(src) > MaxExpressionSize {
		return nil, errorf("Invalid %s: Expression size has exceeded the maximum allowed size; expression size: %d", kind, len(src))
	}
	toks := lex(src)
	if toks[0].kind == tEOF {
		return nil, errorf("Invalid %s: The expression can not be empty;", kind)
	}
	return &parser{env: env, kind: kind, src: src, toks: toks}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(format string, args ...any) *Error {
	return errorf("Invalid "+p.kind+": "+format, args...)
}

// syntaxError reports the token at the cursor with its neighbours, as DynamoDB does.
func (p *parser) syntaxError() *Error {
	t := p.peek()
	from, to := t.pos, t.pos+len(t.text)
	if t.kind == tEOF {
		to = len(p.src)
	}
	if p.i > 0 {
		from = p.toks[p.i-1].pos
	}
	if n := p.peekAt(1); n.kind != tEOF {
		to = n.pos + len(n.text)
	}
	return p.errorf("Syntax error; token: %q, near: %q", t.text, p.src[from:to])
}

func (p *parser) expect(k tokKind) error {
	if p.peek().kind != k {
		return p.syntaxError()
	}
	p.next()
	return nil
}

func (p *parser) atKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

// atFunction reports whether the cursor is at name( .
func (p *parser) atFunction() bool {
	return p.peek().kind == tIdent && p.peekAt(1).kind == tLParen
}

// path parses a document path: name ( .name | [index] )*.
func (p *parser) path() (Path, error) {
	var path Path
	el, err := p.pathName()
	if err != nil {
		return nil, err
	}
	path = append(path, el)
	for {
		switch p.peek().kind {
		case tDot:
			p.next()
			el, err := p.pathName()
			if err != nil {
				return nil, err
			}
			path = append(path, el)
		case tLBracket:
			p.next()
			t := p.peek()
			if t.kind != tNumber {
				return nil, p.syntaxError()
			}
			n, err := strconv.Atoi(t.text)
			if err != nil || n > maxListIndex {
				return nil, p.errorf("List index is not within the allowable range; index: [%s]", t.text)
			}
			p.next()
			if err := p.expect(tRBracket); err != nil {
				return nil, err
			}
			path = append(path, PathElem{Index: n, IsIndex: true})
		default:
			return path, nil
		}
	}
}

func (p *parser) pathName() (PathElem, error) {
	t := p.peek()
	switch {
	case t.kind == tName:
		name, ok := p.env.name(t.text)
		if !ok {
			return PathElem{}, p.errorf("An expression attribute name used in the document path is not defined; attribute name: %s", t.text)
		}
		p.next()
		return PathElem{Name: name}, nil
	case t.kind == tIdent && !keyword(t.text) && p.peekAt(1).kind != tLParen:
		p.next()
		return PathElem{Name: t.text}, nil
	}
	return PathElem{}, p.syntaxError()
}

// valueRef parses a :placeholder.
func (p *parser) valueRef() (item.Value, error) {
	t := p.peek()
	if t.kind != tValue {
		return item.Value{}, p.syntaxError()
	}
	v, ok := p.env.value(t.text)
	if !ok {
		return item.Value{}, p.errorf("An expression attribute value used in expression is not defined; attribute value: %s", t.text)
	}
	p.next()
	return v, nil
}

// Functions by where they may appear.
var (
	conditionFuncs = map[string]bool{"attribute_exists": true, "attribute_not_exists": true,
		"attribute_type": true, "begins_with": true, "contains": true}
	updateFuncs = map[string]bool{"if_not_exists": true, "list_append": true}
)

func (p *parser) misplacedFunction(name string) *Error {
	if conditionFuncs[name] || updateFuncs[name] || name == "size" {
		return p.errorf("The function is not allowed to be used this way in an expression; function: %s", name)
	}
	return p.errorf("Invalid function name; function: %s", name)
}

// ParseCondition parses a ConditionExpression (kind names it in messages: also
// "FilterExpression" or "KeyConditionExpression").
func (e *Env) ParseCondition(kind, s string) (*Condition, error) {
	p, err := newParser(e, kind, s)
	if err != nil {
		return nil, err
	}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tEOF {
		return nil, p.syntaxError()
	}
	return &Condition{root: c}, nil
}

// or := and (OR and)*
func (p *parser) or() (cond, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.atKeyword("OR") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &orCond{l, r}
	}
	return l, nil
}

// and := not (AND not)*
func (p *parser) and() (cond, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.atKeyword("AND") {
		p.next()
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &andCond{l, r}
	}
	return l, nil
}

// not := NOT not | primary
func (p *parser) not() (cond, error) {
	if p.atKeyword("NOT") {
		p.next()
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return &notCond{c}, nil
	}
	return p.primary()
}

// primary := ( or ) | function(args) | operand comparator operand
//
//	| operand BETWEEN operand AND operand | operand IN ( operand, … )
func (p *parser) primary() (cond, error) {
	if p.peek().kind == tLParen {
		p.next()
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if err := p.expect(tRParen); err != nil {
			return nil, err
		}
		return c, nil
	}
	if p.atFunction() && conditionFuncs[p.peek().text] {
		return p.function()
	}
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	switch {
	case t.kind >= tEq && t.kind <= tGe:
		p.next()
		r, err := p.operand()
		if err != nil {
			return nil, err
		}
		op := t.text
		if op != "=" && op != "<>" {
			if err := p.checkOrderable(op, l, r); err != nil {
				return nil, err
			}
		}
		return &cmpCond{op: op, l: l, r: r}, nil
	case p.atKeyword("BETWEEN"):
		p.next()
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.atKeyword("AND") {
			return nil, p.syntaxError()
		}
		p.next()
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		if err := p.checkOrderable("BETWEEN", l, lo, hi); err != nil {
			return nil, err
		}
		lv, lok := lo.(*valueOp)
		hv, hok := hi.(*valueOp)
		if lok && hok {
			if c, ok := item.Compare(lv.v, hv.v); ok && c > 0 {
				return nil, p.errorf("The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {%s:%s}, upper bound operand: AttributeValue: {%s:%s}",
					lv.v.Type, scalarText(lv.v), hv.v.Type, scalarText(hv.v))
			}
		}
		return &betweenCond{v: l, lo: lo, hi: hi}, nil
	case p.atKeyword("IN"):
		p.next()
		if err := p.expect(tLParen); err != nil {
			return nil, err
		}
		var list []operand
		for {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			list = append(list, o)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
		if err := p.expect(tRParen); err != nil {
			return nil, err
		}
		if len(list) > 100 {
			return nil, p.errorf("The IN operator is provided with too many operands; number of operands: %d", len(list))
		}
		return &inCond{v: l, list: list}, nil
	}
	return nil, p.syntaxError()
}

func scalarText(v item.Value) string {
	switch v.Type {
	case item.S:
		return v.S
	case item.N:
		return v.N
	}
	return string(v.AppendJSON(nil))
}

// checkOrderable refuses literal operands that no ordering comparison accepts.
func (p *parser) checkOrderable(op string, ops ...operand) error {
	for _, o := range ops {
		if v, ok := o.(*valueOp); ok && !v.v.Type.IsKeyType() {
			return p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", op, v.v.Type)
		}
	}
	return nil
}

// operand := path | :value | size(path)
func (p *parser) operand() (operand, error) {
	t := p.peek()
	switch {
	case t.kind == tValue:
		v, err := p.valueRef()
		if err != nil {
			return nil, err
		}
		return &valueOp{v: v}, nil
	case p.atFunction():
		if t.text != "size" {
			return nil, p.misplacedFunction(t.text)
		}
		args, err := p.args()
		if err != nil {
			return nil, err
		}
		if len(args) != 1 {
			return nil, p.errorf("Incorrect number of operands for operator or function; operator or function: size, number of operands: %d", len(args))
		}
		path, err := p.needPath("size", args[0])
		if err != nil {
			return nil, err
		}
		return &sizeOp{path: path}, nil
	}
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	return &pathOp{path: path}, nil
}

// args parses name( operand, … ) with the cursor at name.
func (p *parser) args() ([]operand, error) {
	p.next() // name
	p.next() // (
	var args []operand
	if p.peek().kind == tRParen {
		p.next()
		return nil, nil
	}
	for {
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		args = append(args, o)
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	return args, p.expect(tRParen)
}

func operandType(o operand) string {
	switch o := o.(type) {
	case *valueOp:
		return o.v.Type.String()
	case *sizeOp:
		return "N"
	}
	return "path"
}

func (p *parser) needPath(fn string, o operand) (Path, error) {
	if po, ok := o.(*pathOp); ok {
		return po.path, nil
	}
	return nil, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", fn, operandType(o))
}

// function parses a boolean function of a condition.
func (p *parser) function() (cond, error) {
	name := p.peek().text
	args, err := p.args()
	if err != nil {
		return nil, err
	}
	want := 2
	if name == "attribute_exists" || name == "attribute_not_exists" {
		want = 1
	}
	if len(args) != want {
		return nil, p.errorf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args))
	}
	f := &funcCond{name: name, args: args}
	switch name {
	case "attribute_exists", "attribute_not_exists":
		if _, err := p.needPath(name, args[0]); err != nil {
			return nil, err
		}
	case "attribute_type":
		if _, err := p.needPath(name, args[0]); err != nil {
			return nil, err
		}
		v, ok := args[1].(*valueOp)
		if !ok || v.v.Type != item.S {
			return nil, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", name, operandType(args[1]))
		}
		t, ok := item.ParseType(v.v.S)
		if !ok {
			return nil, p.errorf("Invalid attribute type name found; type: %s, valid types: { B; NULL; SS; BOOL; L; BS; N; NS; S; M }", v.v.S)
		}
		f.typ = t
	case "begins_with":
		for _, a := range args {
			if v, ok := a.(*valueOp); ok && v.v.Type != item.S && v.v.Type != item.B {
				return nil, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", name, v.v.Type)
			}
		}
	case "contains":
		if _, err := p.needPath(name, args[0]); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// ParseProjection parses a ProjectionExpression: paths separated by commas.
func (e *Env) ParseProjection(s string) (*Projection, error) {
	const kind = "ProjectionExpression"
	p, err := newParser(e, kind, s)
	if err != nil {
		return nil, err
	}
	var paths []Path
	for {
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		paths = append(paths, path)
		if p.peek().kind != tComma {
			break
		}
		p.next()
	}
	if p.peek().kind != tEOF {
		return nil, p.syntaxError()
	}
	if err := checkOverlap(kind, paths); err != nil {
		return nil, err
	}
	return newProjection(paths), nil
}

// ParseUpdate parses an UpdateExpression: SET, REMOVE, ADD and DELETE clauses, each at most
// once, in any order.
func (e *Env) ParseUpdate(s string) (*Update, error) {
	p, err := newParser(e, "UpdateExpression", s)
	if err != nil {
		return nil, err
	}
	u := &Update{}
	seen := map[string]bool{}
	for p.peek().kind != tEOF {
		t := p.peek()
		clause := strings.ToUpper(t.text)
		if t.kind != tIdent || (clause != "SET" && clause != "REMOVE" && clause != "ADD" && clause != "DELETE") {
			return nil, p.syntaxError()
		}
		if seen[clause] {
			return nil, p.errorf("The %q section can only be used once in an update expression;", clause)
		}
		seen[clause] = true
		p.next()
		for {
			a, err := p.updateAction(clause)
			if err != nil {
				return nil, err
			}
			u.actions = append(u.actions, a)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if err := checkOverlap("UpdateExpression", u.Paths()); err != nil {
		return nil, err
	}
	return u, nil
}

func (p *parser) updateAction(clause string) (action, error) {
	path, err := p.path()
	if err != nil {
		return action{}, err
	}
	a := action{kind: clause, path: path}
	switch clause {
	case "SET":
		if err := p.expect(tEq); err != nil {
			return action{}, err
		}
		if a.value, err = p.setValue(); err != nil {
			return action{}, err
		}
	case "ADD", "DELETE":
		v, err := p.valueRef()
		if err != nil {
			return action{}, err
		}
		ok := v.IsSet() || (clause == "ADD" && v.Type == item.N)
		if !ok {
			return action{}, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", clause, v.Type)
		}
		a.operand = v
	}
	return a, nil
}

// setValue := setOperand [ (+|-) setOperand ]
func (p *parser) setValue() (setExpr, error) {
	l, err := p.setOperand()
	if err != nil {
		return nil, err
	}
	if k := p.peek().kind; k == tPlus || k == tMinus {
		p.next()
		r, err := p.setOperand()
		if err != nil {
			return nil, err
		}
		return &arithExpr{minus: k == tMinus, l: l, r: r}, nil
	}
	return l, nil
}

// setOperand := path | :value | if_not_exists(path, setOperand) | list_append(setOperand, setOperand)
func (p *parser) setOperand() (setExpr, error) {
	t := p.peek()
	switch {
	case t.kind == tValue:
		v, err := p.valueRef()
		if err != nil {
			return nil, err
		}
		return &literalExpr{v: v}, nil
	case p.atFunction():
		name := t.text
		if !updateFuncs[name] {
			return nil, p.misplacedFunction(name)
		}
		p.next()
		p.next()
		var args []setExpr
		if p.peek().kind != tRParen {
			for {
				a, err := p.setOperand()
				if err != nil {
					return nil, err
				}
				args = append(args, a)
				if p.peek().kind != tComma {
					break
				}
				p.next()
			}
		}
		if err := p.expect(tRParen); err != nil {
			return nil, err
		}
		if len(args) != 2 {
			return nil, p.errorf("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args))
		}
		if name == "if_not_exists" {
			pe, ok := args[0].(*pathExpr)
			if !ok {
				return nil, p.errorf("Operator or function requires a document path; operator or function: %s", name)
			}
			return &ifNotExistsExpr{path: pe.path, def: args[1]}, nil
		}
		for _, a := range args {
			if l, ok := a.(*literalExpr); ok && l.v.Type != item.L {
				return nil, p.errorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", name, l.v.Type)
			}
		}
		return &listAppendExpr{l: args[0], r: args[1]}, nil
	}
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	return &pathExpr{path: path}, nil
}

// KeyCondition is one term of a KeyConditionExpression: Attribute Op Values, where Op is one
// of = < <= > >= BETWEEN begins_with.
type KeyCondition struct {
	Attribute string
	Op        string
	Values    []item.Value
}

// ParseKeyCondition parses a KeyConditionExpression into its one or two terms, without
// checking them against a key schema.
func (e *Env) ParseKeyCondition(s string) ([]KeyCondition, error) {
	const kind = "KeyConditionExpression"
	c, err := e.ParseCondition(kind, s)
	if err != nil {
		return nil, err
	}
	var terms []cond
	var flatten func(c cond) error
	flatten = func(c cond) error {
		switch c := c.(type) {
		case *andCond:
			if err := flatten(c.l); err != nil {
				return err
			}
			return flatten(c.r)
		case *orCond:
			return errorf("Invalid %s: Invalid operator used in KeyConditionExpression: OR", kind)
		case *notCond:
			return errorf("Invalid %s: Invalid operator used in KeyConditionExpression: NOT", kind)
		case *inCond:
			return errorf("Invalid %s: Invalid operator used in KeyConditionExpression: IN", kind)
		}
		terms = append(terms, c)
		return nil
	}
	if err := flatten(c.root); err != nil {
		return nil, err
	}
	if len(terms) > 2 {
		return nil, errorf("Invalid %s: KeyConditionExpressions must only contain one condition per key", kind)
	}
	out := make([]KeyCondition, 0, len(terms))
	for _, t := range terms {
		kc, err := keyTerm(kind, t)
		if err != nil {
			return nil, err
		}
		out = append(out, kc)
	}
	return out, nil
}

var flipped = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

func keyTerm(kind string, c cond) (KeyCondition, error) {
	attr := func(o operand) (string, bool) {
		po, ok := o.(*pathOp)
		if !ok || len(po.path) != 1 {
			return "", false
		}
		return po.path[0].Name, true
	}
	val := func(o operand) (item.Value, bool) {
		v, ok := o.(*valueOp)
		if !ok {
			return item.Value{}, false
		}
		return v.v, true
	}
	unsupported := errorf("Invalid %s: Query key condition not supported", kind)
	switch c := c.(type) {
	case *cmpCond:
		if c.op == "<>" {
			return KeyCondition{}, errorf("Invalid %s: Invalid operator used in KeyConditionExpression: <>", kind)
		}
		if a, ok := attr(c.l); ok {
			if v, ok := val(c.r); ok {
				return KeyCondition{Attribute: a, Op: c.op, Values: []item.Value{v}}, nil
			}
		}
		if a, ok := attr(c.r); ok {
			if v, ok := val(c.l); ok {
				return KeyCondition{Attribute: a, Op: flipped[c.op], Values: []item.Value{v}}, nil
			}
		}
	case *betweenCond:
		a, ok := attr(c.v)
		lo, lok := val(c.lo)
		hi, hok := val(c.hi)
		if ok && lok && hok {
			return KeyCondition{Attribute: a, Op: "BETWEEN", Values: []item.Value{lo, hi}}, nil
		}
	case *funcCond:
		if c.name != "begins_with" {
			return KeyCondition{}, errorf("Invalid %s: Invalid operator used in KeyConditionExpression: %s", kind, c.name)
		}
		a, ok := attr(c.args[0])
		v, vok := val(c.args[1])
		if ok && vok {
			return KeyCondition{Attribute: a, Op: "begins_with", Values: []item.Value{v}}, nil
		}
	}
	return KeyCondition{}, unsupported
}
