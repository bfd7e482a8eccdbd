package organizations_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
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
	awsorg "github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/smithy-go"

	"github.com/stateward/stateward/internal/gateway"
	"github.com/stateward/stateward/internal/gateway/gatewaytest"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/organizations"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
	"github.com/stateward/stateward/internal/storage/bolt"
	"github.com/stateward/stateward/internal/storage/sealed"
)

const (
	region   = "us-east-1"
	accountA = "111122223333" // creates the organization in most tests
	accountB = "444455556666" // in no organization, or in one of its own
	// accountM is the id the fake gives the first account it creates, so the gateway can
	// know that member account's root before it exists.
	accountM = "777788889999"
)

// Callers the test gateway knows, by access key id.
var principals = map[string]identity.Principal{
	"AKIDROOTA": gatewaytest.Root(accountA),
	"AKIDROOTB": gatewaytest.Root(accountB),
	"AKIDROOTM": gatewaytest.Root(accountM),
	// A non-root user: the authorizer allows roots only for now, so it is denied everything.
	"AKIDUSERA": {Type: identity.User, AccountID: accountA, ARN: "arn:aws:iam::" + accountA + ":user/alice",
		UserID: "AIDAALICE", Name: "alice"},
}

const secret = "test-secret-access-key"

// recorder is the real authorizer with every request recorded. With allowAll set it allows
// everything, standing in for a future policy that lets a member account through.
type recorder struct {
	inner    *policy.Engine
	mu       sync.Mutex
	reqs     []policy.Request
	allowAll bool
}

func (a *recorder) Authorize(ctx context.Context, req *policy.Request) error {
	a.mu.Lock()
	rec := *req
	rec.Caller = identity.RequestFrom(ctx)
	a.reqs = append(a.reqs, rec)
	allow := a.allowAll
	a.mu.Unlock()
	if allow {
		return nil
	}
	return a.inner.Authorize(ctx, req)
}

func (a *recorder) reset(allowAll bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reqs, a.allowAll = nil, allowAll
}

func (a *recorder) requests() []policy.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]policy.Request(nil), a.reqs...)
}

// fakeAccounts stands in for iam: accounts are JSON records under fakeiam/ in the same
// store, created in one transaction with the caller's within, as iam promises.
type fakeAccounts struct {
	store storage.Store
	mu    sync.Mutex
	ids   []string // ids to hand out first, in order
	fail  error    // returned after within has written, to fail the whole transaction
}

type fakeAccount struct {
	Name, Email, Role, TrustedAccount string
}

const fakePrefix = "fakeiam/account/"

func (f *fakeAccounts) CreateMemberAccount(ctx context.Context, name, email, roleName, management string,
	within func(tx storage.Tx, accountID string) error) (string, error) {
	f.mu.Lock()
	fail := f.fail
	var id string
	if len(f.ids) > 0 {
		id, f.ids = f.ids[0], f.ids[1:]
	}
	f.mu.Unlock()
	if id == "" {
		n, err := rand.Int(rand.Reader, big.NewInt(9e11))
		if err != nil {
			return "", err
		}
		id = fmt.Sprintf("%012d", n.Int64()+1e11)
	}
	acct := fakeAccount{Name: name, Email: email, Role: cmp.Or(roleName, "OrganizationAccountAccessRole"),
		TrustedAccount: management}
	err := f.store.Update(ctx, func(tx storage.Tx) error {
		if _, err := tx.Get([]byte(fakePrefix + id)); err == nil {
			return fmt.Errorf("fake: account id %s drawn twice", id)
		}
		if err := storage.PutJSON(tx, []byte(fakePrefix+id), acct); err != nil {
			return err
		}
		if err := within(tx, id); err != nil {
			return err
		}
		return fail
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

func (f *fakeAccounts) AccountName(ctx context.Context, id string) (string, error) {
	a, err := f.account(ctx, id)
	if err != nil {
		return "", err
	}
	return a.Name, nil
}

func (f *fakeAccounts) account(ctx context.Context, id string) (*fakeAccount, error) {
	var a fakeAccount
	err := f.store.View(ctx, func(tx storage.Tx) error {
		return storage.GetJSON(tx, []byte(fakePrefix+id), &a)
	})
	return &a, err
}

func (f *fakeAccounts) failWith(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

// clock is a settable clock for the service (the gateway keeps real time for SigV4).
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
	svc      *organizations.Service
	store    storage.Store
	accounts *fakeAccounts
	url      string
	http     *http.Client
	authz    *recorder
	clock    *clock
	// Clients signing as the roots of accounts A, B and M, and as a user of A.
	A, B, M, User *awsorg.Client
}

var testMasterKey = bytes.Repeat([]byte{0x42}, keyring.KeySize)

func newEnv(t testing.TB) *env {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "stateward.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.FromKey(testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{store: sealed.New(db, kr), authz: &recorder{inner: policy.NewEngine(nil)},
		clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	e.accounts = &fakeAccounts{store: e.store, ids: []string{accountM}}
	// The accounts the gateway's keys belong to exist before any organization does.
	err = e.store.Update(context.Background(), func(tx storage.Tx) error {
		for id, name := range map[string]string{accountA: "management", accountB: "other"} {
			if err := storage.PutJSON(tx, []byte(fakePrefix+id), fakeAccount{Name: name}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = organizations.New(organizations.Config{Store: e.store, Accounts: e.accounts,
		Authorizer: e.authz, Logger: log, Now: e.clock.Now})
	ts := httptest.NewServer(gateway.New(gateway.Config{
		Keys:      gatewaytest.Keys{Secret: secret, Principals: principals},
		Frontends: []gateway.Frontend{organizations.NewHandler(e.svc)},
		Logger:    log,
	}))
	t.Cleanup(func() {
		ts.Close()
		db.Close()
	})
	e.url, e.http = ts.URL, ts.Client()
	e.A, e.B, e.M, e.User = e.client("AKIDROOTA"), e.client("AKIDROOTB"), e.client("AKIDROOTM"), e.client("AKIDUSERA")
	return e
}

func (e *env) client(akid string) *awsorg.Client {
	return awsorg.NewFromConfig(aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, ""),
		HTTPClient:  e.http,
		// Retries would hide the first answer; tests want to see it.
		RetryMaxAttempts: 1,
	}, func(o *awsorg.Options) { o.BaseEndpoint = aws.String(e.url) })
}

// keys returns every record key under prefix, for checking what a failed call left behind.
func (e *env) keys(t testing.TB, prefix string) []string {
	t.Helper()
	var out []string
	err := e.store.View(context.Background(), func(tx storage.Tx) error {
		return storage.ScanPrefix(tx, []byte(prefix), func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawCall sends one signed Organizations request and returns the status, the error type
// header and the body.
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
			req, hex.EncodeToString(sum[:]), "organizations", region, time.Now())
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

// createOrg makes account A the management account of a new organization.
func createOrg(t testing.TB, e *env) *awsorg.CreateOrganizationOutput {
	t.Helper()
	out, err := e.A.CreateOrganization(context.Background(), &awsorg.CreateOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// createAccount creates a member account of A's organization and fails t unless it succeeds.
func createAccount(t testing.TB, e *env, name, email string) string {
	t.Helper()
	out, err := e.A.CreateAccount(context.Background(), &awsorg.CreateAccountInput{
		AccountName: aws.String(name), Email: aws.String(email)})
	if err != nil {
		t.Fatal(err)
	}
	if st := out.CreateAccountStatus; st.State != "SUCCEEDED" || aws.ToString(st.AccountId) == "" {
		t.Fatalf("CreateAccount(%s) status = %+v", email, st)
	}
	return aws.ToString(out.CreateAccountStatus.AccountId)
}
