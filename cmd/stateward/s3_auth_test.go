package main

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// clientWith returns a new S3 client like env.S3 signing with creds. It shares no signer with
// env.S3: the SDK caches signing keys by access key id, so a copy of env.S3 with another
// secret for the same key id would still sign with the right one.
func (env *testEnv) clientWith(creds aws.Credentials) *s3.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.StaticCredentialsProvider{Value: creds},
		HTTPClient: env.Client, RetryMaxAttempts: 1}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(env.URL)
		o.UsePathStyle = true
	})
}

// wantXMLError fails t unless resp is an S3 XML error with status and code.
func wantXMLError(t *testing.T, resp *http.Response, status int, code string) s3ErrorBody {
	t.Helper()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e s3ErrorBody
	if err := xml.Unmarshal(raw, &e); err != nil {
		t.Fatalf("status %d, body is not an XML error (%v): %q", resp.StatusCode, err, raw)
	}
	if resp.StatusCode != status || e.Code != code {
		t.Fatalf("status %d code %q, want %d %q; body %s", resp.StatusCode, e.Code, status, code, raw)
	}
	if e.Message == "" || e.RequestID == "" || e.RequestID != resp.Header.Get("X-Amz-Request-Id") {
		t.Errorf("error Message %q RequestId %q (header %q): want both, matching the header", e.Message, e.RequestID, resp.Header.Get("X-Amz-Request-Id"))
	}
	return e
}

func TestS3Auth(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "auth"
		mustBucket(t, env, b)
		body := []byte("secret state")
		mustPut(t, env, b, "state", body)

		t.Run("WrongSecret", func(t *testing.T) {
			c := env.clientWith(aws.Credentials{AccessKeyID: env.Creds.AccessKeyID, SecretAccessKey: "not-the-secret"})
			_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b)})
			wantErr(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
			_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("state"), Body: strings.NewReader("overwrite")})
			wantErr(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
			if got := string(mustGet(t, env, b, "state", "")); got != string(body) {
				t.Errorf("state = %q after a refused write", got)
			}
		})

		t.Run("UnknownAccessKey", func(t *testing.T) {
			c := env.clientWith(aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: env.Creds.SecretAccessKey})
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("state")})
			wantErr(t, err, "InvalidAccessKeyId", http.StatusForbidden)
		})

		t.Run("Anonymous", func(t *testing.T) {
			for _, tc := range []struct{ method, path string }{
				{http.MethodGet, "/" + b + "/state"},
				{http.MethodGet, "/" + b + "?list-type=2"},
				{http.MethodGet, "/"},
				{http.MethodPut, "/" + b + "/anon"},
				{http.MethodDelete, "/" + b + "/state"},
			} {
				t.Run(tc.method+" "+tc.path, func(t *testing.T) {
					req, _ := http.NewRequest(tc.method, env.URL+tc.path, strings.NewReader(""))
					resp, err := env.Client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					wantXMLError(t, resp, http.StatusForbidden, "AccessDenied")
				})
			}
			if got := string(mustGet(t, env, b, "state", "")); got != string(body) {
				t.Errorf("state = %q after anonymous requests", got)
			}
		})

		t.Run("RequestTimeTooSkewed", func(t *testing.T) {
			for _, skew := range []time.Duration{-20 * time.Minute, 20 * time.Minute} {
				resp := env.signedRequestAt(t, http.MethodGet, "/"+b+"/state", nil, nil, env.Creds, time.Now().Add(skew))
				wantXMLError(t, resp, http.StatusForbidden, "RequestTimeTooSkewed")
			}
			// Inside the 15-minute window is fine.
			resp := env.signedRequestAt(t, http.MethodGet, "/"+b+"/state", nil, nil, env.Creds, time.Now().Add(-10*time.Minute))
			if resp.StatusCode != http.StatusOK {
				t.Errorf("request signed 10 minutes ago: status %d, want 200", resp.StatusCode)
			}
		})

		t.Run("PresignedGet", func(t *testing.T) {
			ps := s3.NewPresignClient(env.S3)
			req, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("state")}, s3.WithPresignExpires(5*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := env.Client.Get(req.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(got) != string(body) {
				t.Errorf("presigned GET: status %d body %q, want 200 %q", resp.StatusCode, got, body)
			}
			// Any change to what was signed breaks the signature.
			u, _ := url.Parse(req.URL)
			u.Path = "/" + b + "/other"
			resp, err = env.Client.Get(u.String())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			wantXMLError(t, resp, http.StatusForbidden, "SignatureDoesNotMatch")
		})

		t.Run("PresignedPut", func(t *testing.T) {
			ps := s3.NewPresignClient(env.S3)
			req, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("uploaded")})
			if err != nil {
				t.Fatal(err)
			}
			hreq, _ := http.NewRequest(req.Method, req.URL, strings.NewReader("via presigned PUT"))
			for k, v := range req.SignedHeader {
				if !strings.EqualFold(k, "Host") {
					hreq.Header[k] = v
				}
			}
			resp, err := env.Client.Do(hreq)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("presigned PUT: status %d %s", resp.StatusCode, raw)
			}
			if got := string(mustGet(t, env, b, "uploaded", "")); got != "via presigned PUT" {
				t.Errorf("uploaded = %q", got)
			}
		})

		t.Run("PresignedExpired", func(t *testing.T) {
			// Signed 10 minutes ago for 60 seconds: well within the skew window, but expired.
			req, _ := http.NewRequest(http.MethodGet, env.URL+"/"+b+"/state?X-Amz-Expires=60", nil)
			signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
			signed, _, err := signer.PresignHTTP(ctx, env.Creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now().Add(-10*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := env.Client.Get(signed)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			wantXMLError(t, resp, http.StatusForbidden, "AccessDenied")

			// The same, signed now, works: the refusal was the expiry.
			req, _ = http.NewRequest(http.MethodGet, env.URL+"/"+b+"/state?X-Amz-Expires=60", nil)
			signed, _, err = signer.PresignHTTP(ctx, env.Creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			resp2, err := env.Client.Get(signed)
			if err != nil {
				t.Fatal(err)
			}
			resp2.Body.Close()
			if resp2.StatusCode != http.StatusOK {
				t.Errorf("fresh presigned GET: status %d", resp2.StatusCode)
			}
		})

		t.Run("SessionToken", func(t *testing.T) {
			creds := env.Creds
			creds.SessionToken = "FwoGZXIvYXdzEXAMPLETOKEN"
			_, err := env.clientWith(creds).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("state")})
			wantErr(t, err, "InvalidToken", http.StatusBadRequest)
		})
	})
}
