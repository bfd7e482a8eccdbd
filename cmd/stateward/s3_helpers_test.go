package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// The S3 black-box tests run every case against a server reached over plain HTTP and over
// HTTPS: the SDK changes its wire format with the scheme (aws-chunked trailers, unsigned
// payloads), and both shapes reach stateward from real clients.
var schemes = []struct {
	name string
	tls  bool
}{{"http", false}, {"https", true}}

// forEachScheme runs fn against a fresh server once per scheme.
func forEachScheme(t *testing.T, fn func(t *testing.T, env *testEnv)) {
	t.Helper()
	for _, sc := range schemes {
		t.Run(sc.name, func(t *testing.T) { fn(t, newTestEnv(t, envOptions{TLS: sc.tls})) })
	}
}

// errCode returns the AWS error code and HTTP status of an SDK error ("" and 0 if it has
// neither).
func errCode(err error) (code string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// wantErr fails t unless err is an AWS error with code and status.
func wantErr(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s (%d)", code, status)
	}
	gotCode, gotStatus := errCode(err)
	if gotCode != code || gotStatus != status {
		t.Fatalf("err = %s (%d), want %s (%d); full error: %v", gotCode, gotStatus, code, status, err)
	}
}

// respHeader returns a header of the HTTP response behind an SDK error.
func respHeader(err error, name string) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

func mustBucket(t *testing.T, env *testEnv, name string) {
	t.Helper()
	if _, err := env.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

func mustVersionedBucket(t *testing.T, env *testEnv, name string) {
	t.Helper()
	mustBucket(t, env, name)
	setVersioning(t, env, name, "Enabled")
}

func setVersioning(t *testing.T, env *testEnv, bucket, status string) {
	t.Helper()
	_, err := env.S3.PutBucketVersioning(context.Background(), &s3.PutBucketVersioningInput{
		Bucket: aws.String(bucket), VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatus(status)}})
	if err != nil {
		t.Fatalf("PutBucketVersioning %s %s: %v", bucket, status, err)
	}
}

func mustPut(t *testing.T, env *testEnv, bucket, key string, body []byte) *s3.PutObjectOutput {
	t.Helper()
	out, err := env.S3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

// mustGet returns the body of an object (its current version when versionID is "").
func mustGet(t *testing.T, env *testEnv, bucket, key, versionID string) []byte {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := env.S3.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("GetObject %s/%s@%q: %v", bucket, key, versionID, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject %s/%s: reading body: %v", bucket, key, err)
	}
	return b
}

// quotedMD5 is the ETag S3 gives a single-part object.
func quotedMD5(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// pattern returns n deterministic bytes that differ at every offset within a 1 MiB segment
// and between segments, so a misplaced range cannot compare equal by accident.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// signedRequest sends a request signed by env's root key with the body's SHA-256 as payload
// hash, as the SDK signs over HTTP. path is the escaped path and query, e.g. "/b?versioning".
func (env *testEnv) signedRequest(t *testing.T, method, path string, body []byte, hdr http.Header) *http.Response {
	t.Helper()
	return env.signedRequestAt(t, method, path, body, hdr, env.Creds, time.Now())
}

func (env *testEnv) signedRequestAt(t *testing.T, method, path string, body []byte, hdr http.Header, creds aws.Credentials, at time.Time) *http.Response {
	t.Helper()
	return env.signedRequestPayload(t, method, path, body, hdr, "", creds, at)
}

// signedRequestPayload signs with payload as x-amz-content-sha256 (the body's SHA-256 if "").
func (env *testEnv) signedRequestPayload(t *testing.T, method, path string, body []byte, hdr http.Header, payload string, creds aws.Credentials, at time.Time) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	req.Header.Set("X-Amz-Content-Sha256", payload)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), creds, req, payload, "s3", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// s3ErrorBody is S3's REST-XML error document.
type s3ErrorBody struct {
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
	RequestID string `xml:"RequestId"`
}

// wireLog is an http.RoundTripper that records every request's headers and every response's
// status and headers, for tests that assert what crossed the wire.
type wireLog struct {
	next http.RoundTripper
	mu   sync.Mutex
	log  []wireExchange
}

type wireExchange struct {
	Method, Path string
	ReqHeader    http.Header
	Status       int
	RespHeader   http.Header
}

func (w *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(req)
	ex := wireExchange{Method: req.Method, Path: req.URL.RequestURI(), ReqHeader: req.Header.Clone()}
	if resp != nil {
		ex.Status, ex.RespHeader = resp.StatusCode, resp.Header.Clone()
	}
	w.mu.Lock()
	w.log = append(w.log, ex)
	w.mu.Unlock()
	return resp, err
}

func (w *wireLog) exchanges() []wireExchange {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]wireExchange(nil), w.log...)
}

// loggedClient returns an S3 client like env.S3 whose traffic is recorded, with opts applied.
func (env *testEnv) loggedClient(opts ...func(*s3.Options)) (*s3.Client, *wireLog) {
	wl := &wireLog{next: env.Client.Transport}
	if wl.next == nil {
		wl.next = http.DefaultTransport
	}
	c := s3.New(env.S3.Options(), append([]func(*s3.Options){func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: wl}
	}}, opts...)...)
	return c, wl
}
