package kms_test

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
	"github.com/aws/smithy-go"

	"github.com/stateward/stateward/internal/gateway"
	"github.com/stateward/stateward/internal/gateway/gatewaytest"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/kms"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage/bolt"
	"github.com/stateward/stateward/internal/storage/sealed"
)

const (
	region   = "us-east-1"
	accountA = "111122223333"
	accountB = "444455556666"
)

// Callers the test gateway knows, by access key id.
var principals = map[string]identity.Principal{
	"AKIDROOTA": gatewaytest.Root(accountA),
	"AKIDROOTB": gatewaytest.Root(accountB),
	// A non-root user: the authorizer allows roots only for now, so it is denied everything.
	"AKIDUSERA": {AccountID: accountA, ARN: "arn:aws:iam::" + accountA + ":user/alice", UserID: "AIDAALICE"},
}

const secret = "test-secret-access-key"

// recorder is the real authorizer, with every request recorded and an optional veto.
type recorder struct {
	inner *policy.Engine
	mu    sync.Mutex
	reqs  []policy.Request
	deny  func(*policy.Request) bool
}

func (a *recorder) Authorize(ctx context.Context, req *policy.Request) error {
	a.mu.Lock()
	rec := *req
	rec.Caller = identity.RequestFrom(ctx)
	a.reqs = append(a.reqs, rec)
	deny := a.deny
	a.mu.Unlock()
	if deny != nil && deny(req) {
		return &policy.DeniedError{PrincipalARN: rec.Caller.Principal.ARN, Action: req.Action, Resource: req.Resource}
	}
	return a.inner.Authorize(ctx, req)
}

func (a *recorder) reset(deny func(*policy.Request) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reqs, a.deny = nil, deny
}

func (a *recorder) requests() []policy.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]policy.Request(nil), a.reqs...)
}

// clock is a settable clock for the KMS service (the gateway keeps real time for SigV4).
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
	svc     *kms.Service
	url     string
	http    *http.Client
	authz   *recorder
	clock   *clock
	dataDir string
	A, B    *awskms.Client // roots of accounts A and B
	User    *awskms.Client // a non-root user of account A
}

var testMasterKey = bytes.Repeat([]byte{0x42}, keyring.KeySize)

func newEnv(t testing.TB) *env {
	t.Helper()
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
	e.svc = kms.New(kms.Config{Store: sealed.New(db, kr), Keyring: kr, Authorizer: e.authz,
		Region: region, Logger: log, Now: e.clock.Now})
	ts := httptest.NewServer(gateway.New(gateway.Config{
		Keys:      gatewaytest.Keys{Secret: secret, Principals: principals},
		Frontends: []gateway.Frontend{kms.NewHandler(e.svc)},
		Logger:    log,
	}))
	t.Cleanup(func() {
		ts.Close()
		db.Close()
	})
	e.url, e.http = ts.URL, ts.Client()
	e.A, e.B, e.User = e.client("AKIDROOTA"), e.client("AKIDROOTB"), e.client("AKIDUSERA")
	return e
}

func (e *env) client(akid string) *awskms.Client {
	return awskms.NewFromConfig(aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, ""),
		HTTPClient:  e.http,
		// Retries would hide the first answer; tests want to see it.
		RetryMaxAttempts: 1,
	}, func(o *awskms.Options) { o.BaseEndpoint = aws.String(e.url) })
}

// as returns ctx carrying the root of account, as the gateway would for a signed request.
func as(account string) context.Context {
	return identity.WithPrincipal(context.Background(),
		&identity.Principal{Type: identity.Root, AccountID: account, ARN: identity.RootARN(account), UserID: account})
}

// rawCall sends one signed (or, with akid empty, unsigned) KMS request and returns the status,
// the error type header and the body.
func (e *env) rawCall(t testing.TB, akid, target, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if akid != "" {
		sum := sha256.Sum256([]byte(body))
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
			req, hex.EncodeToString(sum[:]), "kms", region, time.Now())
		if err != nil {
			t.Fatal(err)
		}
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

// createKey makes a key in the account of c and returns its id and ARN.
func createKey(t testing.TB, c *awskms.Client, desc string) (id, arn string) {
	t.Helper()
	out, err := c.CreateKey(context.Background(), &awskms.CreateKeyInput{Description: aws.String(desc)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
}
