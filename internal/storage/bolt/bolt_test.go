package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stateward/stateward/internal/storage"
	"github.com/stateward/stateward/internal/storage/storagetest"
)

func openTest(t testing.TB, opts *Options) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "stateward.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return openTest(t, nil) })
}

func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stateward.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode = %04o, want 0600", got)
	}

	// flock is per open file, so a second Open in this process contends like another process.
	start := time.Now()
	_, err = Open(path, &Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: err = %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second Open took %v; want it to fail fast", d)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stateward.db")
	for i, want := range []string{"", "v"} {
		db, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(t.Context(), func(tx storage.Tx) error {
			v, err := tx.Get([]byte("k"))
			if errors.Is(err, storage.ErrNotFound) {
				err = nil
			}
			if string(v) != want {
				t.Errorf("open %d: Get = %q, want %q", i, v, want)
			}
			return errors.Join(err, tx.Put([]byte("k"), []byte("v")))
		})
		if err := errors.Join(err, db.Close()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestObserve(t *testing.T) {
	var mu sync.Mutex
	counts := map[string]int{}
	db := openTest(t, &Options{Observe: func(op string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if d <= 0 {
			t.Errorf("Observe(%q, %v): want a positive duration", op, d)
		}
		counts[op]++
	}})
	ctx := t.Context()
	errFail := errors.New("fail")
	calls := []struct {
		op  string
		err error
	}{
		{"update", nil},
		{"update", errFail},
		{"view", nil},
		{"view", errFail},
	}
	for _, c := range calls {
		fn := func(storage.Tx) error { return c.err }
		if c.op == "view" {
			_ = db.View(ctx, fn)
		} else {
			_ = db.Update(ctx, fn)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if counts["view"] != 2 || counts["update"] != 2 || len(counts) != 2 {
		t.Errorf("observed %v, want 2 of each of view and update", counts)
	}
}

const benchValueSize = 100 << 10

func BenchmarkUpdateSerial(b *testing.B) {
	db := openTest(b, nil)
	value := make([]byte, benchValueSize)
	b.SetBytes(benchValueSize)
	i := 0
	for b.Loop() {
		key := fmt.Appendf(nil, "k%09d", i)
		i++
		if err := db.Update(context.Background(), func(tx storage.Tx) error { return tx.Put(key, value) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateParallel uses many more writers than cores, as a server does: they spend
// their time waiting for fsync, which group commit shares among them.
func BenchmarkUpdateParallel(b *testing.B) {
	db := openTest(b, nil)
	value := make([]byte, benchValueSize)
	b.SetBytes(benchValueSize)
	b.SetParallelism(32)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Appendf(nil, "k%09d", n.Add(1))
			if err := db.Update(context.Background(), func(tx storage.Tx) error { return tx.Put(key, value) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestCloseDuringUpdates: Close while writers are still queuing neither panics nor loses an
// update it accepted: every Update returns either nil (and its write is durable) or the
// closed error.
func TestCloseDuringUpdates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "close.db")
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	accepted := make(chan string, 1000)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				key := fmt.Sprintf("w%02d-%02d", w, i)
				err := db.Update(context.Background(), func(tx storage.Tx) error { return tx.Put([]byte(key), []byte("v")) })
				if err == nil {
					accepted <- key
				} else if !errors.Is(err, errClosed) {
					t.Errorf("Update: %v", err)
				}
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(accepted)
	db, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for key := range accepted {
		if err := db.View(context.Background(), func(tx storage.Tx) error {
			_, err := tx.Get([]byte(key))
			return err
		}); err != nil {
			t.Errorf("accepted update %s was lost: %v", key, err)
		}
	}
}
