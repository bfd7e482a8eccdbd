package bolt

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/google/btree"
	"go.etcd.io/bbolt"

	"github.com/stateward/stateward/internal/storage"
)

// entry is a key's newest write that is in the log but not yet checkpointed into bbolt.
// Entries are shared between overlay versions and never modified once made.
type entry struct {
	key     []byte
	value   []byte
	deleted bool
	seq     uint64 // the commit that wrote it
}

// overlay is the ordered set of logged writes that bbolt does not hold yet. A published
// overlay is never modified: writers change a Clone, which copies nodes as it touches them.
type overlay = btree.BTreeG[*entry]

func newOverlay() *overlay {
	return btree.NewG(32, func(a, b *entry) bool { return bytes.Compare(a.key, b.key) < 0 })
}

// tx is a transaction over an overlay on top of a bbolt read transaction. Update
// transactions write into their own overlay clone only; bbolt is written by checkpoints.
type tx struct {
	over     *overlay
	b        *bbolt.Bucket
	writable bool
	seq      uint64   // the commit a writable transaction's entries belong to
	ops      []*entry // a writable transaction's writes, in order, for the log
	// large holds the large values read from bbolt, whose mapping is released when the
	// transaction ends (see unmap).
	large [][]byte
}

var errReadOnly = errors.New("bolt: write in a read-only transaction")

func (t *tx) Get(key []byte) ([]byte, error) {
	if e, ok := t.over.Get(&entry{key: key}); ok {
		if e.deleted {
			return nil, storage.ErrNotFound
		}
		return e.value, nil
	}
	// A cursor, unlike Bucket.Get, tells an empty value apart from a missing key.
	k, v := t.b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil, storage.ErrNotFound
	}
	return t.boltValue(k, v), nil
}

// has reports whether key has a value, without resolving (and mapping) a large one.
func (t *tx) has(key []byte) bool {
	if e, ok := t.over.Get(&entry{key: key}); ok {
		return !e.deleted
	}
	k, _ := t.b.Cursor().Seek(key)
	return k != nil && bytes.Equal(k, key)
}

func (t *tx) Put(key, value []byte) error {
	if !t.writable {
		return errReadOnly
	}
	// The caller may reuse its slices once Put returns.
	t.write(&entry{key: bytes.Clone(key), value: bytes.Clone(value), seq: t.seq})
	return nil
}

func (t *tx) Delete(key []byte) error {
	if !t.writable {
		return errReadOnly
	}
	if !t.has(key) {
		return nil // nothing to hide: no tombstone, nothing logged
	}
	t.write(&entry{key: bytes.Clone(key), deleted: true, seq: t.seq})
	return nil
}

func (t *tx) write(e *entry) {
	t.over.ReplaceOrInsert(e)
	t.ops = append(t.ops, e)
}

// Scan merges the overlay and bbolt in key order, the overlay's entry winning where both
// hold a key. fn may write: writes go to the overlay, which is searched afresh for each key,
// and never to bbolt, so the bbolt cursor stays valid.
func (t *tx) Scan(start, end []byte, fn func(key, value []byte) error) error {
	c := t.b.Cursor()
	bk, bv := c.Seek(start)
	from := &entry{key: start}
	for {
		var oe *entry
		t.over.AscendGreaterOrEqual(from, func(e *entry) bool { oe = e; return false })
		var k, v []byte
		switch {
		case oe != nil && (bk == nil || bytes.Compare(oe.key, bk) <= 0):
			if bk != nil && bytes.Equal(oe.key, bk) {
				bk, bv = c.Next()
			}
			if oe.deleted {
				if end != nil && bytes.Compare(oe.key, end) >= 0 {
					return nil
				}
				from = &entry{key: successor(oe.key)}
				continue
			}
			k, v = oe.key, oe.value
		case bk != nil:
			k, v = bk, t.boltValue(bk, bv)
			bk, bv = c.Next()
		default:
			return nil
		}
		if end != nil && bytes.Compare(k, end) >= 0 {
			return nil
		}
		if err := fn(k, v); errors.Is(err, storage.ErrStop) {
			return nil
		} else if err != nil {
			return err
		}
		from = &entry{key: successor(k)}
	}
}

// successor is the smallest key after k.
func successor(k []byte) []byte { return append(k[:len(k):len(k)], 0) }

// Values of largeValue bytes or more (object body segments, not metadata) are each kept in a
// sub-bucket of their own, under largeKey. bbolt stores values inside their leaf and rewrites
// a whole leaf whenever a key is added to it, so a large value stored inline would be copied
// again every time a neighbouring key is written — doubling the bytes each body write costs
// and mapping the neighbour into memory. A sub-bucket leaves only a 16-byte header in the
// shared leaf; the value's own pages are written once.
const largeValue = 64 << 10

var largeKey = []byte{0}

// boltValue resolves what a cursor found at k: a cursor reports a sub-bucket with a nil value.
func (t *tx) boltValue(k, v []byte) []byte {
	if v != nil {
		return v
	}
	sub := t.b.Bucket(k)
	if sub == nil {
		return v
	}
	v = sub.Get(largeKey)
	t.large = append(t.large, v)
	return v
}

// putBolt and deleteBolt write one checkpointed entry into bbolt.
func putBolt(b *bbolt.Bucket, key, value []byte) error {
	sub := b.Bucket(key)
	var err error
	switch {
	case len(value) >= largeValue && sub != nil:
		err = sub.Put(largeKey, value)
	case len(value) >= largeValue:
		if err = b.Delete(key); err == nil {
			if sub, err = b.CreateBucket(key); err == nil {
				err = sub.Put(largeKey, value)
			}
		}
	default:
		if sub != nil {
			err = b.DeleteBucket(key)
		}
		if err == nil {
			err = b.Put(key, value)
		}
	}
	if err != nil {
		return fmt.Errorf("bolt: put %q: %w", key, err)
	}
	return nil
}

func deleteBolt(b *bbolt.Bucket, key []byte) error {
	var err error
	if b.Bucket(key) != nil {
		err = b.DeleteBucket(key)
	} else {
		err = b.Delete(key)
	}
	if err != nil {
		return fmt.Errorf("bolt: delete %q: %w", key, err)
	}
	return nil
}
