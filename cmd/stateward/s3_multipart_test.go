//lint:file-ignore SA1019 Terraform's S3 backend uploads and downloads through feature/s3/manager; these tests drive that same code.

package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const mib = 1 << 20

// multipartETag is S3's ETag of an object assembled from parts of partSize bytes.
func multipartETag(body []byte, partSize int) string {
	var sums []byte
	n := 0
	for off := 0; off < len(body); off += partSize {
		s := md5.Sum(body[off:min(off+partSize, len(body))])
		sums = append(sums, s[:]...)
		n++
	}
	s := md5.Sum(sums)
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(s[:]), n)
}

// compositeChecksum is S3's checksum-of-checksums of an object assembled from parts.
func compositeChecksum(alg s3types.ChecksumAlgorithm, body []byte, partSize int) string {
	var raw []byte
	n := 0
	for off := 0; off < len(body); off += partSize {
		v, _ := base64.StdEncoding.DecodeString(checksumOf(alg, body[off:min(off+partSize, len(body))]))
		raw = append(raw, v...)
		n++
	}
	return fmt.Sprintf("%s-%d", checksumOf(alg, raw), n)
}

func TestS3Multipart(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "multipart"
		mustBucket(t, env, b)
		bucket := aws.String(b)
		const size = 12 * mib
		body := pattern(size, 12)

		for _, alg := range []s3types.ChecksumAlgorithm{s3types.ChecksumAlgorithmCrc32, s3types.ChecksumAlgorithmSha256} {
			t.Run("Uploader"+string(alg), func(t *testing.T) {
				key := "big/" + string(alg) + ".tfstate"
				// As Terraform writes state larger than 5 MiB.
				up := manager.NewUploader(env.S3, func(u *manager.Uploader) { u.PartSize = 5 * mib; u.Concurrency = 5 })
				out, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(body),
					ContentType: aws.String("application/json"), ChecksumAlgorithm: alg})
				if err != nil {
					t.Fatal(err)
				}
				if got, want := aws.ToString(out.ETag), multipartETag(body, 5*mib); got != want || !strings.HasSuffix(got, `-3"`) {
					t.Errorf("ETag = %s, want %s", got, want)
				}
				if got := mustGet(t, env, b, key, ""); !bytes.Equal(got, body) {
					t.Fatalf("GET: %d bytes differ from the %d uploaded", len(got), len(body))
				}
				h, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
				if err != nil {
					t.Fatal(err)
				}
				if got := aws.ToInt64(h.ContentLength); got != size {
					t.Errorf("HEAD ContentLength = %d, want %d", got, size)
				}
				if got := aws.ToString(h.ContentType); got != "application/json" {
					t.Errorf("HEAD ContentType = %q, want application/json", got)
				}
				if got, want := headChecksums(h)[alg], compositeChecksum(alg, body, 5*mib); got != want {
					t.Errorf("HEAD %s checksum = %q, want composite %q", alg, got, want)
				}
				// A whole-object GET with checksum mode: the composite value must not trip the
				// SDK's validation.
				get, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(get.Body)
				get.Body.Close()
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("GET with checksum mode: %d bytes, %v", len(got), err)
				}
				for _, r := range [][2]int{
					{5*mib - 10, 5*mib + 9},    // across the first part boundary
					{10*mib - 1, 10 * mib},     // the last byte of part 2 and the first of part 3
					{4*mib + 7, 11*mib + 3},    // through a whole part
					{5 * mib, 5 * mib},         // first byte of a part
					{size - 3, size - 1},       // the end
					{6*mib - 2, 6*mib + 1},     // a segment boundary inside a part
					{0, 5*mib - 1},             // exactly part 1
					{5 * mib, 10*mib - 1},      // exactly part 2
					{10*mib + 1, size + 1000},  // clipped at the end
					{2*mib + 1, 2*mib + 1 + 9}, // inside part 1
				} {
					rng := fmt.Sprintf("bytes=%d-%d", r[0], r[1])
					got, cr := getRange(t, env, b, key, rng)
					end := min(r[1], size-1)
					if !bytes.Equal(got, body[r[0]:end+1]) {
						t.Errorf("Range %s: %d bytes differ from the object's", rng, len(got))
					}
					if want := fmt.Sprintf("bytes %d-%d/%d", r[0], end, size); cr != want {
						t.Errorf("Range %s: Content-Range %q, want %q", rng, cr, want)
					}
				}
				// As Terraform reads state: the downloader's ranged GETs, checksum mode on.
				for _, partSize := range []int64{5 * mib, mib, 3*mib + 1} {
					buf := manager.NewWriteAtBuffer(make([]byte, 0, size))
					n, err := manager.NewDownloader(env.S3, func(d *manager.Downloader) { d.PartSize = partSize; d.Concurrency = 5 }).
						Download(ctx, buf, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key)})
					if err != nil {
						t.Fatalf("Downloader (part size %d): %v", partSize, err)
					}
					if n != size || !bytes.Equal(buf.Bytes(), body) {
						t.Errorf("Downloader (part size %d): %d bytes, differing from the object", partSize, n)
					}
				}
			})
		}

		t.Run("UploaderSSEC", func(t *testing.T) {
			// Terraform with sse_customer_key and state over 5 MiB: every part and the GET carry the key.
			key := pattern(32, 99)
			sum := md5.Sum(key)
			k64, kmd5 := base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(sum[:])
			_, err := manager.NewUploader(env.S3, func(u *manager.Uploader) { u.PartSize = 5 * mib }).Upload(ctx, &s3.PutObjectInput{
				Bucket: bucket, Key: aws.String("ssec-big"), Body: bytes.NewReader(body), ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256,
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(k64), SSECustomerKeyMD5: aws.String(kmd5)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("ssec-big")})
			wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
			buf := manager.NewWriteAtBuffer(make([]byte, 0, size))
			if _, err := manager.NewDownloader(env.S3).Download(ctx, buf, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("ssec-big"),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(k64), SSECustomerKeyMD5: aws.String(kmd5)}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), body) {
				t.Errorf("SSE-C multipart object reads back %d bytes differing from the %d uploaded", len(buf.Bytes()), len(body))
			}
		})

		t.Run("UploaderSmallBody", func(t *testing.T) {
			small := []byte(`{"version":4}`)
			out, err := manager.NewUploader(env.S3).Upload(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("small"), Body: bytes.NewReader(small)})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := aws.ToString(out.ETag), quotedMD5(small); got != want {
				t.Errorf("ETag = %s, want %s (one PutObject)", got, want)
			}
		})

		t.Run("DownloaderZeroByte", func(t *testing.T) {
			mustPut(t, env, b, "empty-state", nil)
			buf := manager.NewWriteAtBuffer(nil)
			n, err := manager.NewDownloader(env.S3).Download(ctx, buf, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("empty-state")})
			if err != nil || n != 0 {
				t.Errorf("Download of a 0-byte object = %d bytes, %v; want 0, nil", n, err)
			}
		})

		// A manual upload to poke at: part 1 of 5 MiB, part 2 small.
		newUpload := func(t *testing.T, key string) (string, []s3types.CompletedPart) {
			t.Helper()
			cr, err := env.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			id := aws.ToString(cr.UploadId)
			var parts []s3types.CompletedPart
			for i, p := range [][]byte{body[:5*mib], body[5*mib : 5*mib+1000]} {
				n := int32(i + 1)
				out, err := env.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String(key), UploadId: aws.String(id),
					PartNumber: aws.Int32(n), Body: bytes.NewReader(p)})
				if err != nil {
					t.Fatal(err)
				}
				if got, want := aws.ToString(out.ETag), quotedMD5(p); got != want {
					t.Errorf("UploadPart %d ETag = %s, want %s", n, got, want)
				}
				parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
			}
			return id, parts
		}
		complete := func(key, id string, parts []s3types.CompletedPart) (*s3.CompleteMultipartUploadOutput, error) {
			return env.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: aws.String(key),
				UploadId: aws.String(id), MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
		}

		t.Run("ListParts", func(t *testing.T) {
			id, parts := newUpload(t, "listed")
			out, err := env.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: aws.String("listed"), UploadId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Parts) != 2 || aws.ToBool(out.IsTruncated) {
				t.Fatalf("ListParts = %d parts, truncated %v; want 2, false", len(out.Parts), aws.ToBool(out.IsTruncated))
			}
			for i, p := range out.Parts {
				wantSize := []int64{5 * mib, 1000}[i]
				if aws.ToInt32(p.PartNumber) != int32(i+1) || aws.ToInt64(p.Size) != wantSize || aws.ToString(p.ETag) != aws.ToString(parts[i].ETag) {
					t.Errorf("part %d = number %d size %d ETag %s; want %d %d %s", i, aws.ToInt32(p.PartNumber), aws.ToInt64(p.Size),
						aws.ToString(p.ETag), i+1, wantSize, aws.ToString(parts[i].ETag))
				}
			}
			page, err := env.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: aws.String("listed"), UploadId: aws.String(id), MaxParts: aws.Int32(1)})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Parts) != 1 || !aws.ToBool(page.IsTruncated) || aws.ToString(page.NextPartNumberMarker) != "1" {
				t.Errorf("ListParts max 1 = %d parts truncated %v next %q; want 1, true, 1", len(page.Parts), aws.ToBool(page.IsTruncated), aws.ToString(page.NextPartNumberMarker))
			}
			page, err = env.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: aws.String("listed"), UploadId: aws.String(id), PartNumberMarker: aws.String("1")})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Parts) != 1 || aws.ToInt32(page.Parts[0].PartNumber) != 2 {
				t.Errorf("ListParts after marker 1 = %+v, want part 2", page.Parts)
			}
			if _, err := complete("listed", id, parts); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("ListMultipartUploads", func(t *testing.T) {
			var ids []string
			for _, k := range []string{"pending/a", "pending/b", "pending/b"} {
				cr, err := env.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String(k)})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, aws.ToString(cr.UploadId))
			}
			out, err := env.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bucket, Prefix: aws.String("pending/")})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, u := range out.Uploads {
				got[aws.ToString(u.UploadId)] = aws.ToString(u.Key)
			}
			for i, id := range ids {
				if want := []string{"pending/a", "pending/b", "pending/b"}[i]; got[id] != want {
					t.Errorf("upload %s listed as %q, want %q (all: %v)", id, got[id], want, got)
				}
			}
			if len(got) != 3 {
				t.Errorf("%d uploads listed, want 3", len(got))
			}
			// One upload per page, two of them on the same key: resuming needs both markers.
			in := &s3.ListMultipartUploadsInput{Bucket: bucket, Prefix: aws.String("pending/"), MaxUploads: aws.Int32(1)}
			var paged []string
			for pages := 0; pages < 10; pages++ {
				out, err := env.S3.ListMultipartUploads(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range out.Uploads {
					paged = append(paged, aws.ToString(u.UploadId))
				}
				if !aws.ToBool(out.IsTruncated) {
					break
				}
				in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
			}
			if len(paged) != 3 || !slices.Contains(paged, ids[0]) || !slices.Contains(paged, ids[1]) || !slices.Contains(paged, ids[2]) {
				t.Errorf("paged uploads = %q, want each of %q once", paged, ids)
			}
			for i, id := range ids {
				k := []string{"pending/a", "pending/b", "pending/b"}[i]
				if _, err := env.S3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: aws.String(k), UploadId: aws.String(id)}); err != nil {
					t.Fatal(err)
				}
			}
			out, err = env.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bucket, Prefix: aws.String("pending/")})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Uploads) != 0 {
				t.Errorf("%d uploads listed after aborting all, want 0", len(out.Uploads))
			}
		})

		t.Run("Abort", func(t *testing.T) {
			id, parts := newUpload(t, "aborted")
			if _, err := env.S3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: aws.String("aborted"), UploadId: aws.String(id)}); err != nil {
				t.Fatal(err)
			}
			_, err := env.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: aws.String("aborted"), UploadId: aws.String(id)})
			wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
			_, err = env.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("aborted"), UploadId: aws.String(id),
				PartNumber: aws.Int32(3), Body: strings.NewReader("late")})
			wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
			_, err = complete("aborted", id, parts)
			wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
			_, err = env.S3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: aws.String("aborted"), UploadId: aws.String(id)})
			wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
			_, err = env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("aborted")})
			wantErr(t, err, "NotFound", http.StatusNotFound)
		})

		t.Run("CompleteErrors", func(t *testing.T) {
			id, parts := newUpload(t, "failing")
			wrongETag := []s3types.CompletedPart{parts[0], {PartNumber: aws.Int32(2), ETag: aws.String(quotedMD5([]byte("other")))}}
			missing := []s3types.CompletedPart{parts[0], {PartNumber: aws.Int32(3), ETag: parts[1].ETag}}
			for _, tc := range []struct {
				name  string
				parts []s3types.CompletedPart
				code  string
			}{
				{"WrongETag", wrongETag, "InvalidPart"},
				{"MissingPart", missing, "InvalidPart"},
				{"OutOfOrder", []s3types.CompletedPart{parts[1], parts[0]}, "InvalidPartOrder"},
				{"Repeated", []s3types.CompletedPart{parts[0], parts[0]}, "InvalidPartOrder"},
				{"NoParts", nil, "MalformedXML"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := complete("failing", id, tc.parts)
					wantErr(t, err, tc.code, http.StatusBadRequest)
				})
			}
			t.Run("TooSmallNonLastPart", func(t *testing.T) {
				id, _ := newUpload(t, "too-small")
				var small []s3types.CompletedPart
				for n := int32(1); n <= 2; n++ {
					out, err := env.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("too-small"), UploadId: aws.String(id),
						PartNumber: aws.Int32(n), Body: bytes.NewReader(body[:1000])})
					if err != nil {
						t.Fatal(err)
					}
					small = append(small, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
				}
				_, err := complete("too-small", id, small)
				wantErr(t, err, "EntityTooSmall", http.StatusBadRequest)
				// A small part may be the only, last one.
				out, err := complete("too-small", id, small[:1])
				if err != nil {
					t.Fatal(err)
				}
				if got, want := aws.ToString(out.ETag), multipartETag(body[:1000], 1000); got != want {
					t.Errorf("ETag = %s, want %s", got, want)
				}
				if got := mustGet(t, env, b, "too-small", ""); !bytes.Equal(got, body[:1000]) {
					t.Errorf("GET after completing with one part: %d bytes", len(got))
				}
			})
			// Failed completions leave the upload as it was.
			out, err := complete("failing", id, parts)
			if err != nil {
				t.Fatalf("completing after refused attempts: %v", err)
			}
			want := body[:5*mib+1000]
			if got, w := aws.ToString(out.ETag), multipartETag(want, 5*mib); got != w {
				t.Errorf("ETag = %s, want %s", got, w)
			}
			if got := mustGet(t, env, b, "failing", ""); !bytes.Equal(got, want) {
				t.Errorf("GET: %d bytes, want %d", len(got), len(want))
			}
			// A completed upload is gone.
			_, err = complete("failing", id, parts)
			wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
		})

		t.Run("UploadPartNumbers", func(t *testing.T) {
			cr, err := env.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("numbers")})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int32{0, 10001, -1} {
				_, err := env.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("numbers"), UploadId: cr.UploadId,
					PartNumber: aws.Int32(n), Body: strings.NewReader("x")})
				wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
			}
			// Uploading a part number again replaces the part.
			var etag *string
			for _, content := range []string{"first", "second"} {
				out, err := env.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("numbers"), UploadId: cr.UploadId,
					PartNumber: aws.Int32(1), Body: strings.NewReader(content)})
				if err != nil {
					t.Fatal(err)
				}
				etag = out.ETag
			}
			if _, err := complete("numbers", aws.ToString(cr.UploadId), []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: etag}}); err != nil {
				t.Fatal(err)
			}
			if got := string(mustGet(t, env, b, "numbers", "")); got != "second" {
				t.Errorf("GET = %q, want the replacing part", got)
			}
		})

		t.Run("UnknownUpload", func(t *testing.T) {
			_, err := env.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("k"), UploadId: aws.String("no-such-upload"),
				PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
			wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
		})
	})
}
