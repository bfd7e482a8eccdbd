package sigv4_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stateward/stateward/internal/sigv4"
)

const (
	akid   = "AKIDEXAMPLE"
	secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	region = "eu-central-1"
)

var (
	signTime = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	creds    = aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}
)

func lookup(id string) (string, error) {
	if id != akid {
		return "", fmt.Errorf("access key %s: %w", id, sigv4.ErrUnknownAccessKey)
	}
	return secret, nil
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// s3Request is a request as the S3 client builds it: the path already escaped, the body's
// SHA-256 in x-amz-content-sha256.
func s3Request(method, rawURL, body string) *http.Request {
	r, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	r.Header.Set("X-Amz-Content-Sha256", sha256Hex(body))
	return r
}

// jsonRequest is a DynamoDB-style JSON 1.0 request, which carries no x-amz-content-sha256.
func jsonRequest(body string) *http.Request {
	r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:8080/", strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	r.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	r.Header.Set("Content-Type", "application/x-amz-json-1.0")
	return r
}

// sign signs r with aws-sdk-go-v2's signer for service.
func sign(t *testing.T, r *http.Request, service string, c aws.Credentials) {
	t.Helper()
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		payload = sha256Hex(string(b))
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	if err := signer.SignHTTP(context.Background(), c, r, payload, service, region, signTime); err != nil {
		t.Fatal(err)
	}
}

// serverSide returns r as a Go server hands it to a handler, by writing it to the wire and
// reading it back: RequestURI is the raw target, Host moves out of the header.
func serverSide(t *testing.T, r *http.Request) *http.Request {
	t.Helper()
	var wire bytes.Buffer
	if err := r.Write(&wire); err != nil {
		t.Fatal(err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

func TestVerify(t *testing.T) {
	getOdd := func() *http.Request {
		return s3Request("GET", "http://127.0.0.1:9000/tfstate/env%3A/dev/x?x-id=GetObject", "")
	}
	tests := []struct {
		name    string
		req     func() *http.Request
		service string
		creds   aws.Credentials // default: creds
		tamper  func(r *http.Request)
		now     time.Duration // server clock minus signing time
		wantErr error
	}{
		{name: "get key with colon", req: getOdd, service: "s3"},
		{name: "key with space, plus, percent, unicode", service: "s3", req: func() *http.Request {
			return s3Request("GET", "http://127.0.0.1:9000/b/a%20b%2Bc%25d/%C3%BCml%C3%A4ut%20%E2%9C%93?x-id=GetObject", "")
		}},
		{name: "dot segments and double slash are not normalised", service: "s3", req: func() *http.Request {
			return s3Request("GET", "http://127.0.0.1:9000/b//a/./b/../c?x-id=GetObject", "")
		}},
		{name: "valueless query key sent without =", service: "s3",
			req: func() *http.Request {
				return s3Request("POST", "http://127.0.0.1:9000/b/k?uploads&x-id=CreateMultipartUpload", "")
			},
			tamper: func(r *http.Request) { r.URL.RawQuery = "uploads&x-id=CreateMultipartUpload" },
		},
		{name: "query re-encoded differently", service: "s3",
			req: func() *http.Request {
				return s3Request("GET", "http://127.0.0.1:9000/b?list-type=2&prefix=env%3A%2Fa%20b&delimiter=%2F", "")
			},
			tamper: func(r *http.Request) { r.URL.RawQuery = "prefix=env:/a+b&delimiter=/&list-type=2" },
		},
		{name: "put with payload hash and spaced header", service: "s3", req: func() *http.Request {
			r := s3Request("PUT", "http://127.0.0.1:9000/b/k?x-id=PutObject", `{"version":4}`)
			r.Header.Set("X-Amz-Meta-Note", "  several   spaces  inside ")
			r.Header.Set("Content-Type", "application/json")
			return r
		}},
		{name: "session token", service: "s3", req: getOdd,
			creds: aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: "FwoGZX//token+/="}},
		{name: "comma separators without spaces", service: "s3", req: getOdd, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.ReplaceAll(r.Header.Get("Authorization"), ", ", ","))
		}},
		{name: "unsigned headers may change", service: "s3", req: getOdd, tamper: func(r *http.Request) {
			r.Header.Set("User-Agent", "proxy/1.0")
			r.Header.Set("X-Forwarded-For", "10.0.0.1")
		}},
		{name: "clock 14 minutes ahead", service: "s3", req: getOdd, now: 14 * time.Minute},
		{name: "clock 14 minutes behind", service: "s3", req: getOdd, now: -14 * time.Minute},
		{name: "dynamodb hashes the body", service: "dynamodb", req: func() *http.Request {
			return jsonRequest(`{"TableName":"locks","Key":{"LockID":{"S":"tfstate/env:/dev/x"}}}`)
		}},
		{name: "sts query protocol", service: "sts", req: func() *http.Request {
			r, _ := http.NewRequest("POST", "http://127.0.0.1:8080/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			return r
		}},

		{name: "unknown access key", service: "s3", req: getOdd,
			creds: aws.Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: secret}, wantErr: sigv4.ErrUnknownAccessKey},
		{name: "wrong secret", service: "s3", req: getOdd,
			creds: aws.Credentials{AccessKeyID: akid, SecretAccessKey: "not-the-secret"}, wantErr: sigv4.ErrSignatureMismatch},
		{name: "tampered signed header", service: "s3", req: getOdd, tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex("x"))
		}, wantErr: sigv4.ErrSignatureMismatch},
		{name: "tampered path", service: "s3", req: getOdd, tamper: func(r *http.Request) {
			r.URL, _ = url.Parse("http://127.0.0.1:9000/tfstate/env%3A/prod/x?x-id=GetObject")
		}, wantErr: sigv4.ErrSignatureMismatch},
		{name: "path escaped differently", service: "s3", req: getOdd, tamper: func(r *http.Request) {
			r.URL, _ = url.Parse("http://127.0.0.1:9000/tfstate/env:/dev/x?x-id=GetObject")
		}, wantErr: sigv4.ErrSignatureMismatch},
		{name: "tampered query", service: "s3", req: getOdd, tamper: func(r *http.Request) {
			r.URL.RawQuery += "&versionId=1"
		}, wantErr: sigv4.ErrSignatureMismatch},
		{name: "other host", service: "s3", req: getOdd, tamper: func(r *http.Request) { r.Host = "127.0.0.1:9001" },
			wantErr: sigv4.ErrSignatureMismatch},
		{name: "tampered dynamodb body", service: "dynamodb",
			req:     func() *http.Request { return jsonRequest(`{"TableName":"locks"}`) },
			tamper:  func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(`{"TableName":"other"}`)) },
			wantErr: sigv4.ErrSignatureMismatch},
		{name: "dynamodb with a signed body digest", service: "dynamodb", req: func() *http.Request {
			r := jsonRequest(`{"TableName":"locks"}`)
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex(`{"TableName":"locks"}`))
			return r
		}},
		{name: "dynamodb may not leave its body unsigned", service: "dynamodb", req: func() *http.Request {
			r := jsonRequest(`{"TableName":"locks"}`)
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			return r
		}, wantErr: sigv4.ErrMalformed},
		{name: "kms may not stream its body", service: "kms", req: func() *http.Request {
			r := jsonRequest(`{}`)
			r.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
			return r
		}, wantErr: sigv4.ErrMalformed},
		{name: "dynamodb body that is not the signed digest", service: "dynamodb", req: func() *http.Request {
			r := jsonRequest(`{"TableName":"other"}`)
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex(`{"TableName":"locks"}`))
			return r
		}, wantErr: sigv4.ErrContentSHA256Mismatch},
		{name: "clock 16 minutes ahead", service: "s3", req: getOdd, now: 16 * time.Minute, wantErr: sigv4.ErrRequestTimeTooSkewed},
		{name: "clock 16 minutes behind", service: "s3", req: getOdd, now: -16 * time.Minute, wantErr: sigv4.ErrRequestTimeTooSkewed},
		{name: "s3 without x-amz-content-sha256", service: "s3", req: getOdd, tamper: func(r *http.Request) {
			r.Header.Del("X-Amz-Content-Sha256")
		}, wantErr: sigv4.ErrMalformed},
		{name: "invalid x-amz-content-sha256", service: "s3",
			req: func() *http.Request {
				r := getOdd()
				r.Header.Set("X-Amz-Content-Sha256", "SOMETHING-ELSE")
				return r
			}, wantErr: sigv4.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.creds
			if c.AccessKeyID == "" {
				c = creds
			}
			r := tt.req()
			sign(t, r, tt.service, c)
			if tt.tamper != nil {
				tt.tamper(r)
			}
			sr := serverSide(t, r)
			res, err := sigv4.Verify(sr, signTime.Add(tt.now), lookup)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := sigv4.Credential{AccessKeyID: akid, Region: region, Service: tt.service}
			if res.Credential != want || !res.Date.Equal(signTime) || res.Presigned || res.SessionToken != c.SessionToken {
				t.Errorf("Result = %+v, want %+v at %v with token %q", res, want, signTime, c.SessionToken)
			}

			// The body is intact and, for services that hash it, the hash is the signed one.
			rc, n, err := res.Body(sr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatalf("reading body: %v", err)
			}
			if res.PayloadHash != sha256Hex(string(got)) || n != int64(len(got)) {
				t.Errorf("PayloadHash %s, length %d for body %q", res.PayloadHash, n, got)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	const good = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260501/eu-central-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd"
	tests := []struct {
		name, auth, amzDate string
		want                error
	}{
		{"anonymous", "", "20260501T120000Z", sigv4.ErrMissingAuth},
		{"signature v2", "AWS AKIDEXAMPLE:c2lnbmF0dXJl", "20260501T120000Z", sigv4.ErrMalformed},
		{"sigv4a", strings.Replace(good, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1), "20260501T120000Z", sigv4.ErrMalformed},
		{"missing signature", strings.TrimSuffix(good, ", Signature=abcd"), "20260501T120000Z", sigv4.ErrMalformed},
		{"short credential", strings.Replace(good, "/s3/aws4_request", "/s3", 1), "20260501T120000Z", sigv4.ErrMalformed},
		{"bad terminator", strings.Replace(good, "aws4_request", "aws5_request", 1), "20260501T120000Z", sigv4.ErrMalformed},
		{"bad credential date", strings.Replace(good, "/20260501/", "/2026-05-01/", 1), "20260501T120000Z", sigv4.ErrMalformed},
		{"host not signed", strings.Replace(good, "host;", "", 1), "20260501T120000Z", sigv4.ErrMalformed},
		{"missing x-amz-date", good, "", sigv4.ErrMalformed},
		{"credential date differs from x-amz-date", good, "20260502T000100Z", sigv4.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://127.0.0.1:9000/b/k", nil)
			r.Header.Set("Authorization", tt.auth)
			r.Header.Set("X-Amz-Date", tt.amzDate)
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex(""))
			_, err := sigv4.Verify(serverSide(t, r), signTime, lookup)
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyPresigned(t *testing.T) {
	presign := func(t *testing.T, method, rawURL string, expires int, c aws.Credentials, header http.Header) *http.Request {
		r, _ := http.NewRequest(method, rawURL, nil)
		q := r.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(expires))
		r.URL.RawQuery = q.Encode()
		maps := header.Clone()
		for k, v := range maps {
			r.Header[k] = v
		}
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		signed, signedHeaders, err := signer.PresignHTTP(context.Background(), c, r, "UNSIGNED-PAYLOAD", "s3", region, signTime)
		if err != nil {
			t.Fatal(err)
		}
		pr, _ := http.NewRequest(method, signed, nil)
		for k, v := range signedHeaders {
			if k != "Host" {
				pr.Header[k] = v
			}
		}
		return pr
	}
	tokenCreds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: "session/token+="}
	tests := []struct {
		name    string
		method  string
		url     string
		expires int
		creds   aws.Credentials
		header  http.Header
		tamper  func(r *http.Request)
		now     time.Duration
		wantErr error
	}{
		{name: "get", method: "GET", url: "http://127.0.0.1:9000/b/env%3A/dev/a%20b?x-id=GetObject", expires: 900, now: 10 * time.Minute},
		{name: "put with signed content-type", method: "PUT", url: "http://127.0.0.1:9000/b/k?x-id=PutObject", expires: 3600,
			header: http.Header{"Content-Type": {"text/plain"}}},
		{name: "session token in query", method: "GET", url: "http://127.0.0.1:9000/b/k", expires: 60, creds: tokenCreds},
		{name: "seven days", method: "GET", url: "http://127.0.0.1:9000/b/k", expires: 7 * 24 * 3600, now: 7*24*time.Hour - time.Second},

		{name: "expired", method: "GET", url: "http://127.0.0.1:9000/b/k", expires: 900, now: 15*time.Minute + time.Second, wantErr: sigv4.ErrExpired},
		{name: "not yet valid", method: "GET", url: "http://127.0.0.1:9000/b/k", expires: 900, now: -16 * time.Minute, wantErr: sigv4.ErrRequestTimeTooSkewed},
		{name: "more than seven days", method: "GET", url: "http://127.0.0.1:9000/b/k", expires: 7*24*3600 + 1, wantErr: sigv4.ErrMalformed},
		{name: "tampered query", method: "GET", url: "http://127.0.0.1:9000/b/k", expires: 900, tamper: func(r *http.Request) {
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=900", "X-Amz-Expires=901", 1)
		}, wantErr: sigv4.ErrSignatureMismatch},
		{name: "tampered signed header", method: "PUT", url: "http://127.0.0.1:9000/b/k", expires: 900,
			header: http.Header{"Content-Type": {"text/plain"}},
			tamper: func(r *http.Request) { r.Header.Set("Content-Type", "text/html") }, wantErr: sigv4.ErrSignatureMismatch},
		{name: "also an authorization header", method: "GET", url: "http://127.0.0.1:9000/b/k", expires: 900, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
		}, wantErr: sigv4.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.creds
			if c.AccessKeyID == "" {
				c = creds
			}
			r := presign(t, tt.method, tt.url, tt.expires, c, tt.header)
			if tt.tamper != nil {
				tt.tamper(r)
			}
			sr := serverSide(t, r)
			res, err := sigv4.Verify(sr, signTime.Add(tt.now), lookup)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !res.Presigned || res.PayloadHash != "UNSIGNED-PAYLOAD" || res.SessionToken != c.SessionToken || res.AccessKeyID != akid {
				t.Errorf("Result = %+v", res)
			}
		})
	}
}

func TestParse(t *testing.T) {
	header, _ := http.NewRequest("GET", "http://127.0.0.1:9000/", http.NoBody)
	sign(t, header, "sts", creds)
	query, _ := http.NewRequest("GET", "http://127.0.0.1:9000/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260501%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260501T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00", nil)
	anonymous, _ := http.NewRequest("GET", "http://127.0.0.1:9000/b/k", nil)
	tests := []struct {
		name    string
		r       *http.Request
		want    *sigv4.Credential
		wantErr error
	}{
		{"header", header, &sigv4.Credential{AccessKeyID: akid, Region: region, Service: "sts"}, nil},
		{"presigned", query, &sigv4.Credential{AccessKeyID: akid, Region: "us-east-1", Service: "s3"}, nil},
		{"anonymous", anonymous, nil, sigv4.ErrMissingAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sigv4.Parse(serverSide(t, tt.r))
			if !errors.Is(err, tt.wantErr) || (tt.want != nil && (got == nil || got.Credential != *tt.want)) {
				t.Errorf("Parse = %+v, %v; want %+v, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestVerifyBodyTooLarge(t *testing.T) {
	r := jsonRequest(strings.Repeat(" ", sigv4.MaxBody+1))
	sign(t, r, "dynamodb", creds)
	sr := serverSide(t, r)
	sr.ContentLength = -1 // as with Transfer-Encoding: chunked: only reading finds the size
	if _, err := sigv4.Verify(sr, signTime, lookup); !errors.Is(err, sigv4.ErrBodyTooLarge) {
		t.Errorf("Verify = %v, want ErrBodyTooLarge", err)
	}
}

func TestBodyContentSHA256(t *testing.T) {
	tests := []struct {
		name, signedHash, body string
		wantErr                error
	}{
		{"matching", sha256Hex("state"), "state", nil},
		{"mismatch", sha256Hex("state"), "other", sigv4.ErrContentSHA256Mismatch},
		{"empty", sha256Hex(""), "", nil},
		{"unsigned payload", "UNSIGNED-PAYLOAD", "anything", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s3Request("PUT", "http://127.0.0.1:9000/b/k", tt.body)
			r.Header.Set("X-Amz-Content-Sha256", tt.signedHash)
			sign(t, r, "s3", creds)
			sr := serverSide(t, r)
			res, err := sigv4.Verify(sr, signTime, lookup)
			if err != nil {
				t.Fatal(err)
			}
			rc, _, err := res.Body(sr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && string(got) != tt.body) {
				t.Errorf("read %q, %v; want %q, %v", got, err, tt.body, tt.wantErr)
			}
		})
	}
}
