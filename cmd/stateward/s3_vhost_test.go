package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3VirtualHostedStyle: with --domain, the SDK's default virtual-hosted addressing
// (bucket in the Host) works, and path style keeps working beside it.
func TestS3VirtualHostedStyle(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, envOptions{Domain: "s3.stateward.test"})
	// Resolve every name to the test server, as DNS would for *.s3.stateward.test.
	addr := env.http.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	transport := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	var hosts []string
	vhost := s3.New(env.S3.Options(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://s3.stateward.test:" + port)
		o.UsePathStyle = false
		o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			hosts = append(hosts, r.URL.Host)
			return transport.RoundTrip(r)
		})}
	})
	if _, err := vhost.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vbucket")}); err != nil {
		t.Fatal(err)
	}
	body := []byte("virtual host")
	if _, err := vhost.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vbucket"), Key: aws.String("env:/dev/a//b.tfstate"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	out, err := vhost.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vbucket"), Key: aws.String("env:/dev/a//b.tfstate")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, body) {
		t.Errorf("virtual-hosted GET = %q, want %q", got, body)
	}
	list, err := vhost.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vbucket"), Prefix: aws.String("env:/")})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "env:/dev/a//b.tfstate" {
		t.Errorf("virtual-hosted list = %+v, %v", list, err)
	}
	for _, h := range hosts {
		if h != "vbucket.s3.stateward.test:"+port {
			t.Errorf("request went to Host %q; the test meant to exercise virtual-hosted style", h)
		}
	}
	// The same object by path style, through the usual client.
	if got := mustGet(t, env, "vbucket", "env:/dev/a//b.tfstate", ""); !bytes.Equal(got, body) {
		t.Errorf("path-style GET = %q", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
