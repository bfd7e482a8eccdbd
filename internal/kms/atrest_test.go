package kms_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestNothingReadableAtRest looks through every file in the data directory for what must
// never be stored in the clear: a data key's plaintext, a plaintext given to Encrypt, a key's
// description and tag, in raw, hex and base64 form.
func TestNothingReadableAtRest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const marker = "MARKER-description-7f3a9c2e"
	out, err := e.A.CreateKey(ctx, &awskms.CreateKeyInput{Description: aws.String(marker),
		Tags: []types.Tag{{TagKey: aws.String("owner"), TagValue: aws.String("MARKER-tag-value-51d0")}}})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	dk, err := e.A.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: id, KeySpec: types.DataKeySpecAes256})
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("MARKER-plaintext-given-to-encrypt")
	if _, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: id, Plaintext: secret}); err != nil {
		t.Fatal(err)
	}
	// Rotation writes new material; aliases and policies are records too.
	if _, err := e.A.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/visible-name"), TargetKeyId: id}); err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{
		"data key":          dk.Plaintext,
		"encrypt plaintext": secret,
		"description":       []byte(marker),
		"tag value":         []byte("MARKER-tag-value-51d0"),
	}
	files := dataFiles(t, e.dataDir)
	sawKeys := false
	for _, f := range files {
		sawKeys = sawKeys || bytes.Contains(f, []byte("kms/mat/"+accountA))
		for name, s := range secrets {
			for form, b := range map[string][]byte{
				"raw":    s,
				"hex":    []byte(hex.EncodeToString(s)),
				"base64": []byte(base64.StdEncoding.EncodeToString(s)),
			} {
				if bytes.Contains(f, b) {
					t.Errorf("the data directory holds the %s in %s form", name, form)
				}
			}
		}
	}
	// Record keys stay readable (ordered scans need them), so the scan above looked in the
	// right place.
	if !sawKeys {
		t.Fatal("no key material record found in the data directory; is the scan looking at the database?")
	}
}

// dataFiles reads every regular file under dir.
func dataFiles(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out = append(out, b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
