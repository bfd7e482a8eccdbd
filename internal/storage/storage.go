// Package storage defines the one ordered, transactional key-value seam that every stateward
// service stores through. Engines live in subpackages (bolt, later postgres); storagetest is the
// conformance suite each engine runs.
package storage

import (
	"bytes"
	"context"
	"errors"
)

// ErrNotFound is returned by Tx.Get for a key that has no value.
var ErrNotFound = errors.New("storage: not found")

// ErrStop may be returned by a Scan callback to end the scan early; Scan then returns nil.
var ErrStop = errors.New("storage: stop scan")

// Store is an ordered key-value store with serializable transactions.
type Store interface {
	// View runs fn in a read-only transaction over a consistent snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a serializable read-write transaction and makes its writes durable
	// before returning nil. If fn returns an error nothing it wrote is kept and that error is
	// returned. fn may run more than once (group commit, conflict retry), so it must have no
	// effects outside tx.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the store; no transaction may be running.
	Close() error
}

// Tx is one transaction. Slices passed in may be reused by the caller once a call returns;
// slices handed out are valid only until the transaction ends and must not be modified.
type Tx interface {
	// Get returns the value of key, or ErrNotFound.
	Get(key []byte) ([]byte, error)
	// Put sets key to value. Keys are 1..maxKeyLen bytes; a value may be empty.
	Put(key, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(key []byte) error
	// Scan calls fn for every key in [start, end) in ascending byte order; a nil end means no
	// upper bound. It stops at the first error fn returns (ErrStop ends it with nil).
	Scan(start, end []byte, fn func(key, value []byte) error) error
}

// PrefixEnd returns the smallest key greater than every key with the given prefix, or nil
// when there is none (a prefix of only 0xff bytes), for use as Scan's end.
func PrefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// ScanPrefix calls fn for every key that starts with prefix, in ascending order.
func ScanPrefix(tx Tx, prefix []byte, fn func(key, value []byte) error) error {
	return tx.Scan(prefix, PrefixEnd(prefix), fn)
}
