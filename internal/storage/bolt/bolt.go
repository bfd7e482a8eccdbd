// Package bolt is the embedded storage engine: one bbolt file in the data directory, all
// records in one bucket, concurrent writers group-committed by one committer goroutine.
package bolt

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/stateward/stateward/internal/storage"
)

// Defaults for Options.
const (
	// DefaultLockTimeout is how long Open waits for another process to release the file.
	DefaultLockTimeout = time.Second
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
	// Observe, if not nil, is called after every transaction with op "view" or "update" and
	// its duration, including any wait for a group commit. It must be safe for concurrent use.
	Observe func(op string, d time.Duration)
}

// DB is a storage.Store on one bbolt file.
type DB struct {
	db      *bbolt.DB
	observe func(op string, d time.Duration)

	mu     sync.Mutex
	queue  []*call       // updates waiting for the next commit
	wake   chan struct{} // one pending wake-up for the committer
	closed bool
	done   chan struct{} // closed when the committer has exited
}

// call is one Update waiting to be committed.
type call struct {
	ctx    context.Context
	fn     func(storage.Tx) error
	result chan error
}

var _ storage.Store = (*DB)(nil)

// Open opens or creates the database file at path with mode 0600. If another process has it
// open, Open fails after opts.LockTimeout with an error wrapping ErrLocked.
func Open(path string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: cmp.Or(opts.LockTimeout, DefaultLockTimeout),
		// The freelist is rebuilt on open instead of written on every commit, and kept in a
		// map: fewer pages per commit, and frees of large bodies stay cheap.
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
		// Reserve address space up front so growth rarely remaps (which blocks every reader).
		InitialMmapSize: 1 << 30,
	})
	if errors.Is(err, bberrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: %w (is another stateward running on this data directory?)", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	if err := bdb.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		bdb.Close()
		return nil, fmt.Errorf("bolt: init %s: %w", path, err)
	}
	db := &DB{db: bdb, observe: opts.Observe, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go db.commitLoop()
	return db, nil
}

// View implements storage.Store.
func (db *DB) View(ctx context.Context, fn func(storage.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer db.observeSince("view", time.Now())
	return db.db.View(func(btx *bbolt.Tx) error {
		t := &tx{b: btx.Bucket(bucket)}
		err := fn(t)
		t.unmap()
		return err
	})
}

// Update implements storage.Store. Updates are group-committed: a committer goroutine runs
// every update queued while the previous commit was in flight in one bbolt transaction, with
// one sync. A lone writer commits at once, with no timer to wait out. If one function fails,
// the transaction is rolled back, that function alone gets its error, and the others run
// again, so fn may run more than once, as the storage.Store contract allows.
func (db *DB) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer db.observeSince("update", time.Now())
	c := &call{ctx: ctx, fn: fn, result: make(chan error, 1)}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return errClosed
	}
	db.queue = append(db.queue, c)
	// Signalled under mu, so that Close cannot close wake in between.
	select {
	case db.wake <- struct{}{}:
	default: // a wake-up is already pending; the committer will take this call with it
	}
	db.mu.Unlock()
	err := <-c.result
	var p *panicked
	if errors.As(err, &p) {
		panic(p.value) // re-raised on the caller's goroutine, where it can be recovered
	}
	return err
}

var errClosed = errors.New("bolt: database closed")

// panicked carries a panic out of the committer to the caller whose function raised it.
type panicked struct{ value any }

func (p *panicked) Error() string { return fmt.Sprintf("panic in update: %v", p.value) }

func (db *DB) commitLoop() {
	defer close(db.done)
	// Every queued call has a wake-up pending or was taken with an earlier batch, and wake is
	// closed only once no call can be queued: ranging over it commits everything.
	for range db.wake {
		db.mu.Lock()
		batch := db.queue
		db.queue = nil
		db.mu.Unlock()
		db.commit(batch)
	}
}

// commit runs batch in as few transactions as failures allow and answers every call.
func (db *DB) commit(batch []*call) {
	for len(batch) > 0 {
		failed := -1
		err := db.db.Update(func(btx *bbolt.Tx) error {
			b := btx.Bucket(bucket)
			for i, c := range batch {
				if err := run(c, b); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range batch {
				c.result <- err
			}
			return
		}
		// Answer the failed call on its own (its fn is pure, so it fails the same way) and
		// retry the rest without it.
		c := batch[failed]
		batch = append(batch[:failed:failed], batch[failed+1:]...)
		if c.ctx.Err() != nil {
			c.result <- c.ctx.Err()
			continue
		}
		c.result <- db.db.Update(func(btx *bbolt.Tx) error { return run(c, btx.Bucket(bucket)) })
	}
}

// run applies one call inside a transaction; a caller that gave up meanwhile must not commit.
func run(c *call, b *bbolt.Bucket) (err error) {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			err = &panicked{value: v}
		}
	}()
	return c.fn(&tx{b: b})
}

func (db *DB) observeSince(op string, start time.Time) {
	if db.observe != nil {
		db.observe(op, time.Since(start))
	}
}

// Close implements storage.Store: queued updates are committed, later ones fail.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return errClosed
	}
	db.closed = true
	close(db.wake)
	db.mu.Unlock()
	<-db.done
	return db.db.Close()
}

type tx struct {
	b *bbolt.Bucket
	// writes counts Puts and Deletes, so that Scan can tell when its cursor went stale.
	writes int
	// large holds the large values a read transaction handed out, whose mapping it releases
	// when it ends (see unmap).
	large [][]byte
}

// Values of largeValue bytes or more (object body segments, not metadata) are each kept in a
// sub-bucket of their own, under largeKey. bbolt stores values inside their leaf and rewrites
// a whole leaf whenever a key is added to it, so a large value stored inline would be copied
// again every time a neighbouring key is written — doubling the bytes each body write costs
// and mapping the neighbour into memory. A sub-bucket leaves only a 16-byte header in the
// shared leaf; the value's own pages are written once.
const largeValue = 64 << 10

var largeKey = []byte{0}

func (t *tx) Get(key []byte) ([]byte, error) {
	// A cursor, unlike Bucket.Get, tells an empty value apart from a missing key.
	k, v := t.b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil, storage.ErrNotFound
	}
	return t.value(k, v), nil
}

// value resolves what a cursor found at k: a cursor reports a sub-bucket with a nil value.
func (t *tx) value(k, v []byte) []byte {
	if v != nil {
		return v
	}
	sub := t.b.Bucket(k)
	if sub == nil {
		return v
	}
	v = sub.Get(largeKey)
	if !t.b.Tx().Writable() {
		t.large = append(t.large, v)
	}
	return v
}

func (t *tx) Put(key, value []byte) error {
	t.writes++
	// bbolt keeps the slices it is given until commit; the caller may reuse them now.
	key, value = bytes.Clone(key), bytes.Clone(value)
	sub := t.b.Bucket(key)
	var err error
	switch {
	case len(value) >= largeValue && sub != nil:
		err = sub.Put(largeKey, value)
	case len(value) >= largeValue:
		if err = t.b.Delete(key); err == nil {
			if sub, err = t.b.CreateBucket(key); err == nil {
				err = sub.Put(largeKey, value)
			}
		}
	default:
		if sub != nil {
			err = t.b.DeleteBucket(key)
		}
		if err == nil {
			err = t.b.Put(key, value)
		}
	}
	if err != nil {
		return fmt.Errorf("bolt: put %q: %w", key, err)
	}
	return nil
}

func (t *tx) Delete(key []byte) error {
	t.writes++
	var err error
	if t.b.Bucket(key) != nil {
		err = t.b.DeleteBucket(key)
	} else {
		err = t.b.Delete(key)
	}
	if err != nil {
		return fmt.Errorf("bolt: delete %q: %w", key, err)
	}
	return nil
}

func (t *tx) Scan(start, end []byte, fn func(key, value []byte) error) error {
	c := t.b.Cursor()
	for k, v := c.Seek(start); k != nil && (end == nil || bytes.Compare(k, end) < 0); {
		writes := t.writes
		if err := fn(k, t.value(k, v)); errors.Is(err, storage.ErrStop) {
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
