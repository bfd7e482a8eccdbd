package ssm_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/stateward/stateward/internal/gateway"
	"github.com/stateward/stateward/internal/gateway/gatewaytest"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/kms"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/ssm"
	"github.com/stateward/stateward/internal/storage/bolt"
	"github.com/stateward/stateward/internal/storage/sealed"
)

const (
	region   = "us-east-1"
	accountA = "111122223333"
	accountB = "444455556666"
	secret   = "test-secret-access-key"
)

// Callers the test gateway knows, by access key id: the roots of two accounts. (Policies of
// IAM users are exercised through the whole server in cmd/stateward.)
var principals = map[string]identity.Principal{
	"AKIDROOTA": gatewaytest.Root(accountA),
	"AKIDROOTB": gatewaytest.Root(accountB),
}

// recorder is the real authorizer, with every request recorded and an optional veto.
type recorder struct {
	inner *policy.Engine
	mu    sync.Mutex
	reqs  []policy.Request
	deny  func(*policy.Request) bool
}

func (a *recorder) Authorize(ctx context.Context, req *policy.Request) error {
	a.mu.Lock()
	a.reqs = append(a.reqs, *req)
	deny := a.deny
	a.mu.Unlock()
	if deny != nil && deny(req) {
		p := identity.FromContext(ctx)
		return &policy.DeniedError{PrincipalARN: p.ARN, Action: req.Action, Resource: req.Resource}
	}
	return a.inner.Authorize(ctx, req)
}

// reset forgets the requests recorded and sets the veto.
func (a *recorder) reset(deny func(*policy.Request) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reqs, a.deny = nil, deny
}

// asked returns the requests since the last reset as "action resource".
func (a *recorder) asked() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.reqs {
		out = append(out, r.Action+" "+r.Resource)
	}
	return out
}

func (a *recorder) requests() []policy.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]policy.Request(nil), a.reqs...)
}

// clock is a settable clock for the services (the gateway keeps real time for SigV4).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	svc     *ssm.Service
	url     string
	http    *http.Client
	authz   *recorder
	clock   *clock
	dataDir string
	A, B    *awsssm.Client // roots of accounts A and B
	KMS     *awskms.Client // account A's root
	KMSB    *awskms.Client
}

type envOptions struct {
	maxStandard, maxAdvanced int
}

var testMasterKey = bytes.Repeat([]byte{0x42}, keyring.KeySize)

// newEnv serves SSM and KMS, as the server wires them, behind a real gateway.
func newEnv(t testing.TB, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "stateward.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.FromKey(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{authz: &recorder{inner: policy.NewEngine(nil)}, dataDir: dir,
		clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	store := sealed.New(db, kr)
	keys := kms.New(kms.Config{Store: store, Keyring: kr, Authorizer: e.authz, Region: region, Logger: log, Now: e.clock.Now})
	e.svc = ssm.New(ssm.Config{Store: store, Authorizer: e.authz, KMS: keys, Region: region, Logger: log, Now: e.clock.Now,
		MaxStandard: o.maxStandard, MaxAdvanced: o.maxAdvanced})
	ts := httptest.NewServer(gateway.New(gateway.Config{
		Keys:      gatewaytest.Keys{Secret: secret, Principals: principals},
		Frontends: []gateway.Frontend{ssm.NewHandler(e.svc), kms.NewHandler(keys)},
		Logger:    log,
	}))
	t.Cleanup(func() {
		ts.Close()
		db.Close()
	})
	e.url, e.http = ts.URL, ts.Client()
	e.A, e.B = e.client("AKIDROOTA"), e.client("AKIDROOTB")
	e.KMS, e.KMSB = e.kmsClient("AKIDROOTA"), e.kmsClient("AKIDROOTB")
	return e
}

func (e *env) config(akid string) aws.Config {
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, ""),
		HTTPClient:  e.http,
		// Retries would hide the first answer; tests want to see it.
		RetryMaxAttempts: 1,
	}
}

func (e *env) client(akid string) *awsssm.Client {
	return awsssm.NewFromConfig(e.config(akid), func(o *awsssm.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func (e *env) kmsClient(akid string) *awskms.Client {
	return awskms.NewFromConfig(e.config(akid), func(o *awskms.Options) { o.BaseEndpoint = aws.String(e.url) })
}

// rawCall sends one signed SSM request and returns the status, the error type header and
// the body.
func (e *env) rawCall(t testing.TB, akid, target, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "ssm", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), string(b)
}

// errCode is the AWS error code of err, or "" for nil.
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

// wantCode fails t unless err carries the AWS error code want ("" for success).
func wantCode(t testing.TB, err error, want string) {
	t.Helper()
	if got := errCode(err); got != want {
		t.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}

// put writes a parameter and fails the test on error; it returns the new version.
func put(t testing.TB, c *awsssm.Client, name, value string, typ types.ParameterType, mod ...func(*awsssm.PutParameterInput)) int64 {
	t.Helper()
	in := &awsssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: typ, Overwrite: aws.Bool(true)}
	for _, m := range mod {
		m(in)
	}
	out, err := c.PutParameter(context.Background(), in)
	if err != nil {
		t.Fatalf("PutParameter %s: %v", name, err)
	}
	return out.Version
}

// get reads a parameter's value (decrypted) and fails the test on error.
func get(t testing.TB, c *awsssm.Client, name string) *types.Parameter {
	t.Helper()
	out, err := c.GetParameter(context.Background(), &awsssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetParameter %s: %v", name, err)
	}
	return out.Parameter
}

// createKey makes a KMS key in the account of c with an alias and returns its id and ARN.
func createKey(t testing.TB, c *awskms.Client, alias string) (id, arn string) {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateKey(ctx, &awskms.CreateKeyInput{Description: aws.String(alias)})
	if err != nil {
		t.Fatal(err)
	}
	id, arn = aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
	if alias != "" {
		if _, err := c.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
	return id, arn
}
