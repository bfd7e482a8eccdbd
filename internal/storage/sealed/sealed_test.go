package sealed

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/storage"
	"github.com/stateward/stateward/internal/storage/bolt"
	"github.com/stateward/stateward/internal/storage/storagetest"
)

var passthrough = []byte("body/")

func testKeyring(t *testing.T) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.FromKey(bytes.Repeat([]byte{1}, keyring.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// openTest returns the sealed store and the engine under it, which sees what is stored.
func openTest(t *testing.T, dir string) (storage.Store, storage.Store) {
	t.Helper()
	inner, err := bolt.Open(filepath.Join(dir, "stateward.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := New(inner, testKeyring(t), passthrough)
	t.Cleanup(func() { s.Close() })
	return s, inner
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, _ := openTest(t, t.TempDir())
		return s
	})
}

// TestNoPlaintextOnDisk writes marked values, including ones later overwritten and deleted,
// and searches every byte the engine left in the data directory for the marker.
func TestNoPlaintextOnDisk(t *testing.T) {
	const marker, control = "PLAINTEXT-MARKER-9f3a", "PASSTHROUGH-CONTROL-51c7"
	dir := t.TempDir()
	s, _ := openTest(t, dir)
	values := map[string][]byte{
		"small":  []byte(marker),
		"medium": bytes.Repeat([]byte(marker+" "), 100),
		"large":  bytes.Repeat([]byte(marker+" "), 50_000), // bbolt overflow pages
	}
	for round := range 3 {
		err := s.Update(t.Context(), func(tx storage.Tx) error {
			for k, v := range values {
				for i := range 20 {
					if err := tx.Put(fmt.Appendf(nil, "meta/%s/%d/%d", k, round, i), v); err != nil {
						return err
					}
				}
			}
			// Freed pages keep their old bytes, so deleted records must have been sealed too.
			if round > 0 {
				return storage.ScanPrefix(tx, fmt.Appendf(nil, "meta/small/%d/", round-1), func(k, v []byte) error {
					return tx.Delete(k)
				})
			}
			return tx.Put([]byte("body/v1/0"), []byte(control))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	found := map[string]int{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		for _, m := range []string{marker, control} {
			found[m] += bytes.Count(data, []byte(m))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if found[control] == 0 {
		t.Fatal("the passthrough control value was not found, so the search cannot see plaintext")
	}
	if found[marker] != 0 {
		t.Errorf("found the plaintext marker %d times in the data directory", found[marker])
	}
}

func TestPassthrough(t *testing.T) {
	s, inner := openTest(t, t.TempDir())
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		return errors.Join(tx.Put([]byte("body/v1/0"), []byte("as-is")), tx.Put([]byte("meta/k"), []byte("secret")))
	})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{}
	err = inner.View(t.Context(), func(tx storage.Tx) error {
		return tx.Scan(nil, nil, func(k, v []byte) error { stored[string(k)] = string(v); return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := stored["body/v1/0"]; got != "as-is" {
		t.Errorf("passthrough value stored as %q, want it unchanged", got)
	}
	if got := stored["meta/k"]; len(got) != len("secret")+keyring.Overhead || bytes.Contains([]byte(got), []byte("secret")) {
		t.Errorf("sealed value stored as %q, want ciphertext", got)
	}
}

// TestMovedValue copies a sealed value to another key beneath the barrier, as an attacker
// with the data file could; the barrier must refuse it on every read path.
func TestMovedValue(t *testing.T) {
	s, inner := openTest(t, t.TempDir())
	if err := s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put([]byte("meta/a"), []byte("for a")) }); err != nil {
		t.Fatal(err)
	}
	err := inner.Update(t.Context(), func(tx storage.Tx) error {
		v, err := tx.Get([]byte("meta/a"))
		if err != nil {
			return err
		}
		return tx.Put([]byte("meta/b"), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	reads := map[string]func(tx storage.Tx) error{
		"Get": func(tx storage.Tx) error {
			_, err := tx.Get([]byte("meta/b"))
			return err
		},
		"Scan": func(tx storage.Tx) error {
			return tx.Scan([]byte("meta/b"), nil, func(k, v []byte) error { return nil })
		},
	}
	for name, read := range reads {
		if err := s.View(t.Context(), read); !errors.Is(err, keyring.ErrDecrypt) {
			t.Errorf("%s of moved value: err = %v, want ErrDecrypt", name, err)
		}
	}
	// The original still opens: the failure is about the move, not the value.
	err = s.View(t.Context(), func(tx storage.Tx) error {
		v, err := tx.Get([]byte("meta/a"))
		if err == nil && string(v) != "for a" {
			err = fmt.Errorf("Get = %q", v)
		}
		return err
	})
	if err != nil {
		t.Errorf("original value: %v", err)
	}
}

func TestEmptyPassthroughPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New with an empty passthrough prefix did not panic")
		}
	}()
	New(nil, nil, []byte("body/"), nil)
}
