package sts

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// fakeIDs is the identity service as AssumeRoleWithWebIdentity uses it: one role, one provider.
type fakeIDs struct {
	Identities // the rest is never called
	role       *identity.Role
	provider   *identity.OIDCProvider
	spec       *identity.SessionSpec
}

func (f *fakeIDs) RoleByARN(_ context.Context, arn string) (*identity.Role, error) {
	if arn == f.role.ARN {
		return f.role, nil
	}
	return nil, nil
}

func (f *fakeIDs) OIDCProviderForIssuer(_ context.Context, account, iss string) (*identity.OIDCProvider, error) {
	if u, _ := identity.OIDCProviderURL(iss); account == f.provider.AccountID && u == f.provider.URL {
		return f.provider, nil
	}
	return nil, nil
}

func (f *fakeIDs) CreateSession(_ context.Context, spec *identity.SessionSpec) (*identity.Credentials, error) {
	f.spec = spec
	return &identity.Credentials{AccessKeyID: "ASIATEST", Expiration: time.Now().Add(spec.Duration)}, nil
}

// askedAuthz records the one question and allows it.
type askedAuthz struct{ reqs []policy.Request }

func (a *askedAuthz) Authorize(_ context.Context, r *policy.Request) error {
	a.reqs = append(a.reqs, *r)
	return nil
}

// TestWebIdentityQuestion checks what the engine is asked: the role's trust policy as a
// required resource policy, the caller the provider, the claims as <provider URL>:<claim>.
func TestWebIdentityQuestion(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		iss, url  string
		claimKeys bool
	}{
		{"https://token.actions.githubusercontent.com", "token.actions.githubusercontent.com", true},
		// A provider named like the aws: vendor cannot set aws:* keys with its claims.
		{"https://aws", "aws", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			ids := &fakeIDs{
				role: &identity.Role{ARN: "arn:aws:iam::111122223333:role/ci", AccountID: "111122223333", Name: "ci", ID: "AROACI",
					MaxSessionDuration: 2 * time.Hour,
					TrustPolicy:        `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"x"},"Action":"sts:AssumeRoleWithWebIdentity"}}`},
				provider: &identity.OIDCProvider{ARN: "arn:aws:iam::111122223333:oidc-provider/" + tc.url, AccountID: "111122223333",
					URL: tc.url, ClientIDs: []string{"sts.amazonaws.com"}},
			}
			authz := &askedAuthz{}
			s, err := New(Config{Identities: ids, Authorizer: authz, Now: func() time.Time { return now },
				IssuerKeys: map[string][]crypto.PublicKey{tc.iss: {&key.PublicKey}}})
			if err != nil {
				t.Fatal(err)
			}
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jwt.Signed(signer).Claims(map[string]any{"iss": tc.iss, "sub": "repo:org/infra:ref:refs/heads/main",
				"aud": []string{"other", "sts.amazonaws.com"}, "repository": "org/infra", "amr": []string{"pwd", "mfa"}, "run_number": 7,
				"SourceIp": "10.0.0.1", "exp": now.Add(time.Minute).Unix(), "iat": now.Unix()}).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			ctx := identity.NewContext(context.Background(), &identity.Request{Time: now, SecureTransport: true})
			out, err := s.AssumeRoleWithWebIdentity(ctx, &AssumeRoleWithWebIdentityInput{RoleArn: ids.role.ARN, RoleSessionName: "run",
				WebIdentityToken: tok})
			if err != nil {
				t.Fatal(err)
			}
			if len(authz.reqs) != 1 {
				t.Fatalf("%d questions", len(authz.reqs))
			}
			r := authz.reqs[0]
			p := r.Caller.Principal
			if r.Action != "sts:AssumeRoleWithWebIdentity" || r.Resource != ids.role.ARN || r.ResourceAccount != "111122223333" ||
				!r.ResourcePolicyRequired || r.ResourcePolicy == nil || !r.Caller.SecureTransport ||
				p.Type != identity.FederatedUser || p.ARN != ids.provider.ARN || p.AccountID != "111122223333" || !p.IsWebIdentity() {
				t.Errorf("question %+v, caller %+v", r, p)
			}
			want := map[string][]string{"sts:RoleSessionName": {"run"}, "aws:FederatedProvider": {ids.provider.ARN}}
			if tc.claimKeys {
				u := tc.url + ":"
				for k, v := range map[string][]string{u + "sub": {"repo:org/infra:ref:refs/heads/main"}, u + "aud": {"sts.amazonaws.com"},
					u + "repository": {"org/infra"}, u + "amr": {"pwd", "mfa"}, u + "iss": {tc.iss}, u + "SourceIp": {"10.0.0.1"}} {
					want[k] = v
				}
			}
			for k, v := range want {
				if !slices.Equal(r.Keys[k], v) {
					t.Errorf("key %s = %q, want %q", k, r.Keys[k], v)
				}
			}
			for k := range r.Keys {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected key %s = %q", k, r.Keys[k])
				}
			}
			if ids.spec == nil || ids.spec.Parent.ARN != ids.provider.ARN || ids.spec.Role != ids.role || ids.spec.Duration != time.Hour ||
				ids.spec.SourceIdentity != "" || ids.spec.Name != "run" {
				t.Errorf("session %+v", ids.spec)
			}
			if out.Audience != "sts.amazonaws.com" || out.Provider != tc.iss || out.SubjectFromWebIdentityToken != "repo:org/infra:ref:refs/heads/main" {
				t.Errorf("output %+v", out)
			}
		})
	}
}

// TestWebIdentityRefusedBeforeAsking: a token that does not verify never reaches the engine.
func TestWebIdentityRefusedBeforeAsking(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ids := &fakeIDs{role: &identity.Role{ARN: "arn:aws:iam::111122223333:role/ci", AccountID: "111122223333"},
		provider: &identity.OIDCProvider{ARN: "arn:aws:iam::111122223333:oidc-provider/idp.example.com", AccountID: "111122223333",
			URL: "idp.example.com", ClientIDs: []string{"a"}}}
	authz := &askedAuthz{}
	s, err := New(Config{Identities: ids, Authorizer: authz, Now: func() time.Time { return now },
		IssuerKeys: map[string][]crypto.PublicKey{"https://idp.example.com": {&key.PublicKey}}})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(k *ecdsa.PrivateKey, claims map[string]any) string {
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, nil)
		tok, _ := jwt.Signed(signer).Claims(claims).Serialize()
		return tok
	}
	base := map[string]any{"iss": "https://idp.example.com", "aud": "a", "sub": "s", "exp": now.Add(time.Minute).Unix()}
	for name, tok := range map[string]string{
		"another key":                sign(other, base),
		"wrong audience":             sign(key, map[string]any{"iss": "https://idp.example.com", "aud": "b", "sub": "s", "exp": now.Add(time.Minute).Unix()}),
		"expired":                    sign(key, map[string]any{"iss": "https://idp.example.com", "aud": "a", "sub": "s", "exp": now.Add(-time.Second).Unix()}),
		"no exp":                     sign(key, map[string]any{"iss": "https://idp.example.com", "aud": "a", "sub": "s"}),
		"another issuer":             sign(key, map[string]any{"iss": "https://evil.example.com", "aud": "a", "sub": "s", "exp": now.Add(time.Minute).Unix()}),
		"the issuer spelt otherwise": sign(key, map[string]any{"iss": "https://IdP.example.com", "aud": "a", "sub": "s", "exp": now.Add(time.Minute).Unix()}),
		"unsigned (none)":            "eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlLmNvbSIsImF1ZCI6ImEifQ.",
	} {
		_, err := s.AssumeRoleWithWebIdentity(context.Background(), &AssumeRoleWithWebIdentityInput{RoleArn: ids.role.ARN,
			RoleSessionName: "run", WebIdentityToken: tok})
		if err == nil || errors.Is(err, policy.ErrDenied) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(authz.reqs) != 0 {
		t.Errorf("the engine was asked %d times", len(authz.reqs))
	}
}

// countingTransport fails every request and counts them.
type countingTransport struct{ n *atomic.Int32 }

func (c countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("unreachable")
}

// TestWebIdentityIssuerDown: an issuer that cannot be read is IDPCommunicationError, and is not
// asked again for a few seconds, however many tokens of it arrive.
func TestWebIdentityIssuerDown(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ids := &fakeIDs{role: &identity.Role{ARN: "arn:aws:iam::111122223333:role/ci", AccountID: "111122223333"},
		provider: &identity.OIDCProvider{ARN: "arn:aws:iam::111122223333:oidc-provider/idp.example.com", AccountID: "111122223333",
			URL: "idp.example.com", ClientIDs: []string{"a"}}}
	var requests atomic.Int32
	s, err := New(Config{Identities: ids, Authorizer: &askedAuthz{}, Now: clock,
		HTTPClient: &http.Client{Transport: countingTransport{&requests}}})
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	tok, _ := jwt.Signed(signer).Claims(map[string]any{"iss": "https://idp.example.com", "aud": "a", "exp": now.Add(time.Hour).Unix()}).Serialize()
	assume := func() error {
		_, err := s.AssumeRoleWithWebIdentity(context.Background(), &AssumeRoleWithWebIdentityInput{RoleArn: ids.role.ARN,
			RoleSessionName: "run", WebIdentityToken: tok})
		return err
	}
	for i := 0; i < 3; i++ {
		var e *awserr.Error
		if err := assume(); !errors.As(err, &e) || e.Code != codeIDPCommunicationError || e.Status != http.StatusBadRequest {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests to the issuer in a moment, want 1", n)
	}
	now = now.Add(retryAfter)
	_ = assume()
	if n := requests.Load(); n != 2 {
		t.Errorf("%d requests to the issuer after %s, want 2", n, retryAfter)
	}
}
