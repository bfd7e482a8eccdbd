package policy

import "encoding/json"

// Kind is the kind of policy document; it decides which elements are required and which are
// refused.
type Kind int

const (
	// IdentityKind is an identity-based policy (inline or managed, or a session policy): no
	// Principal, and every statement has Resource or NotResource.
	IdentityKind Kind = iota
	// ResourceKind is a resource-based policy (bucket policy, key policy): every statement
	// has Principal or NotPrincipal.
	ResourceKind
	// TrustKind is a role's trust policy: Principal required, Resource refused.
	TrustKind
)

// Document is a parsed, validated policy.
type Document struct {
	Version    string
	ID         string
	Statements []*Statement
	// Text is the document as it was given.
	Text string
}

// Statement is one statement of a Document.
type Statement struct {
	Sid    string
	Effect string // "Allow" or "Deny"
}

// SyntaxError is a document refused on parsing or validation. Msg names what is wrong, as
// IAM's MalformedPolicyDocument messages do.
type SyntaxError struct{ Msg string }

func (e *SyntaxError) Error() string { return "policy: " + e.Msg }

// Parse parses and validates text as a policy of kind k. Errors are *SyntaxError.
//
// Placeholder: the full grammar replaces this.
func Parse(text string, k Kind) (*Document, error) {
	var raw struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, &SyntaxError{Msg: "Syntax errors in policy."}
	}
	if len(raw.Statement) == 0 {
		return nil, &SyntaxError{Msg: "Missing required field Statement"}
	}
	var stmts []map[string]json.RawMessage
	if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return nil, &SyntaxError{Msg: "Syntax errors in policy."}
		}
		stmts = append(stmts, one)
	}
	if len(stmts) == 0 {
		return nil, &SyntaxError{Msg: "Missing required field Statement"}
	}
	for _, st := range stmts {
		var effect string
		if err := json.Unmarshal(st["Effect"], &effect); err != nil || (effect != "Allow" && effect != "Deny") {
			return nil, &SyntaxError{Msg: "Invalid effect: statements need Effect Allow or Deny"}
		}
		if st["Action"] == nil && st["NotAction"] == nil {
			return nil, &SyntaxError{Msg: "Missing required field Action"}
		}
		if k != IdentityKind && st["Principal"] == nil && st["NotPrincipal"] == nil {
			return nil, &SyntaxError{Msg: "Missing required field Principal"}
		}
		if k != TrustKind && st["Resource"] == nil && st["NotResource"] == nil {
			return nil, &SyntaxError{Msg: "Missing required field Resource"}
		}
	}
	return &Document{Version: raw.Version, ID: raw.ID, Text: text}, nil
}

// ParseCached is Parse for texts that recur (a bucket's or key's policy, read on every
// request): each text is parsed once. Errors are not kept.
//
// Placeholder: parses every time.
func ParseCached(text string, k Kind) (*Document, error) { return Parse(text, k) }
