package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// checksumOf returns the base64 big-endian digest of b under an S3 checksum algorithm,
// computed independently of the server's implementation.
func checksumOf(alg s3types.ChecksumAlgorithm, b []byte) string {
	var h hash.Hash
	switch alg {
	case s3types.ChecksumAlgorithmCrc32:
		h = crc32.NewIEEE()
	case s3types.ChecksumAlgorithmCrc32c:
		h = crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case s3types.ChecksumAlgorithmCrc64nvme:
		h = crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)) // 0xad93d23594c93659, bit-reversed
	case s3types.ChecksumAlgorithmSha1:
		h = sha1.New()
	case s3types.ChecksumAlgorithmSha256:
		h = sha256.New()
	default:
		panic("unknown checksum algorithm " + string(alg))
	}
	h.Write(b)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

var allChecksums = []s3types.ChecksumAlgorithm{s3types.ChecksumAlgorithmCrc32, s3types.ChecksumAlgorithmCrc32c,
	s3types.ChecksumAlgorithmCrc64nvme, s3types.ChecksumAlgorithmSha1, s3types.ChecksumAlgorithmSha256}

// setChecksum puts a precomputed checksum value on a PutObject.
func setChecksum(in *s3.PutObjectInput, alg s3types.ChecksumAlgorithm, v string) {
	switch alg {
	case s3types.ChecksumAlgorithmCrc32:
		in.ChecksumCRC32 = &v
	case s3types.ChecksumAlgorithmCrc32c:
		in.ChecksumCRC32C = &v
	case s3types.ChecksumAlgorithmCrc64nvme:
		in.ChecksumCRC64NVME = &v
	case s3types.ChecksumAlgorithmSha1:
		in.ChecksumSHA1 = &v
	case s3types.ChecksumAlgorithmSha256:
		in.ChecksumSHA256 = &v
	}
}

// checksumFields returns the checksum values of an output, by algorithm.
func checksumFields(crc32, crc32c, crc64, sha1, sha256 *string) map[s3types.ChecksumAlgorithm]string {
	m := map[s3types.ChecksumAlgorithm]string{}
	for alg, v := range map[s3types.ChecksumAlgorithm]*string{s3types.ChecksumAlgorithmCrc32: crc32,
		s3types.ChecksumAlgorithmCrc32c: crc32c, s3types.ChecksumAlgorithmCrc64nvme: crc64,
		s3types.ChecksumAlgorithmSha1: sha1, s3types.ChecksumAlgorithmSha256: sha256} {
		if v != nil {
			m[alg] = *v
		}
	}
	return m
}

func getChecksums(o *s3.GetObjectOutput) map[s3types.ChecksumAlgorithm]string {
	return checksumFields(o.ChecksumCRC32, o.ChecksumCRC32C, o.ChecksumCRC64NVME, o.ChecksumSHA1, o.ChecksumSHA256)
}

func headChecksums(o *s3.HeadObjectOutput) map[s3types.ChecksumAlgorithm]string {
	return checksumFields(o.ChecksumCRC32, o.ChecksumCRC32C, o.ChecksumCRC64NVME, o.ChecksumSHA1, o.ChecksumSHA256)
}

// getRange GETs a byte range and returns the body and Content-Range.
func getRange(t *testing.T, env *testEnv, bucket, key, rng string) ([]byte, string) {
	t.Helper()
	out, err := env.S3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Range: aws.String(rng)})
	if err != nil {
		t.Fatalf("GetObject %s Range %s: %v", key, rng, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToInt64(out.ContentLength); got != int64(len(b)) {
		t.Errorf("Range %s: Content-Length %d, body %d bytes", rng, got, len(b))
	}
	return b, aws.ToString(out.ContentRange)
}

func TestS3Objects(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "objects"
		mustBucket(t, env, b)
		bucket := aws.String(b)
		head := func(key string) (*s3.HeadObjectOutput, error) {
			return env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(key)})
		}

		t.Run("PutGetHead", func(t *testing.T) {
			body := []byte(`{"version": 4, "serial": 1}`)
			meta := map[string]string{"owner": "team-a", "purpose": "state file"}
			put, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("state.json"),
				Body: bytes.NewReader(body), ContentType: aws.String("application/json"), Metadata: meta,
				CacheControl: aws.String("no-cache"), ContentDisposition: aws.String(`attachment; filename="s.json"`)})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := aws.ToString(put.ETag), quotedMD5(body); got != want {
				t.Errorf("PutObject ETag = %s, want quoted MD5 %s", got, want)
			}
			get, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("state.json")})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(get.Body)
			get.Body.Close()
			if !bytes.Equal(got, body) {
				t.Errorf("GetObject body = %q, want %q", got, body)
			}
			for _, c := range []struct{ field, got, want string }{
				{"ETag", aws.ToString(get.ETag), quotedMD5(body)},
				{"ContentType", aws.ToString(get.ContentType), "application/json"},
				{"CacheControl", aws.ToString(get.CacheControl), "no-cache"},
				{"ContentDisposition", aws.ToString(get.ContentDisposition), `attachment; filename="s.json"`},
				{"AcceptRanges", aws.ToString(get.AcceptRanges), "bytes"},
				{"ServerSideEncryption", string(get.ServerSideEncryption), "AES256"},
			} {
				if c.got != c.want {
					t.Errorf("GetObject %s = %q, want %q", c.field, c.got, c.want)
				}
			}
			if !maps.Equal(get.Metadata, meta) {
				t.Errorf("GetObject Metadata = %v, want %v", get.Metadata, meta)
			}
			if get.LastModified == nil || time.Since(*get.LastModified) > time.Hour {
				t.Errorf("GetObject LastModified = %v, want about now", get.LastModified)
			}
			h, err := head("state.json")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := aws.ToInt64(h.ContentLength), int64(len(body)); got != want {
				t.Errorf("HeadObject ContentLength = %d, want %d (the GET length)", got, want)
			}
			if got, want := aws.ToString(h.ContentType), "application/json"; got != want {
				t.Errorf("HeadObject ContentType = %q, want %q", got, want)
			}
			if !maps.Equal(h.Metadata, meta) {
				t.Errorf("HeadObject Metadata = %v, want %v", h.Metadata, meta)
			}
			if got, want := aws.ToString(h.ETag), quotedMD5(body); got != want {
				t.Errorf("HeadObject ETag = %s, want %s", got, want)
			}
		})

		t.Run("ResponseHeaderOverrides", func(t *testing.T) {
			// As presigned download links use them: response-content-type and friends.
			mustPut(t, env, b, "override", []byte("x"))
			out, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("override"),
				ResponseContentType: aws.String("text/csv"), ResponseContentDisposition: aws.String(`attachment; filename="x.csv"`),
				ResponseCacheControl: aws.String("max-age=60")})
			if err != nil {
				t.Fatal(err)
			}
			out.Body.Close()
			if aws.ToString(out.ContentType) != "text/csv" || aws.ToString(out.ContentDisposition) != `attachment; filename="x.csv"` ||
				aws.ToString(out.CacheControl) != "max-age=60" {
				t.Errorf("overrides = %q %q %q", aws.ToString(out.ContentType), aws.ToString(out.ContentDisposition), aws.ToString(out.CacheControl))
			}
		})

		t.Run("DefaultContentType", func(t *testing.T) {
			mustPut(t, env, b, "untyped", []byte("x"))
			h, err := head("untyped")
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(h.ContentType); got == "" {
				t.Errorf("ContentType is empty, want a default")
			}
		})

		t.Run("GetMissingKey", func(t *testing.T) {
			_, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("nope")})
			wantErr(t, err, "NoSuchKey", http.StatusNotFound)
			_, err = head("nope")
			wantErr(t, err, "NotFound", http.StatusNotFound)
		})

		t.Run("ZeroByte", func(t *testing.T) {
			put := mustPut(t, env, b, "empty", nil)
			if got, want := aws.ToString(put.ETag), quotedMD5(nil); got != want {
				t.Errorf("ETag = %s, want %s", got, want)
			}
			if got := mustGet(t, env, b, "empty", ""); len(got) != 0 {
				t.Errorf("GET body = %q, want empty", got)
			}
			h, err := head("empty")
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToInt64(h.ContentLength); got != 0 {
				t.Errorf("HEAD ContentLength = %d, want 0", got)
			}
			// The Terraform downloader always sends a Range and stops at 416; a 200 with no
			// Content-Range would send it round forever.
			for _, rng := range []string{"bytes=0-5242879", "bytes=0-", "bytes=-1"} {
				t.Run(rng, func(t *testing.T) {
					_, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("empty"), Range: aws.String(rng)})
					wantErr(t, err, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
					if got, want := respHeader(err, "Content-Range"), "bytes */0"; got != want {
						t.Errorf("Content-Range = %q, want %q", got, want)
					}
				})
			}
		})

		t.Run("Range", func(t *testing.T) {
			body := []byte("0123456789")
			mustPut(t, env, b, "digits", body)
			for _, tc := range []struct {
				rng, want, contentRange string
			}{
				{"bytes=0-4", "01234", "bytes 0-4/10"},
				{"bytes=5-", "56789", "bytes 5-9/10"},
				{"bytes=-3", "789", "bytes 7-9/10"},
				{"bytes=9-9", "9", "bytes 9-9/10"},
				{"bytes=8-100", "89", "bytes 8-9/10"},
				{"bytes=-20", "0123456789", "bytes 0-9/10"},
				// Several ranges: S3 ignores the header and sends the whole object.
				{"bytes=0-1,4-5", "0123456789", ""},
				// Not a byte range S3 understands: ignored too.
				{"bytes=5-2", "0123456789", ""},
				{"lines=1-2", "0123456789", ""},
			} {
				t.Run(tc.rng, func(t *testing.T) {
					got, cr := getRange(t, env, b, "digits", tc.rng)
					if string(got) != tc.want || cr != tc.contentRange {
						t.Errorf("body %q Content-Range %q, want %q %q", got, cr, tc.want, tc.contentRange)
					}
				})
			}
			for _, rng := range []string{"bytes=10-", "bytes=10-20", "bytes=100-200", "bytes=-0"} {
				t.Run(rng, func(t *testing.T) {
					_, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("digits"), Range: aws.String(rng)})
					wantErr(t, err, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
					if got, want := respHeader(err, "Content-Range"), "bytes */10"; got != want {
						t.Errorf("Content-Range = %q, want %q", got, want)
					}
				})
			}
		})

		t.Run("LargeObject", func(t *testing.T) {
			const size = 7<<20 + 12345 // several 1 MiB segments and a partial one
			body := pattern(size, 7)
			put := mustPut(t, env, b, "large", body)
			if got, want := aws.ToString(put.ETag), quotedMD5(body); got != want {
				t.Errorf("ETag = %s, want %s", got, want)
			}
			if got := mustGet(t, env, b, "large", ""); !bytes.Equal(got, body) {
				t.Fatalf("GET returned %d bytes differing from the %d sent", len(got), len(body))
			}
			h, err := head("large")
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToInt64(h.ContentLength); got != size {
				t.Errorf("HEAD ContentLength = %d, want %d", got, size)
			}
			const mib = 1 << 20
			for _, r := range [][2]int{
				{mib - 10, mib + 10},          // across the first segment boundary
				{mib, mib},                    // first byte of a segment
				{mib - 1, mib - 1},            // last byte of a segment
				{3*mib - 1, 5 * mib},          // spanning two whole segments
				{0, 5*mib - 1},                // the Terraform downloader's first part
				{5 * mib, size - 1},           // and its second
				{7*mib - 5, size - 1},         // into the short last segment
				{size - 1, size + 100},        // past the end: clipped
				{123, 7*mib + 1},              // nearly everything
				{2*mib + 17, 2*mib + 17 + 99}, // inside one segment
			} {
				rng := "bytes=" + itoa(r[0]) + "-" + itoa(r[1])
				got, cr := getRange(t, env, b, "large", rng)
				end := min(r[1], size-1)
				if !bytes.Equal(got, body[r[0]:end+1]) {
					t.Errorf("Range %s: %d bytes, differ from the object's bytes %d-%d", rng, len(got), r[0], end)
				}
				if want := "bytes " + itoa(r[0]) + "-" + itoa(end) + "/" + itoa(size); cr != want {
					t.Errorf("Range %s: Content-Range %q, want %q", rng, cr, want)
				}
			}
			got, cr := getRange(t, env, b, "large", "bytes=-"+itoa(mib+5))
			if !bytes.Equal(got, body[size-mib-5:]) || cr != "bytes "+itoa(size-mib-5)+"-"+itoa(size-1)+"/"+itoa(size) {
				t.Errorf("suffix range: %d bytes, Content-Range %q", len(got), cr)
			}
		})

		t.Run("OddKeys", func(t *testing.T) {
			keys := []string{
				"env:/dev/terraform.tfstate",
				"with space/and more  spaces",
				"plus+sign",
				"percent%20literal%",
				"ünïcødé/日本語/état.tfstate",
				"a//b",
				"trailing/",
				"/leading-slash",
				"tilde~star*paren(s)",
				"question?mark#hash",
				"amp&lt<gt>quote\"apos'",
				"semi;colon=eq,comma@at$dollar",
				"dot./.hidden/./x",
				"tab\there",
			}
			for _, k := range keys {
				t.Run(url.PathEscape(k), func(t *testing.T) {
					mustPut(t, env, b, k, []byte(k))
					if got := mustGet(t, env, b, k, ""); string(got) != k {
						t.Errorf("GET %q = %q", k, got)
					}
					h, err := head(k)
					if err != nil {
						t.Fatal(err)
					}
					if got := aws.ToInt64(h.ContentLength); got != int64(len(k)) {
						t.Errorf("HEAD length = %d, want %d", got, len(k))
					}
				})
			}
			var listed []string
			p := s3.NewListObjectsV2Paginator(env.S3, &s3.ListObjectsV2Input{Bucket: bucket})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Contents {
					listed = append(listed, aws.ToString(o.Key))
				}
			}
			for _, k := range keys {
				if !slices.Contains(listed, k) {
					t.Errorf("ListObjectsV2 does not list %q; listed %q", k, listed)
				}
			}
			for _, k := range keys {
				if _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(k)}); err != nil {
					t.Errorf("DeleteObject %q: %v", k, err)
				}
				if _, err := head(k); err == nil {
					t.Errorf("HEAD %q after delete succeeded", k)
				}
			}
		})

		t.Run("InvalidKeys", func(t *testing.T) {
			for _, tc := range []struct{ name, key, code string }{
				{"DotDotSegment", "a/../b", "InvalidArgument"},
				{"DotDotAlone", "..", "InvalidArgument"},
				{"DotDotLast", "dir/..", "InvalidArgument"},
				{"Backslash", `dir\file`, "InvalidArgument"},
				{"TooLong", strings.Repeat("k", 1025), "KeyTooLongError"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(tc.key), Body: strings.NewReader("x")})
					wantErr(t, err, tc.code, http.StatusBadRequest)
					_, err = env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(tc.key)})
					wantErr(t, err, tc.code, http.StatusBadRequest)
					_, err = env.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String(tc.key)})
					wantErr(t, err, tc.code, http.StatusBadRequest)
				})
			}
			// A key of exactly 1024 bytes is fine, and the server is still serving.
			long := strings.Repeat("k", 1024)
			mustPut(t, env, b, long, []byte("long"))
			if got := mustGet(t, env, b, long, ""); string(got) != "long" {
				t.Errorf("GET 1024-byte key = %q", got)
			}
		})

		t.Run("ConditionalWrites", func(t *testing.T) {
			put := func(key, body string, mod func(*s3.PutObjectInput)) (*s3.PutObjectOutput, error) {
				in := &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: strings.NewReader(body)}
				mod(in)
				return env.S3.PutObject(ctx, in)
			}
			ifNoneMatch := func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") }
			if _, err := put("lock.tflock", "first", ifNoneMatch); err != nil {
				t.Fatalf("first If-None-Match: * PUT: %v", err)
			}
			_, err := put("lock.tflock", "second", ifNoneMatch)
			wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
			if got := mustGet(t, env, b, "lock.tflock", ""); string(got) != "first" {
				t.Errorf("after refused write, body = %q, want %q", got, "first")
			}

			etag := quotedMD5([]byte("first"))
			out, err := put("lock.tflock", "third", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(etag) })
			if err != nil {
				t.Fatalf("If-Match with the current ETag: %v", err)
			}
			if got, want := aws.ToString(out.ETag), quotedMD5([]byte("third")); got != want {
				t.Errorf("ETag = %s, want %s", got, want)
			}
			_, err = put("lock.tflock", "fourth", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(etag) })
			wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
			_, err = put("never-written", "x", func(in *s3.PutObjectInput) { in.IfMatch = aws.String(etag) })
			wantErr(t, err, "NoSuchKey", http.StatusNotFound)
			if got := mustGet(t, env, b, "lock.tflock", ""); string(got) != "third" {
				t.Errorf("body = %q, want %q", got, "third")
			}
		})

		t.Run("ConcurrentIfNoneMatch", func(t *testing.T) {
			// Terraform's S3-native lock: of racing creators exactly one wins, the rest get 412.
			const racers = 8
			errs := make(chan error, racers)
			start := make(chan struct{})
			for i := range racers {
				go func() {
					<-start
					_, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("race.tflock"),
						Body: strings.NewReader(fmt.Sprintf(`{"ID":"%d"}`, i)), IfNoneMatch: aws.String("*")})
					errs <- err
				}()
			}
			close(start)
			won := 0
			for range racers {
				err := <-errs
				if err == nil {
					won++
					continue
				}
				if code, status := errCode(err); code != "PreconditionFailed" || status != http.StatusPreconditionFailed {
					t.Errorf("loser got %s (%d), want PreconditionFailed (412): %v", code, status, err)
				}
			}
			if won != 1 {
				t.Errorf("%d racers created the lock, want exactly 1", won)
			}
		})

		t.Run("ConditionalReads", func(t *testing.T) {
			body := []byte("conditional")
			mustPut(t, env, b, "cond", body)
			etag := quotedMD5(body)
			// A date after the write (a future one would be invalid and ignorable by RFC 9110).
			past, now := time.Now().Add(-time.Hour), time.Now()
			for _, tc := range []struct {
				name   string
				mod    func(*s3.GetObjectInput)
				code   string
				status int
			}{
				{"IfNoneMatchCurrent", func(in *s3.GetObjectInput) { in.IfNoneMatch = aws.String(etag) }, "NotModified", http.StatusNotModified},
				{"IfNoneMatchOther", func(in *s3.GetObjectInput) { in.IfNoneMatch = aws.String(`"0123"`) }, "", http.StatusOK},
				{"IfMatchCurrent", func(in *s3.GetObjectInput) { in.IfMatch = aws.String(etag) }, "", http.StatusOK},
				{"IfMatchOther", func(in *s3.GetObjectInput) { in.IfMatch = aws.String(`"0123"`) }, "PreconditionFailed", http.StatusPreconditionFailed},
				{"IfModifiedSinceNow", func(in *s3.GetObjectInput) { in.IfModifiedSince = &now }, "NotModified", http.StatusNotModified},
				{"IfModifiedSincePast", func(in *s3.GetObjectInput) { in.IfModifiedSince = &past }, "", http.StatusOK},
				{"IfUnmodifiedSincePast", func(in *s3.GetObjectInput) { in.IfUnmodifiedSince = &past }, "PreconditionFailed", http.StatusPreconditionFailed},
				// If-Match wins over If-Unmodified-Since, as RFC 7232 and S3 say.
				{"IfMatchAndUnmodifiedSince", func(in *s3.GetObjectInput) { in.IfMatch = aws.String(etag); in.IfUnmodifiedSince = &past }, "", http.StatusOK},
			} {
				t.Run(tc.name, func(t *testing.T) {
					in := &s3.GetObjectInput{Bucket: bucket, Key: aws.String("cond")}
					tc.mod(in)
					out, err := env.S3.GetObject(ctx, in)
					if tc.code == "" {
						if err != nil {
							t.Fatal(err)
						}
						got, _ := io.ReadAll(out.Body)
						out.Body.Close()
						if !bytes.Equal(got, body) {
							t.Errorf("body = %q, want %q", got, body)
						}
						return
					}
					wantErr(t, err, tc.code, tc.status)
				})
			}
			_, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("cond"), IfNoneMatch: aws.String(etag)})
			wantErr(t, err, "NotModified", http.StatusNotModified)
			_, err = env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("cond"), IfMatch: aws.String(`"0123"`)})
			wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
		})

		t.Run("ContentMD5", func(t *testing.T) {
			body := []byte("digest me")
			sum := md5.Sum(body)
			other := md5.Sum([]byte("something else"))
			for _, tc := range []struct {
				name, md5, code string
			}{
				{"Right", base64.StdEncoding.EncodeToString(sum[:]), ""},
				{"Wrong", base64.StdEncoding.EncodeToString(other[:]), "BadDigest"},
				{"NotBase64", "not*base64", "InvalidDigest"},
				{"TooShort", base64.StdEncoding.EncodeToString(sum[:8]), "InvalidDigest"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					key := "md5-" + tc.name
					_, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key),
						Body: bytes.NewReader(body), ContentMD5: aws.String(tc.md5)})
					if tc.code == "" {
						if err != nil {
							t.Fatal(err)
						}
						if got := mustGet(t, env, b, key, ""); !bytes.Equal(got, body) {
							t.Errorf("body = %q", got)
						}
						return
					}
					wantErr(t, err, tc.code, http.StatusBadRequest)
					_, err = head(key)
					wantErr(t, err, "NotFound", http.StatusNotFound)
				})
			}
		})

		t.Run("Checksums", func(t *testing.T) {
			body := []byte("terraform state with a checksum\n")
			for _, alg := range allChecksums {
				t.Run(string(alg), func(t *testing.T) {
					key := "sum-" + string(alg)
					want := checksumOf(alg, body)
					in := &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(body)}
					setChecksum(in, alg, want)
					put, err := env.S3.PutObject(ctx, in)
					if err != nil {
						t.Fatal(err)
					}
					if got := checksumFields(put.ChecksumCRC32, put.ChecksumCRC32C, put.ChecksumCRC64NVME, put.ChecksumSHA1, put.ChecksumSHA256); got[alg] != want {
						t.Errorf("PutObject checksums = %v, want %s %s", got, alg, want)
					}
					get, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
					if err != nil {
						t.Fatal(err)
					}
					// Reading to EOF is where the SDK validates the body against the checksum.
					got, err := io.ReadAll(get.Body)
					get.Body.Close()
					if err != nil || !bytes.Equal(got, body) {
						t.Fatalf("GET body %q, err %v", got, err)
					}
					if sums := getChecksums(get); sums[alg] != want {
						t.Errorf("GET checksums = %v, want %s %s", sums, alg, want)
					}
					h, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
					if err != nil {
						t.Fatal(err)
					}
					if sums := headChecksums(h); sums[alg] != want {
						t.Errorf("HEAD checksums = %v, want %s %s", sums, alg, want)
					}
					// Clients validate whatever checksum comes back against the body they got,
					// without looking at Content-Range: a ranged GET must carry none.
					rng, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key),
						Range: aws.String("bytes=0-4"), ChecksumMode: s3types.ChecksumModeEnabled})
					if err != nil {
						t.Fatal(err)
					}
					part, err := io.ReadAll(rng.Body)
					rng.Body.Close()
					if err != nil || string(part) != string(body[:5]) {
						t.Fatalf("ranged GET = %q, %v", part, err)
					}
					if sums := getChecksums(rng); len(sums) != 0 {
						t.Errorf("ranged GET carries checksums %v, want none", sums)
					}
				})
			}
		})

		t.Run("ChecksumsComputedBySDK", func(t *testing.T) {
			// Only the algorithm is given: the SDK computes the value, in a header over HTTP and
			// in an aws-chunked trailer over HTTPS.
			body := pattern(70_000, 3) // more than one 64 KiB chunk
			for _, alg := range allChecksums {
				t.Run(string(alg), func(t *testing.T) {
					key := "sdk-sum-" + string(alg)
					_, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key),
						Body: bytes.NewReader(body), ChecksumAlgorithm: alg})
					if err != nil {
						t.Fatal(err)
					}
					get, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
					if err != nil {
						t.Fatal(err)
					}
					got, err := io.ReadAll(get.Body)
					get.Body.Close()
					if err != nil || !bytes.Equal(got, body) {
						t.Fatalf("GET %d bytes, err %v; want the %d sent", len(got), err, len(body))
					}
					if sums, want := getChecksums(get), checksumOf(alg, body); sums[alg] != want {
						t.Errorf("GET checksums = %v, want %s %s", sums, alg, want)
					}
				})
			}
		})

		t.Run("WrongChecksum", func(t *testing.T) {
			body := []byte("the real body")
			for _, alg := range allChecksums {
				t.Run(string(alg), func(t *testing.T) {
					key := "bad-sum-" + string(alg)
					in := &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(body)}
					setChecksum(in, alg, checksumOf(alg, []byte("another body")))
					_, err := env.S3.PutObject(ctx, in)
					wantErr(t, err, "BadDigest", http.StatusBadRequest)
					_, err = head(key)
					wantErr(t, err, "NotFound", http.StatusNotFound)
				})
			}
		})

		t.Run("SSE-S3", func(t *testing.T) {
			put, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("sse-s3"),
				Body: strings.NewReader("x"), ServerSideEncryption: s3types.ServerSideEncryptionAes256})
			if err != nil {
				t.Fatal(err)
			}
			get, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("sse-s3")})
			if err != nil {
				t.Fatal(err)
			}
			get.Body.Close()
			h, err := head("sse-s3")
			if err != nil {
				t.Fatal(err)
			}
			for op, got := range map[string]s3types.ServerSideEncryption{"PUT": put.ServerSideEncryption,
				"GET": get.ServerSideEncryption, "HEAD": h.ServerSideEncryption} {
				if got != s3types.ServerSideEncryptionAes256 {
					t.Errorf("%s ServerSideEncryption = %q, want AES256", op, got)
				}
			}
			_, err = env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("sse-bad"),
				Body: strings.NewReader("x"), ServerSideEncryption: "AES512"})
			wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
		})

		t.Run("SSE-C", func(t *testing.T) {
			key, wrong := make([]byte, 32), make([]byte, 32)
			rand.Read(key)
			rand.Read(wrong)
			enc := func(k []byte) (string, string) {
				sum := md5.Sum(k)
				return base64.StdEncoding.EncodeToString(k), base64.StdEncoding.EncodeToString(sum[:])
			}
			k64, kmd5 := enc(key)
			w64, wmd5 := enc(wrong)
			body := pattern(1<<20+100, 9) // two segments
			put, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("sse-c"), Body: bytes.NewReader(body),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(k64), SSECustomerKeyMD5: aws.String(kmd5)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(put.SSECustomerAlgorithm) != "AES256" || aws.ToString(put.SSECustomerKeyMD5) != kmd5 {
				t.Errorf("PUT SSE-C headers = %q %q, want AES256 %q", aws.ToString(put.SSECustomerAlgorithm), aws.ToString(put.SSECustomerKeyMD5), kmd5)
			}

			_, err = env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("sse-c")})
			wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
			_, err = head("sse-c")
			wantErr(t, err, "BadRequest", http.StatusBadRequest)
			_, err = env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("sse-c"),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(w64), SSECustomerKeyMD5: aws.String(wmd5)})
			wantErr(t, err, "AccessDenied", http.StatusForbidden)
			// A key whose MD5 does not match it is refused before anything is looked at.
			_, err = env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("sse-c"),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(k64), SSECustomerKeyMD5: aws.String(wmd5)})
			wantErr(t, err, "InvalidArgument", http.StatusBadRequest)

			get, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("sse-c"),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(k64), SSECustomerKeyMD5: aws.String(kmd5)})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(get.Body)
			get.Body.Close()
			if !bytes.Equal(got, body) {
				t.Errorf("GET with the key: %d bytes differ from the %d sent", len(got), len(body))
			}
			if aws.ToString(get.SSECustomerAlgorithm) != "AES256" || aws.ToString(get.SSECustomerKeyMD5) != kmd5 {
				t.Errorf("GET SSE-C headers = %q %q, want AES256 %q", aws.ToString(get.SSECustomerAlgorithm), aws.ToString(get.SSECustomerKeyMD5), kmd5)
			}
			if get.ServerSideEncryption != "" {
				t.Errorf("GET ServerSideEncryption = %q, want none for SSE-C", get.ServerSideEncryption)
			}
			h, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("sse-c"),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(k64), SSECustomerKeyMD5: aws.String(kmd5)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(h.SSECustomerKeyMD5) != kmd5 || aws.ToInt64(h.ContentLength) != int64(len(body)) {
				t.Errorf("HEAD = key MD5 %q length %d, want %q %d", aws.ToString(h.SSECustomerKeyMD5), aws.ToInt64(h.ContentLength), kmd5, len(body))
			}
			rng, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("sse-c"), Range: aws.String("bytes=1048570-1048580"),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(k64), SSECustomerKeyMD5: aws.String(kmd5)})
			if err != nil {
				t.Fatal(err)
			}
			got, _ = io.ReadAll(rng.Body)
			rng.Body.Close()
			if !bytes.Equal(got, body[1048570:1048581]) {
				t.Errorf("ranged GET with the key = %x, want %x", got, body[1048570:1048581])
			}

			// Copying an SSE-C object needs its key; the copy may be stored under SSE-S3.
			_, err = env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("sse-c-copy"), CopySource: aws.String(b + "/sse-c")})
			wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
			if _, err := env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("sse-c-copy"), CopySource: aws.String(b + "/sse-c"),
				CopySourceSSECustomerAlgorithm: aws.String("AES256"), CopySourceSSECustomerKey: aws.String(k64),
				CopySourceSSECustomerKeyMD5: aws.String(kmd5)}); err != nil {
				t.Fatal(err)
			}
			if got := mustGet(t, env, b, "sse-c-copy", ""); !bytes.Equal(got, body) {
				t.Errorf("copy of SSE-C object: %d bytes differ", len(got))
			}
		})

		t.Run("DeleteObject", func(t *testing.T) {
			mustPut(t, env, b, "doomed", []byte("x"))
			out, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("doomed")})
			if err != nil {
				t.Fatal(err)
			}
			if out.DeleteMarker != nil && *out.DeleteMarker {
				t.Errorf("unversioned delete reported a delete marker")
			}
			_, err = head("doomed")
			wantErr(t, err, "NotFound", http.StatusNotFound)
			// Deleting what is not there succeeds, as in S3.
			if _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("doomed")}); err != nil {
				t.Errorf("deleting a missing key: %v", err)
			}
		})

		t.Run("DeleteObjects", func(t *testing.T) {
			for _, k := range []string{"batch/a", "batch/b", "batch/c", "batch/d"} {
				mustPut(t, env, b, k, []byte(k))
			}
			ids := func(keys ...string) []s3types.ObjectIdentifier {
				var out []s3types.ObjectIdentifier
				for _, k := range keys {
					out = append(out, s3types.ObjectIdentifier{Key: aws.String(k)})
				}
				return out
			}
			out, err := env.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket,
				Delete: &s3types.Delete{Objects: ids("batch/a", "batch/b", "batch/missing", "bad/../key")}})
			if err != nil {
				t.Fatal(err)
			}
			var deleted []string
			for _, d := range out.Deleted {
				deleted = append(deleted, aws.ToString(d.Key))
			}
			slices.Sort(deleted)
			if want := []string{"batch/a", "batch/b", "batch/missing"}; !slices.Equal(deleted, want) {
				t.Errorf("verbose Deleted = %q, want %q", deleted, want)
			}
			if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Key) != "bad/../key" || aws.ToString(out.Errors[0].Code) != "InvalidArgument" {
				t.Errorf("Errors = %+v, want one InvalidArgument for bad/../key", out.Errors)
			}
			quiet, err := env.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket,
				Delete: &s3types.Delete{Objects: ids("batch/c", "batch/d"), Quiet: aws.Bool(true)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(quiet.Deleted) != 0 || len(quiet.Errors) != 0 {
				t.Errorf("quiet DeleteObjects = %d deleted, %d errors; want nothing reported", len(quiet.Deleted), len(quiet.Errors))
			}
			for _, k := range []string{"batch/a", "batch/b", "batch/c", "batch/d"} {
				if _, err := head(k); err == nil {
					t.Errorf("%s still exists", k)
				}
			}
		})

		t.Run("CopyObject", func(t *testing.T) {
			body := []byte("copy source body")
			mustBucket(t, env, "copy-target")
			_, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("src key+1"), Body: bytes.NewReader(body),
				ContentType: aws.String("text/plain"), Metadata: map[string]string{"color": "blue"}})
			if err != nil {
				t.Fatal(err)
			}
			src := aws.String(b + "/" + url.PathEscape("src key+1"))
			for _, tc := range []struct {
				name, bucket, key string
				mod               func(*s3.CopyObjectInput)
				wantType          string
				wantMeta          map[string]string
			}{
				{"SameBucket", b, "copy-same", func(*s3.CopyObjectInput) {}, "text/plain", map[string]string{"color": "blue"}},
				{"OtherBucket", "copy-target", "dir/copy", func(*s3.CopyObjectInput) {}, "text/plain", map[string]string{"color": "blue"}},
				{"Replace", b, "copy-replaced", func(in *s3.CopyObjectInput) {
					in.MetadataDirective = s3types.MetadataDirectiveReplace
					in.ContentType = aws.String("application/json")
					in.Metadata = map[string]string{"color": "red", "new": "yes"}
				}, "application/json", map[string]string{"color": "red", "new": "yes"}},
				{"SelfReplace", b, "src key+1", func(in *s3.CopyObjectInput) {
					in.MetadataDirective = s3types.MetadataDirectiveReplace
					in.ContentType = aws.String("text/markdown")
				}, "text/markdown", map[string]string{}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					in := &s3.CopyObjectInput{Bucket: aws.String(tc.bucket), Key: aws.String(tc.key), CopySource: src}
					tc.mod(in)
					out, err := env.S3.CopyObject(ctx, in)
					if err != nil {
						t.Fatal(err)
					}
					if out.CopyObjectResult == nil || aws.ToString(out.CopyObjectResult.ETag) != quotedMD5(body) {
						t.Errorf("CopyObjectResult = %+v, want ETag %s", out.CopyObjectResult, quotedMD5(body))
					}
					get, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tc.bucket), Key: aws.String(tc.key)})
					if err != nil {
						t.Fatal(err)
					}
					got, _ := io.ReadAll(get.Body)
					get.Body.Close()
					if !bytes.Equal(got, body) {
						t.Errorf("copy body = %q, want %q", got, body)
					}
					if aws.ToString(get.ContentType) != tc.wantType || !maps.Equal(get.Metadata, tc.wantMeta) {
						t.Errorf("copy ContentType %q Metadata %v, want %q %v", aws.ToString(get.ContentType), get.Metadata, tc.wantType, tc.wantMeta)
					}
				})
			}
			t.Run("SelfWithoutChange", func(t *testing.T) {
				_, err := env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("src key+1"), CopySource: src})
				wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
			})
			t.Run("MissingSource", func(t *testing.T) {
				_, err := env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("x"), CopySource: aws.String(b + "/no-such-source")})
				wantErr(t, err, "NoSuchKey", http.StatusNotFound)
			})
			t.Run("MalformedSource", func(t *testing.T) {
				_, err := env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("x"), CopySource: aws.String("just-a-bucket")})
				wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
			})
		})
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
