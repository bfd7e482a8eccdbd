package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// testKeys are RSA keys for test issuers, made once: the issuer's own, and one no issuer
// publishes.
var testKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// testIssuer is an OpenID Connect issuer for tests: an HTTPS server with a discovery document
// and a JWKS, and the key its tokens are signed with (RS256, key id "k1").
type testIssuer struct {
	URL string
	srv *httptest.Server
	key *rsa.PrivateKey
	// jwksDown makes the JWKS endpoint answer 503; jwksHits counts its requests.
	jwksDown atomic.Bool
	jwksHits atomic.Int32
}

func newTestIssuer(t testing.TB) *testIssuer {
	t.Helper()
	ti := &testIssuer{key: testKeys()[0]}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": ti.URL, "jwks_uri": ti.URL + "/jwks",
			"response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		ti.jwksHits.Add(1)
		if ti.jwksDown.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(ti.jwks())
	})
	ti.srv = httptest.NewTLSServer(mux)
	ti.URL = ti.srv.URL
	t.Cleanup(ti.srv.Close)
	return ti
}

// jwks is the issuer's public key set.
func (ti *testIssuer) jwks() []byte {
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ti.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		panic(err)
	}
	return b
}

// jwksFile writes the key set to a file and returns its path.
func (ti *testIssuer) jwksFile(t testing.TB) string {
	p := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(p, ti.jwks(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// providerURL is the issuer as IAM names it: without https://.
func (ti *testIssuer) providerURL() string { return strings.TrimPrefix(ti.URL, "https://") }

// githubClaims are the claims GitHub Actions puts in a token for a run of org/infra's apply
// workflow on ref, issued at now (iss and exp are the signer's).
func githubClaims(ref string, now time.Time) map[string]any {
	return map[string]any{
		"sub":              "repo:org/infra:ref:" + ref,
		"aud":              "sts.amazonaws.com",
		"ref":              ref,
		"repository":       "org/infra",
		"repository_owner": "org",
		"actor":            "alice",
		"job_workflow_ref": "org/infra/.github/workflows/apply.yml@" + ref,
		"event_name":       "push",
		"run_attempt":      "1",
		"amr":              []string{"pwd", "mfa"},
		"iat":              now.Unix(),
		"nbf":              now.Unix(),
		"exp":              now.Add(5 * time.Minute).Unix(),
	}
}

// sign returns a JWT of claims signed with key under key id kid; iss defaults to the
// issuer's.
func (ti *testIssuer) sign(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"iss": ti.URL}
	for k, v := range claims {
		c[k] = v
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// token is a token of the issuer with claims, signed with its key.
func (ti *testIssuer) token(t testing.TB, claims map[string]any) string {
	return ti.sign(t, ti.key, "k1", claims)
}

// with returns claims with some replaced (a nil value removes one).
func with(claims map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range claims {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// noAuthRecorder is an HTTP client that notes whether any request it sent was signed.
type noAuthRecorder struct {
	inner  *http.Client
	signed atomic.Bool
}

func (c *noAuthRecorder) Do(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") != "" || r.Header.Get("X-Amz-Security-Token") != "" {
		c.signed.Store(true)
	}
	return c.inner.Do(r)
}

// anonymousSTS is an STS client with no credentials at all, as a CI job has before it has
// exchanged its token.
func (env *testEnv) anonymousSTS() (*sts.Client, *noAuthRecorder) {
	rec := &noAuthRecorder{inner: env.Client}
	cfg := env.cfg
	cfg.Credentials = nil
	cfg.HTTPClient = rec
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(env.URL) }), rec
}

// provider registers an OpenID Connect provider for url with the client id sts.amazonaws.com.
func (e *stsEnv) provider(t *testing.T, url string) string {
	t.Helper()
	out := must[*iam.CreateOpenIDConnectProviderOutput](t)(e.root.IAM.CreateOpenIDConnectProvider(context.Background(),
		&iam.CreateOpenIDConnectProviderInput{Url: aws.String(url), ClientIDList: []string{"sts.amazonaws.com"}}))
	return aws.ToString(out.OpenIDConnectProviderArn)
}

// mainBranchTrust lets the provider's tokens for org/infra's main branch assume a role.
func mainBranchTrust(providerARN, providerURL string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + providerURL + `:aud":"sts.amazonaws.com"},` +
		`"StringLike":{"` + providerURL + `:sub":"repo:org/infra:ref:refs/heads/main"}}}]}`
}

const ciStatePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::ci-state","arn:aws:s3:::ci-state/*"]}]}`

// TestAssumeRoleWithWebIdentity is a CI job's whole exchange, GitHub Actions style, against a
// local issuer: only the protected branch gets the role, its session works on S3 as the role,
// and every token STS must refuse is refused in AWS's words.
func TestAssumeRoleWithWebIdentity(t *testing.T) {
	ti := newTestIssuer(t)
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Minute)}
	e := &stsEnv{testEnv: newTestEnv(t, envOptions{Clock: clock.Now, OIDCClient: ti.srv.Client()}), clock: clock}
	e.root = e.as(e.Creds)
	ctx := context.Background()
	acct := e.Account
	mustBucket(t, e.testEnv, "ci-state")
	mustBucket(t, e.testEnv, "other-state")
	providerARN := e.provider(t, ti.URL)
	if providerARN != "arn:aws:iam::"+acct+":oidc-provider/"+ti.providerURL() {
		t.Fatalf("provider ARN %s", providerARN)
	}
	roleARN := e.role(t, "ci", mainBranchTrust(providerARN, ti.providerURL()), ciStatePolicy, 7200)
	anon, rec := e.anonymousSTS()
	assume := func(tok string, mutate ...func(*sts.AssumeRoleWithWebIdentityInput)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		in := &sts.AssumeRoleWithWebIdentityInput{RoleArn: &roleARN, RoleSessionName: aws.String("run-42"), WebIdentityToken: &tok}
		for _, m := range mutate {
			m(in)
		}
		return anon.AssumeRoleWithWebIdentity(ctx, in)
	}

	// The main branch gets the role, for the default hour.
	main := ti.token(t, githubClaims("refs/heads/main", clock.Now()))
	out, err := assume(main)
	if err != nil {
		t.Fatal(err)
	}
	if rec.signed.Load() {
		t.Error("the SDK signed AssumeRoleWithWebIdentity; the test would not show the unsigned path")
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::"+acct+":assumed-role/ci/run-42" {
		t.Errorf("AssumedRoleUser.Arn = %s", got)
	}
	if !strings.HasPrefix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), "AROA") || !strings.HasSuffix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), ":run-42") {
		t.Errorf("AssumedRoleId = %s", aws.ToString(out.AssumedRoleUser.AssumedRoleId))
	}
	if aws.ToString(out.SubjectFromWebIdentityToken) != "repo:org/infra:ref:refs/heads/main" || aws.ToString(out.Provider) != ti.URL ||
		aws.ToString(out.Audience) != "sts.amazonaws.com" {
		t.Errorf("response: subject %q, provider %q, audience %q", aws.ToString(out.SubjectFromWebIdentityToken),
			aws.ToString(out.Provider), aws.ToString(out.Audience))
	}
	if got, want := aws.ToTime(out.Credentials.Expiration), clock.Now().Add(time.Hour); !got.Equal(want) {
		t.Errorf("Expiration %s, want %s", got, want)
	}

	// The session acts as the role: its state bucket, nothing else.
	ci := e.as(sessionCreds(out.Credentials))
	who := must[*sts.GetCallerIdentityOutput](t)(ci.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(who.Arn) != "arn:aws:sts::"+acct+":assumed-role/ci/run-42" || aws.ToString(who.Account) != acct {
		t.Errorf("GetCallerIdentity = %s in %s", aws.ToString(who.Arn), aws.ToString(who.Account))
	}
	must[*s3.PutObjectOutput](t)(ci.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ci-state"), Key: aws.String("env/terraform.tfstate"),
		Body: strings.NewReader(`{"version":4}`)}))
	must[*s3.GetObjectOutput](t)(ci.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ci-state"), Key: aws.String("env/terraform.tfstate")}))
	_, err = ci.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("other-state"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, "the session on another bucket", err, "AccessDenied", "")
	// The session was asked for by the provider, and lists as such.
	var listed struct {
		Sessions []struct {
			Arn       string `xml:"Arn"`
			ParentArn string `xml:"ParentArn"`
		} `xml:"ListSessionsResult>Sessions>member"`
	}
	e.query(t, e.Creds, "ListSessions", url.Values{"RoleArn": {roleARN}}, 200, &listed)
	if len(listed.Sessions) != 1 || listed.Sessions[0].ParentArn != providerARN {
		t.Errorf("ListSessions = %+v", listed.Sessions)
	}

	// Another branch is refused by the trust policy, in the engine's words.
	_, err = assume(ti.token(t, githubClaims("refs/heads/feature", clock.Now())))
	wantCode(t, "another branch", err, "AccessDenied",
		"User: "+providerARN+" is not authorized to perform: sts:AssumeRoleWithWebIdentity on resource: "+roleARN)

	// Tokens STS must not accept.
	for _, tc := range []struct {
		name, tok, code, msg string
	}{
		{"wrong audience", ti.token(t, with(githubClaims("refs/heads/main", clock.Now()), "aud", "some-other-app")), "InvalidIdentityToken", "Incorrect token audience"},
		{"no audience", ti.token(t, with(githubClaims("refs/heads/main", clock.Now()), "aud", nil)), "InvalidIdentityToken", "Incorrect token audience"},
		{"an unknown key", ti.sign(t, testKeys()[1], "k2", githubClaims("refs/heads/main", clock.Now())), "InvalidIdentityToken", "could not be verified"},
		{"another key under the issuer's key id", ti.sign(t, testKeys()[1], "k1", githubClaims("refs/heads/main", clock.Now())), "InvalidIdentityToken", "could not be verified"},
		{"not yet valid", ti.token(t, with(githubClaims("refs/heads/main", clock.Now()), "nbf", clock.Now().Add(time.Hour).Unix(),
			"exp", clock.Now().Add(2*time.Hour).Unix())), "InvalidIdentityToken", ""},
		{"issued in the future", ti.token(t, with(githubClaims("refs/heads/main", clock.Now()), "iat", clock.Now().Add(time.Hour).Unix(), "nbf", nil)),
			"InvalidIdentityToken", "issued in the future"},
		{"an issuer with no provider", ti.token(t, with(githubClaims("refs/heads/main", clock.Now()), "iss", "https://gitlab.example.com")),
			"InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://gitlab.example.com"},
		{"not a JWT", "not-a-token", "InvalidIdentityToken", "not a valid JWT"},
	} {
		_, err := assume(tc.tok)
		wantCode(t, tc.name, err, tc.code, tc.msg)
	}
	_, err = assume(main, func(in *sts.AssumeRoleWithWebIdentityInput) { in.ProviderId = aws.String("www.amazon.com") })
	wantCode(t, "ProviderId", err, "ValidationError", "ProviderId")

	// The role's MaxSessionDuration (7200 s) bounds DurationSeconds.
	out, err = assume(main, func(in *sts.AssumeRoleWithWebIdentityInput) { in.DurationSeconds = aws.Int32(7200) })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToTime(out.Credentials.Expiration), clock.Now().Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("Expiration with 7200 s = %s, want %s", got, want)
	}
	_, err = assume(main, func(in *sts.AssumeRoleWithWebIdentityInput) { in.DurationSeconds = aws.Int32(7201) })
	wantCode(t, "past the role's maximum", err, "ValidationError", "exceeds the MaxSessionDuration set for this role")
	_, err = assume(main, func(in *sts.AssumeRoleWithWebIdentityInput) { in.DurationSeconds = aws.Int32(899) })
	wantCode(t, "under 900 s", err, "ValidationError", "")

	// A session policy narrows the session.
	out, err = assume(main, func(in *sts.AssumeRoleWithWebIdentityInput) {
		in.Policy = aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	})
	if err != nil {
		t.Fatal(err)
	}
	reader := e.as(sessionCreds(out.Credentials))
	must[*s3.GetObjectOutput](t)(reader.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ci-state"), Key: aws.String("env/terraform.tfstate")}))
	_, err = reader.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ci-state"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, "PutObject outside the session policy", err, "AccessDenied", "")

	// A role that does not exist is refused like one that does not trust the token.
	missing := "arn:aws:iam::" + acct + ":role/nope"
	_, err = assume(main, func(in *sts.AssumeRoleWithWebIdentityInput) { in.RoleArn = &missing })
	wantCode(t, "a missing role", err, "AccessDenied", "")

	// The issuer's keys are fetched once and cached: again only for a token no cached key
	// verifies (the two signed with the unknown key), not for the other tokens of its own key.
	// An issuer that cannot answer then is IDPCommunicationError.
	if n := ti.jwksHits.Load(); n != 3 {
		t.Errorf("JWKS fetched %d times, want 3", n)
	}
	ti.jwksDown.Store(true)
	_, err = assume(ti.sign(t, testKeys()[1], "k3", githubClaims("refs/heads/main", clock.Now())))
	wantCode(t, "JWKS unreachable", err, "IDPCommunicationError", "Couldn't retrieve verification key")
	_, err = assume(main)
	if err != nil {
		t.Errorf("a token of a cached key while the JWKS is down: %v", err)
	}
	ti.jwksDown.Store(false)

	// An expired token: the service clock, not the wall clock, decides.
	clock.Advance(6 * time.Minute)
	_, err = assume(main)
	wantCode(t, "expired", err, "ExpiredTokenException", "Token expired: current date/time")
}

// TestWebIdentityIssuerUnreachable: an issuer that does not answer discovery is
// IDPCommunicationError, and its tokens are not accepted.
func TestWebIdentityIssuerUnreachable(t *testing.T) {
	ti := newTestIssuer(t)
	client := ti.srv.Client()
	ti.srv.Close() // its URL now answers nothing
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Minute)}
	e := &stsEnv{testEnv: newTestEnv(t, envOptions{Clock: clock.Now, OIDCClient: client}), clock: clock}
	e.root = e.as(e.Creds)
	providerARN := e.provider(t, ti.URL)
	roleARN := e.role(t, "ci", mainBranchTrust(providerARN, ti.providerURL()), ciStatePolicy, 3600)
	anon, _ := e.anonymousSTS()
	_, err := anon.AssumeRoleWithWebIdentity(context.Background(), &sts.AssumeRoleWithWebIdentityInput{RoleArn: &roleARN,
		RoleSessionName: aws.String("run"), WebIdentityToken: aws.String(ti.token(t, githubClaims("refs/heads/main", clock.Now())))})
	wantCode(t, "issuer down", err, "IDPCommunicationError", "")
}

// failingTransport fails every request and counts them: a server given it has no network.
type failingTransport struct{ n *atomic.Int32 }

func (f failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.n.Add(1)
	return nil, errors.New("no network in this test")
}

// TestWebIdentityJWKSFile is an air-gapped install: GitHub's issuer has its key set in a file
// (serve --oidc-jwks-file), tokens are verified with it and the issuer is never contacted, and
// a trust policy can hold a run to its repository and workflow with GitHub's claims.
func TestWebIdentityJWKSFile(t *testing.T) {
	const github = "https://token.actions.githubusercontent.com"
	ti := newTestIssuer(t)
	ti.srv.Close() // nothing listens at the issuer the keys came from either
	var requests atomic.Int32
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Minute)}
	e := &stsEnv{testEnv: newTestEnv(t, envOptions{Clock: clock.Now, OIDCClient: &http.Client{Transport: failingTransport{&requests}},
		JWKSFiles: []string{github + "=" + ti.jwksFile(t)}}), clock: clock}
	e.root = e.as(e.Creds)
	ctx := context.Background()
	mustBucket(t, e.testEnv, "ci-state")
	providerARN := e.provider(t, github)
	const gh = "token.actions.githubusercontent.com"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},` +
		`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + gh + `:aud":"sts.amazonaws.com","` + gh + `:repository":"org/infra"},` +
		`"StringLike":{"` + gh + `:job_workflow_ref":"org/infra/.github/workflows/apply.yml@refs/heads/main"},` +
		`"ForAnyValue:StringEquals":{"` + gh + `:amr":"mfa"}}}]}`
	roleARN := e.role(t, "ci", trust, ciStatePolicy, 3600)
	anon, _ := e.anonymousSTS()
	assume := func(tok string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: &roleARN,
			RoleSessionName: aws.String("gha"), WebIdentityToken: &tok})
	}
	claims := with(githubClaims("refs/heads/main", clock.Now()), "iss", github)
	out, err := assume(ti.token(t, claims))
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Provider) != github {
		t.Errorf("Provider = %s", aws.ToString(out.Provider))
	}
	ci := e.as(sessionCreds(out.Credentials))
	must[*s3.PutObjectOutput](t)(ci.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ci-state"), Key: aws.String("k"), Body: strings.NewReader("x")}))

	_, err = assume(ti.token(t, with(claims, "repository", "fork/infra")))
	wantCode(t, "a fork", err, "AccessDenied", "")
	_, err = assume(ti.token(t, with(claims, "job_workflow_ref", "org/infra/.github/workflows/other.yml@refs/heads/main")))
	wantCode(t, "another workflow", err, "AccessDenied", "")
	_, err = assume(ti.token(t, with(claims, "amr", []string{"pwd"})))
	wantCode(t, "without mfa in amr", err, "AccessDenied", "")
	_, err = assume(ti.sign(t, testKeys()[1], "k1", claims))
	wantCode(t, "a key not in the file", err, "InvalidIdentityToken", "")
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests left the server; the key set is in a file", n)
	}
}
