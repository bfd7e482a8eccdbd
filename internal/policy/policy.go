// Package policy decides whether a caller may perform an action on a resource. Every front-end
// turns each call into a Request and asks the one Authorizer; the IAM policy language plugs in
// here later without touching the front-ends.
package policy

import (
	"context"
	"errors"
)

// ErrDenied is returned when a request is not allowed.
var ErrDenied = errors.New("policy: access denied")

// Request is one authorization question.
type Request struct {
	PrincipalAccount string // the caller's account id
	PrincipalARN     string
	Root             bool   // the caller is its account's root user
	Action           string // e.g. "s3:PutObject"
	Resource         string // e.g. "arn:aws:s3:::bucket/key"
	// ResourceAccount owns the resource; empty for a resource that does not exist yet and
	// is being created in the caller's own account (CreateBucket).
	ResourceAccount string
	// Conditions are the request's condition keys, e.g. "aws:SecureTransport": {"true"}.
	Conditions map[string][]string
}

// Authorizer answers Requests.
type Authorizer struct{}

// New returns the authorizer.
func New() *Authorizer { return &Authorizer{} }

// Authorize returns nil when req is allowed and an error wrapping ErrDenied otherwise.
//
// Until identity and resource policies arrive, an account's root user may do everything within
// its own account and nothing else: deny by default.
func (a *Authorizer) Authorize(_ context.Context, req *Request) error {
	if req.PrincipalAccount == "" {
		return ErrDenied
	}
	if req.Action == "sts:GetCallerIdentity" {
		return nil // as on AWS: no policy can deny a caller its own identity
	}
	if req.Root && (req.ResourceAccount == "" || req.ResourceAccount == req.PrincipalAccount) {
		return nil
	}
	return ErrDenied
}
