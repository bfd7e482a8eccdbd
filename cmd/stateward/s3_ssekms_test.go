//lint:file-ignore SA1019 Terraform's S3 backend uploads and downloads through feature/s3/manager; these tests drive that same code.

package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestS3SSEKMS: objects encrypted under KMS keys named by id, ARN or alias, by request or by
// bucket default; key state (disabled, pending deletion, rotated) governs reads and writes.
func TestS3SSEKMS(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t, envOptions{})
	key, err := env.KMS.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("terraform state")})
	if err != nil {
		t.Fatal(err)
	}
	keyID, keyARN := aws.ToString(key.KeyMetadata.KeyId), aws.ToString(key.KeyMetadata.Arn)
	if _, err := env.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/terraform"), TargetKeyId: &keyID}); err != nil {
		t.Fatal(err)
	}
	mustBucket(t, env, "kms-bucket")

	put := func(key string, body []byte, sse s3types.ServerSideEncryption, kmsKey string) (*s3.PutObjectOutput, error) {
		in := &s3.PutObjectInput{Bucket: aws.String("kms-bucket"), Key: &key, Body: bytes.NewReader(body)}
		if sse != "" {
			in.ServerSideEncryption = sse
		}
		if kmsKey != "" {
			in.SSEKMSKeyId = &kmsKey
		}
		return env.S3.PutObject(ctx, in)
	}
	get := func(key string) ([]byte, *s3.GetObjectOutput, error) {
		out, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("kms-bucket"), Key: &key})
		if err != nil {
			return nil, nil, err
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		return b, out, err
	}

	t.Run("KeyReferences", func(t *testing.T) {
		for _, ref := range []string{keyID, keyARN, "alias/terraform", strings.Replace(keyARN, "key/"+keyID, "alias/terraform", 1)} {
			body := []byte("state under " + ref)
			out, err := put("ref", body, s3types.ServerSideEncryptionAwsKms, ref)
			if err != nil {
				t.Fatalf("put with %s: %v", ref, err)
			}
			if out.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(out.SSEKMSKeyId) != keyARN {
				t.Errorf("put with %s: SSE %q key %q, want aws:kms %s", ref, out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId), keyARN)
			}
			got, gout, err := get("ref")
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("get: %q, %v", got, err)
			}
			if gout.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(gout.SSEKMSKeyId) != keyARN {
				t.Errorf("get: SSE %q key %q", gout.ServerSideEncryption, aws.ToString(gout.SSEKMSKeyId))
			}
			head, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("kms-bucket"), Key: aws.String("ref")})
			if err != nil || head.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(head.SSEKMSKeyId) != keyARN {
				t.Errorf("head: %v %v", head, err)
			}
		}
	})

	t.Run("UnknownKey", func(t *testing.T) {
		_, err := put("missing", []byte("x"), s3types.ServerSideEncryptionAwsKms, "alias/does-not-exist")
		wantErr(t, err, "KMS.NotFoundException", 400)
		if _, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("kms-bucket"), Key: aws.String("missing")}); err == nil {
			t.Error("a failed SSE-KMS write left an object")
		}
	})

	t.Run("ManagedKey", func(t *testing.T) {
		out, err := put("managed", []byte("default key"), s3types.ServerSideEncryptionAwsKms, "")
		if err != nil {
			t.Fatal(err)
		}
		aliases, err := env.KMS.ListAliases(ctx, &kms.ListAliasesInput{})
		if err != nil {
			t.Fatal(err)
		}
		var managed string
		for _, a := range aliases.Aliases {
			if aws.ToString(a.AliasName) == "alias/aws/s3" {
				managed = aws.ToString(a.TargetKeyId)
			}
		}
		if managed == "" || !strings.HasSuffix(aws.ToString(out.SSEKMSKeyId), "key/"+managed) {
			t.Errorf("object key %q, aws/s3 alias targets %q", aws.ToString(out.SSEKMSKeyId), managed)
		}
	})

	t.Run("BucketDefault", func(t *testing.T) {
		mustBucket(t, env, "kms-default")
		_, err := env.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("kms-default"),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: &keyARN}}}}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("kms-default"), Key: aws.String("k"), Body: strings.NewReader("x")})
		if err != nil {
			t.Fatal(err)
		}
		if out.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(out.SSEKMSKeyId) != keyARN {
			t.Errorf("default: SSE %q key %q", out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
		}
		// encrypt = true alone (AES256) still means SSE-S3, as on AWS.
		out, err = env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("kms-default"), Key: aws.String("s3"), Body: strings.NewReader("x"),
			ServerSideEncryption: s3types.ServerSideEncryptionAes256})
		if err != nil || out.ServerSideEncryption != s3types.ServerSideEncryptionAes256 || out.SSEKMSKeyId != nil {
			t.Errorf("AES256 request: %+v %v", out, err)
		}
	})

	t.Run("Multipart", func(t *testing.T) {
		body := bytes.Repeat([]byte("0123456789abcdef"), 7<<16) // 7 MiB: two parts
		up := manager.NewUploader(env.S3, func(u *manager.Uploader) { u.PartSize = 5 << 20 })
		if _, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("kms-bucket"), Key: aws.String("big"), Body: bytes.NewReader(body),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("alias/terraform")}); err != nil {
			t.Fatal(err)
		}
		got, out, err := get("big")
		if err != nil || !bytes.Equal(got, body) || aws.ToString(out.SSEKMSKeyId) != keyARN {
			t.Fatalf("multipart SSE-KMS: %d bytes, key %q, %v", len(got), aws.ToString(out.SSEKMSKeyId), err)
		}
	})

	t.Run("KeyState", func(t *testing.T) {
		if _, err := put("state", []byte("v1"), s3types.ServerSideEncryptionAwsKms, keyID); err != nil {
			t.Fatal(err)
		}
		if _, err := env.KMS.DisableKey(ctx, &kms.DisableKeyInput{KeyId: &keyID}); err != nil {
			t.Fatal(err)
		}
		_, _, err := get("state")
		wantErr(t, err, "KMS.DisabledException", 400)
		_, err = put("state2", []byte("x"), s3types.ServerSideEncryptionAwsKms, keyID)
		wantErr(t, err, "KMS.DisabledException", 400)
		if _, err := env.KMS.EnableKey(ctx, &kms.EnableKeyInput{KeyId: &keyID}); err != nil {
			t.Fatal(err)
		}
		if got, _, err := get("state"); err != nil || string(got) != "v1" {
			t.Fatalf("after enable: %q %v", got, err)
		}

		if _, err := env.KMS.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: &keyID, PendingWindowInDays: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
		_, _, err = get("state")
		wantErr(t, err, "KMS.KMSInvalidStateException", 400)
		if _, err := env.KMS.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: &keyID}); err != nil {
			t.Fatal(err)
		}
		if _, err := env.KMS.EnableKey(ctx, &kms.EnableKeyInput{KeyId: &keyID}); err != nil {
			t.Fatal(err)
		}

		// Rotation: versions written before and after both stay readable.
		if _, err := env.KMS.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: &keyID}); err != nil {
			t.Fatal(err)
		}
		if _, err := put("state", []byte("v2"), s3types.ServerSideEncryptionAwsKms, keyID); err != nil {
			t.Fatal(err)
		}
		for key, want := range map[string]string{"state": "v2", "big": ""} {
			got, _, err := get(key)
			if err != nil || (want != "" && string(got) != want) {
				t.Errorf("after rotation %s: %q %v", key, got, err)
			}
		}
	})
}
