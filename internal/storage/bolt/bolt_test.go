package bolt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
	for _, c := range []struct {
		name string
		opts *Options
	}{
		{"defaults", nil},
		// Every commit starts a checkpoint: reads merge a changing overlay with a bbolt that
		// checkpoints keep changing under them.
		{"checkpoint-every-commit", &Options{CheckpointBytes: 1}},
		// Every commit goes straight into bbolt, taking the overlay with it.
		{"direct-every-commit", &Options{DirectBytes: 1}},
		// Large commits go straight in, small ones through the log.
		{"direct-from-64KiB", &Options{DirectBytes: 64 << 10, CheckpointBytes: 256 << 10}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) storage.Store { return openTest(t, c.opts) })
		})
	}
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

// The crash tests run a writer in a child process (this test binary, TestCrashChild) that
// acknowledges each committed Update on stdout, kill it with SIGKILL mid-stream, and check on
// reopening that every acknowledged write is there and the one in flight is all or nothing.

const crashEnv = "STATEWARD_BOLT_CRASH"

func crashKey(i int) []byte { return fmt.Appendf(nil, "k%06d", i) }

// crashValue varies in size, so that inline values and sub-bucket ones both cross checkpoints.
func crashValue(i int) []byte {
	n := []int{10, largeValue + 100, 300}[i%3]
	return bytes.Repeat(fmt.Appendf(nil, "%06d", i), n/6+1)[:n]
}

// crashOp is op i: it puts key i and, every seventh op, deletes key i-3.
func crashOp(i int) func(storage.Tx) error {
	return func(tx storage.Tx) error {
		if i%7 == 0 && i >= 3 {
			if err := tx.Delete(crashKey(i - 3)); err != nil {
				return err
			}
		}
		return tx.Put(crashKey(i), crashValue(i))
	}
}

func TestCrashChild(t *testing.T) {
	args := strings.Fields(os.Getenv(crashEnv))
	if len(args) != 4 {
		t.Skip("the child of TestCrashRecovery and TestTornRecord")
	}
	start, _ := strconv.Atoi(args[1])
	limit, _ := strconv.ParseInt(args[2], 10, 64)
	direct, _ := strconv.Atoi(args[3])
	db, err := Open(args[0], &Options{CheckpointBytes: limit, DirectBytes: direct})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	for i := start; ; i++ {
		if err := db.Update(context.Background(), crashOp(i)); err != nil {
			fmt.Println("update:", err)
			os.Exit(1)
		}
		fmt.Printf("ok %d\n", i)
	}
}

// runCrashChild runs ops from start on, kills the child after n acknowledgements and returns
// the last op acknowledged.
func runCrashChild(t *testing.T, path string, start, n int, opts Options) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d %d", crashEnv, path, start, opts.CheckpointBytes, opts.DirectBytes))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last, acks := -1, 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "ok "); ok {
			last, _ = strconv.Atoi(v)
			if acks++; acks == n {
				_ = cmd.Process.Kill()
			}
		} else if strings.HasPrefix(line, "open:") || strings.HasPrefix(line, "update:") {
			t.Errorf("child: %s", line)
		}
	}
	_ = cmd.Wait()
	if acks < n {
		t.Fatalf("child stopped after %d acknowledgements, want %d", acks, n)
	}
	return last
}

// checkCrashState opens path and checks that ops 0..last are all in it, and that op last+1,
// which may have committed unacknowledged, is there whole or not at all.
func checkCrashState(t *testing.T, path string, last int) {
	t.Helper()
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(t.Context(), func(tx storage.Tx) error {
		has := func(i int) bool {
			v, err := tx.Get(crashKey(i))
			if err == nil && !bytes.Equal(v, crashValue(i)) {
				t.Errorf("key %d holds a wrong value of %d bytes", i, len(v))
			}
			return err == nil
		}
		deleted := func(i, upto int) bool { j := i + 3; return j%7 == 0 && j <= upto }
		for i := 0; i <= last; i++ {
			if got, want := has(i), !deleted(i, last); got != want && !deleted(i, last+1) {
				t.Errorf("after crash at op %d: key %d present = %v, want %v", last, i, got, want)
			}
		}
		if next := last + 1; has(next) && next%7 == 0 && has(next-3) {
			t.Errorf("op %d committed only in part: its put is there, its delete is not", next)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCrashRecovery kills a writer several times in a row, each time reopening the store it
// left. Checkpoints every 256 KiB of log make kills land in every phase of the log's cycle;
// the rounds with a 64 KiB DirectBytes send every third op (the large values) straight into
// bbolt between logged ones.
func TestCrashRecovery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	next := 0
	for round, opts := range []Options{
		{CheckpointBytes: 256 << 10},
		{CheckpointBytes: 256 << 10},
		{CheckpointBytes: 256 << 10, DirectBytes: 64 << 10},
		{CheckpointBytes: 1 << 40, DirectBytes: 64 << 10},
	} {
		last := runCrashChild(t, path, next, 150, opts)
		t.Logf("round %d: killed after op %d", round, last)
		checkCrashState(t, path, last)
		next = last + 1
	}
}

// TestTornRecord: a crash in the middle of writing a log record (whose commit was never
// acknowledged) leaves a record that fails its CRC. Recovery drops it and everything after it,
// and keeps every record before it.
func TestTornRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "torn.db")
	// No checkpoint: every op stays in the log.
	last := runCrashChild(t, path, 0, 60, Options{CheckpointBytes: 1 << 40, DirectBytes: 1 << 30})
	var newest *walFile
	var newestSeq uint64
	var newestRec record
	for i := range 2 {
		wf, err := openFile(fmt.Sprintf("%s.wal.%d", path, i))
		if err != nil {
			t.Fatal(err)
		}
		defer wf.f.Close()
		recs, err := wf.read()
		if err != nil {
			t.Fatal(err)
		}
		if n := len(recs); n > 0 && recs[n-1].seq > newestSeq {
			newest, newestSeq, newestRec = wf, recs[n-1].seq, recs[n-1]
		}
	}
	if newest == nil {
		t.Fatal("no log records after the crash")
	}
	var b [1]byte
	if _, err := newest.f.ReadAt(b[:], newest.size-1); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := newest.f.WriteAt(b[:], newest.size-1); err != nil {
		t.Fatal(err)
	}
	// The torn record is the newest op, acknowledged or in flight; the state is then that
	// after the op before it.
	torn := -1
	for _, e := range newestRec.ops {
		if !e.deleted {
			torn, _ = strconv.Atoi(string(e.key[1:]))
		}
	}
	if torn != last && torn != last+1 {
		t.Fatalf("newest record is op %d; the child acknowledged up to %d", torn, last)
	}
	checkCrashState(t, path, torn-1)
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(t.Context(), func(tx storage.Tx) error {
		if _, err := tx.Get(crashKey(torn)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("the torn record's put of key %d was replayed (err = %v)", torn, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestPanicInView: a View whose function panics still ends its bbolt read transaction, which
// would otherwise block Close (and any remap of the file) for good.
func TestPanicInView(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "panic.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("View did not re-raise the panic")
			}
		}()
		_ = db.View(t.Context(), func(storage.Tx) error { panic("boom") })
	}()
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close blocked: the panicking View left its read transaction open")
	}
}
