//lint:file-ignore SA1019 Terraform's S3 backend uploads and downloads through feature/s3/manager; these tests drive that same code.

package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// versionEntry is one row of ListObjectVersions, delete markers included.
type versionEntry struct {
	Key, VersionID string
	IsLatest       bool
	DeleteMarker   bool
}

// listAllVersions lists every version and delete marker under prefix, following pagination
// with maxKeys per page, in S3's order: by key, newest first within a key.
func listAllVersions(t *testing.T, env *testEnv, bucket, prefix string, maxKeys int32) []versionEntry {
	t.Helper()
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if maxKeys > 0 {
		in.MaxKeys = aws.Int32(maxKeys)
	}
	var out []versionEntry
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("ListObjectVersions does not end")
		}
		page, err := env.S3.ListObjectVersions(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		// The SDK splits versions and markers; put them back in S3's order, which within a key is
		// newest first. Versions and markers interleave by key, then by listing order within a key.
		var entries []versionEntry
		for _, v := range page.Versions {
			entries = append(entries, versionEntry{aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToBool(v.IsLatest), false})
		}
		for _, m := range page.DeleteMarkers {
			entries = append(entries, versionEntry{aws.ToString(m.Key), aws.ToString(m.VersionId), aws.ToBool(m.IsLatest), true})
		}
		if maxKeys > 0 && len(entries) > int(maxKeys) {
			t.Fatalf("page of %d entries with max-keys %d", len(entries), maxKeys)
		}
		out = append(out, entries...)
		if !aws.ToBool(page.IsTruncated) {
			return out
		}
		if page.NextKeyMarker == nil {
			t.Fatal("truncated ListObjectVersions without NextKeyMarker")
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
}

func TestS3Versioning(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "versions"
		mustVersionedBucket(t, env, b)
		bucket := aws.String(b)
		get := func(key, versionID string) (string, error) {
			in := &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key)}
			if versionID != "" {
				in.VersionId = aws.String(versionID)
			}
			out, err := env.S3.GetObject(ctx, in)
			if err != nil {
				return "", err
			}
			defer out.Body.Close()
			buf := make([]byte, 64)
			n, _ := out.Body.Read(buf)
			if got := aws.ToString(out.VersionId); versionID != "" && got != versionID {
				t.Errorf("GetObject VersionId = %q, want %q", got, versionID)
			}
			return string(buf[:n]), nil
		}

		var ids []string // of "state", oldest first
		bodies := []string{"v1", "v2", "v3"}
		t.Run("SeveralVersions", func(t *testing.T) {
			for _, body := range bodies {
				out := mustPut(t, env, b, "state", []byte(body))
				id := aws.ToString(out.VersionId)
				if id == "" || id == "null" || slices.Contains(ids, id) {
					t.Fatalf("PutObject VersionId = %q, want a fresh id (have %q)", id, ids)
				}
				ids = append(ids, id)
			}
			for i, id := range ids {
				got, err := get("state", id)
				if err != nil || got != bodies[i] {
					t.Errorf("GET version %d = %q, %v; want %q", i+1, got, err, bodies[i])
				}
			}
			if got, err := get("state", ""); err != nil || got != "v3" {
				t.Errorf("GET current = %q, %v; want v3", got, err)
			}
			h, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("state")})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(h.VersionId); got != ids[2] {
				t.Errorf("HEAD VersionId = %q, want %q", got, ids[2])
			}
			want := []versionEntry{{"state", ids[2], true, false}, {"state", ids[1], false, false}, {"state", ids[0], false, false}}
			if got := listAllVersions(t, env, b, "state", 0); !slices.Equal(got, want) {
				t.Errorf("ListObjectVersions = %+v, want %+v", got, want)
			}
		})
		if len(ids) != 3 {
			t.Fatal("no versions to work with")
		}

		var marker string
		t.Run("DeleteMarker", func(t *testing.T) {
			out, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("state")})
			if err != nil {
				t.Fatal(err)
			}
			marker = aws.ToString(out.VersionId)
			if !aws.ToBool(out.DeleteMarker) || marker == "" {
				t.Fatalf("DeleteObject = DeleteMarker %v VersionId %q, want a delete marker", aws.ToBool(out.DeleteMarker), marker)
			}
			_, err = get("state", "")
			wantErr(t, err, "NoSuchKey", http.StatusNotFound)
			if got := respHeader(err, "X-Amz-Delete-Marker"); got != "true" {
				t.Errorf("GET of a deleted key: x-amz-delete-marker = %q, want true", got)
			}
			_, err = env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("state")})
			wantErr(t, err, "NotFound", http.StatusNotFound)
			// Older versions stay readable by id.
			if got, err := get("state", ids[0]); err != nil || got != "v1" {
				t.Errorf("GET v1 under a delete marker = %q, %v", got, err)
			}
			// A delete marker has no body to GET.
			_, err = get("state", marker)
			wantErr(t, err, "MethodNotAllowed", http.StatusMethodNotAllowed)
			want := []versionEntry{{"state", marker, true, true}, {"state", ids[2], false, false}, {"state", ids[1], false, false}, {"state", ids[0], false, false}}
			got := listAllVersions(t, env, b, "state", 0)
			// The SDK reports versions and markers in separate lists; compare as sets.
			if !sameEntries(got, want) {
				t.Errorf("ListObjectVersions = %+v, want %+v", got, want)
			}
			list, err := env.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("state")})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Contents) != 0 {
				t.Errorf("ListObjectsV2 lists %d objects under a delete marker, want 0", len(list.Contents))
			}
		})

		t.Run("DeleteTheDeleteMarker", func(t *testing.T) {
			out, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("state"), VersionId: aws.String(marker)})
			if err != nil {
				t.Fatal(err)
			}
			if !aws.ToBool(out.DeleteMarker) || aws.ToString(out.VersionId) != marker {
				t.Errorf("DeleteObject of the marker = DeleteMarker %v VersionId %q, want true %q", aws.ToBool(out.DeleteMarker), aws.ToString(out.VersionId), marker)
			}
			if got, err := get("state", ""); err != nil || got != "v3" {
				t.Errorf("GET after removing the delete marker = %q, %v; want v3 restored", got, err)
			}
		})

		t.Run("DeleteSpecificVersion", func(t *testing.T) {
			out, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("state"), VersionId: aws.String(ids[1])})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToBool(out.DeleteMarker) || aws.ToString(out.VersionId) != ids[1] {
				t.Errorf("DeleteObject v2 = DeleteMarker %v VersionId %q", aws.ToBool(out.DeleteMarker), aws.ToString(out.VersionId))
			}
			_, err = get("state", ids[1])
			wantErr(t, err, "NoSuchVersion", http.StatusNotFound)
			if got, err := get("state", ""); err != nil || got != "v3" {
				t.Errorf("GET current = %q, %v; want v3", got, err)
			}
			// Deleting the current version makes the previous one current.
			if _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("state"), VersionId: aws.String(ids[2])}); err != nil {
				t.Fatal(err)
			}
			if got, err := get("state", ""); err != nil || got != "v1" {
				t.Errorf("GET current after deleting v3 = %q, %v; want v1", got, err)
			}
			want := []versionEntry{{"state", ids[0], true, false}}
			if got := listAllVersions(t, env, b, "state", 0); !slices.Equal(got, want) {
				t.Errorf("ListObjectVersions = %+v, want %+v", got, want)
			}
		})

		t.Run("InvalidVersionID", func(t *testing.T) {
			for _, id := range []string{"not-a-version", "0123", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"} {
				_, err := get("state", id)
				wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
				_, err = env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("state"), VersionId: aws.String(id)})
				wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
			}
			// Well-formed but unknown.
			_, err := get("state", "00000000000000000000000000000000")
			wantErr(t, err, "NoSuchVersion", http.StatusNotFound)
		})

		t.Run("DeleteObjectsWithVersionIDs", func(t *testing.T) {
			a1 := aws.ToString(mustPut(t, env, b, "batch/a", []byte("a1")).VersionId)
			a2 := aws.ToString(mustPut(t, env, b, "batch/a", []byte("a2")).VersionId)
			bID := aws.ToString(mustPut(t, env, b, "batch/b", []byte("b1")).VersionId)
			out, err := env.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{
				{Key: aws.String("batch/a"), VersionId: aws.String(a2)}, // a version: a1 becomes current
				{Key: aws.String("batch/b")},                            // no version: a delete marker
				{Key: aws.String("batch/a"), VersionId: aws.String("not-a-version")},
			}}})
			if err != nil {
				t.Fatal(err)
			}
			deleted := map[string]s3types.DeletedObject{}
			for _, d := range out.Deleted {
				deleted[aws.ToString(d.Key)+"@"+aws.ToString(d.VersionId)] = d
			}
			if d, ok := deleted["batch/a@"+a2]; !ok || aws.ToBool(d.DeleteMarker) {
				t.Errorf("Deleted = %+v, want batch/a version %s removed without a marker", out.Deleted, a2)
			}
			marker, ok := deleted["batch/b@"]
			if !ok || !aws.ToBool(marker.DeleteMarker) || aws.ToString(marker.DeleteMarkerVersionId) == "" {
				t.Errorf("Deleted = %+v, want a delete marker with its version id for batch/b", out.Deleted)
			}
			if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "InvalidArgument" || aws.ToString(out.Errors[0].VersionId) != "not-a-version" {
				t.Errorf("Errors = %+v, want one InvalidArgument for the bad version id", out.Errors)
			}
			if got, err := get("batch/a", ""); err != nil || got != "a1" {
				t.Errorf("batch/a current = %q, %v; want a1", got, err)
			}
			_, err = get("batch/b", "")
			wantErr(t, err, "NoSuchKey", http.StatusNotFound)
			// Quiet, by version: removes the marker and the version; nothing reported.
			quiet, err := env.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &s3types.Delete{Quiet: aws.Bool(true), Objects: []s3types.ObjectIdentifier{
				{Key: aws.String("batch/b"), VersionId: marker.DeleteMarkerVersionId},
				{Key: aws.String("batch/a"), VersionId: aws.String(a1)},
			}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(quiet.Deleted) != 0 || len(quiet.Errors) != 0 {
				t.Errorf("quiet DeleteObjects reported %+v %+v", quiet.Deleted, quiet.Errors)
			}
			if got, err := get("batch/b", ""); err != nil || got != "b1" {
				t.Errorf("batch/b after removing its marker = %q, %v; want b1", got, err)
			}
			want := []versionEntry{{"batch/b", bID, true, false}}
			if got := listAllVersions(t, env, b, "batch/", 0); !slices.Equal(got, want) {
				t.Errorf("ListObjectVersions = %+v, want %+v", got, want)
			}
		})

		t.Run("CopyFromVersion", func(t *testing.T) {
			old := aws.ToString(mustPut(t, env, b, "copy-src", []byte("old")).VersionId)
			mustPut(t, env, b, "copy-src", []byte("new"))
			out, err := env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("copy-dst"),
				CopySource: aws.String(b + "/copy-src?versionId=" + old)})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.CopySourceVersionId); got != old {
				t.Errorf("CopySourceVersionId = %q, want %q", got, old)
			}
			if aws.ToString(out.VersionId) == "" {
				t.Errorf("copy into a versioned bucket has no VersionId")
			}
			if got, err := get("copy-dst", ""); err != nil || got != "old" {
				t.Errorf("copy of an old version = %q, %v; want old", got, err)
			}
		})

		t.Run("TerraformLockCycle", func(t *testing.T) {
			// use_lockfile in the versioned default bucket: unlocking leaves a delete marker, and
			// the next lock must still be created. Terraform ≥ 1.10.1 locks through the uploader.
			up := manager.NewUploader(env.S3)
			lock := func(id string) error {
				_, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("env:/dev/terraform.tfstate.tflock"),
					Body: strings.NewReader(`{"ID":"` + id + `"}`), ContentType: aws.String("application/json"),
					IfNoneMatch: aws.String("*"), ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256})
				return err
			}
			unlock := func() {
				if _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("env:/dev/terraform.tfstate.tflock")}); err != nil {
					t.Fatal(err)
				}
			}
			for round := range 3 {
				if err := lock("first"); err != nil {
					t.Fatalf("round %d: lock: %v", round, err)
				}
				wantErr(t, lock("second"), "PreconditionFailed", http.StatusPreconditionFailed)
				if got := string(mustGet(t, env, b, "env:/dev/terraform.tfstate.tflock", "")); got != `{"ID":"first"}` {
					t.Errorf("round %d: lock holder = %s", round, got)
				}
				unlock()
			}
		})

		t.Run("Suspended", func(t *testing.T) {
			const sb = "suspended"
			mustVersionedBucket(t, env, sb)
			kept := aws.ToString(mustPut(t, env, sb, "k", []byte("enabled-era")).VersionId)
			setVersioning(t, env, sb, "Suspended")
			mustPut(t, env, sb, "k", []byte("null-1"))
			mustPut(t, env, sb, "k", []byte("null-2")) // replaces the null version
			want := []versionEntry{{"k", "null", true, false}, {"k", kept, false, false}}
			if got := listAllVersions(t, env, sb, "", 0); !slices.Equal(got, want) {
				t.Errorf("ListObjectVersions = %+v, want %+v", got, want)
			}
			if got := string(mustGet(t, env, sb, "k", "null")); got != "null-2" {
				t.Errorf("GET null version = %q, want null-2", got)
			}
			if got := string(mustGet(t, env, sb, "k", kept)); got != "enabled-era" {
				t.Errorf("GET %s = %q, want enabled-era", kept, got)
			}
			// A delete in a suspended bucket replaces the null version with a null delete marker.
			out, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(sb), Key: aws.String("k")})
			if err != nil {
				t.Fatal(err)
			}
			if !aws.ToBool(out.DeleteMarker) {
				t.Errorf("DeleteObject in a suspended bucket: no delete marker")
			}
			want = []versionEntry{{"k", "null", true, true}, {"k", kept, false, false}}
			if got := listAllVersions(t, env, sb, "", 0); !sameEntries(got, want) {
				t.Errorf("ListObjectVersions = %+v, want %+v", got, want)
			}
		})

		t.Run("Unversioned", func(t *testing.T) {
			const ub = "unversioned"
			mustBucket(t, env, ub)
			out := mustPut(t, env, ub, "k", []byte("one"))
			if out.VersionId != nil {
				t.Errorf("PutObject in an unversioned bucket: VersionId %q, want none", aws.ToString(out.VersionId))
			}
			mustPut(t, env, ub, "k", []byte("two"))
			want := []versionEntry{{"k", "null", true, false}}
			if got := listAllVersions(t, env, ub, "", 0); !slices.Equal(got, want) {
				t.Errorf("ListObjectVersions = %+v, want %+v", got, want)
			}
		})
	})
}

// sameEntries compares version listings as sets.
func sameEntries(a, b []versionEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for _, e := range a {
		if !slices.Contains(b, e) {
			return false
		}
	}
	return true
}
