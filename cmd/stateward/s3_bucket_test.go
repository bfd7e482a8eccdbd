package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestS3Buckets(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()

		t.Run("CreateBucketNoBody", func(t *testing.T) {
			mustBucket(t, env, "plain-bucket")
			out, err := env.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("plain-bucket")})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(out.LocationConstraint), ""; got != want {
				t.Errorf("LocationConstraint = %q, want %q (us-east-1)", got, want)
			}
		})

		t.Run("CreateBucketLocationConstraint", func(t *testing.T) {
			for _, tc := range []struct{ constraint, want string }{
				{"eu-west-1", "eu-west-1"},
				// S3 itself refuses an explicit us-east-1; stateward accepts it and reports it as S3
				// reports that region: empty.
				{"us-east-1", ""},
			} {
				t.Run(tc.constraint, func(t *testing.T) {
					name := "loc-" + tc.constraint
					_, err := env.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name),
						CreateBucketConfiguration: &s3types.CreateBucketConfiguration{
							LocationConstraint: s3types.BucketLocationConstraint(tc.constraint)}})
					if err != nil {
						t.Fatal(err)
					}
					out, err := env.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
					if err != nil {
						t.Fatal(err)
					}
					if got := string(out.LocationConstraint); got != tc.want {
						t.Errorf("LocationConstraint = %q, want %q", got, tc.want)
					}
					head, err := env.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
					if err != nil {
						t.Fatal(err)
					}
					if got, want := aws.ToString(head.BucketRegion), tc.constraint; got != want {
						t.Errorf("HeadBucket region = %q, want %q", got, want)
					}
				})
			}
		})

		t.Run("BucketAlreadyOwnedByYou", func(t *testing.T) {
			mustBucket(t, env, "twice")
			_, err := env.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("twice")})
			wantErr(t, err, "BucketAlreadyOwnedByYou", http.StatusConflict)
		})

		t.Run("InvalidBucketName", func(t *testing.T) {
			for _, tc := range []struct{ name, bucket string }{
				{"TooShort", "ab"},
				{"TooLong", strings.Repeat("a", 64)},
				{"Uppercase", "Upper-case"},
				{"DoubleDot", "a..b"},
				{"IPAddress", "192.168.1.10"},
				{"TrailingDash", "trailing-"},
				{"LeadingDot", ".leading"},
				{"Underscore", "under_score"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := env.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(tc.bucket)})
					wantErr(t, err, "InvalidBucketName", http.StatusBadRequest)
				})
			}
		})

		t.Run("HeadBucket", func(t *testing.T) {
			mustBucket(t, env, "headed")
			out, err := env.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("headed")})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := aws.ToString(out.BucketRegion), "us-east-1"; got != want {
				t.Errorf("BucketRegion = %q, want %q", got, want)
			}
			_, err = env.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
			wantErr(t, err, "NotFound", http.StatusNotFound)
		})

		t.Run("ListBuckets", func(t *testing.T) {
			mustBucket(t, env, "list-b")
			mustBucket(t, env, "list-a")
			out, err := env.S3.ListBuckets(ctx, &s3.ListBucketsInput{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, b := range out.Buckets {
				names = append(names, aws.ToString(b.Name))
				if b.CreationDate == nil || b.CreationDate.IsZero() {
					t.Errorf("bucket %s has no CreationDate", aws.ToString(b.Name))
				}
			}
			for _, want := range []string{"list-a", "list-b", defaultBucket} {
				if !slices.Contains(names, want) {
					t.Errorf("ListBuckets = %q, missing %q", names, want)
				}
			}
			if !slices.IsSorted(names) {
				t.Errorf("ListBuckets = %q, want sorted by name", names)
			}
			if out.Owner == nil || aws.ToString(out.Owner.ID) == "" {
				t.Errorf("ListBuckets has no Owner")
			}
		})

		t.Run("DeleteBucket", func(t *testing.T) {
			mustBucket(t, env, "del-plain")
			mustPut(t, env, "del-plain", "k", []byte("x"))
			_, err := env.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("del-plain")})
			wantErr(t, err, "BucketNotEmpty", http.StatusConflict)
			if _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("del-plain"), Key: aws.String("k")}); err != nil {
				t.Fatal(err)
			}
			if _, err := env.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("del-plain")}); err != nil {
				t.Fatalf("DeleteBucket of an emptied bucket: %v", err)
			}
			_, err = env.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("del-plain")})
			wantErr(t, err, "NotFound", http.StatusNotFound)
		})

		t.Run("DeleteVersionedBucket", func(t *testing.T) {
			const b = "del-versioned"
			mustVersionedBucket(t, env, b)
			v1 := mustPut(t, env, b, "k", []byte("one"))
			del, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k")})
			if err != nil {
				t.Fatal(err)
			}
			// No current object is left, but a version and a delete marker are.
			_, err = env.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
			wantErr(t, err, "BucketNotEmpty", http.StatusConflict)
			if _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: v1.VersionId}); err != nil {
				t.Fatal(err)
			}
			// Only the delete marker is left.
			_, err = env.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
			wantErr(t, err, "BucketNotEmpty", http.StatusConflict)
			if _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: del.VersionId}); err != nil {
				t.Fatal(err)
			}
			if _, err := env.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)}); err != nil {
				t.Fatalf("DeleteBucket after removing every version: %v", err)
			}
		})

		t.Run("DeleteMissingBucket", func(t *testing.T) {
			_, err := env.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("never-was")})
			wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
		})

		t.Run("NoSuchBucket", func(t *testing.T) {
			b, k := aws.String("missing-bucket"), aws.String("k")
			for _, tc := range []struct {
				op     string
				call   func() error
				code   string
				status int
			}{
				{"PutObject", func() error {
					_, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("x")})
					return err
				}, "NoSuchBucket", 404},
				{"GetObject", func() error { _, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k}); return err }, "NoSuchBucket", 404},
				// HEAD responses have no body: the SDK names the error after the status.
				{"HeadObject", func() error { _, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k}); return err }, "NotFound", 404},
				{"DeleteObject", func() error { _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k}); return err }, "NoSuchBucket", 404},
				{"ListObjectsV2", func() error { _, err := env.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b}); return err }, "NoSuchBucket", 404},
				{"ListObjectVersions", func() error {
					_, err := env.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b})
					return err
				}, "NoSuchBucket", 404},
				{"CreateMultipartUpload", func() error {
					_, err := env.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k})
					return err
				}, "NoSuchBucket", 404},
				{"CopyObject", func() error {
					_, err := env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: k, CopySource: aws.String(defaultBucket + "/x")})
					return err
				}, "NoSuchBucket", 404},
				{"GetBucketVersioning", func() error {
					_, err := env.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
					return err
				}, "NoSuchBucket", 404},
			} {
				t.Run(tc.op, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.status) })
			}
		})
	})
}

func TestS3BucketConfiguration(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "configured"
		mustBucket(t, env, b)
		bucket := aws.String(b)

		t.Run("Versioning", func(t *testing.T) {
			out, err := env.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Status; got != "" {
				t.Errorf("new bucket versioning = %q, want unset", got)
			}
			for _, status := range []s3types.BucketVersioningStatus{s3types.BucketVersioningStatusEnabled, s3types.BucketVersioningStatusSuspended} {
				setVersioning(t, env, b, string(status))
				out, err := env.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket})
				if err != nil {
					t.Fatal(err)
				}
				if got := out.Status; got != status {
					t.Errorf("versioning = %q, want %q", got, status)
				}
			}
		})

		t.Run("VersioningBadStatus", func(t *testing.T) {
			_, err := env.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: "Sometimes"}})
			wantErr(t, err, "MalformedXML", http.StatusBadRequest)
		})

		t.Run("Encryption", func(t *testing.T) {
			get := func() *s3types.ServerSideEncryptionRule {
				t.Helper()
				out, err := env.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: bucket})
				if err != nil {
					t.Fatal(err)
				}
				if out.ServerSideEncryptionConfiguration == nil || len(out.ServerSideEncryptionConfiguration.Rules) != 1 {
					t.Fatalf("GetBucketEncryption = %+v, want one rule", out.ServerSideEncryptionConfiguration)
				}
				return &out.ServerSideEncryptionConfiguration.Rules[0]
			}
			// Every bucket encrypts at rest: like S3 since 2023, an unconfigured one reports SSE-S3.
			if got := get().ApplyServerSideEncryptionByDefault.SSEAlgorithm; got != s3types.ServerSideEncryptionAes256 {
				t.Errorf("default SSEAlgorithm = %q, want AES256", got)
			}
			_, err := env.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: bucket,
				ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
					ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
					BucketKeyEnabled:                   aws.Bool(true),
				}}}})
			if err != nil {
				t.Fatal(err)
			}
			rule := get()
			if got := rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm; got != s3types.ServerSideEncryptionAes256 {
				t.Errorf("SSEAlgorithm = %q, want AES256", got)
			}
			if got := aws.ToBool(rule.BucketKeyEnabled); !got {
				t.Errorf("BucketKeyEnabled = false, want true")
			}
			put := mustPut(t, env, b, "encrypted-by-default", []byte("x"))
			if got := put.ServerSideEncryption; got != s3types.ServerSideEncryptionAes256 {
				t.Errorf("PutObject ServerSideEncryption = %q, want AES256", got)
			}
			if _, err := env.S3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: bucket}); err != nil {
				t.Fatal(err)
			}
			if got := get().ApplyServerSideEncryptionByDefault.SSEAlgorithm; got != s3types.ServerSideEncryptionAes256 {
				t.Errorf("SSEAlgorithm after delete = %q, want AES256", got)
			}
		})

		t.Run("EncryptionUnsupportedAlgorithm", func(t *testing.T) {
			_, err := env.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: bucket,
				ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
					ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: "AES512"},
				}}}})
			wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
		})

		t.Run("Policy", func(t *testing.T) {
			_, err := env.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
			wantErr(t, err, "NoSuchBucketPolicy", http.StatusNotFound)
			// Odd spacing and key order: S3 hands a policy back as it was given.
			policy := "{\n  \"Version\": \"2012-10-17\",\n\t\"Statement\": [ {\"Sid\":\"ReadOnly\", \"Effect\": \"Allow\", " +
				"\"Principal\": {\"AWS\": \"arn:aws:iam::" + env.Account + ":root\"}, \"Action\": \"s3:GetObject\", " +
				"\"Resource\": \"arn:aws:s3:::" + b + "/*\"} ]\n}\n"
			if _, err := env.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(policy)}); err != nil {
				t.Fatal(err)
			}
			out, err := env.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.Policy); got != policy {
				t.Errorf("GetBucketPolicy = %q, want byte-exact %q", got, policy)
			}
			if _, err := env.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: bucket}); err != nil {
				t.Fatal(err)
			}
			_, err = env.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
			wantErr(t, err, "NoSuchBucketPolicy", http.StatusNotFound)
		})

		t.Run("MalformedPolicy", func(t *testing.T) {
			for _, tc := range []struct{ name, policy string }{
				{"NotJSON", `{"Version": "2012-10-17", "Statement": [`},
				{"NotAnObject", `["Statement"]`},
				{"MissingStatement", `{"Version": "2012-10-17"}`},
				{"BadEffect", `{"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}`},
				{"MissingAction", `{"Statement": [{"Effect": "Allow", "Principal": "*", "Resource": "*"}]}`},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := env.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(tc.policy)})
					wantErr(t, err, "MalformedPolicy", http.StatusBadRequest)
				})
			}
			_, err := env.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
			wantErr(t, err, "NoSuchBucketPolicy", http.StatusNotFound)
		})

		t.Run("PublicAccessBlock", func(t *testing.T) {
			_, err := env.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket})
			wantErr(t, err, "NoSuchPublicAccessBlockConfiguration", http.StatusNotFound)
			want := s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(false),
				BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}
			if _, err := env.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: bucket, PublicAccessBlockConfiguration: &want}); err != nil {
				t.Fatal(err)
			}
			out, err := env.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket})
			if err != nil {
				t.Fatal(err)
			}
			got := out.PublicAccessBlockConfiguration
			if got == nil || aws.ToBool(got.BlockPublicAcls) != true || aws.ToBool(got.IgnorePublicAcls) != false ||
				aws.ToBool(got.BlockPublicPolicy) != true || aws.ToBool(got.RestrictPublicBuckets) != true {
				t.Errorf("GetPublicAccessBlock = %+v, want %+v", got, want)
			}
			if _, err := env.S3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: bucket}); err != nil {
				t.Fatal(err)
			}
			_, err = env.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: bucket})
			wantErr(t, err, "NoSuchPublicAccessBlockConfiguration", http.StatusNotFound)
		})
	})
}
