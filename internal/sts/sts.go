// Package sts is the STS API: temporary credentials (AssumeRole, with MFA, session policies,
// tags and role chaining; GetSessionToken; AssumeRoleWithWebIdentity, for the bearer of an
// OpenID Connect token that an IAM provider vouches for), who the caller is (GetCallerIdentity,
// GetAccessKeyInfo), decoding the authorization messages the server logs for its denials, and,
// beyond AWS, listing and revoking live sessions (ListSessions, RevokeSession). Its Query
// front-end answers Version=2011-06-15 calls signed for the "sts" scope.
//
// Sessions themselves are kept by the identity service (package iam), which this package may
// not import: it reaches it through Identities, wired in cmd. Every operation authorizes
// inside the service; AssumeRole is decided by the engine with the role's trust policy as a
// required resource policy, so across accounts both the trust policy and the caller's own
// policies must allow it. AssumeRoleWithWebIdentity is served unsigned, as on AWS (the
// front-end is a gateway.AnonymousFrontend for it alone): its caller is the token, verified
// with go-oidc against its issuer's keys, and the trust policy alone decides.
package sts

import (
	"context"
	"crypto"
	"log/slog"
	"net/http"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// Authorizer decides every request; see package policy.
type Authorizer interface {
	Authorize(ctx context.Context, req *policy.Request) error
}

// Identities is what STS needs of the identity service.
type Identities interface {
	// RoleByARN returns the role arn names, or nil without an error when there is none.
	RoleByARN(ctx context.Context, arn string) (*identity.Role, error)
	// CheckMFACode checks a TOTP code of the MFA device serial of account, assigned to the
	// caller in ctx; each code is accepted once. It returns when the code was checked.
	CheckMFACode(ctx context.Context, account, serial, code string) (time.Time, error)
	// OIDCProviderForIssuer returns the OpenID Connect provider of account whose URL is the
	// issuer iss (a token's iss), or nil without an error when there is none.
	OIDCProviderForIssuer(ctx context.Context, account, iss string) (*identity.OIDCProvider, error)
	// CreateSession issues temporary credentials.
	CreateSession(ctx context.Context, spec *identity.SessionSpec) (*identity.Credentials, error)
	// AccessKeyAccount returns the account of an access key id.
	AccessKeyAccount(ctx context.Context, id string) (string, error)
	// Sessions lists, and RevokeSessions revokes, the sessions a filter selects.
	Sessions(ctx context.Context, f identity.SessionFilter) ([]identity.SessionInfo, error)
	RevokeSessions(ctx context.Context, f identity.SessionFilter) ([]string, error)
}

// Sealer seals the authorization messages the server logs (the master keyring).
type Sealer interface {
	Seal(plaintext, aad []byte) []byte
	Open(ciphertext, aad []byte) ([]byte, error)
}

// Config configures a Service; nil fields mean defaults where one exists.
type Config struct {
	Identities Identities // required
	Authorizer Authorizer // required
	Sealer     Sealer     // required: authorization messages
	Logger     *slog.Logger
	Now        func() time.Time
	// HTTPClient reaches OpenID Connect issuers for their discovery documents and keys; nil
	// means a client with a 10-second timeout that trusts the system's roots.
	HTTPClient *http.Client
	// IssuerKeys are the public keys of issuers (by issuer URL, https://…) whose key sets are
	// configured rather than fetched, for installs that cannot reach their IdP: tokens of such
	// an issuer are verified with these keys alone, and nothing is fetched from it.
	IssuerKeys map[string][]crypto.PublicKey
}

// Service implements STS. It never sees HTTP; the caller is the identity in the context.
type Service struct {
	ids     Identities
	authz   Authorizer
	seal    Sealer
	log     *slog.Logger
	now     func() time.Time
	issuers *issuers
}

// New returns a Service. It fails only for an IssuerKeys entry whose issuer is not an https
// URL with a host.
func New(c Config) (*Service, error) {
	s := &Service{ids: c.Identities, authz: c.Authorizer, seal: c.Sealer, log: c.Logger, now: c.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.issuers, err = newIssuers(c.HTTPClient, s.now, c.IssuerKeys); err != nil {
		return nil, err
	}
	return s, nil
}

// tokenSessionRefused refuses what GetSessionToken's credentials may not do in STS: everything
// but AssumeRole and GetCallerIdentity, as on AWS.
func tokenSessionRefused(p *identity.Principal, action string) error {
	if p.Session != nil && p.Type != identity.AssumedRole {
		return awserr.Newf(awserr.AccessDenied, "Credentials from GetSessionToken cannot call %s.", action)
	}
	return nil
}

// caller returns the authenticated principal of ctx; authorization refuses a request without
// one before this is asked.
func caller(ctx context.Context) *identity.Principal {
	if p := identity.FromContext(ctx); p != nil {
		return p
	}
	return &identity.Principal{}
}
