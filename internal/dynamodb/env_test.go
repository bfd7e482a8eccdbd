package dynamodb_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stateward/stateward/internal/dynamodb"
	"github.com/stateward/stateward/internal/gateway"
	"github.com/stateward/stateward/internal/gateway/gatewaytest"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
	"github.com/stateward/stateward/internal/storage/bolt"
	"github.com/stateward/stateward/internal/storage/sealed"
)

const (
	testAccount = "111122223333"
	testAKID    = "AKIATESTROOTKEY00001"
	testSecret  = "test-secret-access-key-0123456789abcdef"
	testRegion  = "us-east-1"
)

// testKeys authenticates one root access key of testAccount.
var testKeys = gatewaytest.Keys{Secret: testSecret,
	Principals: map[string]identity.Principal{testAKID: gatewaytest.Root(testAccount)}}

// recordingAuthorizer records every request and defers to policy's authorizer unless deny says no.
type recordingAuthorizer struct {
	mu   sync.Mutex
	reqs []policy.Request
	deny func(*policy.Request) bool
}

func (a *recordingAuthorizer) Authorize(ctx context.Context, req *policy.Request) error {
	a.mu.Lock()
	rec := *req
	rec.Caller = identity.RequestFrom(ctx)
	a.reqs = append(a.reqs, rec)
	deny := a.deny
	a.mu.Unlock()
	if deny != nil && deny(req) {
		return &policy.DeniedError{PrincipalARN: rec.Caller.Principal.ARN, Action: req.Action, Resource: req.Resource}
	}
	return policy.NewEngine(nil).Authorize(ctx, req)
}

func (a *recordingAuthorizer) last() policy.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reqs[len(a.reqs)-1]
}

func (a *recordingAuthorizer) setDeny(f func(*policy.Request) bool) {
	a.mu.Lock()
	a.deny = f
	a.mu.Unlock()
}

// testEnv is the DynamoDB front-end behind the real gateway and a real listener, over a
// sealed bbolt store, with an SDK client signed as the account's root user.
type testEnv struct {
	URL    string
	Client *ddb.Client
	Authz  *recordingAuthorizer
	Store  storage.Store
	HTTP   *http.Client
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "test.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, keyring.KeySize)
	_, _ = rand.Read(key)
	kr, err := keyring.FromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	store := sealed.New(db, kr)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	authz := &recordingAuthorizer{}
	svc := dynamodb.New(dynamodb.Config{Store: store, Authorizer: authz, Region: testRegion, Logger: log})
	gw := gateway.New(gateway.Config{Keys: testKeys, Logger: log,
		Frontends: []gateway.Frontend{dynamodb.NewHandler(svc)}})
	ts := httptest.NewServer(gw)
	t.Cleanup(func() {
		ts.Close()
		store.Close()
	})
	// Enough idle connections for the contention test's and benchmark's parallel clients.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	t.Cleanup(hc.CloseIdleConnections)
	client := ddb.New(ddb.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(ts.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(testAKID, testSecret, ""),
		HTTPClient:   hc,
		// Retries would hide the first answer; tests want to see it.
		RetryMaxAttempts: 1,
	})
	return &testEnv{URL: ts.URL, Client: client, Authz: authz, Store: store, HTTP: hc}
}

// rawResponse is the HTTP answer to a hand-made request.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// awsError returns the error code (without its namespace) and message of a JSON error body.
func (r rawResponse) awsError() (code, msg string) {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(r.Body, &e)
	_, code, _ = strings.Cut(e.Type, "#")
	return code, e.Message
}

// raw sends body as operation op, signed like the SDK signs it, and returns the answer as is.
func (e *testEnv) raw(t testing.TB, op, body string) rawResponse {
	t.Helper()
	return e.rawTarget(t, "DynamoDB_20120810."+op, body)
}

func (e *testEnv) rawTarget(t testing.TB, target, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.URL+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret},
		req, hex.EncodeToString(sum[:]), "dynamodb", testRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// createTable makes a table with a hash key and an optional range key.
func (e *testEnv) createTable(t testing.TB, name, hash, hashType, rng, rangeType string) {
	t.Helper()
	in := &ddb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(hash), AttributeType: types.ScalarAttributeType(hashType)}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}},
	}
	if rng != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions,
			types.AttributeDefinition{AttributeName: aws.String(rng), AttributeType: types.ScalarAttributeType(rangeType)})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
	}
	if _, err := e.Client.CreateTable(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// errCode is the AWS error code of err, or "".
func errCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func errMessage(err error) string {
	var ae interface{ ErrorMessage() string }
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func str(v string) *string            { return aws.String(v) }
func key(k, v string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{k: s(v)}
}
