// Package policy is the IAM policy language and the one authorizer every request passes: it
// parses and validates policy documents, and decides each Request with AWS's evaluation logic
// (explicit deny wins; within an account an identity-based or a resource-based policy may
// allow; across accounts both must; a session is limited by its session policy; an account's
// root user may do anything in its own account that no resource policy denies).
//
// Services build a Request for each operation (action, resource ARN and its account, the
// resource's policy, the service's condition keys); the caller and the request's own facts
// come from the identity.Request in the context, and the engine derives the aws:* condition
// keys from them. A principal's identity-based policies reach the engine through
// PolicySource, which the iam package implements.
package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/stateward/stateward/internal/identity"
)

// ErrDenied is matched by every denial (errors.Is); the error itself is a *DeniedError.
var ErrDenied = errors.New("policy: access denied")

// Request is one authorization question.
type Request struct {
	// Caller is who asks, and the facts of the request. Authorize takes it from the context
	// when nil; simulations set it.
	Caller *identity.Request
	Action string // e.g. "s3:PutObject"
	// Resource is the ARN acted on, e.g. "arn:aws:s3:::bucket/key", or "*" for actions that
	// take no resource.
	Resource string
	// ResourceAccount owns the resource; empty means the caller's own account (a resource
	// being created, or an account-level action).
	ResourceAccount string
	// ResourcePolicy is the resource's policy (bucket policy, key policy, trust policy);
	// nil when it has none.
	ResourcePolicy *Document
	// ResourcePolicyRequired marks resources whose policy must grant access, as KMS key
	// policies and role trust policies do: identity-based policies alone never allow, and a
	// grant to the account (its root ARN) delegates to them.
	ResourcePolicyRequired bool
	// Keys are the service's condition keys ("s3:prefix", "dynamodb:LeadingKeys",
	// "aws:ResourceTag/Name", …). A key given here overrides one the engine derives, which is
	// how simulations pass their context entries. Key names are case-insensitive.
	Keys map[string][]string
	// Unknown are lower-case prefixes of condition keys this question cannot know, because it
	// asks about a request the caller has yet to make: a lock authorized as a write of the
	// state it locks cannot know the write's own headers (s3:x-amz-…). A condition on such a
	// key is taken as satisfiable: it lets an Allow apply and keeps a Deny from applying, so
	// the answer is whether some such request would be allowed.
	Unknown []string
}

// Decision is the outcome of an evaluation, named as IAM's simulator names it.
type Decision string

const (
	Allowed      Decision = "allowed"
	ExplicitDeny Decision = "explicitDeny"
	ImplicitDeny Decision = "implicitDeny"
)

// Reason says which policy decided a denial; it picks the wording of the message.
type Reason int

const (
	NoIdentityAllow      Reason = iota // no identity-based policy allows
	NoResourceAllow                    // no resource-based policy allows (cross-account, or a required one)
	NoSessionAllow                     // the session policy does not allow
	IdentityExplicitDeny               // an identity-based policy denies
	ResourceExplicitDeny               // the resource's policy denies
	SessionExplicitDeny                // the session policy denies
	Unauthenticated                    // no principal
)

// Source is one policy document with the name the simulator reports it under.
type Source struct {
	// ID is the inline policy's name or the managed policy's ARN.
	ID string
	// Type is the simulator's SourcePolicyType: "user", "group", "role" (inline policies),
	// "aws-managed", "user-managed", "resource" or "none".
	Type string
	Doc  *Document
}

// PrincipalPolicies are the policies that apply to a principal.
type PrincipalPolicies struct {
	// Identity are its identity-based policies: a user's inline and attached policies and
	// those of its groups, or a role's.
	Identity []Source
	// Session are the session policies of temporary credentials. When HasSession is set, an
	// action must also be allowed by each of them (an empty list allows nothing).
	Session    []Source
	HasSession bool
}

// PolicySource gives the engine a principal's identity-based policies. The iam package
// implements it; a root user has none and is never asked.
type PolicySource interface {
	PoliciesFor(ctx context.Context, p *identity.Principal) (*PrincipalPolicies, error)
}

// Match is a statement that took part in a decision.
type Match struct {
	Source    Source
	Statement int // index in Source.Doc.Statements
}

// Result is the outcome of an evaluation.
type Result struct {
	Decision Decision
	Reason   Reason // for denials
	// Matched are the statements that decided: the denying ones for an explicit deny, the
	// allowing ones otherwise.
	Matched []Match
	// Missing are condition keys the policies asked for that the request did not carry,
	// as the simulator's MissingContextValues.
	Missing []string
}

// DeniedError is a denial. Its Message is the text AWS shows the client.
type DeniedError struct {
	PrincipalARN string
	Action       string
	Resource     string
	Reason       Reason
	// Statements name the denying statements of an explicit deny ("user/p statement 0"),
	// for the log's sealed authorization message; never shown to the client.
	Statements []string
}

func (e *DeniedError) Error() string        { return "policy: " + e.Message() }
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// Message is the denial as AWS words it, e.g. "User: arn:aws:iam::111122223333:user/bob is
// not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k because no
// identity-based policy allows the s3:PutObject action".
func (e *DeniedError) Message() string {
	if e.Reason == Unauthenticated {
		return "Access Denied"
	}
	m := "User: " + e.PrincipalARN + " is not authorized to perform: " + e.Action
	if e.Resource != "" && e.Resource != "*" {
		m += " on resource: " + e.Resource
	}
	switch e.Reason {
	case NoResourceAllow:
		return m + " because no resource-based policy allows the " + e.Action + " action"
	case NoSessionAllow:
		return m + " because no session policy allows the " + e.Action + " action"
	case IdentityExplicitDeny:
		return m + " with an explicit deny in an identity-based policy"
	case ResourceExplicitDeny:
		return m + " with an explicit deny in a resource-based policy"
	case SessionExplicitDeny:
		return m + " with an explicit deny in a session policy"
	}
	return m + " because no identity-based policy allows the " + e.Action + " action"
}

// Engine is the authorizer: it decides Requests with the policies of PolicySource.
type Engine struct {
	src PolicySource
}

// NewEngine returns the authorizer over src; a nil src gives every non-root principal no
// identity-based policies.
func NewEngine(src PolicySource) *Engine { return &Engine{src: src} }

// Authorize returns nil when req is allowed, and a *DeniedError otherwise. Errors reading
// policies are returned as they are (never as a denial), so a failing store is not mistaken
// for a refusal.
func (e *Engine) Authorize(ctx context.Context, req *Request) error {
	r := *req
	if r.Caller == nil {
		r.Caller = identity.RequestFrom(ctx)
	}
	if r.Caller == nil || r.Caller.Principal == nil {
		return &DeniedError{Action: r.Action, Resource: r.Resource, Reason: Unauthenticated}
	}
	p := r.Caller.Principal
	var pp *PrincipalPolicies
	if !p.IsRoot() && e.src != nil && needsIdentity(&r) {
		var err error
		if pp, err = e.src.PoliciesFor(ctx, p); err != nil {
			return err
		}
	}
	res := Evaluate(&r, pp)
	if res.Decision == Allowed {
		return nil
	}
	d := &DeniedError{PrincipalARN: p.ARN, Action: r.Action, Resource: r.Resource, Reason: res.Reason}
	for _, m := range res.Matched {
		d.Statements = append(d.Statements, fmt.Sprintf("%s/%s statement %d", m.Source.Type, m.Source.ID, m.Statement))
	}
	return d
}

// needsIdentity tells whether an evaluation can depend on identity-based policies; it lets
// Authorize skip reading them for the actions every principal may perform.
func needsIdentity(r *Request) bool {
	return !alwaysAllowed(r.Action)
}

// alwaysAllowed are the actions no policy can deny, as on AWS: asking who one is, and
// GetSessionToken (which only ever hands out the caller's own permissions).
func alwaysAllowed(action string) bool {
	return action == "sts:GetCallerIdentity" || action == "sts:GetSessionToken"
}
