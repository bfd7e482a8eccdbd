package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// githubIssuer is GitHub Actions' issuer: the server is given its key set in a file, so that
// no request reaches it.
const githubIssuer = "https://token.actions.githubusercontent.com"

// ciIssuer is an OpenID Connect issuer in the test process: discovery and a JWKS over HTTPS,
// and the RSA key its tokens are signed with.
type ciIssuer struct {
	URL    string
	CAFile string // its certificate, PEM, for the server's SSL_CERT_FILE
	key    *rsa.PrivateKey
}

func newCIIssuer(t *testing.T) *ciIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ci := &ciIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": ci.URL, "jwks_uri": ci.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(ci.jwks(t))
	})
	ts := httptest.NewTLSServer(mux)
	t.Cleanup(ts.Close)
	ci.URL = ts.URL
	ci.CAFile = filepath.Join(t.TempDir(), "issuer-ca.pem")
	writeFile(t, ci.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}))
	return ci
}

func (ci *ciIssuer) jwks(t testing.TB) []byte {
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ci.key.PublicKey, KeyID: "ci", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tokenFile writes a token of iss for org/infra's workflow on ref, valid for ten minutes, and
// returns its path.
func (ci *ciIssuer) tokenFile(t *testing.T, iss, ref string) string {
	t.Helper()
	now := time.Now()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: ci.key, KeyID: "ci"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(map[string]any{"iss": iss, "aud": "sts.amazonaws.com", "sub": "repo:org/infra:ref:" + ref,
		"repository": "org/infra", "ref": ref, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "token")
	writeFile(t, p, []byte(tok))
	return p
}

// IAM returns an aws-sdk-go-v2 IAM client signing as the server's root user.
func (s *server) IAM() *iam.Client {
	return iam.NewFromConfig(aws.Config{Region: region, HTTPClient: s.HTTPClient,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, "")},
		func(o *iam.Options) { o.BaseEndpoint = aws.String(s.URL) })
}

// TestWebIdentityBackend is CI without static keys: OpenTofu and Terraform get a role's
// session from a web identity token file (backend "s3" assume_role_with_web_identity) and run
// init, apply and plan with it; a token of another branch is refused. The server reaches one
// issuer as any IdP (discovery and JWKS over TLS, trusted through SSL_CERT_FILE) and knows
// GitHub's from a key set file (--oidc-jwks-file), contacting it never.
func TestWebIdentityBackend(t *testing.T) {
	ci := newCIIssuer(t)
	jwksFile := filepath.Join(t.TempDir(), "github-jwks.json")
	writeFile(t, jwksFile, ci.jwks(t))
	srv := startServer(t, serverOpts{Args: []string{"--oidc-jwks-file", githubIssuer + "=" + jwksFile},
		Env: []string{"SSL_CERT_FILE=" + ci.CAFile}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// The setup an administrator does once: the providers, and a role for main only.
	const bucket = "ci-state"
	srv.CreateBucket(t, bucket)
	var trust []string
	for _, iss := range []string{ci.URL, githubIssuer} {
		out, err := srv.IAM().CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(iss),
			ClientIDList: []string{"sts.amazonaws.com"}})
		if err != nil {
			t.Fatal(err)
		}
		host := strings.TrimPrefix(iss, "https://")
		trust = append(trust, fmt.Sprintf(`{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity",`+
			`"Condition":{"StringEquals":{"%s:aud":"sts.amazonaws.com"},"StringLike":{"%s:sub":"repo:org/infra:ref:refs/heads/main"}}}`,
			aws.ToString(out.OpenIDConnectProviderArn), host, host))
	}
	role, err := srv.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ci"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[` + strings.Join(trust, ",") + `]}`)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := aws.ToString(role.Role.Arn)
	if _, err := srv.IAM().PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String("state"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",` +
			`"Resource":["arn:aws:s3:::` + bucket + `","arn:aws:s3:::` + bucket + `/*"]}]}`)}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		client tfClient
		issuer string
	}{
		{tfClients[0], ci.URL},       // tofu-1.12.6, an IdP reached over TLS
		{tfClients[1], githubIssuer}, // terraform-1.8.5, GitHub's keys from the file
	} {
		t.Run(c.client.name, func(t *testing.T) {
			tc := &tfCase{client: c.client, bin: clientBinary(t, c.client.name), srv: srv}
			key := c.client.name + "/terraform.tfstate"
			dir := func(tokenFile string) *tfDir {
				backend := tc.backendBlock(bucket, key, fmt.Sprintf("assume_role_with_web_identity = {\n  role_arn                = %q\n"+
					"  session_name            = \"ci-run\"\n  web_identity_token_file = %q\n}", roleARN, tokenFile))
				d := tc.newDirAs(t, backend+fmt.Sprintf(greetingTF, "from CI on "+c.client.name), "", "")
				// No static keys at all: the token is the only credential.
				d.env = slices.DeleteFunc(d.env, func(kv string) bool {
					return strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") || strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=")
				})
				return d
			}

			d := dir(ci.tokenFile(t, c.issuer, "refs/heads/main"))
			d.init(t)
			d.apply(t)
			d.planNoChanges(t)
			if got := stringOutput(t, tc.stateObject(t, bucket, key), "greeting"); got != "from CI on "+c.client.name {
				t.Errorf("state object: greeting = %q", got)
			}

			refused := dir(ci.tokenFile(t, c.issuer, "refs/heads/feature"))
			r := refused.run(t, "init", "-input=false", "-no-color")
			out := strings.Join(strings.Fields(r.Output()), " ") // the clients wrap their messages
			if r.ExitCode == 0 || !strings.Contains(out, "api error AccessDenied") ||
				!strings.Contains(out, "is not authorized to perform: sts:AssumeRoleWithWebIdentity on resource: "+roleARN) {
				t.Errorf("init with a feature branch's token, want AccessDenied:\n%s", r)
			}
		})
	}
}
