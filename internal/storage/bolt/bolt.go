// Package bolt is the embedded storage engine: one bbolt file in the data directory, with a
// write-ahead log in front of it. A commit is durable once its record is in the log (one
// fdatasync); a checkpointer later writes what the log holds into bbolt in one transaction,
// and until then readers see those writes in an in-memory overlay on top of bbolt.
package bolt

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/stateward/stateward/internal/storage"
)

// Defaults for Options.
const (
	// DefaultLockTimeout is how long Open waits for another process to release the file.
	DefaultLockTimeout = time.Second
	// DefaultCheckpointBytes is how much log starts a checkpoint. The overlay holds that much
	// of written values in memory, and up to three times as much while a checkpoint runs
	// behind a burst of writes (see maxBehind). Small, because that memory counts against the
	// server's: with 4 MiB a 100 MiB upload raised peak RSS by 56 MiB, with 1 MiB by 32 MiB,
	// and single-writer latency did not change.
	DefaultCheckpointBytes = 1 << 20
	// DefaultDirectBytes is three 100 KiB state files committed together, or one body segment
	// with anything else.
	DefaultDirectBytes = 256 << 10
	// maxBehind is how many times CheckpointBytes the active log may hold while a checkpoint is
	// still running before commits wait for it.
	maxBehind = 2
)

// ErrLocked is returned (wrapped) by Open when another process holds the database file.
var ErrLocked = errors.New("database file is locked by another process")

// bucket holds every record; keys carry their own namespaces, so one bucket keeps a Scan a
// single cursor walk. metaBucket holds the engine's own record: the last commit checkpointed.
var (
	bucket        = []byte("stateward")
	metaBucket    = []byte("stateward.engine")
	checkpointKey = []byte("checkpoint")
)

// Options configures Open; the zero value (or nil) gives the defaults.
type Options struct {
	// LockTimeout bounds the wait for the file lock; zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// CheckpointBytes is the log size that starts a checkpoint; zero means
	// DefaultCheckpointBytes.
	CheckpointBytes int64
	// DirectBytes is the size of a group commit's writes from which they go straight into
	// bbolt, together with the overlay, instead of into the log: two syncs shared by many
	// writers then cost less than writing every byte twice. Zero means DefaultDirectBytes.
	DirectBytes int
	// Observe, if not nil, is called after every transaction with op "view", "update" or
	// "checkpoint" and its duration, including any wait for a group commit. It must be safe
	// for concurrent use.
	Observe func(op string, d time.Duration)
}

// DB is a storage.Store on one bbolt file and its write-ahead log.
type DB struct {
	db      *bbolt.DB
	observe func(op string, d time.Duration)
	limit   int64 // CheckpointBytes
	direct  int   // DirectBytes

	// published is the overlay readers use: the committer stores a new one after each commit
	// and checkpoint. A published overlay is only ever read: the committer changes clones of
	// master, and publishes clones of its own (Clone writes to the tree it copies).
	published atomic.Pointer[view]
	// marked is the last checkpoint written and the bbolt transaction that wrote it, so that
	// a View of that transaction need not read the checkpoint record.
	marked atomic.Pointer[mark]

	mu     sync.Mutex
	queue  []*call       // updates waiting for the next commit
	wake   chan struct{} // one pending wake-up for the committer
	closed bool
	done   chan struct{} // closed when the committer has exited

	// Owned by the committer goroutine.
	log     *wal
	master  *overlay // what the committer writes on, the published overlay's source
	failed  error    // a log write or checkpoint failed: nothing more is accepted
	running bool     // a checkpoint is in flight
	ckpt    chan checkpointed
}

// view is an overlay together with the last commit it includes.
type view struct {
	over *overlay
	seq  uint64
}

// mark ties a checkpoint's last commit to the bbolt transaction id that wrote it.
type mark struct {
	txid int
	seq  uint64
}

// checkpointed reports a finished checkpoint to the committer.
type checkpointed struct {
	v   *view
	err error
}

// call is one Update waiting to be committed.
type call struct {
	ctx    context.Context
	fn     func(storage.Tx) error
	result chan error
}

var _ storage.Store = (*DB)(nil)

// Open opens or creates the database file at path with mode 0600 and its log files beside it,
// and replays into bbolt whatever the log holds that bbolt does not. If another process has
// the database open, Open fails after opts.LockTimeout with an error wrapping ErrLocked.
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
	limit := cmp.Or(opts.CheckpointBytes, DefaultCheckpointBytes)
	db := &DB{db: bdb, observe: opts.Observe, limit: limit, direct: cmp.Or(opts.DirectBytes, DefaultDirectBytes), wake: make(chan struct{}, 1),
		done: make(chan struct{}), ckpt: make(chan checkpointed, 1)}
	seq, err := db.recover(path)
	if err != nil {
		bdb.Close()
		return nil, err
	}
	db.master = newOverlay()
	db.publish(seq)
	go db.commitLoop()
	return db, nil
}

// recover opens the log and writes into bbolt every logged commit newer than bbolt's last
// checkpoint, then starts the log afresh. It returns the last commit.
func (db *DB) recover(path string) (seq uint64, err error) {
	log, recs, err := openWAL(path)
	if err != nil {
		return 0, err
	}
	err = db.db.Update(func(btx *bbolt.Tx) error {
		b, err := btx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		meta, err := btx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		seq = checkpointSeq(btx)
		replayed := false
		for _, r := range recs {
			if r.seq <= seq {
				continue
			}
			for _, e := range r.ops {
				if err := applyBolt(b, e); err != nil {
					return err
				}
			}
			seq, replayed = r.seq, true
		}
		if !replayed {
			return nil
		}
		return meta.Put(checkpointKey, binary.BigEndian.AppendUint64(nil, seq))
	})
	if err == nil {
		// What the log held is in bbolt now.
		err = log.reset()
	}
	if err != nil {
		log.close()
		return 0, fmt.Errorf("bolt: recover %s: %w", path, err)
	}
	db.log = log
	return seq, nil
}

func applyBolt(b *bbolt.Bucket, e *entry) error {
	if e.deleted {
		return deleteBolt(b, e.key)
	}
	return putBolt(b, e.key, e.value)
}

// View implements storage.Store.
func (db *DB) View(ctx context.Context, fn func(storage.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer db.observeSince("view", time.Now())
	for {
		v := db.published.Load()
		err := db.db.View(func(btx *bbolt.Tx) error {
			// A checkpoint that committed between the two loads may hold writes newer than
			// v: the overlay and bbolt would then not be one snapshot. Load both again.
			if db.checkpointSeq(btx) > v.seq {
				return errStale
			}
			t := &tx{over: v.over, b: btx.Bucket(bucket)}
			defer t.unmap()
			return fn(t)
		})
		if !errors.Is(err, errStale) {
			return err
		}
	}
}

var errStale = errors.New("bolt: overlay older than bbolt's checkpoint")

func (db *DB) checkpointSeq(btx *bbolt.Tx) uint64 {
	if m := db.marked.Load(); m != nil && m.txid == btx.ID() {
		return m.seq
	}
	return checkpointSeq(btx)
}

func checkpointSeq(btx *bbolt.Tx) uint64 {
	if v := btx.Bucket(metaBucket).Get(checkpointKey); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// Update implements storage.Store. Updates are group-committed: a committer goroutine runs
// every update queued while the previous commit was in flight, each against the writes of the
// ones before it, and logs their writes in one record with one sync (or, from DirectBytes,
// writes them straight into bbolt). A lone writer commits at once, with no timer to wait out.
// A function that fails has its own writes dropped and gets its error; the others are
// unaffected. Functions run once.
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
	for {
		select {
		case _, ok := <-db.wake:
			if !ok {
				// Every queued call had a wake-up pending or was taken with an earlier batch,
				// and wake is closed only once no call can be queued.
				db.shutdown()
				return
			}
			db.mu.Lock()
			batch := db.queue
			db.queue = nil
			db.mu.Unlock()
			db.commit(batch)
		case r := <-db.ckpt:
			db.finishCheckpoint(r, true)
		}
	}
}

// commit runs batch and answers every call.
func (db *DB) commit(batch []*call) {
	// Far behind a running checkpoint: wait for it rather than let the overlay grow.
	for db.failed == nil && db.running && db.log.activeSize() >= maxBehind*db.limit {
		db.finishCheckpoint(<-db.ckpt, true)
	}
	if db.failed != nil {
		answer(batch, db.failed)
		return
	}
	btx, err := db.db.Begin(false)
	if err != nil {
		answer(batch, err)
		return
	}
	defer btx.Rollback()
	seq := db.published.Load().seq + 1
	over := db.master
	var ops []*entry
	results := make([]error, len(batch))
	for i, c := range batch {
		t := &tx{over: over.Clone(), b: btx.Bucket(bucket), writable: true, seq: seq}
		results[i] = run(c, t)
		t.unmap()
		if results[i] == nil {
			over, ops = t.over, append(ops, t.ops...)
		}
	}
	switch {
	case len(ops) == 0:
	case size(ops) >= db.direct:
		btx.Rollback() // bbolt may need to remap its file, which waits for read transactions
		if db.running {
			// Its older entries must not land in bbolt after this batch's.
			db.finishCheckpoint(<-db.ckpt, false)
			if db.failed != nil {
				answer(batch, db.failed)
				return
			}
		}
		if err := db.writeBolt(over, seq); err != nil {
			// bbolt rolled back: the overlay and the log are as they were.
			answer(batch, err)
			return
		}
		db.master = newOverlay()
		db.publish(seq)
		// Everything the log held is in bbolt now. Should rewinding fail, replay skips those
		// records anyway, but the files' state is unknown: accept nothing more.
		if err := db.log.reset(); err != nil {
			db.failed = err
		}
	default:
		if err := db.log.append(seq, ops); err != nil {
			// The log's state on disk is unknown: accept nothing more (a restart replays what
			// reached it), and fail the whole batch, whose reads may have seen these writes.
			db.failed = err
			answer(batch, err)
			return
		}
		db.master = over
		db.publish(seq)
	}
	for i, c := range batch {
		c.result <- results[i]
	}
	if !db.running && db.log.activeSize() >= db.limit {
		db.startCheckpoint()
	}
}

// publish makes master, as of commit seq, what readers see.
func (db *DB) publish(seq uint64) {
	db.published.Store(&view{over: db.master.Clone(), seq: seq})
}

// answer fails every call of batch with err.
func answer(batch []*call, err error) {
	for _, c := range batch {
		c.result <- err
	}
}

// run applies one call; a caller that gave up meanwhile must not commit.
func run(c *call, t *tx) (err error) {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			err = &panicked{value: v}
		}
	}()
	return c.fn(t)
}

// startCheckpoint hands the published overlay to a checkpointer goroutine and switches the log
// to its other file, which the previous checkpoint emptied.
func (db *DB) startCheckpoint() {
	if err := db.log.rotate(); err != nil {
		db.failed = err
		return
	}
	db.running = true
	v := db.published.Load()
	go func() {
		start := time.Now()
		err := db.checkpoint(v)
		db.observeSince("checkpoint", start)
		db.ckpt <- checkpointed{v: v, err: err}
	}()
}

// checkpoint writes every entry of v into bbolt in one transaction.
func (db *DB) checkpoint(v *view) error {
	return db.writeBolt(v.over, v.seq)
}

// writeBolt writes every entry of over into bbolt in one transaction, with seq as the last
// commit bbolt holds, and marks it.
func (db *DB) writeBolt(over *overlay, seq uint64) error {
	var txid int
	err := db.db.Update(func(btx *bbolt.Tx) error {
		txid = btx.ID()
		return writeOverlay(btx, over, seq)
	})
	if err == nil {
		db.marked.Store(&mark{txid: txid, seq: seq})
	}
	return err
}

// writeOverlay writes every entry of over into bbolt, with seq as the last commit bbolt holds.
func writeOverlay(btx *bbolt.Tx, over *overlay, seq uint64) error {
	b := btx.Bucket(bucket)
	var err error
	over.Ascend(func(e *entry) bool {
		err = applyBolt(b, e)
		return err == nil
	})
	if err != nil {
		return err
	}
	return btx.Bucket(metaBucket).Put(checkpointKey, binary.BigEndian.AppendUint64(nil, seq))
}

func size(ops []*entry) int {
	n := 0
	for _, e := range ops {
		n += len(e.key) + len(e.value)
	}
	return n
}

// finishCheckpoint drops from the overlay the entries a checkpoint wrote into bbolt, unless a
// later commit replaced them, and, if next, starts the next checkpoint if the log has grown
// enough.
func (db *DB) finishCheckpoint(r checkpointed, next bool) {
	db.running = false
	if r.err != nil {
		// bbolt rolled back; the log still has everything, and a restart replays it.
		db.failed = fmt.Errorf("bolt: checkpoint: %w", r.err)
		return
	}
	over := db.master.Clone()
	r.v.over.Ascend(func(e *entry) bool {
		if got, ok := over.Get(e); ok && got == e {
			over.Delete(e)
		}
		return true
	})
	db.master = over
	db.publish(db.published.Load().seq)
	if next && db.log.activeSize() >= db.limit {
		db.startCheckpoint()
	}
}

// shutdown runs when Close has stopped new calls: it checkpoints everything, so that the
// bbolt file alone holds the data, and rewinds the log.
func (db *DB) shutdown() {
	if db.running {
		db.finishCheckpoint(<-db.ckpt, false)
	}
	if db.failed != nil {
		return
	}
	v := db.published.Load()
	if v.over.Len() == 0 {
		return
	}
	if err := db.checkpoint(v); err != nil {
		db.failed = fmt.Errorf("bolt: checkpoint: %w", err)
		return
	}
	db.failed = db.log.reset()
}

func (db *DB) observeSince(op string, start time.Time) {
	if db.observe != nil {
		db.observe(op, time.Since(start))
	}
}

// Close implements storage.Store: queued updates are committed and checkpointed, later ones
// fail.
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
	return errors.Join(db.failed, db.log.close(), db.db.Close())
}
