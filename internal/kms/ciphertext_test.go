package kms

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
	"github.com/stateward/stateward/internal/storage/bolt"
)

const testARN = "arn:aws:kms:us-east-1:111122223333:key/0b8f5c4e-9b7a-4c3d-8e2f-1a2b3c4d5e6f"

func TestBlobRoundTrip(t *testing.T) {
	material := bytes.Repeat([]byte{7}, keyring.KeySize)
	encCtx := map[string]string{"b": "2", "a": "1"}
	blob, err := sealBlob(rand.Reader, material, testARN, 3, []byte("hello"), encCtx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseBlob(blob)
	if err != nil {
		t.Fatal(err)
	}
	if b.arn != testARN || b.account != "111122223333" || b.region != "us-east-1" ||
		b.keyID != "0b8f5c4e-9b7a-4c3d-8e2f-1a2b3c4d5e6f" || b.version != 3 {
		t.Errorf("parsed blob = %+v", b)
	}
	// Map order does not matter: the context is canonical.
	got, err := openBlob(material, b, map[string]string{"a": "1", "b": "2"})
	if err != nil || string(got) != "hello" {
		t.Fatalf("openBlob = %q, %v", got, err)
	}
	if _, err := openBlob(bytes.Repeat([]byte{8}, keyring.KeySize), b, encCtx); err == nil {
		t.Error("opened with other material")
	}
}

func TestParseBlobRejects(t *testing.T) {
	good, err := sealBlob(rand.Reader, make([]byte, keyring.KeySize), testARN, 1, []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	withARN := func(arn string) []byte {
		b, err := sealBlob(rand.Reader, make([]byte, keyring.KeySize), arn, 1, []byte("x"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		blob []byte
	}{
		{"empty", nil},
		{"version only", []byte{1}},
		{"unknown version", append([]byte{2}, good[1:]...)},
		{"ARN length past the end", append([]byte{1, 0xff, 0xff}, good[3:]...)},
		{"no tag", good[:len(good)-16]},
		{"not a key ARN", withARN("arn:aws:kms:us-east-1:111122223333:alias/x")},
		{"bad account", withARN("arn:aws:kms:us-east-1:1111:key/0b8f5c4e-9b7a-4c3d-8e2f-1a2b3c4d5e6f")},
		{"bad key id", withARN("arn:aws:kms:us-east-1:111122223333:key/nope")},
		{"other service", withARN("arn:aws:s3:us-east-1:111122223333:key/0b8f5c4e-9b7a-4c3d-8e2f-1a2b3c4d5e6f")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseBlob(tt.blob); err == nil {
				t.Error("parseBlob accepted it")
			}
		})
	}
}

// TestCanonicalContextInjective checks that contexts that differ only in where a pair's
// boundary falls encode differently.
func TestCanonicalContextInjective(t *testing.T) {
	contexts := []map[string]string{
		nil,
		{"": ""},
		{"a": "b=c"},
		{"a=b": "c"},
		{"a": "b", "c": "d"},
		{"a": "b\x00c\x00d"},
		{"a": "bc", "d": ""},
		{"ab": "c", "d": ""},
	}
	seen := map[string]int{}
	for i, c := range contexts {
		enc := string(appendCanonicalContext(nil, c))
		if j, dup := seen[enc]; dup {
			t.Errorf("contexts %d %v and %d %v encode alike", j, contexts[j], i, c)
		}
		seen[enc] = i
	}
}

// TestMaterialSealedByKMS stores through a bare engine, with no storage barrier, and checks
// that key material records are sealed by this package all the same and found nowhere in
// the clear.
func TestMaterialSealedByKMS(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kr, err := keyring.FromKey(bytes.Repeat([]byte{9}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Store: db, Keyring: kr, Authorizer: policy.NewEngine(nil), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx := identity.WithPrincipal(context.Background(), &identity.Principal{Type: identity.Root, AccountID: "111122223333"})
	out, err := s.createKey(ctx, &createKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.find(ctx, keyRef{account: "111122223333", region: s.region, id: out.KeyMetadata.KeyID}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.rotate(ctx, k, rotationOnDemand); err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint32{1, 2} {
		m, err := s.material(ctx, k, v)
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != keyring.KeySize || bytes.Equal(m, make([]byte, keyring.KeySize)) {
			t.Fatalf("material %d is %d bytes", v, len(m))
		}
		var raw []byte
		err = db.View(ctx, func(tx storage.Tx) error {
			v, err := tx.Get(materialKey(k.Account, k.Region, k.ID, v))
			raw = bytes.Clone(v)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != len(m)+keyring.Overhead || bytes.Contains(raw, m) {
			t.Errorf("material record %d is not sealed", v)
		}
		file, err := os.ReadFile(filepath.Join(dir, "db"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(file, m) {
			t.Errorf("material %d is in the data file in the clear", v)
		}
		// It prints redacted, even with %x.
		if got := fmt.Sprintf("%x %v", m, m); got != "[redacted] [redacted]" {
			t.Errorf("material prints as %q", got)
		}
	}
}
