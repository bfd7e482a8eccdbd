package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// markerForms are the byte strings under which a secret could show up in a file: as is, in
// hex, and in base64 at each of the three alignments (the middle of the encoding, which
// depends on the secret's bytes alone).
func markerForms(marker string) [][]byte {
	forms := [][]byte{[]byte(marker), []byte(hex.EncodeToString([]byte(marker)))}
	for pad := range 3 {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, pad), marker...))
		forms = append(forms, []byte(enc[4:len(enc)-4]))
	}
	return forms
}

// scanDir counts, per file under dir, the occurrences of any of forms.
func scanDir(t *testing.T, dir string, forms [][]byte) map[string]int {
	t.Helper()
	found := map[string]int{}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, f := range forms {
			if n := bytes.Count(raw, f); n > 0 {
				found[path] += n
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no files under %s", dir)
	}
	return found
}

// TestS3EncryptionAtRest writes a marker through every S3 path that stores client data —
// bodies (inline, segmented, multipart, SSE-C, old versions, copies), user metadata, headers,
// tags, bucket policies, in-progress uploads — and then reads every byte under the data
// directory: the marker must not be there in any form. Object keys are readable by design
// (ordered scans need them), so the marker is never put in a key.
func TestS3EncryptionAtRest(t *testing.T) {
	forEachScheme(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		var rnd [8]byte
		rand.Read(rnd[:])
		marker := "SWMARKER" + hex.EncodeToString(rnd[:]) + "ENDMARKER"
		bucket := aws.String("at-rest")
		mustVersionedBucket(t, env, "at-rest")

		secret := []byte(`{"password": "` + marker + `"}`)
		large := pattern(3*mib+500, 1)
		for _, off := range []int{0, mib - len(marker)/2, 2*mib + 3, len(large) - len(marker)} {
			copy(large[off:], marker) // at the start, across a segment boundary, inside, at the end
		}
		put := func(key string, body []byte, mod func(*s3.PutObjectInput)) {
			t.Helper()
			in := &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(body)}
			if mod != nil {
				mod(in)
			}
			if _, err := env.S3.PutObject(ctx, in); err != nil {
				t.Fatalf("PutObject %s: %v", key, err)
			}
		}
		put("small", secret, func(in *s3.PutObjectInput) {
			in.Metadata = map[string]string{"note": marker}
			in.ContentType = aws.String("application/x-" + strings.ToLower(marker))
			in.ContentDisposition = aws.String(`attachment; filename="` + marker + `"`)
			in.Tagging = aws.String("secret=" + marker)
		})
		put("small", []byte("newer version; the old one keeps the secret"), nil)
		put("large", large, func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = s3types.ChecksumAlgorithmSha256 })
		key := make([]byte, 32)
		rand.Read(key)
		sum := md5.Sum(key)
		put("customer-key", secret, func(in *s3.PutObjectInput) {
			in.SSECustomerAlgorithm = aws.String("AES256")
			in.SSECustomerKey = aws.String(base64.StdEncoding.EncodeToString(key))
			in.SSECustomerKeyMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
		})
		if _, err := env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("copied"), CopySource: aws.String("at-rest/large"),
			MetadataDirective: s3types.MetadataDirectiveReplace, Metadata: map[string]string{"copied-note": marker}}); err != nil {
			t.Fatal(err)
		}
		// An upload left in progress: its metadata and a part.
		up, err := env.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String("pending"),
			Metadata: map[string]string{"note": marker}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String("pending"), UploadId: up.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(large)}); err != nil {
			t.Fatal(err)
		}
		policy := `{"Version":"2012-10-17","Statement":[{"Sid":"` + marker + `","Effect":"Allow",` +
			`"Principal":{"AWS":"arn:aws:iam::` + env.Account + `:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::at-rest/*"}]}`
		if _, err := env.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
		// Everything reads back: the data is there, only not readable on disk.
		if got := mustGet(t, env, "at-rest", "large", ""); !bytes.Equal(got, large) {
			t.Fatal("large object does not read back")
		}

		forms := markerForms(marker)
		if found := scanDir(t, env.DataDir, forms); len(found) != 0 {
			t.Errorf("marker found at rest: %v", found)
		}
		// Control: the same scan finds the marker when it is on disk.
		control := filepath.Join(env.DataDir, "control.txt")
		if err := os.WriteFile(control, []byte("plain "+marker+" text"), 0o600); err != nil {
			t.Fatal(err)
		}
		found := scanDir(t, env.DataDir, forms)
		if len(found) != 1 || found[control] != 1 {
			t.Errorf("control scan = %v, want the marker once in %s", found, control)
		}
	})
}

// TestIdentitiesEncryptedAtRest: what IAM keeps that must stay secret — access key secrets,
// virtual MFA seeds, login passwords — and the policy documents and tags, are nowhere in the
// data directory in any form. Names (users, groups) are record keys, readable by design.
func TestIdentitiesEncryptedAtRest(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	ctx := context.Background()
	var rnd [8]byte
	rand.Read(rnd[:])
	marker := "SWMARKER" + hex.EncodeToString(rnd[:]) + "ENDMARKER"
	c := env.IAM
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String(marker)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.ReplaceAll(marker, "MARKER", "") + `","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.ToLower(marker) + `/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String(marker)}); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"tag and password":  marker,
		"policy":            strings.ToLower(marker),
		"access key secret": aws.ToString(key.AccessKey.SecretAccessKey),
		"MFA seed":          string(dev.VirtualMFADevice.Base32StringSeed),
	}
	env.srv.close() // every write checkpointed and closed
	for what, s := range secrets {
		if len(s) < 16 {
			t.Fatalf("%s %q is too short to search for", what, s)
		}
		if found := scanDir(t, env.DataDir, markerForms(s)); len(found) > 0 {
			t.Errorf("the %s is readable at rest: %v", what, found)
		}
	}
}

// TestParametersEncryptedAtRest: SSM parameter values — String, StringList, SecureString, old
// versions among them — and their descriptions, allowed patterns, labels and tags are nowhere
// in the data directory in any form. Parameter names are record keys, readable by design.
func TestParametersEncryptedAtRest(t *testing.T) {
	env := newTestEnv(t, envOptions{})
	ctx := context.Background()
	var rnd [8]byte
	rand.Read(rnd[:])
	marker := "SWMARKER" + hex.EncodeToString(rnd[:]) + "ENDMARKER"
	key, err := env.KMS.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{}
	put := func(what string, in *ssm.PutParameterInput) {
		t.Helper()
		if _, err := env.SSM.PutParameter(ctx, in); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for i, typ := range []ssmtypes.ParameterType{ssmtypes.ParameterTypeString, ssmtypes.ParameterTypeStringList, ssmtypes.ParameterTypeSecureString} {
		name := aws.String(fmt.Sprintf("/at-rest/p%d", i))
		value := fmt.Sprintf("value%d-%s", i, marker)
		old := fmt.Sprintf("old%d-%s", i, marker)
		desc := fmt.Sprintf("description%d-%s", i, marker)
		in := &ssm.PutParameterInput{Name: name, Value: aws.String(old), Type: typ, Description: aws.String(desc),
			AllowedPattern: aws.String(fmt.Sprintf("^.*(%s)?.*$", marker)),
			Tags:           []ssmtypes.Tag{{Key: aws.String("note"), Value: aws.String(fmt.Sprintf("tag%d-%s", i, marker))}}}
		if typ == ssmtypes.ParameterTypeSecureString {
			in.KeyId = key.KeyMetadata.KeyId
		}
		put(string(typ), in)
		put(string(typ)+" overwrite", &ssm.PutParameterInput{Name: name, Value: aws.String(value), Overwrite: aws.Bool(true)})
		if _, err := env.SSM.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: name, ParameterVersion: aws.Int64(1),
			Labels: []string{fmt.Sprintf("label%d-%s", i, strings.ToLower(marker))}}); err != nil {
			t.Fatal(err)
		}
		out, err := env.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: name, WithDecryption: aws.Bool(true)})
		if err != nil || aws.ToString(out.Parameter.Value) != value {
			t.Fatalf("%s reads back %+v, %v", typ, out, err)
		}
		secrets[string(typ)+" value"], secrets[string(typ)+" old value"], secrets[string(typ)+" description"] = value, old, desc
	}
	secrets["markers anywhere"] = marker
	secrets["labels"] = strings.ToLower(marker)
	env.srv.close() // every write checkpointed and closed
	for what, s := range secrets {
		if found := scanDir(t, env.DataDir, markerForms(s)); len(found) > 0 {
			t.Errorf("the %s is readable at rest: %v", what, found)
		}
	}
}
