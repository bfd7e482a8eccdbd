package gateway

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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/gateway/gatewaytest"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// fakeFrontend serves by path: /panic panics, /fail returns an error, /deny a policy denial,
// anything else echoes the caller's ARN.
type fakeFrontend struct {
	service, prefix string
	p               awsproto.Protocol
}

func (f fakeFrontend) Service() string             { return f.service }
func (f fakeFrontend) Protocol() awsproto.Protocol { return f.p }
func (f fakeFrontend) TargetPrefix() string        { return f.prefix }

func (f fakeFrontend) ServeAWS(w http.ResponseWriter, r *http.Request) error {
	switch r.URL.Path {
	case "/panic":
		panic("boom")
	case "/fail":
		return awserr.New(awserr.NoSuchKey, "The specified key does not exist.")
	case "/deny":
		return fmt.Errorf("wrapped: %w", &policy.DeniedError{PrincipalARN: "arn:aws:iam::111122223333:user/bob",
			Action: f.service + ":Act", Resource: "arn:aws:" + f.service + ":::thing", Reason: policy.NoIdentityAllow})
	case "/gone":
		// Streams until the client hangs up, as a GET of a large object does.
		w.WriteHeader(http.StatusOK)
		chunk := make([]byte, 64<<10)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			if _, err := w.Write(chunk); err != nil {
				return err
			}
		}
		return nil
	case "/late":
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "partial")
		return errors.New("storage vanished mid-body")
	}
	p := identity.FromContext(r.Context())
	if p == nil {
		return awserr.New(awserr.AccessDenied, "Access Denied")
	}
	_, err := io.WriteString(w, p.ARN)
	return err
}

func newTestGateway(t *testing.T) *httptest.Server { return newLoggingGateway(t, io.Discard) }

func newLoggingGateway(t *testing.T, log io.Writer) *httptest.Server {
	g := New(Config{
		Keys: gatewaytest.Keys{Secret: "secret", Principals: map[string]identity.Principal{"AKIDTEST": gatewaytest.Root("111122223333")}},
		Frontends: []Frontend{fakeFrontend{"s3", "", awsproto.RESTXML}, fakeFrontend{"dynamodb", "DynamoDB_20120810.", awsproto.JSON10},
			fakeFrontend{"sts", "", awsproto.Query}},
		Logger:  slog.New(slog.NewTextHandler(log, nil)),
		Metrics: NewMetrics(),
	})
	ts := httptest.NewServer(g)
	t.Cleanup(ts.Close)
	return ts
}

func signed(t *testing.T, method, url, service, secret string, body string) *http.Request {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	payload := hex.EncodeToString(sum[:])
	if service == "s3" {
		req.Header.Set("X-Amz-Content-Sha256", payload) // only S3 sends it; others hash the body
	}
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: secret},
		req, payload, service, "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestGateway(t *testing.T) {
	ts := newTestGateway(t)
	tests := []struct {
		name       string
		req        func() *http.Request
		wantStatus int
		wantBody   string // substring
		wantHeader map[string]string
	}{
		{"healthz", func() *http.Request { r, _ := http.NewRequest("GET", ts.URL+"/healthz", nil); return r }, 200, "ok", nil},
		{"readyz", func() *http.Request { r, _ := http.NewRequest("GET", ts.URL+"/readyz", nil); return r }, 200, "ready", nil},
		{"anonymous S3 is AccessDenied XML", func() *http.Request { r, _ := http.NewRequest("GET", ts.URL+"/bucket/key", nil); return r },
			403, "<Code>AccessDenied</Code>", map[string]string{"Content-Type": "application/xml"}},
		{"anonymous DynamoDB is refused in JSON 1.0", func() *http.Request {
			r, _ := http.NewRequest("POST", ts.URL+"/", strings.NewReader("{}"))
			r.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
			return r
		}, 400, `"__type":"com.amazonaws.dynamodb.v20120810#MissingAuthenticationTokenException"`, nil},
		{"anonymous Query is refused in Query XML", func() *http.Request {
			r, _ := http.NewRequest("POST", ts.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 403, "<Code>MissingAuthenticationToken</Code>", nil},
		{"S3 denial is AccessDenied with AWS's message", func() *http.Request { return signed(t, "GET", ts.URL+"/deny", "s3", "secret", "") },
			403, "<Code>AccessDenied</Code><Message>User: arn:aws:iam::111122223333:user/bob is not authorized to perform: s3:Act on resource: arn:aws:s3:::thing because no identity-based policy allows the s3:Act action</Message>", nil},
		{"JSON denial is AccessDeniedException", func() *http.Request {
			r := signed(t, "POST", ts.URL+"/deny", "dynamodb", "secret", "{}")
			return r
		}, 400, `"__type":"com.amazonaws.dynamodb.v20120810#AccessDeniedException","message":"User: arn:aws:iam::111122223333:user/bob is not authorized to perform: dynamodb:Act`, nil},
		{"Query denial is AccessDenied", func() *http.Request { return signed(t, "POST", ts.URL+"/deny", "sts", "secret", "") },
			403, "<Code>AccessDenied</Code><Message>User: arn:aws:iam::111122223333:user/bob is not authorized to perform: sts:Act", nil},
		{"signed request reaches the front-end as its principal", func() *http.Request { return signed(t, "GET", ts.URL+"/bucket/key", "s3", "secret", "") },
			200, "arn:aws:iam::111122223333:root", nil},
		{"wrong secret", func() *http.Request { return signed(t, "GET", ts.URL+"/bucket/key", "s3", "wrong", "") },
			403, "<Code>SignatureDoesNotMatch</Code>", nil},
		{"wrong secret on a JSON service", func() *http.Request { return signed(t, "POST", ts.URL+"/", "dynamodb", "wrong", "{}") },
			400, `"__type":"com.amazonaws.dynamodb.v20120810#InvalidSignatureException"`, map[string]string{"X-Amzn-Errortype": "InvalidSignatureException"}},
		{"wrong secret on a Query service", func() *http.Request { return signed(t, "POST", ts.URL+"/", "sts", "wrong", "Action=GetCallerIdentity") },
			403, "<ErrorResponse", nil},
		{"service without a front-end", func() *http.Request { return signed(t, "POST", ts.URL+"/", "ec2", "secret", "{}") },
			400, "InvalidAction", nil},
		{"panic becomes InternalError", func() *http.Request { return signed(t, "GET", ts.URL+"/panic", "s3", "secret", "") },
			500, "<Code>InternalError</Code>", nil},
		{"returned error is rendered", func() *http.Request { return signed(t, "GET", ts.URL+"/fail", "s3", "secret", "") },
			404, "<Code>NoSuchKey</Code>", nil},
		{"HEAD error has no body", func() *http.Request { return signed(t, "HEAD", ts.URL+"/fail", "s3", "secret", "") },
			404, "", nil},
		{"SigV2 presigned URL", func() *http.Request {
			r, _ := http.NewRequest("GET", ts.URL+"/b/k?AWSAccessKeyId=AKIDTEST&Signature=x&Expires=1795419678", nil)
			return r
		}, 400, "Please use AWS4-HMAC-SHA256", nil},
		{"malformed authorization", func() *http.Request {
			r, _ := http.NewRequest("GET", ts.URL+"/b/k", nil)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=garbage")
			return r
		}, 400, "AuthorizationHeaderMalformed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tt.req())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, body)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body = %s, want it to contain %q", body, tt.wantBody)
			}
			if tt.wantBody == "" && len(body) != 0 {
				t.Errorf("body = %q, want none", body)
			}
			if resp.Header.Get("X-Amz-Request-Id") == "" {
				t.Error("no x-amz-request-id")
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestErrorAfterHeadersCutsTheConnection(t *testing.T) {
	ts := newTestGateway(t)
	resp, err := http.DefaultClient.Do(signed(t, "GET", ts.URL+"/late", "s3", "secret", ""))
	if err != nil {
		return // the connection was cut before the response: also a visible failure
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatal("a response whose handler failed after its headers ended cleanly; a client would take it as whole")
	}
}

// syncBuffer is a bytes.Buffer that server goroutines may write while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestClientHangupIsNotAnError(t *testing.T) {
	var logs syncBuffer
	ts := newLoggingGateway(t, &logs)
	resp, err := http.DefaultClient.Do(signed(t, "GET", ts.URL+"/gone", "s3", "secret", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // before the end: the transport drops the connection
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "path=/gone"); {
		if time.Now().After(deadline) {
			t.Fatalf("the request never finished; logs:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := logs.String()
	if strings.Contains(out, "level=ERROR") || !strings.Contains(out, `level=INFO msg="response failed after headers"`) {
		t.Errorf("a client hanging up mid-response should be logged at INFO, not ERROR; logs:\n%s", out)
	}
}

func TestMetrics(t *testing.T) {
	ts := newTestGateway(t)
	for _, path := range []string{"/fail", "/deny", "/deny"} {
		resp, err := http.DefaultClient.Do(signed(t, "GET", ts.URL+path, "s3", "secret", ""))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`stateward_requests_total{operation="",service="s3",status="404"} 1`,
		`stateward_authorization_denials_total{action="s3:Act",service="s3"} 2`,
		"stateward_request_duration_seconds_bucket", "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// verifyingKeys records the keys whose requests verified.
type verifyingKeys struct {
	gatewaytest.Keys
	mu       sync.Mutex
	verified []string
}

func (k *verifyingKeys) Verified(_ context.Context, p *identity.Principal) {
	k.mu.Lock()
	k.verified = append(k.verified, p.AccessKeyID)
	k.mu.Unlock()
}

// TestVerifiedOnlyAfterTheSignature: the key service hears of a key's use only for a request
// whose signature verified.
func TestVerifiedOnlyAfterTheSignature(t *testing.T) {
	keys := &verifyingKeys{Keys: gatewaytest.Keys{Secret: "secret", Principals: map[string]identity.Principal{"AKIDTEST": gatewaytest.Root("111122223333")}}}
	ts := httptest.NewServer(New(Config{Keys: keys, Frontends: []Frontend{fakeFrontend{"s3", "", awsproto.RESTXML}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer ts.Close()
	for _, secret := range []string{"wrong", "secret"} {
		resp, err := http.DefaultClient.Do(signed(t, "GET", ts.URL+"/bucket/key", "s3", secret, ""))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(keys.verified) != 1 || keys.verified[0] != "AKIDTEST" {
		t.Errorf("verified = %v, want the one request signed right", keys.verified)
	}
}

// versionedFrontend is a Query front-end with an API version.
type versionedFrontend struct {
	fakeFrontend
	version string
}

func (f versionedFrontend) APIVersion() string { return f.version }

func (f versionedFrontend) ServeAWS(w http.ResponseWriter, r *http.Request) error {
	_, err := io.WriteString(w, f.service+" signed by "+identity.FromContext(r.Context()).ARN)
	return err
}

// anonymousFrontend is a versionedFrontend that also serves the unsigned action "Anonymous"
// (and fails "AnonymousFails"), as STS serves AssumeRoleWithWebIdentity.
type anonymousFrontend struct{ versionedFrontend }

func (f anonymousFrontend) ServeAnonymous(w http.ResponseWriter, r *http.Request) (bool, error) {
	form, err := awsproto.ParseForm(r)
	if err != nil {
		return true, err
	}
	switch form.Get("Action") {
	case "Anonymous":
		awsproto.SetOperation(r.Context(), "Anonymous")
		facts := identity.RequestFrom(r.Context())
		if identity.FromContext(r.Context()) != nil || facts == nil || !facts.SourceIP.IsValid() || facts.Time.IsZero() {
			return true, errors.New("the anonymous call's context is not as promised")
		}
		_, err := io.WriteString(w, f.service+" served anonymously from "+facts.SourceIP.String()+" "+form.Get("Token"))
		return true, err
	case "AnonymousFails":
		return true, awserr.New("InvalidIdentityToken", "No OpenIDConnect provider found.")
	}
	return false, nil
}

func TestAnonymousFrontend(t *testing.T) {
	var logs syncBuffer
	g := New(Config{
		Keys: gatewaytest.Keys{Secret: "secret", Principals: map[string]identity.Principal{"AKIDTEST": gatewaytest.Root("111122223333")}},
		Frontends: []Frontend{fakeFrontend{"s3", "", awsproto.RESTXML},
			versionedFrontend{fakeFrontend: fakeFrontend{"iam", "", awsproto.Query}, version: "2010-05-08"},
			anonymousFrontend{versionedFrontend{fakeFrontend: fakeFrontend{"sts", "", awsproto.Query}, version: "2011-06-15"}}},
		Logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		Metrics: NewMetrics(),
	})
	ts := httptest.NewServer(g)
	t.Cleanup(ts.Close)
	form := func(body string) func() *http.Request {
		return func() *http.Request {
			r, _ := http.NewRequest("POST", ts.URL+"/", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			return r
		}
	}
	big := "&Token=" + strings.Repeat("t", 64<<10)
	tests := []struct {
		name       string
		req        func() *http.Request
		wantStatus int
		wantBody   string
	}{
		{"the anonymous call is served", form("Action=Anonymous&Version=2011-06-15&Token=jwt"), 200, "sts served anonymously from 127.0.0.1 jwt"},
		{"its body reaches the front-end whole", form("Version=2011-06-15&Action=Anonymous" + big), 200, big[len("&Token="):]},
		{"its version may be in the URL", func() *http.Request {
			r, _ := http.NewRequest("POST", ts.URL+"/?Version=2011-06-15", strings.NewReader("Action=Anonymous&Token=q"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 200, "served anonymously"},
		{"its error is rendered in Query XML", form("Action=AnonymousFails&Version=2011-06-15"), 400, "<Code>InvalidIdentityToken</Code>"},
		{"another action of the same service is refused", form("Action=GetCallerIdentity&Version=2011-06-15"), 403, "<Code>MissingAuthenticationToken</Code>"},
		{"the action under another service's version is refused", form("Action=Anonymous&Version=2010-05-08"), 403, "<Code>MissingAuthenticationToken</Code>"},
		{"the action without a version is refused", form("Action=Anonymous"), 403, "<Code>MissingAuthenticationToken</Code>"},
		{"the action in a GET is refused as S3 refuses it", func() *http.Request {
			r, _ := http.NewRequest("GET", ts.URL+"/?Action=Anonymous&Version=2011-06-15", nil)
			return r
		}, 403, "<Code>AccessDenied</Code>"},
		{"a signed request goes by its scope", func() *http.Request {
			return signed(t, "POST", ts.URL+"/", "iam", "secret", "Action=Anonymous&Version=2011-06-15")
		}, 200, "iam signed by arn:aws:iam::111122223333:root"},
		{"a badly signed request is not served anonymously", func() *http.Request {
			r := signed(t, "POST", ts.URL+"/", "sts", "wrong", "Action=Anonymous&Version=2011-06-15")
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 403, "<Code>SignatureDoesNotMatch</Code>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tt.req())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("%d %.300s, want %d with %.100q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	if out := logs.String(); !strings.Contains(out, "service=sts op=Anonymous status=200") {
		t.Errorf("the anonymous call is not logged as sts's:\n%.2000s", out)
	}
}
