package kms_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestEncryptDecrypt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, arn := createKey(t, e.A, "")
	encCtx := map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/state", "purpose": "test"}
	plaintext := []byte("terraform state secrets")
	enc, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: plaintext, EncryptionContext: encCtx})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(enc.KeyId) != arn || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Errorf("Encrypt KeyId %q algorithm %q", aws.ToString(enc.KeyId), enc.EncryptionAlgorithm)
	}
	if bytes.Contains(enc.CiphertextBlob, plaintext) {
		t.Fatal("ciphertext contains the plaintext")
	}
	dec, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: encCtx})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dec.Plaintext, plaintext) || aws.ToString(dec.KeyId) != arn || len(aws.ToString(dec.KeyMaterialId)) != 64 {
		t.Errorf("Decrypt = %q under %q (material %q)", dec.Plaintext, aws.ToString(dec.KeyId), aws.ToString(dec.KeyMaterialId))
	}
	// Encrypting twice gives different blobs (fresh nonce each time).
	enc2, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: plaintext, EncryptionContext: encCtx})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(enc.CiphertextBlob, enc2.CiphertextBlob) {
		t.Error("two encryptions gave the same blob")
	}

	contexts := []struct {
		name   string
		encCtx map[string]string
	}{
		{"no context", nil},
		{"wrong value", map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/other", "purpose": "test"}},
		{"missing pair", map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/state"}},
		{"extra pair", map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/state", "purpose": "test", "x": "y"}},
		{"key differs by one byte", map[string]string{"aws:s3:arn": "arn:aws:s3:::bucket/state", "purpose=": "test"}},
	}
	for _, c := range contexts {
		t.Run("context/"+c.name, func(t *testing.T) {
			_, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: c.encCtx})
			wantCode(t, err, "InvalidCiphertextException")
		})
	}
}

// TestTamperedCiphertext alters a blob in every part of it; each must fail to decrypt, and the
// error must be InvalidCiphertextException (never the plaintext).
func TestTamperedCiphertext(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := createKey(t, e.A, "")
	_, arnB := createKey(t, e.A, "")
	enc, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("secret")})
	if err != nil {
		t.Fatal(err)
	}
	blob := enc.CiphertextBlob
	arnLen := int(binary.BigEndian.Uint16(blob[1:3]))
	versionAt := 3 + arnLen
	flip := func(i int) []byte {
		b := bytes.Clone(blob)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name string
		blob []byte
		want string
	}{
		{"format version", flip(0), "InvalidCiphertextException"},
		{"ARN length", flip(2), "InvalidCiphertextException"},
		{"ARN text", flip(3), "InvalidCiphertextException"},
		{"material version", flip(versionAt + 3), "InvalidCiphertextException"},
		{"nonce", flip(versionAt + 4), "InvalidCiphertextException"},
		{"ciphertext", flip(versionAt + 4 + 12), "InvalidCiphertextException"},
		{"tag", flip(len(blob) - 1), "InvalidCiphertextException"},
		{"truncated", blob[:len(blob)-1], "InvalidCiphertextException"},
		{"header only", blob[:versionAt+4], "InvalidCiphertextException"},
		{"garbage", []byte("this is not a ciphertext blob at all"), "InvalidCiphertextException"},
		// The header pointed at another existing key: that key's material does not open it.
		{"another key", bytes.Replace(bytes.Clone(blob), []byte(keyARNOf(id)), []byte(arnB), 1), "InvalidCiphertextException"},
		{"too long", bytes.Repeat([]byte{1}, 6145), "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: tt.blob})
			wantCode(t, err, tt.want)
			if out != nil {
				t.Errorf("Decrypt returned %q", out.Plaintext)
			}
		})
	}
}

func TestEncryptValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := createKey(t, e.A, "")
	tests := []struct {
		name string
		in   awskms.EncryptInput
		want string
	}{
		{"4096 bytes", awskms.EncryptInput{KeyId: aws.String(id), Plaintext: make([]byte, 4096)}, ""},
		{"4097 bytes", awskms.EncryptInput{KeyId: aws.String(id), Plaintext: make([]byte, 4097)}, "ValidationException"},
		{"RSA algorithm", awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x"), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256}, "InvalidKeyUsageException"},
		{"unknown algorithm", awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x"), EncryptionAlgorithm: "ROT13"}, "ValidationException"},
		{"unknown key", awskms.EncryptInput{KeyId: aws.String("0b8f5c4e-9b7a-4c3d-8e2f-1a2b3c4d5e6f"), Plaintext: []byte("x")}, "NotFoundException"},
		{"context too large", awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x"), EncryptionContext: map[string]string{"k": strings.Repeat("v", 8192)}}, "ValidationException"},
		{"dry run", awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x"), DryRun: aws.Bool(true)}, "DryRunOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.A.Encrypt(ctx, &tt.in)
			wantCode(t, err, tt.want)
		})
	}
}

func TestGenerateDataKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, arn := createKey(t, e.A, "")
	encCtx := map[string]string{"object": "state.tfstate"}
	tests := []struct {
		name    string
		spec    types.DataKeySpec
		n       *int32
		wantLen int
		want    string
	}{
		{"AES_256", types.DataKeySpecAes256, nil, 32, ""},
		{"AES_128", types.DataKeySpecAes128, nil, 16, ""},
		{"64 bytes", "", aws.Int32(64), 64, ""},
		{"1024 bytes", "", aws.Int32(1024), 1024, ""},
		{"neither", "", nil, 0, "ValidationException"},
		{"both", types.DataKeySpecAes256, aws.Int32(32), 0, "ValidationException"},
		{"zero bytes", "", aws.Int32(0), 0, "ValidationException"},
		{"1025 bytes", "", aws.Int32(1025), 0, "ValidationException"},
		{"unknown spec", "AES_512", nil, 0, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.A.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: tt.spec,
				NumberOfBytes: tt.n, EncryptionContext: encCtx})
			wantCode(t, err, tt.want)
			if err != nil {
				return
			}
			if len(out.Plaintext) != tt.wantLen || aws.ToString(out.KeyId) != arn {
				t.Fatalf("plaintext %d bytes under %q, want %d under %q", len(out.Plaintext), aws.ToString(out.KeyId), tt.wantLen, arn)
			}
			dec, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: encCtx})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec.Plaintext, out.Plaintext) {
				t.Error("Decrypt of the data key blob differs from the plaintext data key")
			}
			wp, err := e.A.GenerateDataKeyWithoutPlaintext(ctx, &awskms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(id),
				KeySpec: tt.spec, NumberOfBytes: tt.n, EncryptionContext: encCtx})
			if err != nil {
				t.Fatal(err)
			}
			dec, err = e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: wp.CiphertextBlob, EncryptionContext: encCtx})
			if err != nil {
				t.Fatal(err)
			}
			if len(dec.Plaintext) != tt.wantLen {
				t.Errorf("data key without plaintext decrypts to %d bytes, want %d", len(dec.Plaintext), tt.wantLen)
			}
		})
	}
	// The raw answer of GenerateDataKeyWithoutPlaintext has no Plaintext member at all.
	_, _, body := e.rawCall(t, "AKIDROOTA", "TrentService.GenerateDataKeyWithoutPlaintext", `{"KeyId":"`+id+`","KeySpec":"AES_256"}`)
	if strings.Contains(body, "Plaintext") {
		t.Errorf("GenerateDataKeyWithoutPlaintext answered %s", body)
	}
}

func TestGenerateRandom(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.A.GenerateRandom(ctx, &awskms.GenerateRandomInput{NumberOfBytes: aws.Int32(48)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Plaintext) != 48 {
		t.Errorf("GenerateRandom gave %d bytes, want 48", len(out.Plaintext))
	}
	for _, n := range []*int32{nil, aws.Int32(0), aws.Int32(1025)} {
		_, err := e.A.GenerateRandom(ctx, &awskms.GenerateRandomInput{NumberOfBytes: n})
		wantCode(t, err, "ValidationException")
	}
}

func TestReEncrypt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	src, srcARN := createKey(t, e.A, "source")
	dst, dstARN := createKey(t, e.A, "destination")
	srcCtx, dstCtx := map[string]string{"from": "a"}, map[string]string{"to": "b"}
	enc, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(src), Plaintext: []byte("moving"), EncryptionContext: srcCtx})
	if err != nil {
		t.Fatal(err)
	}
	re, err := e.A.ReEncrypt(ctx, &awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: srcCtx,
		DestinationKeyId: aws.String(dst), DestinationEncryptionContext: dstCtx})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(re.SourceKeyId) != srcARN || aws.ToString(re.KeyId) != dstARN ||
		re.SourceEncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault ||
		re.DestinationEncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Errorf("ReEncrypt = %+v", re)
	}
	dec, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: dstCtx, KeyId: aws.String(dst)})
	if err != nil {
		t.Fatal(err)
	}
	if string(dec.Plaintext) != "moving" || aws.ToString(dec.KeyId) != dstARN {
		t.Errorf("re-encrypted blob decrypts to %q under %q", dec.Plaintext, aws.ToString(dec.KeyId))
	}
	tests := []struct {
		name string
		in   awskms.ReEncryptInput
		want string
	}{
		{"wrong source key", awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: srcCtx, SourceKeyId: aws.String(dst), DestinationKeyId: aws.String(dst)}, "IncorrectKeyException"},
		{"wrong source context", awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: aws.String(dst)}, "InvalidCiphertextException"},
		{"unknown destination", awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: srcCtx, DestinationKeyId: aws.String("alias/none")}, "NotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.A.ReEncrypt(ctx, &tt.in)
			wantCode(t, err, tt.want)
		})
	}
	if _, err := e.A.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String(dst)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.A.ReEncrypt(ctx, &awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: srcCtx, DestinationKeyId: aws.String(dst)})
	wantCode(t, err, "DisabledException")
}

func TestDecryptValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := createKey(t, e.A, "")
	enc, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	blob := enc.CiphertextBlob
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"Decrypt dry run", func() error {
			_, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: blob, DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperationException"},
		{"Decrypt dry run, bad blob", func() error {
			_, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: blob[:20], DryRun: aws.Bool(true)})
			return err
		}, "InvalidCiphertextException"},
		{"Decrypt RSA algorithm", func() error {
			_, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: blob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1})
			return err
		}, "InvalidKeyUsageException"},
		{"Decrypt for a Nitro enclave", func() error {
			_, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: blob, Recipient: &types.RecipientInfo{AttestationDocument: []byte("doc"), KeyEncryptionAlgorithm: types.KeyEncryptionMechanismRsaesOaepSha256}})
			return err
		}, "UnsupportedOperationException"},
		{"GenerateDataKey dry run", func() error {
			_, err := e.A.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256, DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperationException"},
		{"ReEncrypt dry run", func() error {
			_, err := e.A.ReEncrypt(ctx, &awskms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: aws.String(id), DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperationException"},
		{"ReEncrypt RSA destination", func() error {
			_, err := e.A.ReEncrypt(ctx, &awskms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: aws.String(id), DestinationEncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
			return err
		}, "InvalidKeyUsageException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.want) })
	}
}
