// Package bolt is the embedded storage engine: one bbolt file in the data directory, all
// records in one bucket, concurrent writers group-committed with bbolt's Batch.
package bolt

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/stateward/stateward/internal/storage"
)

// Defaults for Options.
const (
	// DefaultLockTimeout is how long Open waits for another process to release the file.
	DefaultLockTimeout = time.Second
	// DefaultMaxBatchDelay is shorter than bbolt's 10ms: a lone writer pays the whole delay,
	// while concurrent writers queue behind the commit in progress and are grouped anyway.
	DefaultMaxBatchDelay = time.Millisecond
)

// ErrLocked is returned (wrapped) by Open when another process holds the database file.
var ErrLocked = errors.New("database file is locked by another process")

// bucket holds every record; keys carry their own namespaces, so one bucket keeps a Scan a
// single cursor walk.
var bucket = []byte("stateward")

// Options configures Open; the zero value (or nil) gives the defaults.
type Options struct {
	// LockTimeout bounds the wait for the file lock; zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// MaxBatchDelay is how long the first writer of a group commit waits for others to join;
	// zero means DefaultMaxBatchDelay.
	MaxBatchDelay time.Duration
	// Observe, if not nil, is called after every transaction with op "view" or "update" and
	// its duration, including any wait for a group commit. It must be safe for concurrent use.
	Observe func(op string, d time.Duration)
}

// DB is a storage.Store on one bbolt file.
type DB struct {
	db      *bbolt.DB
	observe func(op string, d time.Duration)
}

var _ storage.Store = (*DB)(nil)

// Open opens or creates the database file at path with mode 0600. If another process has it
// open, Open fails after opts.LockTimeout with an error wrapping ErrLocked.
func Open(path string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: cmp.Or(opts.LockTimeout, DefaultLockTimeout)})
	if errors.Is(err, bberrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: %w (is another stateward running on this data directory?)", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	bdb.MaxBatchDelay = cmp.Or(opts.MaxBatchDelay, DefaultMaxBatchDelay)
	if err := bdb.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("bolt: init %s: %w", path, err)
	}
	return &DB{db: bdb, observe: opts.Observe}, nil
}

// View implements storage.Store.
func (db *DB) View(ctx context.Context, fn func(storage.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer db.done("view", time.Now())
	return db.db.View(func(btx *bbolt.Tx) error {
		return fn(&tx{b: btx.Bucket(bucket)})
	})
}

// Update implements storage.Store. Concurrent calls are committed together, with one fsync,
// by bbolt's Batch; a batch that fails is retried without the failing call, so fn may run
// more than once, as the storage.Store contract allows.
func (db *DB) Update(ctx context.Context, fn func(storage.Tx) error) error {
	// Checked here as well as below so that a dead request does not make a whole batch retry.
	if err := ctx.Err(); err != nil {
		return err
	}
	defer db.done("update", time.Now())
	return db.db.Batch(func(btx *bbolt.Tx) error {
		// The batch may have waited; a caller that gave up meanwhile must not commit.
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(&tx{b: btx.Bucket(bucket)})
	})
}

func (db *DB) done(op string, start time.Time) {
	if db.observe != nil {
		db.observe(op, time.Since(start))
	}
}

// Close implements storage.Store.
func (db *DB) Close() error {
	return db.db.Close()
}

type tx struct {
	b *bbolt.Bucket
	// writes counts Puts and Deletes, so that Scan can tell when its cursor went stale.
	writes int
}

func (t *tx) Get(key []byte) ([]byte, error) {
	// A cursor, unlike Bucket.Get, tells an empty value apart from a missing key.
	k, v := t.b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil, storage.ErrNotFound
	}
	return v, nil
}

func (t *tx) Put(key, value []byte) error {
	t.writes++
	// bbolt keeps the slices it is given until commit; the caller may reuse them now.
	if err := t.b.Put(bytes.Clone(key), bytes.Clone(value)); err != nil {
		return fmt.Errorf("bolt: put %q: %w", key, err)
	}
	return nil
}

func (t *tx) Delete(key []byte) error {
	t.writes++
	if err := t.b.Delete(key); err != nil {
		return fmt.Errorf("bolt: delete %q: %w", key, err)
	}
	return nil
}

func (t *tx) Scan(start, end []byte, fn func(key, value []byte) error) error {
	c := t.b.Cursor()
	for k, v := c.Seek(start); k != nil && (end == nil || bytes.Compare(k, end) < 0); {
		writes := t.writes
		if err := fn(k, v); errors.Is(err, storage.ErrStop) {
			return nil
		} else if err != nil {
			return err
		}
		if t.writes == writes {
			k, v = c.Next()
		} else {
			// A write invalidates bbolt cursors; resume at the first key after k.
			k, v = c.Seek(append(k[:len(k):len(k)], 0))
		}
	}
	return nil
}
