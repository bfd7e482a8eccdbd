package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3MissingKeyNeedsListBucket: reading a key that does not exist answers 404 only to a
// caller allowed s3:ListBucket on the bucket; others get 403, so that a caller who may not
// list a bucket cannot learn which keys it holds (as S3 does).
func TestS3MissingKeyNeedsListBucket(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	ctx := context.Background()
	mustBucket(t, env, "keys")
	if _, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("keys"), Key: aws.String("present"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	get := `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::keys/*"}`
	list := `{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::keys"}`
	reader := env.userS3(t, "reader", `{"Version":"2012-10-17","Statement":[`+get+`]}`)
	lister := env.userS3(t, "lister", `{"Version":"2012-10-17","Statement":[`+get+`,`+list+`]}`)
	for _, tc := range []struct {
		name     string
		c        *s3.Client
		key      string
		code     string
		status   int
		headCode string
	}{
		{"reader, present key", reader, "present", "", 200, ""},
		{"reader, missing key", reader, "missing", "AccessDenied", 403, "Forbidden"},
		{"lister, missing key", lister, "missing", "NoSuchKey", 404, "NotFound"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("keys"), Key: aws.String(tc.key)})
			if tc.status == 200 {
				if err != nil {
					t.Fatal(err)
				}
				out.Body.Close()
				return
			}
			wantErr(t, err, tc.code, tc.status)
			_, err = tc.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("keys"), Key: aws.String(tc.key)})
			wantErr(t, err, tc.headCode, tc.status)
		})
	}
}
