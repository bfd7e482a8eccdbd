package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/storage"
)

// segmentSize is the plaintext size of one body segment: the unit of encryption, of storage
// records, and of the memory a streaming body needs.
const segmentSize = 256 << 10

// segmentBuffers recycles segment-sized buffers: every request streaming a body needs two or
// three, and allocating (and zeroing) megabytes per small PUT would dominate its cost.
var segmentBuffers = sync.Pool{New: func() any {
	b := make([]byte, segmentSize+keyring.SegmentOverhead)
	return &b
}}

func getSegmentBuffer() *[]byte  { return segmentBuffers.Get().(*[]byte) }
func putSegmentBuffer(b *[]byte) { segmentBuffers.Put(b) }

// staged is a body that has been read and sealed but is not yet visible. Its first segment is
// held back when it is the only one, so a small object costs a single transaction; larger
// bodies are written segment by segment in short transactions of their own, marked pending
// until the final transaction commits them.
type staged struct {
	Part   bodyPart
	inline []byte // the sealed only segment, written by commit
	wrote  bool   // segments and a pending marker are already in the store
	buf    *[]byte
}

// release returns the staged body's buffer to the pool. Callers defer it once staging
// succeeded; the inline segment must not be used after it.
func (st *staged) release() {
	if st.buf != nil {
		putSegmentBuffer(st.buf)
		st.buf, st.inline = nil, nil
	}
}

// commit makes the staged body durable as part of tx. A body whose pending marker is gone was
// swept as abandoned (its upload stalled past the sweeper's cutoff): it must not be published.
func (st *staged) commit(tx storage.Tx) error {
	if st.inline != nil {
		return tx.Put(segmentKey(st.Part.DataID, 0), st.inline)
	}
	if _, err := tx.Get(pendingKey(st.Part.DataID)); errors.Is(err, storage.ErrNotFound) {
		return errUploadSwept
	} else if err != nil {
		return err
	}
	return tx.Delete(pendingKey(st.Part.DataID))
}

// errUploadSwept answers an upload whose stored part the sweeper removed as abandoned.
var errUploadSwept = awserr.New(awserr.RequestTimeout, "The upload stalled for too long and its data was discarded; please retry.")

type pendingRecord struct {
	Created time.Time `json:"created"`
}

// stageBody reads r to EOF and seals it under dataKey. Everything read is also written to tee
// (for digests). An error from r — a failed payload signature or checksum among them — stops
// staging; nothing becomes visible, and segments already written are removed.
func (s *Service) stageBody(ctx context.Context, r io.Reader, dataKey []byte, tee io.Writer) (*staged, error) {
	dataID, err := s.randomID()
	if err != nil {
		return nil, err
	}
	stream, err := keyring.NewStream(dataKey, []byte(dataID))
	if err != nil {
		return nil, err
	}
	st := &staged{Part: bodyPart{DataID: dataID}}
	// Pooled: a small PUT would otherwise allocate and zero three segments' worth of memory,
	// which cost more CPU than hashing its body.
	curBuf, nextBuf, sealedBuf := getSegmentBuffer(), getSegmentBuffer(), getSegmentBuffer()
	defer putSegmentBuffer(curBuf)
	defer putSegmentBuffer(nextBuf)
	cur, next := (*curBuf)[:segmentSize], (*nextBuf)[:segmentSize]
	n, rerr := readSegment(r, cur)
	sealed := (*sealedBuf)[:0]
	kept := false
	defer func() {
		if !kept {
			putSegmentBuffer(sealedBuf)
		}
	}()
	for index := uint64(0); ; index++ {
		last := false
		switch {
		case rerr == io.EOF:
			last = true
		case rerr != nil:
			s.discard(st)
			return nil, rerr
		}
		var m int
		if !last {
			// A full segment: the body ends here only if nothing follows.
			m, rerr = readSegment(r, next)
			switch {
			case rerr != nil && rerr != io.EOF:
				s.discard(st)
				return nil, rerr
			case m == 0 && rerr == io.EOF:
				last = true
			}
		}
		if _, err := tee.Write(cur[:n]); err != nil {
			s.discard(st)
			return nil, err
		}
		sealed = stream.SealSegment(sealed[:0], cur[:n], index, last)
		st.Part.Size += int64(n)
		st.Part.Segments = index + 1
		if last && index == 0 {
			st.inline, st.buf, kept = sealed, sealedBuf, true
			return st, nil
		}
		if err := s.writeSegment(ctx, st, index, sealed); err != nil {
			s.discard(st)
			return nil, err
		}
		if last {
			return st, nil
		}
		cur, next, n = next, cur, m
	}
}

// readSegment fills buf from r. Unlike io.ReadFull it keeps r's own errors apart from a short
// read: it returns io.EOF only when r ended cleanly (n may then be less than len(buf)), and
// any other error as r's failure — io.ErrUnexpectedEOF from a connection cut mid-body among
// them, which must not pass for the end of a shorter body.
func readSegment(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// writeSegment stores one segment of a body still being uploaded, and marks the body pending
// as of now: the sweeper only removes bodies that have made no progress for a while.
func (s *Service) writeSegment(ctx context.Context, st *staged, index uint64, sealed []byte) error {
	first, now := !st.wrote, s.now()
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		if !first {
			// Swept meanwhile: the upload cannot complete, so do not write more of it.
			if _, err := tx.Get(pendingKey(st.Part.DataID)); errors.Is(err, storage.ErrNotFound) {
				return errUploadSwept
			} else if err != nil {
				return err
			}
		}
		if err := storage.PutJSON(tx, pendingKey(st.Part.DataID), pendingRecord{Created: now}); err != nil {
			return err
		}
		return tx.Put(segmentKey(st.Part.DataID, index), sealed)
	})
	if err == nil {
		st.wrote = true
	}
	return err
}

// discard removes the segments of a body that will never be committed. It runs on a context
// of its own: the request's may be what failed.
func (s *Service) discard(st *staged) {
	if st == nil || !st.wrote {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.store.Update(ctx, func(tx storage.Tx) error {
		if err := deleteSegments(tx, st.Part); err != nil {
			return err
		}
		return tx.Delete(pendingKey(st.Part.DataID))
	}); err != nil {
		s.log.Warn("discard staged body", "data", st.Part.DataID, "err", err)
	}
}

func deleteSegments(tx storage.Tx, p bodyPart) error {
	for i := uint64(0); i < p.Segments; i++ {
		if err := tx.Delete(segmentKey(p.DataID, i)); err != nil {
			return err
		}
	}
	return nil
}

// retireBody takes a version's body out of use as of at. Its segments are not deleted here: a
// GET may be streaming them, one short read transaction per segment. SweepRetired deletes them
// once no read can still be in flight.
func retireBody(tx storage.Tx, b body, at time.Time) error {
	for _, p := range b.Parts {
		if err := storage.PutJSON(tx, retiredKey(at, p.DataID), p); err != nil {
			return err
		}
	}
	return nil
}

// SweepRetired deletes the segments of bodies retired before cutoff.
func (s *Service) SweepRetired(ctx context.Context, cutoff time.Time) (int, error) {
	end := retiredKey(cutoff, "")
	swept := 0
	for {
		// A bounded batch per transaction keeps each commit short.
		n := 0
		err := s.store.Update(ctx, func(tx storage.Tx) error {
			n = 0
			var done [][]byte
			err := tx.Scan([]byte(prefixRetired), end, func(k, v []byte) error {
				var p bodyPart
				if err := json.Unmarshal(v, &p); err != nil {
					return err
				}
				if err := deleteSegments(tx, p); err != nil {
					return err
				}
				done = append(done, bytes.Clone(k))
				if n++; n == 64 {
					return storage.ErrStop
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range done {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || n == 0 {
			return swept, err
		}
		swept += n
	}
}

// SweepPending removes bodies whose upload made no progress since cutoff and never committed
// (a crash, or a client that went away mid-upload).
func (s *Service) SweepPending(ctx context.Context, cutoff time.Time) (int, error) {
	var stale []string
	err := s.store.View(ctx, func(tx storage.Tx) error {
		return storage.ScanPrefix(tx, []byte(prefixPending), func(k, v []byte) error {
			var p pendingRecord
			if err := json.Unmarshal(v, &p); err != nil || p.Created.Before(cutoff) {
				stale = append(stale, string(k[len(prefixPending):]))
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	for _, id := range stale {
		prefix := []byte(PrefixSegment + id + "/")
		err := s.store.Update(ctx, func(tx storage.Tx) error {
			// Decide again inside the transaction: the upload may have progressed or been
			// published since the scan above.
			var p pendingRecord
			if err := storage.GetJSON(tx, pendingKey(id), &p); errors.Is(err, storage.ErrNotFound) {
				return nil
			} else if err == nil && !p.Created.Before(cutoff) {
				return nil
			}
			var keys [][]byte
			if err := storage.ScanPrefix(tx, prefix, func(k, _ []byte) error {
				keys = append(keys, append([]byte(nil), k...))
				return nil
			}); err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return tx.Delete(pendingKey(id))
		})
		if err != nil {
			return 0, err
		}
	}
	return len(stale), nil
}

// writeBody writes bytes [start, end) of b, decrypted, to w. Each segment is read in a short
// transaction of its own, so a slow client never holds the store.
func (s *Service) writeBody(ctx context.Context, w io.Writer, b body, dataKey []byte, start, end int64) error {
	plainBuf := getSegmentBuffer()
	defer putSegmentBuffer(plainBuf)
	plain := (*plainBuf)[:0]
	var offset int64 // of the current part within the object
	for _, p := range b.Parts {
		pStart, pEnd := max(start-offset, 0), min(end-offset, p.Size)
		offset += p.Size
		if pStart >= pEnd {
			continue
		}
		stream, err := keyring.NewStream(dataKey, []byte(p.DataID))
		if err != nil {
			return err
		}
		for i := uint64(pStart / segmentSize); i < p.Segments && int64(i)*segmentSize < pEnd; i++ {
			// Opened inside the transaction, straight from the stored value: the plaintext
			// buffer is the only copy, and the client is written to after the transaction.
			if err := s.store.View(ctx, func(tx storage.Tx) error {
				v, err := tx.Get(segmentKey(p.DataID, i))
				if err != nil {
					return fmt.Errorf("segment %d of %s: %w", i, p.DataID, err)
				}
				if plain, err = stream.OpenSegment(plain[:0], v, i, i == p.Segments-1); err != nil {
					return fmt.Errorf("open segment %d of %s: %w", i, p.DataID, err)
				}
				return nil
			}); err != nil {
				return err
			}
			segStart := int64(i) * segmentSize
			lo, hi := max(pStart-segStart, 0), min(pEnd-segStart, int64(len(plain)))
			if _, err := w.Write(plain[lo:hi]); err != nil {
				return err
			}
		}
	}
	return nil
}
