//lint:file-ignore SA1019 Terraform's S3 backend uploads and downloads through feature/s3/manager; these tests drive that same code.

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/stateward/stateward/internal/storage"
	"github.com/stateward/stateward/internal/storage/bolt"
)

// The benchmarks run stateward as a separate process (this test binary re-executed as
// `stateward serve`), so that its memory is measured alone and clients and server do not share
// a Go runtime. Results and the machine they ran on are recorded in docs/benchmarks.md.

const benchServeEnv = "STATEWARD_BENCH_SERVE"

func TestMain(m *testing.M) {
	if args := os.Getenv(benchServeEnv); args != "" {
		// STATEWARD_BENCH_CPUPROFILE=file profiles the server side of a benchmark.
		if path := os.Getenv("STATEWARD_BENCH_CPUPROFILE"); path != "" {
			f, err := os.Create(path)
			if err == nil && pprof.StartCPUProfile(f) == nil {
				defer f.Close()
				defer pprof.StopCPUProfile()
			}
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		code := (&Main{Stdout: os.Stdout, Stderr: io.Discard, Getenv: os.Getenv}).Run(ctx, strings.Fields(args))
		stop()
		if code != 0 {
			os.Exit(code)
		}
		return
	}
	os.Exit(m.Run())
}

// benchServer is a stateward process on loopback.
type benchServer struct {
	cmd *exec.Cmd
	url string
	cfg aws.Config
	s3  *s3.Client
	ddb *dynamodb.Client
	pid int
}

func startBenchServer(b *testing.B) *benchServer {
	b.Helper()
	dir := b.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), benchServeEnv+"=serve --addr "+addr+" --data-dir "+dir+" --log-level error")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	go io.Copy(io.Discard, out)
	url := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("server not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	id, secret := readCredentials(b, filepath.Join(dir, "credentials"))
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 256
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
		HTTPClient:  &http.Client{Transport: transport},
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(url)
		o.UsePathStyle = true
	})
	ddb := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url) })
	return &benchServer{cmd: cmd, url: url, cfg: cfg, s3: client, ddb: ddb, pid: cmd.Process.Pid}
}

func readCredentials(b testing.TB, path string) (id, secret string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " = ")
		switch {
		case !ok:
		case k == "aws_access_key_id":
			id = v
		case k == "aws_secret_access_key":
			secret = v
		}
	}
	return id, secret
}

// procStatus reads fields of /proc/<pid>/status in bytes: VmHWM is the peak resident set,
// RssAnon the process's own memory, RssFile the file pages it has mapped (bbolt's mmap).
func procStatus(b *testing.B, pid int, fields ...string) []int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int64, len(fields))
	for _, line := range strings.Split(string(raw), "\n") {
		for i, f := range fields {
			if v, ok := strings.CutPrefix(line, f+":"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				out[i] = kb << 10
			}
		}
	}
	return out
}

// rssSampler records the highest anonymous and file-backed resident sizes of a process while
// it runs.
type rssSampler struct {
	stop             chan struct{}
	done             chan struct{}
	maxAnon, maxFile int64
}

func sampleRSS(b *testing.B, pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			v := procStatus(b, pid, "RssAnon", "RssFile")
			s.maxAnon, s.maxFile = max(s.maxAnon, v[0]), max(s.maxFile, v[1])
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) finish() { close(s.stop); <-s.done }

// runConcurrent runs op b.N times across workers and reports latency percentiles and ops/s.
func runConcurrent(b *testing.B, workers int, op func(i int) error) {
	b.Helper()
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t := time.Now()
				if err := op(i); err != nil {
					errc <- err
					return
				}
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	finishRun(b, lat, start, errc)
}

// finishRun stops the timer once every operation has returned, fails on the first error, and
// reports the latencies.
func finishRun(b *testing.B, lat []time.Duration, start time.Time, errc <-chan error) {
	elapsed := time.Since(start)
	b.StopTimer()
	select {
	case err := <-errc:
		b.Fatal(err)
	default:
	}
	reportLatency(b, lat, elapsed)
}

func reportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "ops/s")
}

func randomBytes(b *testing.B, n int) []byte {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		b.Fatal(err)
	}
	return buf
}

// BenchmarkPutObject100KiB: durable PutObject of 100 KiB through the SDK over loopback.
func BenchmarkPutObject100KiB(b *testing.B) {
	for _, workers := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", workers), func(b *testing.B) {
			srv := startBenchServer(b)
			ctx := context.Background()
			body := randomBytes(b, 100<<10)
			if _, err := srv.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			runConcurrent(b, workers, func(i int) error {
				_, err := srv.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"),
					Key: aws.String(fmt.Sprintf("ws-%d/terraform.tfstate", i%256)), Body: bytes.NewReader(body)})
				return err
			})
		})
	}
}

// BenchmarkGetObject100KiB: GetObject of 100 KiB through the SDK over loopback.
func BenchmarkGetObject100KiB(b *testing.B) {
	for _, workers := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", workers), func(b *testing.B) {
			srv := startBenchServer(b)
			ctx := context.Background()
			body := randomBytes(b, 100<<10)
			if _, err := srv.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < 64; i++ {
				if _, err := srv.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"),
					Key: aws.String(fmt.Sprintf("k%d", i)), Body: bytes.NewReader(body)}); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(body)))
			runConcurrent(b, workers, func(i int) error {
				out, err := srv.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String(fmt.Sprintf("k%d", i%64))})
				if err != nil {
					return err
				}
				n, err := io.Copy(io.Discard, out.Body)
				out.Body.Close()
				if err == nil && n != int64(len(body)) {
					err = fmt.Errorf("read %d bytes, want %d", n, len(body))
				}
				return err
			})
		})
	}
}

// BenchmarkLargeObject100MiB: one 100 MiB object up (multipart, as the CLI and Terraform do it)
// and down, reporting how far the server's peak RSS rose above its idle peak.
func BenchmarkLargeObject100MiB(b *testing.B) {
	srv := startBenchServer(b)
	ctx := context.Background()
	body := randomBytes(b, 100<<20)
	if _, err := srv.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	// Warm the server up with a small request so the baseline includes its steady state.
	if _, err := srv.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("warm"), Body: bytes.NewReader(body[:1<<20])}); err != nil {
		b.Fatal(err)
	}
	base := procStatus(b, srv.pid, "VmHWM", "RssAnon", "RssFile")
	sampler := sampleRSS(b, srv.pid)
	b.SetBytes(2 * int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		up := manager.NewUploader(srv.s3)
		if _, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("big"), Body: bytes.NewReader(body)}); err != nil {
			b.Fatal(err)
		}
		out, err := srv.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("big")})
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, out.Body)
		out.Body.Close()
		if err != nil || n != int64(len(body)) {
			b.Fatalf("read %d bytes (%v), want %d", n, err, len(body))
		}
	}
	b.StopTimer()
	sampler.finish()
	peak := procStatus(b, srv.pid, "VmHWM")[0]
	const mib = 1 << 20
	b.ReportMetric(float64(base[0])/mib, "idle-peak-RSS-MiB")
	b.ReportMetric(float64(peak-base[0])/mib, "extra-peak-RSS-MiB")
	b.ReportMetric(float64(sampler.maxAnon-base[1])/mib, "extra-anon-MiB")
	b.ReportMetric(float64(sampler.maxFile-base[2])/mib, "extra-file-mapped-MiB")
}

// BenchmarkFloorWriteFsync100KiB is the floor PutObject is measured against: writing the same
// 100 KiB to a new file and fsyncing it, on the same file system.
func BenchmarkFloorWriteFsync100KiB(b *testing.B) {
	dir := b.TempDir()
	body := randomBytes(b, 100<<10)
	lat := make([]time.Duration, b.N)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		f, err := os.Create(filepath.Join(dir, strconv.Itoa(i%256)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Write(body); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		lat[i] = time.Since(t)
	}
	b.StopTimer()
	reportLatency(b, lat, time.Since(start))
}

// BenchmarkFloorSDKRoundTrip100KiB is the client's share of a PutObject: the SDK signing and
// sending 100 KiB over loopback to a handler that only reads the body and answers 200.
func BenchmarkFloorSDKRoundTrip100KiB(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("ETag", `"0"`)
	}))
	defer srv.Close()
	client := s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")},
		func(o *s3.Options) { o.BaseEndpoint = aws.String(srv.URL); o.UsePathStyle = true })
	body := randomBytes(b, 100<<10)
	b.SetBytes(int64(len(body)))
	runConcurrent(b, 1, func(i int) error {
		_, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("k"), Body: bytes.NewReader(body)})
		return err
	})
}

// BenchmarkFloorStoreCommit100KiB is the store's share: one durable Update putting 100 KiB,
// through the same engine and options the server uses (a lone writer: one log append and its
// fdatasync).
func BenchmarkFloorStoreCommit100KiB(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "floor.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	body := randomBytes(b, 100<<10)
	b.SetBytes(int64(len(body)))
	runConcurrent(b, 1, func(i int) error {
		return db.Update(context.Background(), func(tx storage.Tx) error { return tx.Put(fmt.Appendf(nil, "k%09d", i), body) })
	})
}

// BenchmarkStateCycle is one OpenTofu state operation with a DynamoDB lock table, call for
// call as its s3 backend makes them (WIRE.md 2.9, 2.12): lock (conditional PutItem), read
// (HeadObject, GetObject, digest GetItem), write 100 KiB (PutObject, digest PutItem), unlock
// (GetItem, conditional DeleteItem). Each worker owns a workspace.
func BenchmarkStateCycle(b *testing.B) {
	// rate 0: each workspace runs cycles back to back (closed loop, the machine's capacity).
	// rate > 0: cycles arrive at that many per second overall, each taken by a free workspace
	// (open loop, as independent runs arrive); latency counts from the scheduled start, so time
	// spent waiting for a free workspace is included.
	for _, c := range []struct{ workspaces, rate int }{{1, 0}, {64, 0}, {64, 500}} {
		name := fmt.Sprintf("workspaces=%d", c.workspaces)
		if c.rate > 0 {
			name += fmt.Sprintf("/rate=%d", c.rate)
		}
		b.Run(name, func(b *testing.B) {
			srv := startBenchServer(b)
			ctx := context.Background()
			if _, err := srv.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tfstate")}); err != nil {
				b.Fatal(err)
			}
			if _, err := srv.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("locks"),
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
				BillingMode:          ddbtypes.BillingModePayPerRequest}); err != nil {
				b.Fatal(err)
			}
			state := randomBytes(b, 100<<10)
			workspace := make(chan string, c.workspaces)
			for i := 0; i < c.workspaces; i++ {
				workspace <- fmt.Sprintf("env:/ws%d/terraform.tfstate", i)
			}
			cycle := func(int) error {
				key := <-workspace
				defer func() { workspace <- key }()
				return stateCycle(context.Background(), srv, key, state)
			}
			if c.rate > 0 {
				runOpenLoop(b, c.rate, cycle)
				return
			}
			runConcurrent(b, c.workspaces, cycle)
		})
	}
}

// runOpenLoop starts op number i at start + i/rate whether or not earlier ones have finished,
// and measures each from that scheduled time, so a slow server cannot hide its queueing by
// slowing the arrivals down.
func runOpenLoop(b *testing.B, rate int, op func(i int) error) {
	b.Helper()
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	errc := make(chan error, b.N)
	interval := time.Second / time.Duration(rate)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := op(i); err != nil {
				errc <- err
				return
			}
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	finishRun(b, lat, start, errc)
}

func stateCycle(ctx context.Context, srv *benchServer, key string, state []byte) error {
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	table := aws.String("locks")
	lockID := "tfstate/" + key
	info := `{"ID":"` + key + `","Operation":"OperationTypeApply","Info":"","Who":"bench@host","Version":"1.12.6","Created":"2026-11-23T00:00:00Z","Path":"` + lockID + `"}`
	if _, err := srv.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: table, ConditionExpression: aws.String("attribute_not_exists(LockID)"),
		Item: map[string]ddbtypes.AttributeValue{"LockID": s(lockID), "Info": s(info)}}); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if _, err := srv.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("tfstate"), Key: &key}); err == nil {
		out, err := srv.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tfstate"), Key: &key})
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, out.Body)
		out.Body.Close()
		if err != nil {
			return err
		}
	}
	if _, err := srv.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"LockID": s(lockID + "-md5")}, ProjectionExpression: aws.String("LockID, Digest")}); err != nil {
		return err
	}
	if _, err := srv.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tfstate"), Key: &key, Body: bytes.NewReader(state),
		ContentType: aws.String("application/json")}); err != nil {
		return err
	}
	if _, err := srv.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: table,
		Item: map[string]ddbtypes.AttributeValue{"LockID": s(lockID + "-md5"), "Digest": s("0123456789abcdef0123456789abcdef")}}); err != nil {
		return err
	}
	if _, err := srv.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"LockID": s(lockID)}, ProjectionExpression: aws.String("LockID, Info")}); err != nil {
		return err
	}
	if _, err := srv.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, ConditionExpression: aws.String("Info = :info"),
		Key: map[string]ddbtypes.AttributeValue{"LockID": s(lockID)}, ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":info": s(info)}}); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}

// BenchmarkStateCycleAs runs the state cycle as the account's root user and as an IAM user
// whose permissions come from 3 groups and 10 policies with conditions, on one server, so the
// cost of authorizing a real principal shows against the root's (which reads no policies).
// The third principal is the user's session (GetSessionToken). Compare in rounds
// (docs/benchmarks.md): one run per round, -count 1, STATEWARD_BENCH_ROUND=1, 2, … rotating
// the order.
func BenchmarkStateCycleAs(b *testing.B) {
	srv := startBenchServer(b)
	ctx := context.Background()
	if _, err := srv.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tfstate")}); err != nil {
		b.Fatal(err)
	}
	if _, err := srv.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("locks"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest}); err != nil {
		b.Fatal(err)
	}
	// A bucket policy as teams write them: every request is evaluated against it.
	if _, err := srv.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("tfstate"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::tfstate"},` +
			`{"Sid":"TLSOrLoopback","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::tfstate/*","Condition":{"Bool":{"aws:SecureTransport":"false"},"NotIpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}]}`)}); err != nil {
		b.Fatal(err)
	}
	userKey, userSecret := benchUser(b, srv)
	user := srv.as(userKey, userSecret, "")
	// The same user's temporary credentials (GetSessionToken): the same policies, plus the
	// session's record read and token check on every request.
	tok, err := sts.NewFromConfig(user.cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.url) }).
		GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(36 * 3600)})
	if err != nil {
		b.Fatal(err)
	}
	session := srv.as(aws.ToString(tok.Credentials.AccessKeyId), aws.ToString(tok.Credentials.SecretAccessKey), aws.ToString(tok.Credentials.SessionToken))
	state := randomBytes(b, 100<<10)
	principals := []struct {
		name string
		srv  *benchServer
	}{{"root", srv}, {"user", user}, {"session", session}}
	// STATEWARD_BENCH_ROUND=n rotates the order by n, so that rounds can alternate it.
	if n, _ := strconv.Atoi(os.Getenv("STATEWARD_BENCH_ROUND")); n > 0 {
		k := n % len(principals)
		principals = append(principals[k:], principals[:k]...)
	}
	for _, p := range principals {
		b.Run("principal="+p.name, func(b *testing.B) {
			key := "env:/" + p.name + "/terraform.tfstate"
			runConcurrent(b, 1, func(int) error { return stateCycle(context.Background(), p.srv, key, state) })
		})
	}
}

// benchUser creates, as the root user, an IAM user allowed the state cycle through 3 groups
// and 10 policies (inline and managed, some with conditions and wildcards), and returns its
// access key.
func benchUser(b *testing.B, srv *benchServer) (id, secret string) {
	b.Helper()
	ctx := context.Background()
	c := iam.NewFromConfig(srv.cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(srv.url) })
	must := func(_ any, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	doc := func(stmts ...string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`)
	}
	allow := func(action, resource, cond string) string {
		s := `{"Effect":"Allow","Action":` + action + `,"Resource":"` + resource + `"`
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return s + "}"
	}
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("deployer"), Path: aws.String("/ci/")}))
	// Ten policies: two inline on the user, two managed on it, and per group one inline and
	// one managed; only some of them matter for any one request, as in real accounts.
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String("state"),
		PolicyDocument: doc(allow(`["s3:GetObject","s3:PutObject"]`, "arn:aws:s3:::tfstate/env:/*", `{"IpAddress":{"aws:SourceIp":["127.0.0.0/8","10.0.0.0/8"]}}`))}))
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String("deny-other-buckets"),
		PolicyDocument: doc(`{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::tfstate","arn:aws:s3:::tfstate/*"]}`)}))
	for i, grp := range []string{"readers", "lockers", "auditors"} {
		must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(grp)}))
		must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(grp), UserName: aws.String("deployer")}))
		inline := [...]*string{
			doc(allow(`"s3:ListBucket"`, "arn:aws:s3:::tfstate", `{"StringLike":{"s3:prefix":["env:/*",""]}}`)),
			doc(allow(`["dynamodb:GetItem","dynamodb:PutItem","dynamodb:DeleteItem"]`, "arn:aws:dynamodb:*:*:table/locks", "")),
			doc(allow(`["iam:Get*","iam:List*"]`, "*", "")),
		}[i]
		must(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(grp), PolicyName: aws.String(grp), PolicyDocument: inline}))
		p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(grp + "-managed"),
			PolicyDocument: doc(allow(`"kms:Describe*"`, "*", `{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}`))})
		must(p, err)
		must(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(grp), PolicyArn: p.Policy.Arn}))
	}
	for _, arn := range []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"} {
		must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("deployer"), PolicyArn: aws.String(arn)}))
	}
	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("deployer")})
	must(out, err)
	return aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey)
}

// as returns the server's clients signing with another access key (and session token).
func (s *benchServer) as(id, secret, token string) *benchServer {
	cfg := s.cfg
	cfg.Credentials = credentials.NewStaticCredentialsProvider(id, secret, token)
	c := *s
	c.cfg = cfg
	c.s3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(s.url); o.UsePathStyle = true })
	c.ddb = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(s.url) })
	return &c
}

// BenchmarkAssumeRole is AssumeRole calls per second, with 1 and 8 callers: the trust policy
// decision, the caller's identity policies, and one session record written (a durable
// commit) per call.
func BenchmarkAssumeRole(b *testing.B) {
	for _, callers := range []int{1, 8} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			srv := startBenchServer(b)
			ctx := context.Background()
			c := iam.NewFromConfig(srv.cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(srv.url) })
			id, err := sts.NewFromConfig(srv.cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.url) }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				b.Fatal(err)
			}
			role, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bench"), AssumeRolePolicyDocument: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + aws.ToString(id.Account) + `"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"bench"}}}]}`)})
			if err != nil {
				b.Fatal(err)
			}
			client := sts.NewFromConfig(srv.cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.url) })
			runConcurrent(b, callers, func(i int) error {
				_, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: role.Role.Arn,
					RoleSessionName: aws.String(fmt.Sprintf("s%d", i)), ExternalId: aws.String("bench")})
				return err
			})
		})
	}
}
