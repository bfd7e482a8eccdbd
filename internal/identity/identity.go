// Package identity describes the authenticated caller of a request: its account, its ARN and
// how it proved who it is. The gateway puts one in the request context after authentication;
// front-ends and the authorizer read it from there.
package identity

import (
	"context"
	"time"
)

// Principal is an authenticated caller.
type Principal struct {
	AccountID   string // 12 digits
	ARN         string // arn:aws:iam::111122223333:root, …:user/alice, arn:aws:sts::…:assumed-role/R/s
	UserID      string // AIDA…/AROA…:session; the account id for a root user
	AccessKeyID string
	Root        bool // the account's root user
	// SessionToken is set when the caller signed with temporary credentials.
	SessionToken string
	// MFAAuthenticatedAt is when the session was created with MFA; zero without MFA.
	MFAAuthenticatedAt time.Time
}

type ctxKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal in ctx, or nil for an anonymous request.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}
