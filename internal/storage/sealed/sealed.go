// Package sealed is the encryption barrier between stateward and its storage engine: every
// value is sealed with the master keyring before it reaches the engine, with its record key as
// additional data, so the data files hold no readable value and a value moved to another key
// fails to open. Keys themselves stay readable, as they must for ordered scans.
package sealed

import (
	"bytes"
	"context"
	"fmt"

	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/storage"
)

type store struct {
	inner       storage.Store
	kr          *keyring.Keyring
	passthrough [][]byte
}

// New returns a store that seals values with kr on their way into inner and opens them on
// their way out. Values under any passthrough key prefix are stored as given, for records
// their owner already seals (such as object body segments under a per-version data key).
// Closing the returned store closes inner. New panics on an empty passthrough prefix, which
// would turn the barrier off for every record.
func New(inner storage.Store, kr *keyring.Keyring, passthrough ...[]byte) storage.Store {
	s := &store{inner: inner, kr: kr}
	for _, p := range passthrough {
		if len(p) == 0 {
			panic("sealed: empty passthrough prefix")
		}
		s.passthrough = append(s.passthrough, bytes.Clone(p))
	}
	return s
}

func (s *store) View(ctx context.Context, fn func(storage.Tx) error) error {
	return s.inner.View(ctx, func(t storage.Tx) error { return fn(&tx{s: s, inner: t}) })
}

func (s *store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	return s.inner.Update(ctx, func(t storage.Tx) error { return fn(&tx{s: s, inner: t}) })
}

func (s *store) Close() error { return s.inner.Close() }

func (s *store) sealed(key []byte) bool {
	for _, p := range s.passthrough {
		if bytes.HasPrefix(key, p) {
			return false
		}
	}
	return true
}

// open returns the plaintext of the stored value v of key. Plaintext is freshly allocated, so
// unlike engine values it stays valid after the transaction.
func (s *store) open(key, v []byte) ([]byte, error) {
	if !s.sealed(key) {
		return v, nil
	}
	plaintext, err := s.kr.Open(v, key)
	if err != nil {
		return nil, fmt.Errorf("sealed: record %q: %w", key, err)
	}
	return plaintext, nil
}

type tx struct {
	s     *store
	inner storage.Tx
}

func (t *tx) Get(key []byte) ([]byte, error) {
	v, err := t.inner.Get(key)
	if err != nil {
		return nil, err
	}
	return t.s.open(key, v)
}

func (t *tx) Put(key, value []byte) error {
	if t.s.sealed(key) {
		value = t.s.kr.Seal(value, key)
	}
	return t.inner.Put(key, value)
}

func (t *tx) Delete(key []byte) error { return t.inner.Delete(key) }

func (t *tx) Scan(start, end []byte, fn func(key, value []byte) error) error {
	return t.inner.Scan(start, end, func(k, v []byte) error {
		plaintext, err := t.s.open(k, v)
		if err != nil {
			return err
		}
		return fn(k, plaintext)
	})
}
