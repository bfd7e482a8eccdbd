package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// lastPut returns the last PutObject request a wire log saw.
func lastPut(t *testing.T, wl *wireLog) wireExchange {
	t.Helper()
	ex := wl.exchanges()
	for i := len(ex) - 1; i >= 0; i-- {
		if ex[i].Method == http.MethodPut {
			return ex[i]
		}
	}
	t.Fatal("no PUT was sent")
	return wireExchange{}
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := strconv.ParseUint(s[:16], 16, 64)
	return err == nil
}

// TestS3AwsChunked checks the request shapes the Go SDK switches between by scheme: over
// HTTPS a PutObject with a checksum streams aws-chunked with an unsigned trailer
// (Terraform ≥ 1.11.2's state writes); over HTTP it signs the body's hash and sends the
// checksum in a header. Either way the stored bytes must be exactly the bytes sent.
func TestS3AwsChunked(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "chunked"
		mustBucket(t, env, b)
		bucket := aws.String(b)
		https := strings.HasPrefix(env.URL, "https:")
		client, wl := env.loggedClient()

		verify := func(t *testing.T, key string, body []byte, alg s3types.ChecksumAlgorithm) {
			t.Helper()
			get, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(get.Body)
			get.Body.Close()
			if err != nil {
				t.Fatalf("reading GET body (checksum validated at EOF): %v", err)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("stored %d bytes, sent %d: framing or padding leaked into the object (head %q)", len(got), len(body), got[:min(len(got), 40)])
			}
			if got := aws.ToString(get.ContentEncoding); strings.Contains(got, "aws-chunked") {
				t.Errorf("GET Content-Encoding = %q, must not carry aws-chunked", got)
			}
			if got, want := aws.ToString(get.ETag), quotedMD5(body); got != want {
				t.Errorf("ETag = %s, want %s", got, want)
			}
			if alg != "" {
				if got, want := getChecksums(get)[alg], checksumOf(alg, body); got != want {
					t.Errorf("GET %s = %q, want %q", alg, got, want)
				}
			}
			h, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToInt64(h.ContentLength); got != int64(len(body)) {
				t.Errorf("HEAD Content-Length = %d, want %d", got, len(body))
			}
		}

		for _, size := range []int{1, 100, 64<<10 + 1, 3*mib + 5} {
			for _, alg := range []s3types.ChecksumAlgorithm{s3types.ChecksumAlgorithmSha256, s3types.ChecksumAlgorithmCrc32, s3types.ChecksumAlgorithmCrc64nvme} {
				t.Run(fmt.Sprintf("%s/%d", alg, size), func(t *testing.T) {
					key := fmt.Sprintf("state-%s-%d", alg, size)
					body := pattern(size, byte(size))
					_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(body),
						ContentType: aws.String("application/json"), ChecksumAlgorithm: alg})
					if err != nil {
						t.Fatal(err)
					}
					req := lastPut(t, wl).ReqHeader
					payload := req.Get("X-Amz-Content-Sha256")
					if https {
						if payload != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" || !strings.Contains(req.Get("Content-Encoding"), "aws-chunked") ||
							!strings.EqualFold(req.Get("X-Amz-Trailer"), "x-amz-checksum-"+strings.ToLower(string(alg))) ||
							req.Get("X-Amz-Decoded-Content-Length") != strconv.Itoa(size) {
							t.Fatalf("HTTPS PutObject was not aws-chunked with a trailer: %v", req)
						}
					} else if !isHexSHA256(payload) || req.Get("X-Amz-Checksum-"+string(alg)) == "" {
						t.Fatalf("HTTP PutObject: x-amz-content-sha256 %q, checksum header %q; want a signed hash and a header",
							payload, req.Get("X-Amz-Checksum-"+string(alg)))
					}
					verify(t, key, body, alg)
				})
			}
		}

		t.Run("ContentEncodingKept", func(t *testing.T) {
			// aws-chunked is framing and is dropped; an encoding of the object itself is kept.
			body := []byte("pretend this is gzip")
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("gz"), Body: bytes.NewReader(body),
				ContentEncoding: aws.String("gzip"), ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256})
			if err != nil {
				t.Fatal(err)
			}
			h, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("gz")})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(h.ContentEncoding); got != "gzip" {
				t.Errorf("Content-Encoding = %q, want gzip", got)
			}
		})

		t.Run("WhenRequired", func(t *testing.T) {
			// AWS_REQUEST_CHECKSUM_CALCULATION=when_required: no checksum at all, and over HTTPS
			// an unsigned payload.
			c, wl := env.loggedClient(func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired })
			body := pattern(2*mib+3, 5)
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("when-required"), Body: bytes.NewReader(body)}); err != nil {
				t.Fatal(err)
			}
			req := lastPut(t, wl).ReqHeader
			want := "UNSIGNED-PAYLOAD"
			if !https {
				want = "a hex SHA-256"
			}
			if got := req.Get("X-Amz-Content-Sha256"); (https && got != want) || (!https && !isHexSHA256(got)) {
				t.Errorf("x-amz-content-sha256 = %q, want %s", got, want)
			}
			for name := range req {
				if strings.HasPrefix(strings.ToLower(name), "x-amz-checksum-") {
					t.Errorf("unexpected checksum header %s", name)
				}
			}
			// The server stores its own default checksum; the SDK validates it on this GET.
			verify(t, "when-required", body, "")
		})

		t.Run("PrecomputedHeader", func(t *testing.T) {
			// OpenTofu's shape: the algorithm plus a precomputed x-amz-checksum-sha256, never chunked.
			body := []byte(`{"version":4,"terraform_version":"1.10.0"}`)
			sum := checksumOf(s3types.ChecksumAlgorithmSha256, body)
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("tofu"), Body: bytes.NewReader(body),
				ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256, ChecksumSHA256: aws.String(sum)})
			if err != nil {
				t.Fatal(err)
			}
			req := lastPut(t, wl).ReqHeader
			if strings.Contains(req.Get("Content-Encoding"), "aws-chunked") || req.Get("X-Amz-Checksum-Sha256") != sum {
				t.Errorf("precomputed checksum: Content-Encoding %q, x-amz-checksum-sha256 %q", req.Get("Content-Encoding"), req.Get("X-Amz-Checksum-Sha256"))
			}
			verify(t, "tofu", body, s3types.ChecksumAlgorithmSha256)
		})

		t.Run("RawFraming", func(t *testing.T) {
			// Hand-framed bodies, as other SDKs and the aws CLI send them.
			good := checksumOf(s3types.ChecksumAlgorithmCrc32, []byte("hello world"))
			bad := checksumOf(s3types.ChecksumAlgorithmCrc32, []byte("something else"))
			hdr := func(decoded string) http.Header {
				return http.Header{"Content-Encoding": {"aws-chunked"}, "X-Amz-Trailer": {"x-amz-checksum-crc32"},
					"X-Amz-Decoded-Content-Length": {decoded}}
			}
			for _, tc := range []struct {
				name, body, decoded string
				codes               []string
			}{
				{"TwoChunks", "6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:" + good + "\r\n\r\n", "11", nil},
				{"WrongTrailer", "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:" + bad + "\r\n\r\n", "11", []string{"BadDigest"}},
				{"WrongDecodedLength", "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:" + good + "\r\n\r\n", "12", []string{"IncompleteBody", "InvalidRequest"}},
				{"BadChunkSize", "zz\r\nhello world\r\n0\r\n\r\n", "11", []string{"InvalidRequest", "IncompleteBody"}},
				{"Truncated", "b\r\nhello", "11", []string{"IncompleteBody", "InvalidRequest"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					key := "raw-" + tc.name
					resp := env.signedRequestPayload(t, http.MethodPut, "/"+b+"/"+key, []byte(tc.body), hdr(tc.decoded),
						"STREAMING-UNSIGNED-PAYLOAD-TRAILER", env.Creds, time.Now())
					raw, _ := io.ReadAll(resp.Body)
					if tc.codes == nil {
						if resp.StatusCode != http.StatusOK {
							t.Fatalf("status %d: %s", resp.StatusCode, raw)
						}
						if got := string(mustGet(t, env, b, key, "")); got != "hello world" {
							t.Errorf("stored %q, want %q", got, "hello world")
						}
						return
					}
					if resp.StatusCode != http.StatusBadRequest || !containsAny(string(raw), tc.codes) {
						t.Errorf("status %d body %s; want 400 with one of %q", resp.StatusCode, raw, tc.codes)
					}
					_, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(key)})
					wantErr(t, err, "NotFound", http.StatusNotFound)
				})
			}
		})
	})
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, "<Code>"+sub+"</Code>") {
			return true
		}
	}
	return false
}
