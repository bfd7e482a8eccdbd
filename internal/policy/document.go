package policy

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Kind is the kind of policy document; it decides which elements are required and which are
// refused.
type Kind int

const (
	// IdentityKind is an identity-based policy (inline or managed, or a session policy): no
	// Principal, and every statement has Resource or NotResource.
	IdentityKind Kind = iota
	// ResourceKind is a resource-based policy (bucket policy, key policy): every statement
	// has Principal or NotPrincipal, and Resource or NotResource.
	ResourceKind
	// TrustKind is a role's trust policy: Principal required, Resource refused.
	TrustKind
)

// String names k as the simulator's policy input types do.
func (k Kind) String() string {
	switch k {
	case IdentityKind:
		return "identity"
	case ResourceKind:
		return "resource"
	case TrustKind:
		return "trust"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// MaxSize is the largest document Parse accepts for k, counted in non-white-space bytes as
// IAM counts them; a text more than four times as long is refused before it is counted.
// Resource policies may be as large as a KMS key policy (32 KiB); services with a lower limit
// (S3's 20 KiB bucket policies, IAM's per-entity quotas) enforce it themselves.
func MaxSize(k Kind) int {
	if k == ResourceKind {
		return 32 << 10
	}
	return 20 << 10
}

// Policy language versions.
const (
	Version2012 = "2012-10-17" // the current language, with policy variables
	Version2008 = "2008-10-17" // the original language; the default when Version is absent
)

// Document is a parsed, validated policy. It is immutable once Parse returns it, so one
// Document may be shared (ParseCached does) and evaluated concurrently.
type Document struct {
	Version    string // as written; empty when absent
	ID         string
	Statements []*Statement
	// Text is the document as it was given.
	Text string
	Kind Kind
}

// Statement is one statement of a Document. The exported fields are the elements as written
// (a single string becomes a one-element list); the rest is compiled for evaluation.
type Statement struct {
	Sid          string
	Effect       string     // "Allow" or "Deny"
	Principal    *Principal // nil when absent
	NotPrincipal *Principal
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    []Condition // in document order

	deny        bool
	actions     []pattern // of Action or NotAction, lower-cased
	notAction   bool
	resources   []pattern // of Resource or NotResource
	notResource bool
	anyResource bool // neither Resource nor NotResource: a trust policy's statement
}

// Principal is a Principal or NotPrincipal element.
type Principal struct {
	// Wildcard is the form "Principal": "*".
	Wildcard      bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string

	anyAWS   bool     // "*" or {"AWS": "*"}
	accounts []string // account ids, from "123456789012" or its root user's ARN
	arns     []string // the other AWS principals' ARNs
}

// SyntaxError is a document refused on parsing or validation. Msg names what is wrong, as
// IAM's MalformedPolicyDocument messages do.
type SyntaxError struct{ Msg string }

func (e *SyntaxError) Error() string { return "policy: " + e.Msg }

func syntaxErr(msg string) *SyntaxError { return &SyntaxError{Msg: msg} }

const (
	msgSyntax = "Syntax errors in policy."
	msgVendor = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
)

// Parse parses and validates text as a policy of kind k. Errors are *SyntaxError naming what
// is wrong. Parse never panics, and reads at most MaxSize(k) bytes of policy (white space
// aside), so hostile input costs bounded time and memory.
func Parse(text string, k Kind) (*Document, error) {
	if k != IdentityKind && k != ResourceKind && k != TrustKind {
		return nil, syntaxErr(msgSyntax + " Unknown policy kind " + k.String() + ".")
	}
	if max := MaxSize(k); len(text) > 4*max || nonSpaceLen(text) > max {
		return nil, syntaxErr("Cannot exceed quota for PolicySize: " + strconv.Itoa(max))
	}
	root, err := readJSON(text)
	if err != nil {
		return nil, err
	}
	if root.kind != jObject {
		return nil, syntaxErr(msgSyntax)
	}
	d := &Document{Text: text, Kind: k}
	var stmts *jvalue
	for i := range root.obj {
		m := &root.obj[i]
		switch m.key {
		case "Version":
			if m.val.kind != jString || (m.val.s != Version2012 && m.val.s != Version2008) {
				return nil, syntaxErr("The policy failed legacy parsing")
			}
			d.Version = m.val.s
		case "Id":
			if m.val.kind != jString {
				return nil, syntaxErr(msgSyntax + " Id must be a string.")
			}
			d.ID = m.val.s
		case "Statement":
			stmts = &m.val
		default:
			return nil, syntaxErr(msgSyntax + " Unknown field " + m.key + ".")
		}
	}
	if stmts == nil {
		return nil, syntaxErr("Missing required field Statement")
	}
	var list []jvalue
	switch stmts.kind {
	case jObject:
		list = []jvalue{*stmts}
	case jArray:
		list = stmts.arr
	default:
		return nil, syntaxErr(msgSyntax + " Statement must be an object or a list of objects.")
	}
	if len(list) == 0 {
		return nil, syntaxErr("Missing required field Statement")
	}
	vars := d.Version == Version2012
	sids := map[string]bool{}
	for i := range list {
		st, err := parseStatement(&list[i], k, vars)
		if err != nil {
			return nil, err
		}
		// IAM wants unique Sids; S3 and KMS do not check.
		if k != ResourceKind && st.Sid != "" {
			if sids[st.Sid] {
				return nil, syntaxErr("Statement IDs (SID) in a single policy must be unique.")
			}
			sids[st.Sid] = true
		}
		d.Statements = append(d.Statements, st)
	}
	return d, nil
}

// nonSpaceLen counts the bytes of text that are not JSON white space.
func nonSpaceLen(text string) int {
	n := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}

func parseStatement(v *jvalue, k Kind, vars bool) (*Statement, error) {
	if v.kind != jObject {
		return nil, syntaxErr(msgSyntax + " Statement must be an object.")
	}
	var (
		effect, sid                               *jvalue
		princ, notPrinc, act, notAct, res, notRes *jvalue
		cond                                      *jvalue
	)
	for i := range v.obj {
		m := &v.obj[i]
		switch m.key {
		case "Sid":
			sid = &m.val
		case "Effect":
			effect = &m.val
		case "Principal":
			princ = &m.val
		case "NotPrincipal":
			notPrinc = &m.val
		case "Action":
			act = &m.val
		case "NotAction":
			notAct = &m.val
		case "Resource":
			res = &m.val
		case "NotResource":
			notRes = &m.val
		case "Condition":
			cond = &m.val
		default:
			return nil, syntaxErr(msgSyntax + " Unknown field " + m.key + ".")
		}
	}
	st := &Statement{}

	if sid != nil {
		if sid.kind != jString {
			return nil, syntaxErr(msgSyntax + " Sid must be a string.")
		}
		st.Sid = sid.s
		if k != ResourceKind && !alphanumeric(st.Sid) {
			return nil, syntaxErr("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*")
		}
	}

	if effect == nil {
		return nil, syntaxErr("Missing required field Effect")
	}
	if effect.kind != jString || (effect.s != "Allow" && effect.s != "Deny") {
		return nil, syntaxErr("Invalid effect: " + effect.s)
	}
	st.Effect, st.deny = effect.s, effect.s == "Deny"

	switch {
	case k == IdentityKind && (princ != nil || notPrinc != nil):
		return nil, syntaxErr("Policy document should not specify a principal.")
	case k == TrustKind && notPrinc != nil:
		return nil, syntaxErr("Has prohibited field NotPrincipal")
	case k != IdentityKind && princ != nil && notPrinc != nil:
		return nil, syntaxErr(msgSyntax + " Statement has both Principal and NotPrincipal.")
	case k != IdentityKind && princ == nil && notPrinc == nil:
		return nil, syntaxErr("Missing required field Principal")
	}
	var err error
	if princ != nil {
		if st.Principal, err = parsePrincipal(princ); err != nil {
			return nil, err
		}
	}
	if notPrinc != nil {
		if st.NotPrincipal, err = parsePrincipal(notPrinc); err != nil {
			return nil, err
		}
	}

	switch {
	case act != nil && notAct != nil:
		return nil, syntaxErr(msgSyntax + " Statement has both Action and NotAction.")
	case act == nil && notAct == nil:
		return nil, syntaxErr("Policy statement must contain actions.")
	}
	st.notAction = notAct != nil
	if act == nil {
		act = notAct
	}
	actions, err := stringList(act)
	if err != nil || len(actions) == 0 {
		return nil, syntaxErr("Policy statement must contain actions.")
	}
	for _, a := range actions {
		if err := validAction(a); err != nil {
			return nil, err
		}
		st.actions = append(st.actions, compilePattern(a, true, false, true))
	}
	if st.notAction {
		st.NotAction = actions
	} else {
		st.Action = actions
	}

	switch {
	case k == TrustKind && res != nil:
		return nil, syntaxErr("Has prohibited field Resource")
	case k == TrustKind && notRes != nil:
		return nil, syntaxErr("Has prohibited field NotResource")
	case res != nil && notRes != nil:
		return nil, syntaxErr(msgSyntax + " Statement has both Resource and NotResource.")
	case k != TrustKind && res == nil && notRes == nil:
		return nil, syntaxErr("Policy statement must contain resources.")
	}
	st.notResource = notRes != nil
	if res == nil {
		res = notRes
	}
	if res == nil {
		st.anyResource = true
	} else {
		resources, err := stringList(res)
		if err != nil || len(resources) == 0 {
			return nil, syntaxErr("Policy statement must contain resources.")
		}
		for _, r := range resources {
			if r != "*" && !strings.HasPrefix(r, "arn:") {
				return nil, syntaxErr("Resource " + r + " must be in ARN format or \"*\".")
			}
			st.resources = append(st.resources, compilePattern(r, true, vars, false))
		}
		if st.notResource {
			st.NotResource = resources
		} else {
			st.Resource = resources
		}
	}

	if cond != nil {
		if st.Condition, err = parseConditions(cond, vars); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// stringList reads a string or a list of strings.
func stringList(v *jvalue) ([]string, error) {
	switch v.kind {
	case jString:
		return []string{v.s}, nil
	case jArray:
		out := make([]string, 0, len(v.arr))
		for _, e := range v.arr {
			if e.kind != jString {
				return nil, syntaxErr(msgSyntax)
			}
			out = append(out, e.s)
		}
		return out, nil
	}
	return nil, syntaxErr(msgSyntax)
}

// validAction checks an Action entry: "*", or vendor:action where the action may hold
// wildcards.
func validAction(a string) error {
	if a == "*" {
		return nil
	}
	vendor, name, ok := strings.Cut(a, ":")
	if !ok || !validVendor(vendor) {
		return syntaxErr(msgVendor)
	}
	if strings.Contains(name, ":") {
		return syntaxErr("Actions/Condition can contain only one colon.")
	}
	if name == "" || strings.ContainsAny(name, " \t\r\n") {
		return syntaxErr(msgSyntax + " Invalid action " + strconv.Quote(a) + ".")
	}
	return nil
}

// validConditionKey checks a condition key: vendor:name, where the name may have colons of
// its own (kms:EncryptionContext:aws:s3:arn). The keys of an OpenID Connect provider's claims
// are named after its URL (token.actions.githubusercontent.com:sub,
// oidc.example.com/realms/ci:aud), so a condition key's vendor may also hold dots, slashes,
// underscores and tildes.
func validConditionKey(k string) bool {
	vendor, name, ok := strings.Cut(k, ":")
	if !ok || name == "" || vendor == "" {
		return false
	}
	for i := 0; i < len(vendor); i++ {
		c := vendor[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-./_~", c) >= 0) {
			return false
		}
	}
	return true
}

func validVendor(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func alphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// parsePrincipal reads a Principal or NotPrincipal element: "*", or an object of principal
// types, each a string or a list of strings.
func parsePrincipal(v *jvalue) (*Principal, error) {
	p := &Principal{}
	switch v.kind {
	case jString:
		if v.s != "*" {
			return nil, syntaxErr("Invalid principal in policy: " + strconv.Quote(v.s))
		}
		p.Wildcard, p.anyAWS = true, true
		return p, nil
	case jObject:
	default:
		return nil, syntaxErr(msgSyntax)
	}
	if len(v.obj) == 0 {
		return nil, syntaxErr("Invalid principal in policy: {}")
	}
	for i := range v.obj {
		m := &v.obj[i]
		vals, err := stringList(&m.val)
		if err != nil {
			return nil, err
		}
		if len(vals) == 0 {
			return nil, syntaxErr("Invalid principal in policy: " + strconv.Quote(m.key) + ":[]")
		}
		invalid := func(s string) error {
			return syntaxErr("Invalid principal in policy: " + strconv.Quote(m.key) + ":" + strconv.Quote(s))
		}
		switch m.key {
		case "AWS":
			p.AWS = vals
			for _, s := range vals {
				switch acct, kind := awsPrincipal(s); kind {
				case awsAny:
					p.anyAWS = true
				case awsAccount:
					p.accounts = append(p.accounts, acct)
				case awsARN:
					p.arns = append(p.arns, s)
				default:
					return nil, invalid(s)
				}
			}
		case "Service", "Federated", "CanonicalUser":
			for _, s := range vals {
				if s == "" || strings.ContainsAny(s, " \t\r\n*") && s != "*" {
					return nil, invalid(s)
				}
			}
			switch m.key {
			case "Service":
				p.Service = vals
			case "Federated":
				p.Federated = vals
			default:
				p.CanonicalUser = vals
			}
		default:
			return nil, syntaxErr("Invalid principal in policy: " + strconv.Quote(m.key))
		}
	}
	return p, nil
}

type awsPrincipalKind uint8

const (
	awsInvalid awsPrincipalKind = iota
	awsAny
	awsAccount
	awsARN
)

// awsPrincipal classifies a value of the AWS principal type: "*", an account (its id or its
// root user's ARN), or the ARN of a user, role, assumed-role session or federated user.
// Wildcards are refused in ARNs, as IAM refuses them.
func awsPrincipal(s string) (acct string, kind awsPrincipalKind) {
	if s == "*" {
		return "", awsAny
	}
	if isAccountID(s) {
		return s, awsAccount
	}
	// arn:partition:service::account:resource
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") ||
		parts[3] != "" || !isAccountID(parts[4]) || strings.ContainsAny(s, "*? \t\r\n") {
		return "", awsInvalid
	}
	res := parts[5]
	switch parts[2] {
	case "iam":
		if res == "root" {
			return parts[4], awsAccount
		}
		if name, ok := strings.CutPrefix(res, "user/"); ok && name != "" && !strings.HasSuffix(name, "/") {
			return "", awsARN
		}
		if name, ok := strings.CutPrefix(res, "role/"); ok && name != "" && !strings.HasSuffix(name, "/") {
			return "", awsARN
		}
	case "sts":
		if rest, ok := strings.CutPrefix(res, "assumed-role/"); ok {
			if role, sess, ok := strings.Cut(rest, "/"); ok && role != "" && sess != "" {
				return "", awsARN
			}
		}
		if name, ok := strings.CutPrefix(res, "federated-user/"); ok && name != "" {
			return "", awsARN
		}
	}
	return "", awsInvalid
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseConditions reads a Condition element: {operator: {key: value or [values]}}, values
// being strings, numbers or booleans.
func parseConditions(v *jvalue, vars bool) ([]Condition, error) {
	if v.kind != jObject {
		return nil, syntaxErr(msgSyntax + " Condition must be an object.")
	}
	var out []Condition
	for i := range v.obj {
		op := &v.obj[i]
		if _, _, _, ok := parseOperator(op.key); !ok {
			return nil, syntaxErr(msgSyntax + " Unknown condition operator " + op.key + ".")
		}
		if op.val.kind != jObject {
			return nil, syntaxErr(msgSyntax + " Condition operator " + op.key + " must hold an object.")
		}
		for j := range op.val.obj {
			kv := &op.val.obj[j]
			c := Condition{Operator: op.key, Key: kv.key}
			switch kv.val.kind {
			case jString, jNumber, jBool:
				c.Values = []string{kv.val.s}
			case jArray:
				if len(kv.val.arr) == 0 {
					return nil, syntaxErr(msgSyntax + " Condition " + op.key + " has no values for " + kv.key + ".")
				}
				for _, e := range kv.val.arr {
					if e.kind != jString && e.kind != jNumber && e.kind != jBool {
						return nil, syntaxErr(msgSyntax + " Condition values must be strings, numbers or booleans.")
					}
					c.Values = append(c.Values, e.s)
				}
			default:
				return nil, syntaxErr(msgSyntax + " Condition values must be strings, numbers or booleans.")
			}
			if err := compileCondition(&c, vars); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// Canonical returns d re-encoded in one normal form: compact JSON, elements in a fixed order,
// every value list a list, condition values as strings. Parsing it gives d again (but for
// Text), which is what the fuzz test checks.
func (d *Document) Canonical() string {
	var b strings.Builder
	b.WriteByte('{')
	sep := ""
	field := func(name string) {
		b.WriteString(sep)
		writeJSONString(&b, name)
		b.WriteByte(':')
		sep = ","
	}
	if d.Version != "" {
		field("Version")
		writeJSONString(&b, d.Version)
	}
	if d.ID != "" {
		field("Id")
		writeJSONString(&b, d.ID)
	}
	field("Statement")
	b.WriteByte('[')
	for i, st := range d.Statements {
		if i > 0 {
			b.WriteByte(',')
		}
		st.canonical(&b)
	}
	b.WriteString("]}")
	return b.String()
}

func (st *Statement) canonical(b *strings.Builder) {
	b.WriteByte('{')
	sep := ""
	field := func(name string) {
		b.WriteString(sep)
		writeJSONString(b, name)
		b.WriteByte(':')
		sep = ","
	}
	if st.Sid != "" {
		field("Sid")
		writeJSONString(b, st.Sid)
	}
	field("Effect")
	writeJSONString(b, st.Effect)
	if st.Principal != nil {
		field("Principal")
		st.Principal.canonical(b)
	}
	if st.NotPrincipal != nil {
		field("NotPrincipal")
		st.NotPrincipal.canonical(b)
	}
	for _, e := range []struct {
		name string
		vals []string
	}{{"Action", st.Action}, {"NotAction", st.NotAction}, {"Resource", st.Resource}, {"NotResource", st.NotResource}} {
		if e.vals != nil {
			field(e.name)
			writeJSONList(b, e.vals)
		}
	}
	if len(st.Condition) > 0 {
		field("Condition")
		b.WriteByte('{')
		for i, c := range st.Condition {
			// The operators of one element are distinct, so a statement's conditions of one
			// operator are adjacent.
			switch {
			case i == 0:
			case st.Condition[i-1].Operator == c.Operator:
				b.WriteByte(',')
			default:
				b.WriteString("},")
			}
			if i == 0 || st.Condition[i-1].Operator != c.Operator {
				writeJSONString(b, c.Operator)
				b.WriteString(":{")
			}
			writeJSONString(b, c.Key)
			b.WriteByte(':')
			writeJSONList(b, c.Values)
		}
		b.WriteString("}}")
	}
	b.WriteByte('}')
}

func (p *Principal) canonical(b *strings.Builder) {
	if p.Wildcard {
		b.WriteString(`"*"`)
		return
	}
	b.WriteByte('{')
	sep := ""
	for _, e := range []struct {
		name string
		vals []string
	}{{"AWS", p.AWS}, {"CanonicalUser", p.CanonicalUser}, {"Federated", p.Federated}, {"Service", p.Service}} {
		if e.vals != nil {
			b.WriteString(sep)
			writeJSONString(b, e.name)
			b.WriteByte(':')
			writeJSONList(b, e.vals)
			sep = ","
		}
	}
	b.WriteByte('}')
}

func writeJSONList(b *strings.Builder, vals []string) {
	b.WriteByte('[')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, v)
	}
	b.WriteByte(']')
}

func writeJSONString(b *strings.Builder, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}
