package bolt

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// The write-ahead log makes a commit durable with one fdatasync of one contiguous write, where
// a bbolt commit needs two syncs of pages scattered over its file. It is two files used in
// turn: records are appended to the active one while the other's records are checkpointed into
// bbolt; then the other is rewound and becomes active. A file is extended with zeros a
// megabyte ahead of its records (see append), so that most appends overwrite blocks already
// allocated and their fdatasync has no file metadata to flush.
//
// A file starts with a header (magic, generation, CRC) and holds records:
//
//	u32 payload length | u32 CRC-32C of generation and payload | payload
//	payload: u64 commit sequence | u32 op count | ops
//	op: u8 kind (put, delete) | uvarint key length | key | uvarint value length | value
//
// Rewinding a file gives it a new generation, so that records left from its previous turn no
// longer pass their CRC: replay stops at the first record that does not, which is also how a
// record torn by a crash (never acknowledged) is told from the log's end.

const (
	walMagic     = "swwal001"
	walHeaderLen = 24 // magic, generation, CRC of both, 4 bytes spare
	recordHead   = 8  // length, CRC
	zeroAhead    = 1 << 20
	opPut        = 1
	opDelete     = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// walFile is one of the two log files.
type walFile struct {
	f      *os.File
	gen    uint64
	size   int64 // where the next record goes
	zeroed int64 // the file's length: every block below it is allocated
}

// wal is the pair of log files. It is used only by the committer goroutine.
type wal struct {
	files  [2]*walFile
	active int
	buf    []byte
}

// record is one replayed commit.
type record struct {
	seq uint64
	ops []*entry
}

// openWAL opens or creates the log files beside the database at path and returns the records
// they hold in commit order.
func openWAL(path string) (*wal, []record, error) {
	w := &wal{}
	var recs []record
	for i := range w.files {
		name := fmt.Sprintf("%s.wal.%d", path, i)
		wf, err := openFile(name)
		if err != nil {
			w.close()
			return nil, nil, err
		}
		w.files[i] = wf
		r, err := wf.read()
		if err != nil {
			w.close()
			return nil, nil, fmt.Errorf("bolt: read %s: %w", name, err)
		}
		recs = append(recs, r...)
	}
	// Each file's records are in commit order and the files hold disjoint ranges of commits.
	slices.SortStableFunc(recs, func(a, b record) int { return cmp.Compare(a.seq, b.seq) })
	return w, recs, nil
}

// openFile opens name, creating it (0600, with its directory entry synced) if it does not
// exist.
func openFile(name string) (*walFile, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			if err = syncDir(filepath.Dir(name)); err != nil {
				f.Close()
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("bolt: open log: %w", err)
	}
	return &walFile{f: f, zeroed: fi.Size()}, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// read returns the file's valid records; a file without a valid header holds none.
func (wf *walFile) read() ([]record, error) {
	data, err := io.ReadAll(io.NewSectionReader(wf.f, 0, 1<<62))
	if err != nil {
		return nil, err
	}
	if len(data) < walHeaderLen || string(data[:8]) != walMagic ||
		crc32.Checksum(data[:16], castagnoli) != binary.LittleEndian.Uint32(data[16:20]) {
		return nil, nil
	}
	wf.gen = binary.LittleEndian.Uint64(data[8:16])
	var recs []record
	off := walHeaderLen
	for off+recordHead <= len(data) {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		sum := binary.LittleEndian.Uint32(data[off+4:])
		if n == 0 || n > len(data)-off-recordHead {
			break
		}
		payload := data[off+recordHead : off+recordHead+n]
		if recordCRC(wf.gen, payload) != sum {
			break
		}
		rec, err := decodeRecord(payload)
		if err != nil {
			// The CRC matched, so this is not a torn write: refuse rather than drop commits.
			return nil, fmt.Errorf("record at offset %d: %w", off, err)
		}
		recs = append(recs, rec)
		off += recordHead + n
	}
	wf.size = int64(off)
	return recs, nil
}

func recordCRC(gen uint64, payload []byte) uint32 {
	var g [8]byte
	binary.LittleEndian.PutUint64(g[:], gen)
	return crc32.Update(crc32.Checksum(g[:], castagnoli), castagnoli, payload)
}

var errBadRecord = errors.New("malformed log record")

func decodeRecord(p []byte) (record, error) {
	if len(p) < 12 {
		return record{}, errBadRecord
	}
	rec := record{seq: binary.LittleEndian.Uint64(p)}
	n := binary.LittleEndian.Uint32(p[8:])
	p = p[12:]
	field := func() ([]byte, bool) {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return nil, false
		}
		v := p[k : k+int(l)]
		p = p[k+int(l):]
		return v, true
	}
	for range n {
		if len(p) == 0 {
			return record{}, errBadRecord
		}
		kind := p[0]
		p = p[1:]
		key, ok1 := field()
		value, ok2 := field()
		if !ok1 || !ok2 || len(key) == 0 || (kind != opPut && kind != opDelete) {
			return record{}, errBadRecord
		}
		e := &entry{key: key, value: value, deleted: kind == opDelete, seq: rec.seq}
		rec.ops = append(rec.ops, e)
	}
	if len(p) != 0 {
		return record{}, errBadRecord
	}
	return rec, nil
}

// rewind makes file i empty under a generation newer than both files'. The header reaches the
// disk with the first record appended after it; until then the file's old header and records
// stay valid, which replay tolerates (they are older than every checkpoint that made rewinding
// allowed, and replay skips what the checkpoint already holds).
func (w *wal) rewind(i int) error {
	wf := w.files[i]
	wf.gen = max(w.files[0].gen, w.files[1].gen) + 1
	var h [walHeaderLen]byte
	copy(h[:], walMagic)
	binary.LittleEndian.PutUint64(h[8:], wf.gen)
	binary.LittleEndian.PutUint32(h[16:], crc32.Checksum(h[:16], castagnoli))
	if _, err := wf.f.WriteAt(h[:], 0); err != nil {
		return fmt.Errorf("bolt: rewind log: %w", err)
	}
	wf.size = walHeaderLen
	wf.zeroed = max(wf.zeroed, walHeaderLen)
	return nil
}

// reset rewinds both files; the caller has checkpointed all they held.
func (w *wal) reset() error {
	if err := w.rewind(w.active); err != nil {
		return err
	}
	return w.rotate()
}

// rotate makes the other file active, rewound; the caller has checkpointed what it held.
func (w *wal) rotate() error {
	next := 1 - w.active
	if err := w.rewind(next); err != nil {
		return err
	}
	w.active = next
	return nil
}

// append writes one commit's ops to the active file and syncs it.
func (w *wal) append(seq uint64, ops []*entry) error {
	b := w.buf[:0]
	b = append(b, make([]byte, recordHead)...)
	b = binary.LittleEndian.AppendUint64(b, seq)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ops)))
	for _, e := range ops {
		kind := byte(opPut)
		if e.deleted {
			kind = opDelete
		}
		b = append(b, kind)
		b = binary.AppendUvarint(b, uint64(len(e.key)))
		b = append(b, e.key...)
		b = binary.AppendUvarint(b, uint64(len(e.value)))
		b = append(b, e.value...)
	}
	wf := w.files[w.active]
	payload := b[recordHead:]
	binary.LittleEndian.PutUint32(b, uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[4:], recordCRC(wf.gen, payload))
	// A large batch's buffer is not kept: the log must not pin its memory.
	if cap(b) <= 1<<20 {
		w.buf = b
	} else {
		w.buf = nil
	}
	if end := wf.size + int64(len(b)); end > wf.zeroed {
		// Zeros past the record's end, synced with it: the next appends then do not grow the
		// file.
		next := (end + zeroAhead) &^ (zeroAhead - 1)
		if _, err := wf.f.WriteAt(make([]byte, next-end), end); err != nil {
			return fmt.Errorf("bolt: extend log: %w", err)
		}
		wf.zeroed = next
	}
	if _, err := wf.f.WriteAt(b, wf.size); err != nil {
		return fmt.Errorf("bolt: write log: %w", err)
	}
	if err := datasync(wf.f); err != nil {
		return fmt.Errorf("bolt: sync log: %w", err)
	}
	wf.size += int64(len(b))
	return nil
}

// activeSize is how many bytes the active file holds.
func (w *wal) activeSize() int64 { return w.files[w.active].size - walHeaderLen }

func (w *wal) close() error {
	var errs []error
	for _, wf := range w.files {
		if wf != nil {
			errs = append(errs, wf.f.Close())
		}
	}
	return errors.Join(errs...)
}
