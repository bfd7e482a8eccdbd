package iam_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/stateward/stateward/internal/gateway"
	"github.com/stateward/stateward/internal/iam"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
	"github.com/stateward/stateward/internal/storage/bolt"
	"github.com/stateward/stateward/internal/storage/sealed"
)

const region = "us-east-1"

// recorder is the real authorizer (the policy engine over the Service), with every request
// recorded and an optional veto.
type recorder struct {
	mu    sync.Mutex
	inner *policy.Engine
	reqs  []policy.Request
	deny  func(*policy.Request) bool
}

func (a *recorder) Authorize(ctx context.Context, req *policy.Request) error {
	a.mu.Lock()
	rec := *req
	rec.Caller = identity.RequestFrom(ctx)
	a.reqs = append(a.reqs, rec)
	deny, inner := a.deny, a.inner
	a.mu.Unlock()
	if deny != nil && deny(req) {
		p := identity.FromContext(ctx)
		return &policy.DeniedError{PrincipalARN: p.ARN, Action: req.Action, Resource: req.Resource}
	}
	return inner.Authorize(ctx, req)
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

// clock is a settable clock for the Service (the gateway keeps real time for SigV4).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	svc     *iam.Service
	store   storage.Store
	url     string
	http    *http.Client
	authz   *recorder
	clock   *clock
	account *iam.Account
	rootKey *iam.AccessKey
	Root    *awsiam.Client // the management account's root user
}

var testMasterKey = bytes.Repeat([]byte{0x42}, keyring.KeySize)

// startTime is the service clock's start: a whole 30-second TOTP step.
var startTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

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
	e := &env{authz: &recorder{}, clock: &clock{t: startTime}, store: sealed.New(db, kr)}
	e.svc = iam.NewService(iam.Config{Store: e.store, Authorizer: e.authz, Region: region, Logger: log, Now: e.clock.Now})
	e.authz.inner = policy.NewEngine(e.svc)
	ctx := context.Background()
	if e.account, e.rootKey, _, err = e.svc.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gateway.New(gateway.Config{
		Keys:      iam.GatewayKeys{Service: e.svc},
		Frontends: []gateway.Frontend{iam.NewHandler(e.svc)},
		Logger:    log,
	}))
	t.Cleanup(func() {
		ts.Close()
		e.svc.Close()
		db.Close()
	})
	e.url, e.http = ts.URL, ts.Client()
	e.Root = e.client(e.rootKey.ID, e.rootKey.Secret.Reveal())
	return e
}

func staticCreds(akid, secret string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(akid, secret, "")
}

func (e *env) client(akid, secret string) *awsiam.Client {
	return awsiam.NewFromConfig(aws.Config{
		Region:      region,
		Credentials: staticCreds(akid, secret),
		HTTPClient:  e.http,
		// Retries would hide the first answer; tests want to see it.
		RetryMaxAttempts: 1,
	}, func(o *awsiam.Options) { o.BaseEndpoint = aws.String(e.url) })
}

// userClient creates a user with an access key (and the given managed policies attached) and
// returns a client signing as it.
func (e *env) userClient(t testing.TB, name string, policies ...string) *awsiam.Client {
	t.Helper()
	ctx := context.Background()
	if _, err := e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	for _, arn := range policies {
		if _, err := e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	k, err := e.Root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return e.client(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey))
}

// rawCall sends one IAM Query request signed by the root key and returns the status and body.
func (e *env) rawCall(t testing.TB, form url.Values) (int, string) {
	t.Helper()
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, e.url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: e.rootKey.ID, SecretAccessKey: e.rootKey.Secret.Reveal()}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iam", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
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

// errMessage is the AWS error message of err.
func errMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// wantCode fails t unless err carries the AWS error code want ("" for success).
func wantCode(t testing.TB, err error, want string) {
	t.Helper()
	if got := errCode(err); got != want {
		t.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}

// must returns v, or panics on err: for calls that are the test's setup, not its subject.
// (A testing.TB cannot be passed alongside a call's two results.)
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("unexpected error: %v", err))
	}
	return v
}

// decodeDoc URL-decodes a policy document as IAM sends it.
func decodeDoc(t testing.TB, s *string) string {
	t.Helper()
	d, err := url.QueryUnescape(aws.ToString(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

func trustAccount(acct string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"}]}`
}
