package keyring

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// LoadOrCreate returns the keyring whose master key is in the file at path, first creating
// the file (mode 0600, 64 hex digits) with a new random key if it does not exist; created
// reports that. The file is refused if group or others may read it. When two processes race
// to create the file, both end up with the key that won.
func LoadOrCreate(path string) (kr *Keyring, created bool, err error) {
	kr, err = load(path, 0o077)
	if !errors.Is(err, fs.ErrNotExist) {
		return kr, false, err
	}
	key, err := NewDataKey()
	if err != nil {
		return nil, false, err
	}
	defer Zero(key)
	switch err := create(path, key); {
	case errors.Is(err, fs.ErrExist):
		kr, err = load(path, 0o077)
		return kr, false, err
	case err != nil:
		return nil, false, err
	}
	kr, err = FromKey(key)
	return kr, err == nil, err
}

// Load returns the keyring whose master key an operator keeps in the file at path (any form
// ParseKey accepts). The file is refused if others may read it, or if its group may change
// it. Unlike the generated key file, its group may read it: Kubernetes mounts a secret
// readable by the pod's fsGroup, as PostgreSQL allows a root-owned 0640 key for the same
// reason.
func Load(path string) (*Keyring, error) { return load(path, 0o027) }

// load reads the key file at path, refusing it if its mode has any of the denied bits.
func load(path string, denied fs.FileMode) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	// Windows has no Unix permission bits to check.
	if perm := fi.Mode().Perm(); perm&denied != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("keyring: master key file %s has mode %04o, so other users may read or change it; "+
			"make it private (chmod 600 %s) and consider whether the key has leaked", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1024))
	defer Zero(data)
	if err != nil {
		return nil, fmt.Errorf("keyring: read %s: %w", path, err)
	}
	key, err := parseKey(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	defer Zero(key)
	return FromKey(key)
}

// create writes key to a new file at path, or fails with an error matching fs.ErrExist.
func create(path string, key Key) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".master-key-*") // mode 0600
	if err != nil {
		return fmt.Errorf("keyring: create master key: %w", err)
	}
	defer os.Remove(f.Name())
	text := append(hex.AppendEncode(nil, key), '\n')
	defer Zero(text)
	_, err = f.Write(text)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("keyring: write master key: %w", err)
	}
	// Link is a rename that never replaces: a key file another process has just created may
	// already seal data, and overwriting it would lose that data for good.
	if err := os.Link(f.Name(), path); err != nil {
		return fmt.Errorf("keyring: create master key: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("keyring: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("keyring: sync %s: %w", dir, err)
	}
	return nil
}

// ParseKey decodes a master key given by an operator (an environment variable or a file):
// exactly KeySize raw bytes, or 64 hex digits, or standard or URL base64 of KeySize bytes,
// with surrounding white space ignored in the text forms. Errors never include the input.
func ParseKey(s string) (Key, error) {
	b := []byte(s)
	defer Zero(b)
	return parseKey(b)
}

func parseKey(b []byte) (Key, error) {
	if len(b) == KeySize {
		return Key(bytes.Clone(b)), nil
	}
	b = bytes.TrimSpace(b)
	if len(b) == KeySize {
		// Raw bytes with a newline an editor added: no text form is KeySize long.
		return Key(bytes.Clone(b)), nil
	}
	key := make(Key, len(b)) // text never decodes to more bytes than it has
	if len(b) == 2*KeySize {
		if _, err := hex.Decode(key, b); err == nil {
			return key[:KeySize], nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if n, err := enc.Decode(key, b); err == nil && n == KeySize {
			return key[:KeySize], nil
		}
	}
	Zero(key)
	return nil, fmt.Errorf("keyring: a master key must be %d raw bytes, %d hex digits or base64 of %d bytes (got %d bytes of text)",
		KeySize, 2*KeySize, KeySize, len(b))
}
