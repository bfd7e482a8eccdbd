package sts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// AssumeRoleWithWebIdentityInput is AssumeRoleWithWebIdentity's request.
type AssumeRoleWithWebIdentityInput struct {
	RoleArn          string
	RoleSessionName  string
	WebIdentityToken string
	ProviderId       string
	PolicyArns       []string
	Policy           string
	DurationSeconds  *int
}

// AssumeRoleWithWebIdentityOutput is AssumeRoleWithWebIdentity's response.
type AssumeRoleWithWebIdentityOutput struct {
	Credentials                 Credentials `xml:"Credentials"`
	SubjectFromWebIdentityToken string      `xml:"SubjectFromWebIdentityToken"`
	AssumedRoleUser             struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	} `xml:"AssumedRoleUser"`
	PackedPolicySize int `xml:"PackedPolicySize"`
	// Provider is the token's issuer (its iss), Audience the client id it was issued for.
	Provider string `xml:"Provider"`
	Audience string `xml:"Audience"`
}

// STS's answers to a web identity token it does not accept. Statuses are the model's.
const (
	codeInvalidIdentityToken  = "InvalidIdentityToken"
	codeExpiredToken          = "ExpiredTokenException"
	codeIDPCommunicationError = "IDPCommunicationError"
)

func errInvalidToken(msg string, cause error) error {
	return awserr.Wrap(codeInvalidIdentityToken, msg, cause)
}

// maxWebIdentityToken is the model's limit on WebIdentityToken.
const maxWebIdentityToken = 20000

// tokenLeeway is how far in the future a token's iat may be, for clocks that differ.
const tokenLeeway = 5 * time.Minute

// AssumeRoleWithWebIdentity issues credentials of a role's session to the bearer of an OpenID
// Connect ID token: a request that needs no signature, whose caller is the token. The token
// must be issued by an IAM OpenID Connect provider of the role's account (its iss is the
// provider's URL), for one of the provider's client ids (aud), signed by one of the issuer's
// keys and current by the service clock. The role's trust policy then decides, as a required
// resource policy, with the caller the provider ({"Federated": "<provider ARN>"}) and the
// token's claims as condition keys <provider URL>:<claim> (sub, aud, amr, and every other
// string claim, such as GitHub's repository, ref and job_workflow_ref), so a trust policy can
// say "only CI on the protected branch".
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, in *AssumeRoleWithWebIdentityInput) (*AssumeRoleWithWebIdentityOutput, error) {
	switch {
	case in.RoleArn == "":
		return nil, required("roleArn")
	case in.RoleSessionName == "":
		return nil, required("roleSessionName")
	case in.WebIdentityToken == "":
		return nil, required("webIdentityToken")
	case len(in.RoleArn) < 20 || len(in.RoleArn) > 2048:
		return nil, validation("roleArn", in.RoleArn, "Member must have length between 20 and 2048")
	case !sessionNameRe.MatchString(in.RoleSessionName):
		return nil, validation("roleSessionName", in.RoleSessionName, `Member must satisfy regular expression pattern: [\w+=,.@-]*`)
	case len(in.WebIdentityToken) < 4 || len(in.WebIdentityToken) > maxWebIdentityToken:
		return nil, validation("webIdentityToken", "******", "Member must have length between 4 and 20000")
	case in.DurationSeconds != nil && *in.DurationSeconds > 43200:
		return nil, validation("durationSeconds", strconv.Itoa(*in.DurationSeconds), "Member must have value less than or equal to 43200")
	case in.ProviderId != "":
		// ProviderId names the OAuth 2.0 providers of access tokens (www.amazon.com,
		// graph.facebook.com); an OpenID Connect ID token names its issuer itself.
		return nil, awserr.New(awserr.ValidationError, "ProviderId is for OAuth 2.0 access tokens, which this server does not accept; leave it out for an OpenID Connect ID token.")
	}
	iss, err := tokenIssuer(in.WebIdentityToken)
	if err != nil {
		return nil, err
	}
	role, err := s.ids.RoleByARN(ctx, in.RoleArn)
	if err != nil {
		return nil, err
	}
	account := ""
	if role != nil {
		account = role.AccountID
	} else if a := strings.Split(in.RoleArn, ":"); len(a) > 4 {
		account = a[4]
	}
	provider, err := s.ids.OIDCProviderForIssuer(ctx, account, iss)
	if err != nil {
		return nil, err
	}
	// The iss must be the provider's URL as written (a trailing slash aside, which some IdPs
	// put in theirs): an issuer is verified, and its discovery cached, under one name only.
	if provider == nil || iss != "https://"+provider.URL && iss != "https://"+provider.URL+"/" {
		return nil, errInvalidToken("No OpenIDConnect provider found in your account for "+iss, nil)
	}
	tok, claims, err := s.verifyToken(ctx, iss, provider, in.WebIdentityToken)
	if err != nil {
		return nil, err
	}

	// The caller is the web identity: the provider that vouched for it, in the role's account.
	caller := &identity.Principal{Type: identity.FederatedUser, AccountID: account, ARN: provider.ARN}
	facts := identity.Request{Time: s.now()}
	if r := identity.RequestFrom(ctx); r != nil {
		facts = *r
	}
	facts.Principal = caller
	keys := map[string][]string{}
	if !reservedVendor(provider.URL) {
		for name, v := range claims {
			keys[provider.URL+":"+name] = v
		}
		// aud is the audience the provider accepted the token for.
		keys[provider.URL+":aud"] = tok.audiences
	}
	keys["sts:RoleSessionName"] = []string{in.RoleSessionName}
	keys["aws:FederatedProvider"] = []string{provider.ARN}
	req := &policy.Request{Caller: &facts, Action: "sts:AssumeRoleWithWebIdentity", Resource: in.RoleArn, ResourceAccount: account,
		ResourcePolicyRequired: true, Keys: keys}
	if role != nil {
		req.Resource = role.ARN
		trust, err := policy.ParseCached(role.TrustPolicy, policy.TrustKind)
		if err != nil {
			return nil, fmt.Errorf("sts: trust policy of %s: %w", role.ARN, err)
		}
		req.ResourcePolicy = trust
	}
	if err := s.authz.Authorize(ctx, req); err != nil {
		return nil, err
	}
	if role == nil {
		return nil, fmt.Errorf("sts: the authorizer allowed assuming %s, which does not exist", in.RoleArn)
	}
	d, err := duration(in.DurationSeconds, defaultRoleDuration, role.MaxSessionDuration,
		"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	if err != nil {
		return nil, err
	}
	creds, err := s.ids.CreateSession(ctx, &identity.SessionSpec{AccountID: role.AccountID, Role: role, Parent: caller,
		Name: in.RoleSessionName, Duration: d, Policy: in.Policy, PolicyARNs: in.PolicyArns})
	if err != nil {
		return nil, err
	}
	out := &AssumeRoleWithWebIdentityOutput{Credentials: credentialsOf(creds), SubjectFromWebIdentityToken: tok.subject,
		Provider: iss, Audience: tok.audiences[0]}
	out.AssumedRoleUser.AssumedRoleID = role.ID + ":" + in.RoleSessionName
	out.AssumedRoleUser.Arn = "arn:aws:sts::" + role.AccountID + ":assumed-role/" + role.Name + "/" + in.RoleSessionName
	out.PackedPolicySize = (len(in.Policy) + 20*len(in.PolicyArns)) * 100 / 2048
	s.log.Info("web identity session", "role", role.ARN, "session", in.RoleSessionName, "provider", provider.ARN,
		"sub", tok.subject, "access_key", creds.AccessKeyID, "expires", creds.Expiration)
	return out, nil
}

// reservedVendor tells whether a provider URL is a condition-key vendor whose keys the server
// itself sets (https://aws would make a token's claims aws:SourceIp, aws:PrincipalArn, …):
// such a provider's claims are not condition keys.
func reservedVendor(u string) bool {
	return strings.EqualFold(u, "aws") || strings.EqualFold(u, "sts")
}

// tokenIssuer reads the iss of a token before it is verified, to find whose keys verify it.
func tokenIssuer(raw string) (string, error) {
	invalid := func(cause error) error {
		return errInvalidToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)", cause)
	}
	algs := make([]jose.SignatureAlgorithm, len(signingAlgs))
	for i, a := range signingAlgs {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	t, err := jwt.ParseSigned(raw, algs)
	if err != nil {
		return "", invalid(err)
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	if err := t.UnsafeClaimsWithoutVerification(&c); err != nil {
		return "", invalid(err)
	}
	if c.Issuer == "" {
		return "", invalid(errors.New("no iss claim"))
	}
	return c.Issuer, nil
}

// verifiedToken is what AssumeRoleWithWebIdentity takes from a verified token.
type verifiedToken struct {
	subject string
	// audiences are the token's audiences that are the provider's client ids (at least one).
	audiences []string
}

// verifyToken verifies raw, a token of iss, against the keys of iss (see issuers) and the
// provider's client ids, and returns it with its string claims (and lists of strings, such
// as amr) by name.
func (s *Service) verifyToken(ctx context.Context, iss string, provider *identity.OIDCProvider, raw string) (*verifiedToken, map[string][]string, error) {
	v, err := s.issuers.verifier(ctx, iss, provider.URL, s.now)
	if err != nil {
		return nil, nil, s.idpError(iss, err)
	}
	probe := &fetchProbe{}
	t, err := v.Verify(context.WithValue(ctx, probeKey{}, probe), raw)
	var expired *oidc.TokenExpiredError
	switch {
	case probe.err != nil:
		return nil, nil, s.idpError(iss, probe.err)
	case errors.As(err, &expired):
		return nil, nil, awserr.Wrap(codeExpiredToken, fmt.Sprintf("Token expired: current date/time %d must be before the expiration date/time %d",
			s.now().Unix(), expired.Expiry.Unix()), err)
	case err != nil:
		return nil, nil, errInvalidToken("The web identity token could not be verified with the keys of its issuer "+iss+".", err)
	case t.IssuedAt.After(s.now().Add(tokenLeeway)):
		return nil, nil, errInvalidToken("The web identity token was issued in the future.", fmt.Errorf("iat %s", t.IssuedAt))
	}
	out := &verifiedToken{subject: t.Subject}
	for _, aud := range t.Audience {
		for _, id := range provider.ClientIDs {
			if aud == id {
				out.audiences = append(out.audiences, aud)
			}
		}
	}
	if len(out.audiences) == 0 {
		return nil, nil, errInvalidToken("Incorrect token audience", fmt.Errorf("token audiences %q, provider client ids %q", t.Audience, provider.ClientIDs))
	}
	var all map[string]any
	if err := t.Claims(&all); err != nil {
		return nil, nil, errInvalidToken("The web identity token's claims could not be read.", err)
	}
	claims := map[string][]string{}
	for name, v := range all {
		switch v := v.(type) {
		case string:
			claims[name] = []string{v}
		case []any:
			var vals []string
			for _, e := range v {
				if str, ok := e.(string); ok {
					vals = append(vals, str)
				}
			}
			if len(vals) == len(v) && len(vals) > 0 {
				claims[name] = vals
			}
		}
	}
	return out, claims, nil
}

// idpError is STS's answer when the issuer of a token could not be asked for its keys.
func (s *Service) idpError(iss string, cause error) error {
	s.log.Warn("identity provider unreachable", "issuer", iss, "err", cause)
	return awserr.Wrap(codeIDPCommunicationError,
		"Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements", cause)
}
