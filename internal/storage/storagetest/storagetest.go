// Package storagetest is the conformance suite that every storage engine runs, so that all
// higher layers can rely on one set of semantics whichever engine is configured.
package storagetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stateward/stateward/internal/storage"
)

// Run runs the suite. open must return a new, empty store for each call and arrange (with
// t.Cleanup) for it to be closed when t ends.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"Basics", testBasics},
		{"EmptyValue", testEmptyValue},
		{"BinaryKeys", testBinaryKeys},
		{"Scan", testScan},
		{"ScanPrefix", testScanPrefix},
		{"ScanStop", testScanStop},
		{"ScanWrites", testScanWrites},
		{"Rollback", testRollback},
		{"ReadYourWrites", testReadYourWrites},
		{"Snapshot", testSnapshot},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ConcurrentViews", testConcurrentViews},
		{"Canceled", testCanceled},
		{"CallerOwnsSlices", testCallerOwnsSlices},
		{"LargeValues", testLargeValues},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var errBoom = errors.New("boom")

func update(t *testing.T, s storage.Store, fn func(storage.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func put(t *testing.T, s storage.Store, kv ...string) {
	t.Helper()
	update(t, s, func(tx storage.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put([]byte(kv[i]), []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
}

// get returns the value of key, or "<nil>" for ErrNotFound, so results compare as strings.
func get(t *testing.T, s storage.Store, key string) string {
	t.Helper()
	var got string
	err := s.View(t.Context(), func(tx storage.Tx) error {
		v, err := tx.Get([]byte(key))
		got = tget(v, err)
		return nil
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return got
}

func tget(v []byte, err error) string {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "<nil>"
	case err != nil:
		return "error: " + err.Error()
	}
	return string(v)
}

// scan returns the keys in [start, end) and checks each value equals "v"+key.
func scan(t *testing.T, s storage.Store, start, end []byte) []string {
	t.Helper()
	var keys []string
	err := s.View(t.Context(), func(tx storage.Tx) error {
		keys = nil // View may be retried by an engine; start afresh.
		return tx.Scan(start, end, func(k, v []byte) error {
			if want := "v" + string(k); string(v) != want {
				t.Errorf("value of %q = %q, want %q", k, v, want)
			}
			keys = append(keys, string(k))
			return nil
		})
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return keys
}

// putKeys stores every key with the value "v"+key, as scan expects.
func putKeys(t *testing.T, s storage.Store, keys ...string) {
	t.Helper()
	var kv []string
	for _, k := range keys {
		kv = append(kv, k, "v"+k)
	}
	put(t, s, kv...)
}

func testBasics(t *testing.T, s storage.Store) {
	steps := []struct {
		name string
		fn   func(tx storage.Tx) error
		key  string
		want string
	}{
		{"absent", nil, "a", "<nil>"},
		{"put", func(tx storage.Tx) error { return tx.Put([]byte("a"), []byte("1")) }, "a", "1"},
		{"overwrite", func(tx storage.Tx) error { return tx.Put([]byte("a"), []byte("22")) }, "a", "22"},
		{"other key untouched", func(tx storage.Tx) error { return tx.Put([]byte("b"), []byte("3")) }, "a", "22"},
		{"delete", func(tx storage.Tx) error { return tx.Delete([]byte("a")) }, "a", "<nil>"},
		{"delete absent", func(tx storage.Tx) error { return tx.Delete([]byte("zz")) }, "zz", "<nil>"},
		{"deleted key only", nil, "b", "3"},
	}
	for _, st := range steps {
		if st.fn != nil {
			update(t, s, st.fn)
		}
		if got := get(t, s, st.key); got != st.want {
			t.Errorf("%s: Get(%q) = %q, want %q", st.name, st.key, got, st.want)
		}
	}
	err := s.View(t.Context(), func(tx storage.Tx) error {
		_, err := tx.Get([]byte("a"))
		return err
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get of deleted key: err = %v, want ErrNotFound", err)
	}
}

func testEmptyValue(t *testing.T, s storage.Store) {
	update(t, s, func(tx storage.Tx) error {
		return errors.Join(tx.Put([]byte("nil"), nil), tx.Put([]byte("empty"), []byte{}))
	})
	for _, k := range []string{"nil", "empty"} {
		err := s.View(t.Context(), func(tx storage.Tx) error {
			v, err := tx.Get([]byte(k))
			if err != nil || len(v) != 0 {
				t.Errorf("Get(%q) = %q, %v; want empty value, nil error", k, v, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int
	err := s.View(t.Context(), func(tx storage.Tx) error {
		n = 0
		return tx.Scan(nil, nil, func(k, v []byte) error { n++; return nil })
	})
	if err != nil || n != 2 {
		t.Errorf("Scan saw %d keys, %v; want 2 keys with empty values", n, err)
	}
}

func testBinaryKeys(t *testing.T, s storage.Store) {
	keys := []string{"\x00", "\x00\x00", "\x00\xff", "\x01", "a\x00b", "a\xffb", "\xfe", "\xff", "\xff\x00", "\xff\xff"}
	// Insert out of order so a correct result cannot come from insertion order.
	shuffled := slices.Clone(keys)
	slices.Reverse(shuffled)
	putKeys(t, s, shuffled...)
	for _, k := range keys {
		if got := get(t, s, k); got != "v"+k {
			t.Errorf("Get(%q) = %q, want %q", k, got, "v"+k)
		}
	}
	if got := scan(t, s, nil, nil); !slices.Equal(got, keys) {
		t.Errorf("Scan = %q, want %q", got, keys)
	}
}

func testScan(t *testing.T, s storage.Store) {
	putKeys(t, s, "a", "ab", "abc", "b", "ba", "c")
	tests := []struct {
		name       string
		start, end []byte
		want       []string
	}{
		{"all", nil, nil, []string{"a", "ab", "abc", "b", "ba", "c"}},
		{"half open", []byte("a"), []byte("b"), []string{"a", "ab", "abc"}},
		{"nil end", []byte("ab"), nil, []string{"ab", "abc", "b", "ba", "c"}},
		{"start between keys", []byte("aa"), []byte("ba"), []string{"ab", "abc", "b"}},
		{"empty range", []byte("b"), []byte("b"), nil},
		{"inverted range", []byte("c"), []byte("a"), nil},
		{"past the end", []byte("d"), nil, nil},
		{"end before first", nil, []byte("a"), nil},
	}
	for _, tt := range tests {
		if got := scan(t, s, tt.start, tt.end); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Scan(%q, %q) = %q, want %q", tt.name, tt.start, tt.end, got, tt.want)
		}
	}
}

func testScanPrefix(t *testing.T, s storage.Store) {
	ends := []struct{ prefix, want string }{
		{"a", "b"},
		{"a\xff", "b"},
		{"a\xff\xff", "b"},
		{"a\xfe", "a\xff"},
		{"\x00", "\x01"},
	}
	for _, tt := range ends {
		if got := storage.PrefixEnd([]byte(tt.prefix)); string(got) != tt.want {
			t.Errorf("PrefixEnd(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
	for _, p := range []string{"", "\xff", "\xff\xff"} {
		if got := storage.PrefixEnd([]byte(p)); got != nil {
			t.Errorf("PrefixEnd(%q) = %q, want nil", p, got)
		}
	}

	putKeys(t, s, "a", "a\xfe", "a\xff", "a\xff\x00", "a\xff\xff\xff", "b", "\xfe", "\xff", "\xff\xff")
	tests := []struct {
		prefix string
		want   []string
	}{
		{"a", []string{"a", "a\xfe", "a\xff", "a\xff\x00", "a\xff\xff\xff"}},
		{"a\xff", []string{"a\xff", "a\xff\x00", "a\xff\xff\xff"}},
		{"a\xff\xff", []string{"a\xff\xff\xff"}},
		{"\xff", []string{"\xff", "\xff\xff"}},
		{"c", nil},
	}
	for _, tt := range tests {
		var got []string
		err := s.View(t.Context(), func(tx storage.Tx) error {
			got = nil
			return storage.ScanPrefix(tx, []byte(tt.prefix), func(k, v []byte) error {
				got = append(got, string(k))
				return nil
			})
		})
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ScanPrefix(%q) = %q, %v; want %q", tt.prefix, got, err, tt.want)
		}
	}
}

func testScanStop(t *testing.T, s storage.Store) {
	putKeys(t, s, "a", "b", "c", "d")
	tests := []struct {
		name    string
		stopAt  string
		err     error
		wantErr error
		want    []string
	}{
		{"ErrStop ends with nil", "b", storage.ErrStop, nil, []string{"a", "b"}},
		{"error is returned", "c", errBoom, errBoom, []string{"a", "b", "c"}},
		{"wrapped ErrStop", "a", fmt.Errorf("done: %w", storage.ErrStop), nil, []string{"a"}},
	}
	for _, tt := range tests {
		var got []string
		var scanErr error
		err := s.View(t.Context(), func(tx storage.Tx) error {
			got = nil
			scanErr = tx.Scan(nil, nil, func(k, v []byte) error {
				got = append(got, string(k))
				if string(k) == tt.stopAt {
					return tt.err
				}
				return nil
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(scanErr, tt.wantErr) { // with a nil target, Is demands a nil error
			t.Errorf("%s: Scan err = %v, want %v", tt.name, scanErr, tt.wantErr)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Scan visited %q, want %q", tt.name, got, tt.want)
		}
	}
}

// testScanWrites covers the common garbage-collection pattern of deleting (or rewriting) each
// key as a scan visits it; engines whose cursors are invalidated by writes must reposition.
func testScanWrites(t *testing.T, s storage.Store) {
	// Enough keys to span many pages of a B+tree engine; half of them written by the same
	// transaction that scans, so both committed and uncommitted records are walked.
	var keys []string
	for i := range 2000 {
		keys = append(keys, fmt.Sprintf("k%04d", i))
	}
	putKeys(t, s, keys[:1000]...)
	putKeys(t, s, "other")

	var deleted []string
	update(t, s, func(tx storage.Tx) error {
		deleted = nil
		for _, k := range keys[1000:] {
			if err := tx.Put([]byte(k), []byte("v"+k)); err != nil {
				return err
			}
		}
		return storage.ScanPrefix(tx, []byte("k"), func(k, v []byte) error {
			deleted = append(deleted, string(k))
			return tx.Delete(k)
		})
	})
	if !slices.Equal(deleted, keys) {
		t.Errorf("deleting scan visited %d keys, want %d", len(deleted), len(keys))
	}
	if got := scan(t, s, nil, nil); !slices.Equal(got, []string{"other"}) {
		t.Errorf("after deleting scan: %d keys left, want only \"other\"", len(got))
	}

	putKeys(t, s, keys...)
	var visited int
	update(t, s, func(tx storage.Tx) error {
		visited = 0
		return storage.ScanPrefix(tx, []byte("k"), func(k, v []byte) error {
			visited++
			return tx.Put(k, append([]byte("v"), k...))
		})
	})
	if visited != len(keys) {
		t.Errorf("rewriting scan visited %d keys, want %d", visited, len(keys))
	}
}

func testRollback(t *testing.T, s storage.Store) {
	put(t, s, "keep", "old", "gone", "old")
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		for i := range 50 {
			if err := tx.Put(fmt.Appendf(nil, "new%02d", i), []byte("x")); err != nil {
				return err
			}
		}
		if err := tx.Put([]byte("keep"), []byte("new")); err != nil {
			return err
		}
		if err := tx.Delete([]byte("gone")); err != nil {
			return err
		}
		return fmt.Errorf("late failure: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update err = %v, want the error fn returned", err)
	}
	want := map[string]string{"keep": "old", "gone": "old", "new00": "<nil>", "new49": "<nil>"}
	for k, v := range want {
		if got := get(t, s, k); got != v {
			t.Errorf("after rollback Get(%q) = %q, want %q", k, got, v)
		}
	}
	if got := scan(t, s, []byte("new"), storage.PrefixEnd([]byte("new"))); len(got) != 0 {
		t.Errorf("after rollback Scan found %q", got)
	}
}

func testReadYourWrites(t *testing.T, s storage.Store) {
	putKeys(t, s, "a", "c")
	update(t, s, func(tx storage.Tx) error {
		if err := tx.Put([]byte("b"), []byte("vb")); err != nil {
			return err
		}
		if err := tx.Delete([]byte("c")); err != nil {
			return err
		}
		if err := tx.Put([]byte("a"), []byte("va2")); err != nil {
			return err
		}
		got := map[string]string{}
		for _, k := range []string{"a", "b", "c"} {
			v, err := tx.Get([]byte(k))
			got[k] = tget(v, err)
		}
		want := map[string]string{"a": "va2", "b": "vb", "c": "<nil>"}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("in Update Get(%q) = %q, want %q", k, got[k], w)
			}
		}
		var keys []string
		err := tx.Scan(nil, nil, func(k, v []byte) error {
			keys = append(keys, string(k)+"="+string(v))
			return nil
		})
		if wantKeys := []string{"a=va2", "b=vb"}; !slices.Equal(keys, wantKeys) {
			t.Errorf("in Update Scan = %q, want %q", keys, wantKeys)
		}
		return err
	})
}

// testSnapshot checks that a View keeps seeing the state from its start while an Update
// commits. The View waits for the Update only for a while: an engine may legitimately make a
// writer wait for open readers (bbolt does, to remap its file), and that must not deadlock.
func testSnapshot(t *testing.T, s storage.Store) {
	put(t, s, "x", "old", "y", "old")
	committed := make(chan error, 1)
	err := s.View(t.Context(), func(tx storage.Tx) error {
		before, err := tx.Get([]byte("x"))
		if err != nil {
			return err
		}
		before = bytes.Clone(before)
		go func() {
			committed <- s.Update(context.Background(), func(tx storage.Tx) error {
				return errors.Join(tx.Put([]byte("x"), []byte("new")), tx.Put([]byte("y"), []byte("new")),
					tx.Put([]byte("z"), []byte("new")))
			})
		}()
		select {
		case err := <-committed:
			committed <- err
		case <-time.After(200 * time.Millisecond):
		}
		got := map[string]string{"x": string(before)}
		for _, k := range []string{"y", "z"} {
			v, err := tx.Get([]byte(k))
			got[k] = tget(v, err)
		}
		if err := tx.Scan(nil, nil, func(k, v []byte) error {
			got["scan "+string(k)] = string(v)
			return nil
		}); err != nil {
			return err
		}
		want := map[string]string{"x": "old", "y": "old", "z": "<nil>", "scan x": "old", "scan y": "old"}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("snapshot %s = %q, want %q", k, got[k], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("snapshot saw %v, want %v", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-committed; err != nil {
		t.Fatalf("concurrent Update: %v", err)
	}
	if got := get(t, s, "z"); got != "new" {
		t.Errorf("after View Get(z) = %q, want new", got)
	}
}

// testConcurrentUpdates proves serializability: lost updates would leave the counter short.
func testConcurrentUpdates(t *testing.T, s storage.Store) {
	const workers, increments = 64, 50
	key := []byte("counter")
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range increments {
				err := s.Update(context.Background(), func(tx storage.Tx) error {
					var n uint64
					switch v, err := tx.Get(key); {
					case err == nil:
						n = binary.BigEndian.Uint64(v)
					case !errors.Is(err, storage.ErrNotFound):
						return err
					}
					return tx.Put(key, binary.BigEndian.AppendUint64(nil, n+1))
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	err := s.View(t.Context(), func(tx storage.Tx) error {
		v, err := tx.Get(key)
		if err != nil {
			return err
		}
		if got := binary.BigEndian.Uint64(v); got != workers*increments {
			t.Errorf("counter = %d, want %d", got, workers*increments)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testConcurrentViews runs readers against writers that keep an invariant (every key under
// "inv/" holds the same generation); a reader that sees two generations saw a torn write.
func testConcurrentViews(t *testing.T, s storage.Store) {
	const keys, writers, writes, readers = 8, 4, 25, 4
	setAll := func(gen uint64) func(storage.Tx) error {
		return func(tx storage.Tx) error {
			for i := range keys {
				if err := tx.Put(fmt.Appendf(nil, "inv/%d", i), binary.BigEndian.AppendUint64(nil, gen)); err != nil {
					return err
				}
			}
			return nil
		}
	}
	update(t, s, setAll(0))

	ctx, stop := context.WithCancel(t.Context())
	var readersWG, writersWG sync.WaitGroup
	for range readers {
		readersWG.Go(func() {
			for ctx.Err() == nil {
				err := s.View(context.Background(), func(tx storage.Tx) error {
					gens := map[uint64]bool{}
					n := 0
					err := storage.ScanPrefix(tx, []byte("inv/"), func(k, v []byte) error {
						n++
						gens[binary.BigEndian.Uint64(v)] = true
						return nil
					})
					if len(gens) != 1 || n != keys {
						t.Errorf("View saw %d keys with generations %v; want %d keys, one generation", n, gens, keys)
					}
					return err
				})
				if err != nil {
					t.Errorf("View: %v", err)
					return
				}
			}
		})
	}
	for w := range writers {
		writersWG.Go(func() {
			for i := range writes {
				if err := s.Update(context.Background(), setAll(uint64(w*writes+i+1))); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	writersWG.Wait()
	stop()
	readersWG.Wait()
}

func testCanceled(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	err := s.Update(ctx, func(tx storage.Tx) error {
		ran = true
		return tx.Put([]byte("k"), []byte("v"))
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with canceled context: err = %v, want context.Canceled", err)
	}
	if ran {
		t.Error("Update with canceled context ran fn")
	}
	if got := get(t, s, "k"); got != "<nil>" {
		t.Errorf("Update with canceled context wrote k = %q", got)
	}
	err = s.View(ctx, func(tx storage.Tx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("View with canceled context: err = %v, ran = %v; want context.Canceled, not run", err, ran)
	}
}

// testCallerOwnsSlices checks that an engine copies what it is given: a caller may reuse its
// key and value buffers as soon as Put returns, even within the same transaction.
func testCallerOwnsSlices(t *testing.T, s storage.Store) {
	var key, val []byte
	check := func(tx storage.Tx) {
		for k, want := range map[string]string{"k1": "value-1", "k2": "value-2"} {
			if got := tget(tx.Get([]byte(k))); got != want {
				t.Errorf("Get(%q) = %q, want %q", k, got, want)
			}
		}
	}
	update(t, s, func(tx storage.Tx) error {
		key, val = []byte("k1"), []byte("value-1") // afresh, as fn may run more than once
		if err := tx.Put(key, val); err != nil {
			return err
		}
		key[1], val[6] = '2', '2' // reuse the buffers for the next record
		if err := tx.Put(key, val); err != nil {
			return err
		}
		copy(key, "XX")
		copy(val, "XXXXXXX")
		check(tx)
		return nil
	})
	copy(key, "YY")
	copy(val, "YYYYYYY")
	if err := s.View(t.Context(), func(tx storage.Tx) error { check(tx); return nil }); err != nil {
		t.Fatal(err)
	}
}

// testLargeValues mixes values of object-segment size with small ones, since engines may
// store them differently: replacing one kind by the other, deleting, and scanning in order.
func testLargeValues(t *testing.T, s storage.Store) {
	big := func(seed byte, n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = seed + byte(i%251)
		}
		return b
	}
	want := map[string][]byte{
		"a": []byte("small"),
		"b": big(1, 300<<10),
		"c": big(2, 64<<10),
		"d": {},
		"e": big(3, 1<<20),
	}
	update(t, s, func(tx storage.Tx) error {
		for _, k := range []string{"e", "c", "a", "d", "b"} {
			if err := tx.Put([]byte(k), want[k]); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(when string) {
		t.Helper()
		err := s.View(t.Context(), func(tx storage.Tx) error {
			for k, v := range want {
				got, err := tx.Get([]byte(k))
				if err != nil || !bytes.Equal(got, v) {
					t.Errorf("%s: Get(%q) = %d bytes, %v; want %d bytes", when, k, len(got), err, len(v))
				}
			}
			var keys []string
			if err := tx.Scan(nil, nil, func(k, v []byte) error {
				keys = append(keys, string(k))
				if !bytes.Equal(v, want[string(k)]) {
					t.Errorf("%s: Scan value of %q is %d bytes, want %d", when, k, len(v), len(want[string(k)]))
				}
				return nil
			}); err != nil {
				return err
			}
			if wantKeys := slices.Sorted(maps.Keys(want)); !slices.Equal(keys, wantKeys) {
				t.Errorf("%s: Scan keys = %q, want %q", when, keys, wantKeys)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check("after insert")
	// Large becomes small, small becomes large, large is replaced by large, one goes away.
	want["b"], want["a"], want["e"] = []byte("now small"), big(4, 200<<10), big(5, 128<<10)
	delete(want, "c")
	update(t, s, func(tx storage.Tx) error {
		return errors.Join(tx.Put([]byte("b"), want["b"]), tx.Put([]byte("a"), want["a"]),
			tx.Put([]byte("e"), want["e"]), tx.Delete([]byte("c")))
	})
	check("after rewrite")
	// A failed update leaves large values as they were.
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		if err := tx.Put([]byte("a"), []byte("tiny")); err != nil {
			return err
		}
		if err := tx.Delete([]byte("e")); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want errBoom", err)
	}
	check("after rollback")
}
