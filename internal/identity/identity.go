// Package identity describes who makes a request and how: the authenticated principal (its
// account, type, session and MFA facts) and the facts of the request itself (source IP, TLS,
// time, signed region). The gateway puts one Request in the context after authentication;
// services and the authorizer read it from there, so every decision sees the same facts.
package identity

import (
	"context"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Type is the kind of principal, with the values of the aws:PrincipalType condition key.
type Type string

const (
	Root          Type = "Account" // an account's root user
	User          Type = "User"
	AssumedRole   Type = "AssumedRole"
	FederatedUser Type = "FederatedUser"
)

// Principal is an authenticated caller.
type Principal struct {
	Type      Type
	AccountID string // 12 digits
	// ARN is the caller's ARN: arn:aws:iam::111122223333:root, …:user/path/alice, or for a
	// role session arn:aws:sts::111122223333:assumed-role/Role/session.
	ARN string
	// UserID is the unique id: AIDA… for a user, AROA…:session for a role session, the
	// account id for a root user.
	UserID string
	// Name is the user's name, or the role's name for a role session; empty for a root user.
	Name string
	// RoleARN is the role a session was assumed from (arn:aws:iam::…:role/path/Role); it is
	// the aws:PrincipalArn of a role session.
	RoleARN     string
	AccessKeyID string
	// Tags are the principal's tags (a user's or role's, plus session tags), the values of
	// aws:PrincipalTag/<key>.
	Tags map[string]string
	// Session is set when the caller signed with temporary credentials.
	Session *Session
}

// Session describes temporary credentials.
type Session struct {
	ID     string
	Name   string // RoleSessionName
	Issued time.Time
	// Expires is when the credentials stop working.
	Expires time.Time
	// MFAAt is when the session's MFA code was checked; zero without MFA.
	MFAAt          time.Time
	SourceIdentity string
}

// IsRoot tells whether p is an account's root user.
func (p *Principal) IsRoot() bool { return p != nil && p.Type == Root }

// PrincipalARN is the value of aws:PrincipalArn: the role's ARN for a role session, else ARN.
func (p *Principal) PrincipalARN() string {
	if p.Type == AssumedRole && p.RoleARN != "" {
		return p.RoleARN
	}
	return p.ARN
}

// IsWebIdentity tells whether p is a caller known only by a web identity token, asking STS
// for a role's session: a FederatedUser whose ARN is the IAM OpenID Connect provider that
// vouched for the token (arn:aws:iam::<acct>:oidc-provider/<host>/<path>). A trust policy names
// such a caller only as {"Federated": "<that ARN>"}.
func (p *Principal) IsWebIdentity() bool {
	return p != nil && p.Type == FederatedUser && strings.HasPrefix(p.ARN, "arn:aws:iam::") &&
		strings.Contains(p.ARN, ":oidc-provider/")
}

// RootARN is the ARN of account's root user.
func RootARN(account string) string { return "arn:aws:iam::" + account + ":root" }

// Request is what the gateway knows of a request once it has authenticated it.
type Request struct {
	Principal *Principal
	// SourceIP is the address the request came from (aws:SourceIp); invalid when unknown.
	SourceIP netip.Addr
	// SecureTransport tells whether the request came over TLS (aws:SecureTransport).
	SecureTransport bool
	// Time is when the request arrived (aws:CurrentTime, aws:EpochTime).
	Time time.Time
	// Region is the region the request was signed for (aws:RequestedRegion).
	Region    string
	UserAgent string
}

type ctxKey struct{}

// NewContext returns ctx carrying r.
func NewContext(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// RequestFrom returns the request facts in ctx, or nil for an unauthenticated request.
func RequestFrom(ctx context.Context) *Request {
	r, _ := ctx.Value(ctxKey{}).(*Request)
	return r
}

// FromContext returns the principal in ctx, or nil for an unauthenticated request.
func FromContext(ctx context.Context) *Principal {
	if r := RequestFrom(ctx); r != nil {
		return r.Principal
	}
	return nil
}

// WithPrincipal returns ctx carrying a request made by p, for calls that do not come through
// the gateway (tests, the server's own bootstrap).
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return NewContext(ctx, &Request{Principal: p, Time: time.Now()})
}

// Secret is a secret access key. It never prints: String and LogValue redact it.
type Secret string

func (Secret) String() string       { return "[redacted]" }
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Reveal returns the secret itself, for the one response that hands it out.
func (s Secret) Reveal() string { return string(s) }

// Credentials are temporary security credentials.
type Credentials struct {
	AccessKeyID     string // ASIA…
	SecretAccessKey Secret
	// SessionToken names the server-side session record; it reveals nothing itself.
	SessionToken Secret
	Expiration   time.Time
}

// Role is what the session service needs to know of a role to let someone assume it.
type Role struct {
	ARN, AccountID, Name, ID, Path string
	TrustPolicy                    string
	MaxSessionDuration             time.Duration
	Tags                           map[string]string
}

// OIDCProvider is what the session service needs to know of an IAM OpenID Connect provider to
// accept the tokens it vouches for.
type OIDCProvider struct {
	ARN, AccountID string
	// URL is the issuer as IAM keeps it: host[:port][/path], without https:// or a trailing
	// slash. It prefixes the condition keys of the provider's claims (<URL>:sub).
	URL string
	// ClientIDs are the audiences a token may be issued for.
	ClientIDs []string
}

// OIDCProviderURL reads an issuer URL (a token's iss, or the Url of an IAM provider) as IAM
// keeps it: https only, with a host, an optional port and path, and no user, query or
// fragment; the scheme and a trailing slash dropped and the host lower-cased
// ("https://Token.Example.com/ci/" is "token.example.com/ci"). ok is false for anything else.
func OIDCProviderURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || u.Opaque != "" || strings.ContainsAny(raw, " \t\r\n\\") || strings.HasSuffix(u.Host, ":") {
		return "", false
	}
	return strings.ToLower(u.Host) + strings.TrimSuffix(u.EscapedPath(), "/"), true
}

// SessionSpec describes temporary credentials to issue.
type SessionSpec struct {
	AccountID string
	// Role is the role assumed; nil for GetSessionToken, whose session acts as Parent's user.
	Role *Role
	// Parent is who asked for the session.
	Parent   *Principal
	Name     string // RoleSessionName
	Duration time.Duration
	// MFAAt is when an MFA code was checked for this session (or for the session it was
	// assumed from); zero without MFA. MFASerial names the device.
	MFAAt             time.Time
	MFASerial         string
	SourceIdentity    string
	Tags              map[string]string // session tags
	TransitiveTagKeys []string
	// Policy and PolicyARNs are session policies: the session may do only what they allow.
	Policy     string
	PolicyARNs []string
}

// SessionInfo describes a session for listing and revocation.
type SessionInfo struct {
	ID        string // the session's access key id
	AccountID string
	// ARN is the session's principal ARN (assumed-role/… or the user's); PrincipalARN the
	// role's or user's ARN; ParentARN who asked for it.
	ARN, PrincipalARN, ParentARN string
	// User is the IAM user at the start of the session's chain, if any.
	User                      string
	SourceIdentity            string
	MFA                       bool
	Issued, Expires, LastUsed time.Time
	Revoked                   time.Time // zero while live
}

// SessionFilter selects sessions of one account: all of them, one, those of a role, or
// those a user started (directly, or through a GetSessionToken session).
type SessionFilter struct {
	AccountID string
	ID        string
	RoleARN   string
	UserName  string
	// Live keeps only sessions that are neither expired nor revoked.
	Live bool
}
