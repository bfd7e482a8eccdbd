package main

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3ReadDuringOverwrite: a GET streaming a version keeps getting that version's bytes
// while the version is replaced and then deleted; its segments go only when retired bodies
// are swept.
func TestS3ReadDuringOverwrite(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, envOptions{})
	mustBucket(t, env, "plain") // unversioned: an overwrite replaces the "null" version
	old := pattern(8<<20, 1)
	mustPut(t, env, "plain", "state", old)
	out, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("plain"), Key: aws.String("state")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(out.Body, head); err != nil {
		t.Fatal(err)
	}
	mustPut(t, env, "plain", "state", pattern(8<<20, 2))
	if _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("plain"), Key: aws.String("state")}); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GET cut off after %d bytes by a concurrent overwrite: %v", len(head)+len(rest), err)
	}
	if got := append(head, rest...); !bytes.Equal(got, old) {
		t.Fatalf("GET returned %d bytes that are not the version it started reading", len(got))
	}
	// Both bodies (the first version's and its replacement's) are retired, then swept once.
	if n, err := env.srv.objects.SweepRetired(ctx, time.Now().Add(time.Second)); err != nil || n != 2 {
		t.Fatalf("SweepRetired = %d, %v; want the 2 retired bodies", n, err)
	}
	if n, err := env.srv.objects.SweepRetired(ctx, time.Now().Add(time.Second)); err != nil || n != 0 {
		t.Fatalf("second SweepRetired = %d, %v; want 0", n, err)
	}
}

// TestS3SweepDuringSlowUpload: when an upload stalls past the sweeper's cutoff and its
// segments are swept, finishing it must fail rather than publish a version without a body.
func TestS3SweepDuringSlowUpload(t *testing.T) {
	ctx := context.Background()
	// HTTPS: the SDK streams an unseekable body with aws-chunked and a trailing checksum.
	env := newTestEnv(t, envOptions{TLS: true})
	mustBucket(t, env, "slow")
	release := make(chan struct{})
	body := io.MultiReader(bytes.NewReader(pattern(1<<20, 3)), &blockingReader{release: release, r: bytes.NewReader(pattern(1<<20, 4))})
	errc := make(chan error, 1)
	go func() {
		_, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("slow"), Key: aws.String("state"),
			Body: body, ContentLength: aws.Int64(2 << 20)})
		errc <- err
	}()
	// Wait until the server has stored part of the body, then sweep as if an hour had passed.
	swept := 0
	for deadline := time.Now().Add(20 * time.Second); swept == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		n, err := env.srv.objects.SweepPending(ctx, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		swept = n
	}
	if swept != 1 {
		t.Fatal("the stalled upload was never swept")
	}
	close(release)
	wantErr(t, <-errc, "RequestTimeout", 400)
	if _, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("slow"), Key: aws.String("state")}); err == nil {
		t.Fatal("a swept upload left a visible object")
	}
}

// blockingReader returns nothing until release is closed, then r's bytes.
type blockingReader struct {
	release chan struct{}
	r       io.Reader
}

func (b *blockingReader) Read(p []byte) (int, error) {
	<-b.release
	return b.r.Read(p)
}
