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
	raw    map[string]json.RawMessage
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
	return &Document{Version: raw.Version, ID: raw.ID, Text: text}, nil
}
