package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestS3MalformedXML(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "xml"
		mustBucket(t, env, b)
		up, err := env.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp")})
		if err != nil {
			t.Fatal(err)
		}
		uploadPath := "/" + b + "/mp?uploadId=" + aws.ToString(up.UploadId)
		nested := strings.Repeat("<Rule>", 200) + strings.Repeat("</Rule>", 200)
		laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
			`<VersioningConfiguration><Status>&lol2;</Status></VersioningConfiguration>`
		for _, tc := range []struct {
			name, method, path, body string
		}{
			{"CompleteMultipartUploadTruncated", http.MethodPost, uploadPath, "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"},
			{"CompleteMultipartUploadNotXML", http.MethodPost, uploadPath, "parts: 1, 2, 3"},
			{"CompleteMultipartUploadDeep", http.MethodPost, uploadPath, "<CompleteMultipartUpload>" + nested + "</CompleteMultipartUpload>"},
			{"DeleteObjectsNotXML", http.MethodPost, "/" + b + "?delete", "delete everything"},
			{"DeleteObjectsMismatchedTags", http.MethodPost, "/" + b + "?delete", "<Delete><Object><Key>a</Object></Key></Delete>"},
			{"DeleteObjectsEmpty", http.MethodPost, "/" + b + "?delete", "<Delete></Delete>"},
			{"DeleteObjectsDeep", http.MethodPost, "/" + b + "?delete", "<Delete>" + nested + "</Delete>"},
			{"PutBucketVersioningTruncated", http.MethodPut, "/" + b + "?versioning", "<VersioningConfiguration><Status>Enabled</Status>"},
			{"PutBucketVersioningEmpty", http.MethodPut, "/" + b + "?versioning", ""},
			{"PutBucketVersioningDeep", http.MethodPut, "/" + b + "?versioning", "<VersioningConfiguration>" + nested + "</VersioningConfiguration>"},
			{"PutBucketVersioningEntities", http.MethodPut, "/" + b + "?versioning", laughs},
			{"PutBucketVersioningHuge", http.MethodPut, "/" + b + "?versioning", "<VersioningConfiguration>" + strings.Repeat("<Status>Enabled</Status>", 120_000) + "</VersioningConfiguration>"},
			{"PutBucketEncryptionNotXML", http.MethodPut, "/" + b + "?encryption", "{\"Rules\": []}"},
			{"PutPublicAccessBlockTruncated", http.MethodPut, "/" + b + "?publicAccessBlock", "<PublicAccessBlockConfiguration><BlockPublicAcls>true"},
			{"CreateBucketNotXML", http.MethodPut, "/xml-new-bucket", "<CreateBucketConfiguration><LocationConstraint>"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp := env.signedRequest(t, tc.method, tc.path, []byte(tc.body), nil)
				wantXMLError(t, resp, http.StatusBadRequest, "MalformedXML")
			})
		}
		// Nothing took effect, and the server is still serving.
		v, err := env.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b)})
		if err != nil || v.Status != "" {
			t.Errorf("versioning after malformed requests = %q, %v; want unset", v.Status, err)
		}
		if _, err := env.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("xml-new-bucket")}); err == nil {
			t.Errorf("bucket created from a malformed configuration")
		}
		if _, err := env.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: up.UploadId}); err != nil {
			t.Errorf("upload gone after malformed completions: %v", err)
		}
	})
}

func TestS3ErrorFormat(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		const b = "errors"
		mustBucket(t, env, b)

		t.Run("XMLBody", func(t *testing.T) {
			resp := env.signedRequest(t, http.MethodGet, "/"+b+"/missing%20key", nil, nil)
			if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
				t.Errorf("Content-Type = %q, want application/xml", ct)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body = io.NopCloser(strings.NewReader(string(raw)))
			e := wantXMLError(t, resp, http.StatusNotFound, "NoSuchKey")
			if !strings.HasPrefix(string(raw), "<?xml") || !strings.Contains(string(raw), "<Key>missing key</Key>") {
				t.Errorf("body %s: want an XML declaration and the key", raw)
			}
			if e.Message == "" {
				t.Errorf("no Message")
			}
		})

		t.Run("HeadErrorHasNoBody", func(t *testing.T) {
			for _, path := range []string{"/" + b + "/missing", "/no-such-bucket", "/no-such-bucket/k"} {
				resp := env.signedRequest(t, http.MethodHead, path, nil, nil)
				raw, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusNotFound || len(raw) != 0 {
					t.Errorf("HEAD %s: status %d, %d body bytes; want 404 and none", path, resp.StatusCode, len(raw))
				}
				if resp.Header.Get("X-Amz-Request-Id") == "" {
					t.Errorf("HEAD %s: no x-amz-request-id", path)
				}
			}
		})

		t.Run("EscapedMessage", func(t *testing.T) {
			// A key full of XML metacharacters comes back in a well-formed error.
			resp := env.signedRequest(t, http.MethodGet, "/"+b+"/"+url.PathEscape(`<&>"'`), nil, nil)
			wantXMLError(t, resp, http.StatusNotFound, "NoSuchKey")
		})

		t.Run("RequestIDOnEveryResponse", func(t *testing.T) {
			ctx := context.Background()
			c, wl := env.loggedClient()
			bucket := aws.String(b)
			// Successes and failures of every shape: XML bodies, empty bodies, HEAD, 204, 206, 304, 412, 416.
			_, _ = c.ListBuckets(ctx, &s3.ListBucketsInput{})
			_, _ = c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("k"), Body: strings.NewReader("0123456789")})
			_, _ = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("k")})
			if out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("k"), Range: aws.String("bytes=2-3")}); err == nil {
				out.Body.Close()
			}
			_, _ = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("k"), Range: aws.String("bytes=20-")})
			_, _ = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("k"), IfNoneMatch: aws.String(quotedMD5([]byte("0123456789")))})
			_, _ = c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("k"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")})
			_, _ = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("none")})
			_, _ = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
			_, _ = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("k")})
			_, _ = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("k")}}}})
			_, _ = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
			ex := wl.exchanges()
			if len(ex) < 13 {
				t.Fatalf("only %d requests recorded", len(ex))
			}
			seen := map[string]bool{}
			statuses := map[int]bool{}
			for _, e := range ex {
				id := e.RespHeader.Get("X-Amz-Request-Id")
				statuses[e.Status] = true
				if id == "" || seen[id] {
					t.Errorf("%s %s → %d: x-amz-request-id %q, want a fresh one", e.Method, e.Path, e.Status, id)
				}
				seen[id] = true
				if e.RespHeader.Get("Date") == "" {
					t.Errorf("%s %s → %d: no Date header", e.Method, e.Path, e.Status)
				}
			}
			for _, s := range []int{200, 204, 206, 304, 404, 412, 416} {
				if !statuses[s] {
					t.Errorf("no response with status %d was checked (saw %v)", s, statuses)
				}
			}
		})
	})
}

// requestCount returns how many requests for op the server has finished, from /metrics, counting
// only series carrying every one of labels (e.g. `status="400"`).
func requestCount(t *testing.T, env *testEnv, op string, labels ...string) int {
	t.Helper()
	resp, err := env.Client.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "stateward_requests_total{") || !strings.Contains(line, `operation="`+op+`"`) {
			continue
		}
		if slices.ContainsFunc(labels, func(l string) bool { return !strings.Contains(line, l) }) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		n += int(v)
	}
	return n
}

// cutPut sends a signed PutObject announcing total body bytes over a raw connection, writes
// only the first send of them, and hangs up.
func cutPut(t *testing.T, env *testEnv, path string, body []byte, send int, payload string) {
	t.Helper()
	u, err := url.Parse(env.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, u.String(), nil)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	req.Header.Set("X-Amz-Content-Sha256", payload)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), env.Creds, req, payload, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	var conn net.Conn
	if u.Scheme == "https" {
		cfg := env.Client.Transport.(*http.Transport).TLSClientConfig.Clone()
		conn, err = tls.Dial("tcp", u.Host, cfg)
	} else {
		conn, err = net.Dial("tcp", u.Host)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	w := bufio.NewWriter(conn)
	fmt.Fprintf(w, "PUT %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(w, "%s: %s\r\n", k, v)
		}
	}
	w.WriteString("\r\n")
	w.Write(body[:send])
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestS3CutConnection drops PutObjects mid-body: the object must not appear (not even
// truncated), the segments already written must be removed, and the server must go on.
func TestS3CutConnection(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "cut"
		mustBucket(t, env, b)
		body := pattern(4*mib+100, 4)
		for i, tc := range []struct {
			name    string
			send    int
			payload string
		}{
			{"UnsignedPayloadAfterTwoSegments", 5*mib/2 + 7, "UNSIGNED-PAYLOAD"},
			{"SignedPayloadAfterTwoSegments", 5*mib/2 + 7, ""},
			{"UnsignedPayloadAtSegmentBoundary", 2 * mib, "UNSIGNED-PAYLOAD"},
			{"UnsignedPayloadSmall", 100, "UNSIGNED-PAYLOAD"},
			{"UnsignedPayloadHeadersOnly", 0, "UNSIGNED-PAYLOAD"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				key := "cut-" + tc.name
				cutPut(t, env, "/"+b+"/"+key, body, tc.send, tc.payload)
				// The server notices the hang-up when it reads; wait until it has finished the request.
				deadline := time.Now().Add(20 * time.Second)
				for requestCount(t, env, "PutObject") < i+1 {
					if time.Now().After(deadline) {
						t.Fatal("the server never finished the cut request")
					}
					time.Sleep(10 * time.Millisecond)
				}
				// A hang-up is the client's failure (IncompleteBody), not a server error.
				if got := requestCount(t, env, "PutObject", `status="400"`); got != i+1 {
					t.Errorf("%d cut PutObjects ended in 400, want %d", got, i+1)
				}
				_, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
				wantErr(t, err, "NotFound", http.StatusNotFound)
				// Every body segment written before the hang-up is gone: nothing is left pending.
				n, err := env.srv.objects.SweepPending(ctx, time.Now().Add(time.Hour))
				if err != nil || n != 0 {
					t.Errorf("SweepPending = %d, %v; want 0 bodies left behind", n, err)
				}
			})
		}
		// Still serving, and the same key can be written whole.
		mustPut(t, env, b, "cut-after", body)
		if got := mustGet(t, env, b, "cut-after", ""); len(got) != len(body) {
			t.Errorf("GET after cut uploads: %d bytes, want %d", len(got), len(body))
		}
	})
}
