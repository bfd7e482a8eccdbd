package keyring

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestParseKey(t *testing.T) {
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = byte(i*7 + 0xf0) // includes bytes that are not valid UTF-8 or white space
	}
	key[KeySize-1] = '\n' // raw keys are taken as they are, never trimmed
	ok := []struct{ name, in string }{
		{"raw", string(key)},
		{"hex", hex.EncodeToString(key)},
		{"upper hex with newline", strings.ToUpper(hex.EncodeToString(key)) + "\n"},
		{"base64", base64.StdEncoding.EncodeToString(key)},
		{"base64 with spaces", "  " + base64.StdEncoding.EncodeToString(key) + " \r\n"},
		{"raw base64", base64.RawStdEncoding.EncodeToString(key)},
		{"url base64", base64.URLEncoding.EncodeToString(key)},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(key)},
	}
	for _, tt := range ok {
		got, err := ParseKey(tt.in)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("%s: ParseKey = %x, %v; want the key", tt.name, []byte(got), err)
		}
	}
	const secretish = "hunter2-hunter2-hunter2-hunter2-hunter2"
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"short raw", string(key[:31])},
		{"long raw", string(key) + "x"},
		{"short hex", hex.EncodeToString(key[:31])},
		{"not hex", strings.Repeat("zz", KeySize)},
		{"base64 of 31 bytes", base64.StdEncoding.EncodeToString(key[:31])},
		{"base64 of 33 bytes", base64.StdEncoding.EncodeToString(append(key, 1))},
		{"passphrase", secretish},
	}
	for _, tt := range bad {
		got, err := ParseKey(tt.in)
		if err == nil {
			t.Errorf("%s: ParseKey = %x; want an error", tt.name, []byte(got))
		} else if tt.in != "" && strings.Contains(err.Error(), tt.in) {
			t.Errorf("%s: error %q repeats the input", tt.name, err)
		}
	}
}

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	kr1, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate: created = %t, %v; want created", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key file (no temp files)", len(entries))
	}
	kr2, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created = %t, %v; want loaded", created, err)
	}
	if _, err := kr2.Open(kr1.Seal([]byte("v"), []byte("k")), []byte("k")); err != nil {
		t.Errorf("reloaded keyring cannot open what the created one sealed: %v", err)
	}
}

func TestLoadOrCreateRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 16
	krs := make([]*Keyring, n)
	var creators int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			kr, created, err := LoadOrCreate(path)
			if err != nil {
				t.Error(err)
				return
			}
			krs[i] = kr
			if created {
				mu.Lock()
				creators++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if creators != 1 {
		t.Errorf("%d callers created the key, want exactly 1", creators)
	}
	sealed := krs[0].Seal([]byte("v"), []byte("k"))
	for i, kr := range krs {
		if _, err := kr.Open(sealed, []byte("k")); kr != nil && err != nil {
			t.Errorf("keyring %d holds a different key: %v", i, err)
		}
	}
}

func TestLoadOrCreateRefuses(t *testing.T) {
	key := hex.EncodeToString(bytes.Repeat([]byte{7}, KeySize))
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		wantMsg string
	}{
		{"group readable", key, 0o640, "chmod 600"},
		{"world readable", key, 0o604, "chmod 600"},
		{"not a key", "not a key\n", 0o600, "master key must be"},
		{"empty", "", 0o600, "master key must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.mode != 0o600 {
				t.Skip("no Unix permissions")
			}
			path := filepath.Join(t.TempDir(), "master.key")
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // umask may have narrowed it
				t.Fatal(err)
			}
			_, _, err := LoadOrCreate(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("LoadOrCreate err = %v, want one mentioning %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error %q contains the key", err)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.content {
				t.Error("LoadOrCreate changed a key file it refused")
			}
		})
	}
	_, _, err := LoadOrCreate(filepath.Join(t.TempDir(), "missing-dir", "master.key"))
	if err == nil || errors.Is(err, os.ErrExist) {
		t.Errorf("LoadOrCreate in a missing directory: err = %v, want a creation error", err)
	}
}

// TestLoad: an operator's key file may be group-readable (a Kubernetes secret mounted for
// the pod's fsGroup), but not readable by others nor writable by its group.
func TestLoad(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, KeySize)
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		ok      bool
	}{
		{"private hex", []byte(hex.EncodeToString(key) + "\n"), 0o600, true},
		{"read-only", []byte(hex.EncodeToString(key)), 0o400, true},
		{"group readable", []byte(base64.StdEncoding.EncodeToString(key)), 0o640, true},
		{"raw", key, 0o600, true},
		{"raw with a trailing newline", append(bytes.Clone(key), '\n'), 0o600, true},
		{"group writable", []byte(hex.EncodeToString(key)), 0o660, false},
		{"world readable", []byte(hex.EncodeToString(key)), 0o604, false},
		{"not a key", []byte("not a key"), 0o600, false},
	}
	sealed := mustKeyring(t, key).Seal([]byte("state"), []byte("aad"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.mode != 0o600 {
				t.Skip("no Unix permissions")
			}
			path := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(path, tt.content, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			kr, err := Load(path)
			if !tt.ok {
				if err == nil {
					t.Fatal("Load accepted the file")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The same key, whatever form it was written in.
			if got, err := kr.Open(sealed, []byte("aad")); err != nil || string(got) != "state" {
				t.Errorf("Open = %q, %v", got, err)
			}
		})
	}
}

func mustKeyring(t *testing.T, key []byte) *Keyring {
	t.Helper()
	kr, err := FromKey(bytes.Clone(key))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}
