package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// listV2 lists a bucket with ListObjectsV2, following continuation tokens, and returns every
// key and common prefix in the order received and the number of pages.
func listV2(t *testing.T, env *testEnv, in s3.ListObjectsV2Input) (keys, prefixes []string, pages int) {
	t.Helper()
	p := s3.NewListObjectsV2Paginator(env.S3, &in)
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if pages > 1000 {
			t.Fatal("ListObjectsV2 does not end")
		}
		n := len(page.Contents) + len(page.CommonPrefixes)
		if got := int(aws.ToInt32(page.KeyCount)); got != n {
			t.Errorf("page %d: KeyCount %d, but %d entries", pages, got, n)
		}
		if in.MaxKeys != nil && n > int(*in.MaxKeys) {
			t.Errorf("page %d: %d entries, max-keys %d", pages, n, *in.MaxKeys)
		}
		if aws.ToBool(page.IsTruncated) && aws.ToString(page.NextContinuationToken) == "" {
			t.Fatalf("page %d: truncated without NextContinuationToken", pages)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, cp := range page.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(cp.Prefix))
		}
	}
	return keys, prefixes, pages
}

// wantStrings fails t unless got equals want, element by element.
func wantStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestS3ListObjects(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "listing"
		mustBucket(t, env, b)
		bucket := aws.String(b)
		var pageKeys []string
		for i := range 25 {
			pageKeys = append(pageKeys, fmt.Sprintf("page/key-%02d", i))
		}
		tree := []string{"dir/a/1", "dir/a/2", "dir/b/1", "dir/c", "terraform.tfstate",
			"env:/dev/terraform.tfstate", "env:/prod/terraform.tfstate", "env:/prod/other.tfstate"}
		odd := []string{"odd/with space", "odd/plus+sign", "odd/ünïcødé", "odd/amp&lt<", "odd/pct%41", "odd/ctl\x01char", "odd/tab\t"}
		for _, k := range slices.Concat(pageKeys, tree, odd) {
			mustPut(t, env, b, k, []byte(k))
		}

		t.Run("Prefix", func(t *testing.T) {
			keys, prefixes, _ := listV2(t, env, s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("dir/")})
			wantStrings(t, "keys", keys, []string{"dir/a/1", "dir/a/2", "dir/b/1", "dir/c"})
			wantStrings(t, "prefixes", prefixes, nil)
		})

		t.Run("Delimiter", func(t *testing.T) {
			keys, prefixes, _ := listV2(t, env, s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("dir/"), Delimiter: aws.String("/")})
			wantStrings(t, "keys", keys, []string{"dir/c"})
			wantStrings(t, "prefixes", prefixes, []string{"dir/a/", "dir/b/"})
			keys, prefixes, _ = listV2(t, env, s3.ListObjectsV2Input{Bucket: bucket, Delimiter: aws.String("/")})
			wantStrings(t, "root keys", keys, []string{"terraform.tfstate"})
			wantStrings(t, "root prefixes", prefixes, []string{"dir/", "env:/", "odd/", "page/"})
		})

		t.Run("MaxKeysPagination", func(t *testing.T) {
			keys, _, pages := listV2(t, env, s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("page/"), MaxKeys: aws.Int32(7)})
			wantStrings(t, "keys", keys, pageKeys) // sorted, complete, no duplicates
			if pages != 4 {
				t.Errorf("%d pages, want 4 (7+7+7+4)", pages)
			}
		})

		t.Run("MaxKeysPaginationWithDelimiter", func(t *testing.T) {
			// Pages break between keys and common prefixes alike; a folded prefix is never
			// repeated on the next page.
			for _, max := range []int32{1, 2, 3} {
				keys, prefixes, _ := listV2(t, env, s3.ListObjectsV2Input{Bucket: bucket, Delimiter: aws.String("/"), MaxKeys: aws.Int32(max)})
				wantStrings(t, fmt.Sprintf("max-keys %d keys", max), keys, []string{"terraform.tfstate"})
				wantStrings(t, fmt.Sprintf("max-keys %d prefixes", max), prefixes, []string{"dir/", "env:/", "odd/", "page/"})
				keys, prefixes, _ = listV2(t, env, s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("dir/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(max)})
				wantStrings(t, fmt.Sprintf("dir/ max-keys %d keys", max), keys, []string{"dir/c"})
				wantStrings(t, fmt.Sprintf("dir/ max-keys %d prefixes", max), prefixes, []string{"dir/a/", "dir/b/"})
			}
		})

		t.Run("StartAfter", func(t *testing.T) {
			out, err := env.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("page/"), StartAfter: aws.String("page/key-20")})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range out.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
			wantStrings(t, "keys", keys, pageKeys[21:])
			if got := aws.ToString(out.StartAfter); got != "page/key-20" {
				t.Errorf("StartAfter = %q, want it echoed", got)
			}
			// A start-after between keys.
			keys, _, _ = listV2(t, env, s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("page/"), StartAfter: aws.String("page/key-09x"), MaxKeys: aws.Int32(4)})
			wantStrings(t, "keys after key-09x", keys, pageKeys[10:])
		})

		t.Run("EntryFields", func(t *testing.T) {
			out, err := env.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("dir/c")})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Contents) != 1 {
				t.Fatalf("%d entries, want 1", len(out.Contents))
			}
			o := out.Contents[0]
			if aws.ToString(o.ETag) != quotedMD5([]byte("dir/c")) || aws.ToInt64(o.Size) != 5 || o.LastModified == nil || o.StorageClass != s3types.ObjectStorageClassStandard {
				t.Errorf("entry = ETag %s Size %d LastModified %v StorageClass %q", aws.ToString(o.ETag), aws.ToInt64(o.Size), o.LastModified, o.StorageClass)
			}
			if got := aws.ToString(out.Name); got != b {
				t.Errorf("Name = %q, want %q", got, b)
			}
		})

		t.Run("EncodingTypeURL", func(t *testing.T) {
			for _, max := range []int32{1000, 2} {
				in := &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("odd/"), EncodingType: s3types.EncodingTypeUrl, MaxKeys: aws.Int32(max)}
				var keys []string
				for {
					out, err := env.S3.ListObjectsV2(ctx, in)
					if err != nil {
						t.Fatal(err)
					}
					if out.EncodingType != s3types.EncodingTypeUrl {
						t.Errorf("EncodingType = %q, want url", out.EncodingType)
					}
					for _, o := range out.Contents {
						// The SDK hands the encoded form through; clients decode it themselves.
						raw := aws.ToString(o.Key)
						if strings.ContainsAny(raw, " \x01\t<&") {
							t.Errorf("key %q is not URL-encoded", raw)
						}
						k, err := url.QueryUnescape(raw)
						if err != nil {
							t.Fatalf("key %q: %v", raw, err)
						}
						keys = append(keys, k)
					}
					if !aws.ToBool(out.IsTruncated) {
						break
					}
					in.ContinuationToken = out.NextContinuationToken
				}
				want := slices.Clone(odd)
				slices.Sort(want)
				wantStrings(t, fmt.Sprintf("decoded keys (max-keys %d)", max), keys, want)
			}
		})

		t.Run("EncodingTypeURLOtherListings", func(t *testing.T) {
			// The aws CLI asks for encoding-type=url on every listing.
			want := slices.Clone(odd)
			slices.Sort(want)
			decode := func(raw string) string {
				if strings.ContainsAny(raw, " \x01\t<&") {
					t.Errorf("key %q is not URL-encoded", raw)
				}
				k, err := url.QueryUnescape(raw)
				if err != nil {
					t.Fatalf("key %q: %v", raw, err)
				}
				return k
			}
			v1, err := env.S3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: bucket, Prefix: aws.String("odd/"), EncodingType: s3types.EncodingTypeUrl})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range v1.Contents {
				keys = append(keys, decode(aws.ToString(o.Key)))
			}
			wantStrings(t, "ListObjects decoded keys", keys, want)
			vers, err := env.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bucket, Prefix: aws.String("odd/"), EncodingType: s3types.EncodingTypeUrl})
			if err != nil {
				t.Fatal(err)
			}
			keys = nil
			for _, v := range vers.Versions {
				keys = append(keys, decode(aws.ToString(v.Key)))
			}
			wantStrings(t, "ListObjectVersions decoded keys", keys, want)
		})

		t.Run("TerraformWorkspaces", func(t *testing.T) {
			// As backend_state.go lists workspaces: prefix "env:/", paginated.
			for _, max := range []int32{1000, 1} {
				keys, _, _ := listV2(t, env, s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("env:/"), MaxKeys: aws.Int32(max)})
				wantStrings(t, "workspace keys", keys, []string{"env:/dev/terraform.tfstate", "env:/prod/other.tfstate", "env:/prod/terraform.tfstate"})
			}
		})

		t.Run("ListObjectsV1Marker", func(t *testing.T) {
			in := &s3.ListObjectsInput{Bucket: bucket, Prefix: aws.String("page/"), MaxKeys: aws.Int32(10)}
			var keys []string
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("ListObjects does not end")
				}
				out, err := env.S3.ListObjects(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				if got := aws.ToString(out.Marker); got != aws.ToString(in.Marker) {
					t.Errorf("Marker = %q, want %q echoed", got, aws.ToString(in.Marker))
				}
				for _, o := range out.Contents {
					keys = append(keys, aws.ToString(o.Key))
				}
				if !aws.ToBool(out.IsTruncated) {
					break
				}
				// Without a delimiter S3 sends no NextMarker: the last key is the marker.
				in.Marker = out.Contents[len(out.Contents)-1].Key
			}
			wantStrings(t, "keys", keys, pageKeys)

			out, err := env.S3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: bucket, Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
			if err != nil {
				t.Fatal(err)
			}
			if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextMarker) != "env:/" {
				t.Errorf("with a delimiter: IsTruncated %v NextMarker %q, want true %q", aws.ToBool(out.IsTruncated), aws.ToString(out.NextMarker), "env:/")
			}
			out, err = env.S3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: bucket, Delimiter: aws.String("/"), Marker: out.NextMarker})
			if err != nil {
				t.Fatal(err)
			}
			var prefixes []string
			for _, p := range out.CommonPrefixes {
				prefixes = append(prefixes, aws.ToString(p.Prefix))
			}
			wantStrings(t, "prefixes after NextMarker", prefixes, []string{"odd/", "page/"})
			if len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "terraform.tfstate" {
				t.Errorf("contents after NextMarker = %+v, want terraform.tfstate", out.Contents)
			}
		})

		t.Run("BadParameters", func(t *testing.T) {
			_, err := env.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, ContinuationToken: aws.String("!!not a token!!")})
			wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
			_, err = env.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(-1)})
			wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
			_, err = env.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, EncodingType: "base64"})
			wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
		})
	})
}

func TestS3ListObjectVersionsPagination(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		const b = "version-pages"
		mustVersionedBucket(t, env, b)
		var want []versionEntry
		for i := range 5 {
			key := fmt.Sprintf("k%d", i)
			var entries []versionEntry
			for v := range 3 {
				out := mustPut(t, env, b, key, fmt.Appendf(nil, "%s v%d", key, v))
				entries = append([]versionEntry{{key, aws.ToString(out.VersionId), false, false}}, entries...)
			}
			if i == 2 {
				out, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
				if err != nil {
					t.Fatal(err)
				}
				entries = append([]versionEntry{{key, aws.ToString(out.VersionId), false, true}}, entries...)
			}
			entries[0].IsLatest = true
			want = append(want, entries...)
		}
		for _, max := range []int32{1, 2, 3, 4, 5, 1000} {
			t.Run(fmt.Sprintf("MaxKeys%d", max), func(t *testing.T) {
				got := listAllVersions(t, env, b, "", max)
				if len(got) != len(want) || !sameEntries(got, want) {
					t.Errorf("listing with max-keys %d:\n got %+v\nwant %+v", max, got, want)
				}
				// The SDK separates versions from delete markers but keeps each list in the
				// server's order: by key, newest first.
				versionsOnly := func(es []versionEntry) []versionEntry {
					return slices.DeleteFunc(slices.Clone(es), func(e versionEntry) bool { return e.DeleteMarker })
				}
				if got, want := versionsOnly(got), versionsOnly(want); !slices.Equal(got, want) {
					t.Errorf("version order with max-keys %d:\n got %+v\nwant %+v", max, got, want)
				}
			})
		}
		t.Run("VersionIDMarkerWithoutKeyMarker", func(t *testing.T) {
			_, err := env.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b), VersionIdMarker: aws.String(want[0].VersionID)})
			wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
		})
		t.Run("KeyMarkerOnly", func(t *testing.T) {
			// key-marker alone resumes after every version of that key.
			got := listAllVersions(t, env, b, "", 0)
			out, err := env.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b), KeyMarker: aws.String("k3")})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range out.Versions {
				if aws.ToString(v.Key) != "k4" {
					t.Errorf("after key-marker k3: listed %s", aws.ToString(v.Key))
				}
			}
			if len(out.Versions) != 3 || len(got) != len(want) {
				t.Errorf("after key-marker k3: %d versions, want 3", len(out.Versions))
			}
		})
	})
}
