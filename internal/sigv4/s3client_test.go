package sigv4_test

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/stateward/stateward/internal/checksum"
	"github.com/stateward/stateward/internal/sigv4"
)

// seen is what the test server saw of one request.
type seen struct {
	target string // request target as sent
	res    *sigv4.Result
	body   []byte // decoded
	length int64
	err    error
}

// newS3Server starts a server that verifies every request and decodes its body the way the
// S3 front-end will, and a real S3 client pointed at it.
func newS3Server(t *testing.T, useTLS bool) (*s3.Client, <-chan seen) {
	ch := make(chan seen, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{target: r.RequestURI}
		s.res, s.err = sigv4.Verify(r, time.Now(), lookup)
		if s.err == nil {
			var rc io.ReadCloser
			if rc, s.length, s.err = s.res.Body(r); s.err == nil {
				s.body, s.err = io.ReadAll(rc)
				rc.Close()
			}
		}
		ch <- s
		switch {
		case s.err != nil:
			w.WriteHeader(http.StatusForbidden)
		case r.URL.Query().Has("list-type"):
			io.WriteString(w, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>tfstate</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`)
		case r.Method == http.MethodGet:
			io.WriteString(w, "state")
		}
	})
	srv := httptest.NewUnstartedServer(h)
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return s3.New(s3.Options{
		Region:           region,
		BaseEndpoint:     aws.String(srv.URL),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, ""),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
	}), ch
}

// TestS3ClientPutObject uploads with each checksum algorithm: over HTTPS the SDK streams
// aws-chunked with a trailing checksum, over HTTP it signs the body's SHA-256.
func TestS3ClientPutObject(t *testing.T) {
	data := make([]byte, 200<<10)
	for i := range data {
		data[i] = byte(i % 251)
	}
	for _, tls := range []bool{true, false} {
		client, ch := newS3Server(t, tls)
		for _, alg := range []checksum.Algorithm{checksum.CRC32, checksum.CRC32C, checksum.CRC64NVME, checksum.SHA1, checksum.SHA256} {
			name := "http/" + string(alg)
			if tls {
				name = "https/" + string(alg)
			}
			t.Run(name, func(t *testing.T) {
				_, err := client.PutObject(context.Background(), &s3.PutObjectInput{
					Bucket:            aws.String("tfstate"),
					Key:               aws.String("env:/dev/terraform.tfstate"),
					Body:              bytes.NewReader(data),
					ChecksumAlgorithm: types.ChecksumAlgorithm(alg),
				})
				s := <-ch
				if s.err != nil || err != nil {
					t.Fatalf("server: %v; client: %v", s.err, err)
				}
				if !bytes.Equal(s.body, data) || s.length != int64(len(data)) {
					t.Fatalf("decoded %d bytes (length %d), want %d", len(s.body), s.length, len(data))
				}
				if !tls {
					if s.res.PayloadHash != sha256Hex(string(data)) {
						t.Errorf("PayloadHash = %s, want the body's SHA-256", s.res.PayloadHash)
					}
					return
				}
				h := alg.New()
				h.Write(data)
				want := map[string]string{alg.Header(): checksum.Encode(h.Sum(nil))}
				if s.res.PayloadHash != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" || !maps.Equal(s.res.TrailerChecksums(), want) {
					t.Errorf("PayloadHash %s, trailers %v; want the unsigned trailer mode with %v", s.res.PayloadHash, s.res.TrailerChecksums(), want)
				}
			})
		}
	}
}

// TestS3ClientKeys reads keys that need escaping, lists with an escaped prefix, and follows
// a presigned URL.
func TestS3ClientKeys(t *testing.T) {
	client, ch := newS3Server(t, false)
	ctx := context.Background()
	for _, key := range []string{
		"env:/dev/terraform.tfstate",
		"a b+c%d=e&f",
		"ünïcödé/✓/状態",
		"double//slash/./dot/../x",
		"query?x-id=Evil#frag",
		"tilde~star*paren()",
	} {
		t.Run(key, func(t *testing.T) {
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tfstate"), Key: aws.String(key)})
			s := <-ch
			if s.err != nil || err != nil {
				t.Fatalf("GET %s: server: %v; client: %v", s.target, s.err, err)
			}
			out.Body.Close()

			_, err = client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("tfstate"), Prefix: aws.String(key), Delimiter: aws.String("/")})
			if s := <-ch; s.err != nil || err != nil {
				t.Fatalf("LIST %s: server: %v; client: %v", s.target, s.err, err)
			}

			p, err := s3.NewPresignClient(client).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tfstate"), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(p.Method, p.URL, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if s := <-ch; s.err != nil || !s.res.Presigned || !strings.Contains(s.target, "X-Amz-Signature=") {
				t.Fatalf("presigned GET %s: %v", s.target, s.err)
			}
		})
	}
}
