package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestS3UploadPartCopy: multipart copies as `aws s3 cp s3://… s3://…` makes them for objects
// above its multipart threshold — parts read from ranges of an existing object.
func TestS3UploadPartCopy(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "copies"
		mustVersionedBucket(t, env, b)
		const size = 12 * mib
		body := pattern(size, 7)
		mustPut(t, env, b, "src.bin", body)

		newUpload := func(t *testing.T, key string) string {
			t.Helper()
			out, err := env.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(out.UploadId)
		}
		complete := func(t *testing.T, key, id string, parts []s3types.CompletedPart) *s3.CompleteMultipartUploadOutput {
			t.Helper()
			out, err := env.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key),
				UploadId: aws.String(id), MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}

		t.Run("Ranges", func(t *testing.T) {
			id := newUpload(t, "dst.bin")
			var parts []s3types.CompletedPart
			for i, off := 0, 0; off < size; i, off = i+1, off+5*mib {
				end := min(off+5*mib, size) - 1
				out, err := env.S3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("dst.bin"),
					UploadId: aws.String(id), PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String(b + "/src.bin"),
					CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end))})
				if err != nil {
					t.Fatalf("part %d: %v", i+1, err)
				}
				if got, want := aws.ToString(out.CopyPartResult.ETag), quotedMD5(body[off:end+1]); got != want {
					t.Errorf("part %d ETag = %s, want %s (the MD5 of the copied range)", i+1, got, want)
				}
				if out.CopyPartResult.LastModified == nil || time.Since(*out.CopyPartResult.LastModified) > time.Minute {
					t.Errorf("part %d LastModified = %v", i+1, out.CopyPartResult.LastModified)
				}
				if aws.ToString(out.CopySourceVersionId) == "" {
					t.Errorf("part %d: no x-amz-copy-source-version-id from a versioned source", i+1)
				}
				parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
			}
			out := complete(t, "dst.bin", id, parts)
			if got, want := aws.ToString(out.ETag), multipartETag(body, 5*mib); got != want {
				t.Errorf("ETag = %s, want %s", got, want)
			}
			if got := mustGet(t, env, b, "dst.bin", ""); !bytes.Equal(got, body) {
				t.Fatalf("copy: %d bytes differ from the %d-byte source", len(got), len(body))
			}
		})

		t.Run("WholeSourceAndVersion", func(t *testing.T) {
			v1 := mustPut(t, env, b, "small", []byte("version one"))
			mustPut(t, env, b, "small", []byte("version two, the current one"))
			id := newUpload(t, "small-copy")
			out, err := env.S3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("small-copy"),
				UploadId: aws.String(id), PartNumber: aws.Int32(1), CopySource: aws.String(b + "/small?versionId=" + aws.ToString(v1.VersionId))})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.CopySourceVersionId); got != aws.ToString(v1.VersionId) {
				t.Errorf("CopySourceVersionId = %q, want %q", got, aws.ToString(v1.VersionId))
			}
			complete(t, "small-copy", id, []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: out.CopyPartResult.ETag}})
			if got := mustGet(t, env, b, "small-copy", ""); string(got) != "version one" {
				t.Errorf("copy of the first version = %q", got)
			}
		})

		t.Run("SSECSource", func(t *testing.T) {
			key := pattern(32, 3)
			sum := md5.Sum(key)
			keyB64, md5B64 := base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(sum[:])
			if _, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("secret"), Body: bytes.NewReader([]byte("customer-keyed")),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(keyB64), SSECustomerKeyMD5: aws.String(md5B64)}); err != nil {
				t.Fatal(err)
			}
			id := newUpload(t, "secret-copy")
			in := &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("secret-copy"), UploadId: aws.String(id),
				PartNumber: aws.Int32(1), CopySource: aws.String(b + "/secret")}
			_, err := env.S3.UploadPartCopy(ctx, in)
			wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
			in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = aws.String("AES256"), aws.String(keyB64), aws.String(md5B64)
			out, err := env.S3.UploadPartCopy(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			complete(t, "secret-copy", id, []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: out.CopyPartResult.ETag}})
			if got := mustGet(t, env, b, "secret-copy", ""); string(got) != "customer-keyed" {
				t.Errorf("copy of an SSE-C object = %q", got)
			}
		})

		t.Run("Conditions", func(t *testing.T) {
			head, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("src.bin")})
			if err != nil {
				t.Fatal(err)
			}
			etag, modified := aws.ToString(head.ETag), aws.ToTime(head.LastModified)
			id := newUpload(t, "cond")
			cases := []struct {
				name string
				set  func(*s3.UploadPartCopyInput)
				ok   bool
			}{
				{"if-match", func(in *s3.UploadPartCopyInput) { in.CopySourceIfMatch = aws.String(etag) }, true},
				{"if-match-other", func(in *s3.UploadPartCopyInput) { in.CopySourceIfMatch = aws.String(`"0123"`) }, false},
				{"if-none-match", func(in *s3.UploadPartCopyInput) { in.CopySourceIfNoneMatch = aws.String(etag) }, false},
				{"if-none-match-other", func(in *s3.UploadPartCopyInput) { in.CopySourceIfNoneMatch = aws.String(`"0123"`) }, true},
				{"if-unmodified-since-before", func(in *s3.UploadPartCopyInput) {
					in.CopySourceIfUnmodifiedSince = aws.Time(modified.Add(-time.Hour))
				}, false},
				{"if-modified-since-after", func(in *s3.UploadPartCopyInput) { in.CopySourceIfModifiedSince = aws.Time(modified.Add(time.Hour)) }, false},
				{"if-modified-since-before", func(in *s3.UploadPartCopyInput) { in.CopySourceIfModifiedSince = aws.Time(modified.Add(-time.Hour)) }, true},
				{"if-match-wins-over-unmodified-since", func(in *s3.UploadPartCopyInput) {
					in.CopySourceIfMatch = aws.String(etag)
					in.CopySourceIfUnmodifiedSince = aws.Time(modified.Add(-time.Hour))
				}, true},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					in := &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("cond"), UploadId: aws.String(id),
						PartNumber: aws.Int32(1), CopySource: aws.String(b + "/src.bin"), CopySourceRange: aws.String("bytes=0-99")}
					c.set(in)
					_, err := env.S3.UploadPartCopy(ctx, in)
					if c.ok && err != nil {
						t.Fatalf("err = %v, want success", err)
					}
					if !c.ok {
						wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
					}
				})
			}
		})

		t.Run("Errors", func(t *testing.T) {
			id := newUpload(t, "bad")
			cases := []struct {
				name, source, rng, upload string
				code                      string
				status                    int
			}{
				{"reversed-range", b + "/src.bin", "bytes=5-1", id, "InvalidArgument", 400},
				{"not-bytes", b + "/src.bin", "items=0-1", id, "InvalidArgument", 400},
				{"open-range", b + "/src.bin", "bytes=10-", id, "InvalidArgument", 400},
				{"past-the-end", b + "/src.bin", fmt.Sprintf("bytes=0-%d", size), id, "InvalidArgument", 400},
				{"no-such-source", b + "/missing", "", id, "NoSuchKey", 404},
				{"no-such-source-bucket", "nobucket/src.bin", "", id, "NoSuchBucket", 404},
				{"source-without-key", b, "", id, "InvalidArgument", 400},
				{"no-such-upload", b + "/src.bin", "bytes=0-9", "bm9zdWNodXBsb2Fk", "NoSuchUpload", 404},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					in := &s3.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("bad"), UploadId: aws.String(c.upload),
						PartNumber: aws.Int32(1), CopySource: aws.String(c.source)}
					if c.rng != "" {
						in.CopySourceRange = aws.String(c.rng)
					}
					_, err := env.S3.UploadPartCopy(ctx, in)
					wantErr(t, err, c.code, c.status)
				})
			}
			// None of the refused copies left a part behind.
			parts, err := env.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(b), Key: aws.String("bad"), UploadId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			if len(parts.Parts) != 0 {
				t.Errorf("refused copies left %d parts", len(parts.Parts))
			}
		})
	})
}

// TestS3ObjectTagging: Get/Put/DeleteObjectTagging, per version, and the x-amz-tagging header
// they share their rules with.
func TestS3ObjectTagging(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "tags"
		mustVersionedBucket(t, env, b)
		tagsOf := func(t *testing.T, key, versionID string) string {
			t.Helper()
			in := &s3.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String(key)}
			if versionID != "" {
				in.VersionId = aws.String(versionID)
			}
			out, err := env.S3.GetObjectTagging(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			var kv []string
			for _, tg := range out.TagSet {
				kv = append(kv, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
			}
			return strings.Join(kv, ",")
		}
		tagCount := func(t *testing.T, key string) int32 {
			t.Helper()
			out, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			out.Body.Close()
			return aws.ToInt32(out.TagCount)
		}

		v1, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("state"), Body: strings.NewReader("one"),
			Tagging: aws.String("team=platform&env=prod%20eu")})
		if err != nil {
			t.Fatal(err)
		}
		if got := tagsOf(t, "state", ""); got != "env=prod eu,team=platform" {
			t.Errorf("tags from x-amz-tagging = %q", got)
		}
		if got := tagCount(t, "state"); got != 2 {
			t.Errorf("GET x-amz-tagging-count = %d, want 2", got)
		}
		v2 := mustPut(t, env, b, "state", []byte("two"))
		if got := tagsOf(t, "state", ""); got != "" {
			t.Errorf("a new version without tags has tags %q", got)
		}

		// Tag the old version: the current one keeps its (empty) set.
		put, err := env.S3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("state"), VersionId: v1.VersionId,
			Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("keep"), Value: aws.String("yes")}}}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(put.VersionId) != aws.ToString(v1.VersionId) {
			t.Errorf("PutObjectTagging VersionId = %q, want %q", aws.ToString(put.VersionId), aws.ToString(v1.VersionId))
		}
		if got := tagsOf(t, "state", aws.ToString(v1.VersionId)); got != "keep=yes" {
			t.Errorf("old version's tags = %q, want keep=yes", got)
		}
		if got := tagsOf(t, "state", ""); got != "" {
			t.Errorf("tagging the old version changed the current one's tags to %q", got)
		}

		// Tag the current version: GET and HEAD of the object see it.
		if _, err := env.S3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("state"),
			Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("a"), Value: aws.String("")}}}}); err != nil {
			t.Fatal(err)
		}
		if got := tagsOf(t, "state", aws.ToString(v2.VersionId)); got != "a=,b=2" {
			t.Errorf("current version's tags = %q, want a=,b=2", got)
		}
		if got := tagCount(t, "state"); got != 2 {
			t.Errorf("GET x-amz-tagging-count = %d, want 2", got)
		}
		if got := mustGet(t, env, b, "state", ""); string(got) != "two" {
			t.Errorf("tagging changed the body to %q", got)
		}

		del, err := env.S3.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("state")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(del.VersionId) != aws.ToString(v2.VersionId) {
			t.Errorf("DeleteObjectTagging VersionId = %q, want %q", aws.ToString(del.VersionId), aws.ToString(v2.VersionId))
		}
		if got := tagsOf(t, "state", ""); got != "" {
			t.Errorf("after DeleteObjectTagging: %q", got)
		}
		if got := tagsOf(t, "state", aws.ToString(v1.VersionId)); got != "keep=yes" {
			t.Errorf("DeleteObjectTagging of the current version touched the old one: %q", got)
		}

		// CopyObject copies tags unless told to replace them.
		if _, err := env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copied"),
			CopySource: aws.String(b + "/state?versionId=" + aws.ToString(v1.VersionId))}); err != nil {
			t.Fatal(err)
		}
		if got := tagsOf(t, "copied", ""); got != "keep=yes" {
			t.Errorf("CopyObject (COPY) tags = %q, want keep=yes", got)
		}
		if _, err := env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("replaced"),
			CopySource: aws.String(b + "/state?versionId=" + aws.ToString(v1.VersionId)), TaggingDirective: s3types.TaggingDirectiveReplace,
			Tagging: aws.String("new=1")}); err != nil {
			t.Fatal(err)
		}
		if got := tagsOf(t, "replaced", ""); got != "new=1" {
			t.Errorf("CopyObject (REPLACE) tags = %q, want new=1", got)
		}
		// Without REPLACE, x-amz-tagging is ignored, even one that would be refused.
		if _, err := env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copied-again"),
			CopySource: aws.String(b + "/state?versionId=" + aws.ToString(v1.VersionId)), Tagging: aws.String("aws:bad=1")}); err != nil {
			t.Errorf("CopyObject (COPY) with an ignored x-amz-tagging: %v", err)
		} else if got := tagsOf(t, "copied-again", ""); got != "keep=yes" {
			t.Errorf("CopyObject (COPY) with x-amz-tagging: tags = %q, want the source's keep=yes", got)
		}
		_, err = env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("copied-bad"),
			CopySource: aws.String(b + "/state"), TaggingDirective: "MERGE"})
		wantErr(t, err, "InvalidArgument", 400)

		t.Run("BucketTaggingIsNotObjectTagging", func(t *testing.T) {
			// Bucket tagging is not implemented: each call must say so, and above all must
			// not fall through to the plain bucket operation (DELETE /b?tagging is not
			// DeleteBucket).
			const empty = "tags-empty"
			mustBucket(t, env, empty)
			_, err := env.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(empty)})
			wantErr(t, err, "NotImplemented", http.StatusNotImplemented)
			_, err = env.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(empty),
				Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}}})
			wantErr(t, err, "NotImplemented", http.StatusNotImplemented)
			_, err = env.S3.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(empty)})
			wantErr(t, err, "NotImplemented", http.StatusNotImplemented)
			if _, err := env.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(empty)}); err != nil {
				t.Fatalf("bucket gone after DeleteBucketTagging: %v", err)
			}
		})

		t.Run("Errors", func(t *testing.T) {
			tags := func(kv ...string) *s3types.Tagging {
				var out s3types.Tagging
				for i := 0; i < len(kv); i += 2 {
					out.TagSet = append(out.TagSet, s3types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
				}
				return &out
			}
			var eleven []string
			for i := range 11 {
				eleven = append(eleven, fmt.Sprintf("k%d", i), "v")
			}
			cases := []struct {
				name    string
				key     string
				version string
				tagging *s3types.Tagging
				code    string
				status  int
			}{
				{"eleven-tags", "state", "", tags(eleven...), "BadRequest", 400},
				{"duplicate-key", "state", "", tags("a", "1", "a", "2"), "InvalidTag", 400},
				{"long-key", "state", "", tags(strings.Repeat("k", 129), "v"), "InvalidTag", 400},
				{"long-value", "state", "", tags("k", strings.Repeat("v", 257)), "InvalidTag", 400},
				{"empty-key", "state", "", tags("", "v"), "InvalidTag", 400},
				{"aws-prefix", "state", "", tags("aws:owner", "v"), "InvalidTag", 400},
				{"key-charset", "state", "", tags("owner!", "v"), "InvalidTag", 400},
				{"value-charset", "state", "", tags("owner", "a<b"), "InvalidTag", 400},
				{"value-newline", "state", "", tags("owner", "a\nb"), "InvalidTag", 400},
				{"no-such-key", "missing", "", tags("a", "1"), "NoSuchKey", 404},
				{"no-such-version", "state", strings.Repeat("0", len(aws.ToString(v1.VersionId))), tags("a", "1"), "NoSuchVersion", 404},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					in := &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String(c.key), Tagging: c.tagging}
					if c.version != "" {
						in.VersionId = aws.String(c.version)
					}
					_, err := env.S3.PutObjectTagging(ctx, in)
					wantErr(t, err, c.code, c.status)
				})
			}
			// Every character S3 allows: letters (any script), digits, spaces, + - = . _ : / @.
			if _, err := env.S3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("state"),
				Tagging: tags("Team_Name-1", "plat form+ops=@a.b:c/d", "équipe", "東京")}); err != nil {
				t.Errorf("tags of allowed characters: %v", err)
			}
			// Exactly ten tags, at the length limits, are fine.
			var ten []string
			for i := range 10 {
				ten = append(ten, fmt.Sprintf("%0128d", i), strings.Repeat("v", 256))
			}
			if _, err := env.S3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("state"), Tagging: tags(ten...)}); err != nil {
				t.Errorf("ten tags at the limits: %v", err)
			}
			for _, header := range []string{"a=1&a=2", "k%zz=1", strings.Repeat("x", 129) + "=v"} {
				_, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("hdr"), Body: strings.NewReader("x"), Tagging: aws.String(header)})
				if err == nil {
					t.Errorf("PutObject with x-amz-tagging %q succeeded", header)
				}
			}
			if _, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("hdr")}); err == nil {
				t.Errorf("a PutObject refused for its tags stored the object")
			}
			resp := env.signedRequest(t, http.MethodPut, "/"+b+"/state?tagging", []byte("<Tagging><TagSet><Tag>"), nil)
			resp.Body.Close()
			if resp.StatusCode != 400 {
				t.Errorf("malformed Tagging XML: %s, want 400", resp.Status)
			}
		})
	})
}
