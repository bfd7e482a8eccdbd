package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	// cmdTimeout bounds every client command (tofu, terraform, aws).
	cmdTimeout = 3 * time.Minute
	// readyTimeout bounds how long a freshly started server may take to answer /readyz.
	readyTimeout = 30 * time.Second
	// region is the server's default region, which every client is configured with.
	region = "us-east-1"
)

// stateward is the binary under test, built at most once per test process (see statewardBinary).
var stateward struct {
	once sync.Once
	dir  string // temp dir owned by TestMain
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stateward-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	stateward.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// statewardBinary returns the path of the stateward binary, building ./cmd/stateward into
// TestMain's temp dir on first use. The build is lazy so that `go test -run XXX` and runs where
// every test skips do not pay for (or fail on) it; a build failure fails every test that needs a
// server, with the compiler output.
func statewardBinary(t testing.TB) string {
	t.Helper()
	stateward.once.Do(func() {
		if p := os.Getenv("STATEWARD_BIN"); p != "" {
			stateward.path, stateward.err = filepath.Abs(p)
			return
		}
		root, err := repoRoot()
		if err != nil {
			stateward.err = err
			return
		}
		out := filepath.Join(stateward.dir, "stateward")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/stateward")
		cmd.Dir = root
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			stateward.err = fmt.Errorf("go build ./cmd/stateward (in %s): %v\n%s", root, err, b)
			return
		}
		fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", out, time.Since(start).Round(time.Millisecond))
		stateward.path = out
	})
	if stateward.err != nil {
		t.Fatalf("stateward binary: %v", stateward.err)
	}
	return stateward.path
}

// repoRoot is the module root: the parent of this package's directory.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	root := filepath.Dir(wd)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("repo root not found above %s: %w", wd, err)
	}
	return root, nil
}

// missingClient is the one place that decides what a missing client binary means: a skip on a
// developer machine, a failure in CI (CI=true), where every client must be present.
func missingClient(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("client missing (CI=true makes this fatal): %s", msg)
	}
	t.Skipf("client missing: %s", msg)
}

// clientBinary returns the path of a pinned Terraform-compatible client (e.g. "tofu-1.12.6") in
// $STATEWARD_CLIENTS_BIN, or skips/fails through missingClient.
func clientBinary(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("STATEWARD_CLIENTS_BIN")
	if dir == "" {
		missingClient(t, "%s: STATEWARD_CLIENTS_BIN is not set; run STATEWARD_CLIENTS_BIN=$(scripts/install-clients | tail -1) go test ./e2e/...", name)
		return ""
	}
	p := filepath.Join(dir, name)
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		missingClient(t, "%s: no executable at %s (is scripts/install-clients still building it?)", name, p)
		return ""
	}
	return p
}

// serverOpts selects how a test server is started.
type serverOpts struct {
	TLS    bool   // --tls-self-signed: serve HTTPS with DIR/tls/cert.pem
	Region string // --region, when not empty (the server's default is us-east-1)
	// Args are more flags; Env more environment (KEY=VALUE) for the process.
	Args []string
	Env  []string
}

// server is one running `stateward serve` process, owned by a test.
type server struct {
	URL       string // endpoint URL, http://127.0.0.1:PORT or https://…
	Addr      string // 127.0.0.1:PORT
	DataDir   string
	TLS       bool
	CAFile    string // DIR/tls/cert.pem when TLS, else ""
	AccessKey string
	SecretKey string
	// HTTPClient trusts the server's certificate; use it for raw requests (presigned URLs).
	HTTPClient *http.Client

	cmd      *exec.Cmd
	stderr   *tailBuffer
	exited   chan struct{} // closed when the process has exited
	waitErr  error         // valid after exited is closed
	stopping bool
}

// startServer starts `stateward serve` on a free loopback port with a fresh data directory,
// waits for /readyz, and reads the generated credentials. The process is stopped in t.Cleanup;
// if the test failed, its stderr is logged.
func startServer(t *testing.T, opts serverOpts) *server {
	t.Helper()
	bin := statewardBinary(t)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		srv, err := tryStartServer(t, bin, opts)
		if err == nil {
			return srv
		}
		lastErr = err
		// Only a lost race for the port is worth another try.
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatalf("start stateward: %v", lastErr)
	return nil
}

func tryStartServer(t *testing.T, bin string, opts serverOpts) (*server, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	dataDir := t.TempDir()
	args := []string{"serve", "--addr", addr, "--data-dir", dataDir}
	scheme := "http"
	if opts.TLS {
		args = append(args, "--tls-self-signed")
		scheme = "https"
	}
	if opts.Region != "" {
		args = append(args, "--region", opts.Region)
	}
	args = append(args, opts.Args...)
	srv := &server{
		URL:     scheme + "://" + addr,
		Addr:    addr,
		DataDir: dataDir,
		TLS:     opts.TLS,
		stderr:  newTailBuffer(1 << 20),
		exited:  make(chan struct{}),
	}
	cmd := exec.Command(bin, args...)
	// The server reads STATEWARD_* settings from the environment; only the flags count here.
	cmd.Env = append(slices.DeleteFunc(cleanEnv(nil), func(kv string) bool { return strings.HasPrefix(kv, "STATEWARD_") }), opts.Env...)
	cmd.Stdout = srv.stderr // stdout is not part of the contract; keep it with the logs
	cmd.Stderr = srv.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", bin, strings.Join(args, " "), err)
	}
	srv.cmd = cmd
	go func() {
		srv.waitErr = cmd.Wait()
		close(srv.exited)
	}()
	t.Logf("started %s %s (pid %d)", filepath.Base(bin), strings.Join(args, " "), cmd.Process.Pid)

	t.Cleanup(func() { srv.stop(t) })

	if err := srv.waitReady(); err != nil {
		srv.abandon()
		return nil, fmt.Errorf("%w\n--- server stderr ---\n%s", err, srv.stderr.String())
	}
	if err := srv.readCredentials(); err != nil {
		return nil, err
	}
	return srv, nil
}

// stop ends the server: SIGTERM, then SIGKILL after 10 s. An unexpected earlier exit (a crash
// during the test) fails the test.
func (s *server) stop(t *testing.T) {
	select {
	case <-s.exited:
		if !s.stopping {
			t.Errorf("stateward exited before the test ended: %v", s.waitErr)
		}
	default:
		s.stopping = true
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			t.Logf("stateward did not stop within 10s of SIGTERM; killing it")
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if t.Failed() || os.Getenv("STATEWARD_E2E_SERVER_LOG") != "" {
		t.Logf("--- stateward stderr (%s, last %d bytes kept) ---\n%s", s.Addr, s.stderr.cap, s.stderr.String())
	}
}

// abandon kills a server that failed to start, so that stop does not report its exit.
func (s *server) abandon() {
	s.stopping = true
	_ = s.cmd.Process.Kill()
	<-s.exited
}

func (s *server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	var lastErr error = errors.New("no attempt made")
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("stateward exited before it was ready: %v", s.waitErr)
		default:
		}
		if s.HTTPClient == nil {
			c, err := s.newHTTPClient()
			if err != nil {
				lastErr = err
				time.Sleep(100 * time.Millisecond)
				continue
			}
			s.HTTPClient = c
		}
		resp, err := s.HTTPClient.Get(s.URL + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /readyz: %s", resp.Status)
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("stateward not ready within %s: %v", readyTimeout, lastErr)
}

// newHTTPClient returns a client for the server; for TLS it trusts only DIR/tls/cert.pem, which
// the server writes at startup (an error until the file exists and parses).
func (s *server) newHTTPClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	if s.TLS {
		caFile := filepath.Join(s.DataDir, "tls", "cert.pem")
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", caFile)
		}
		s.CAFile = caFile
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}, nil
}

func (s *server) readCredentials() error {
	path := filepath.Join(s.DataDir, "credentials")
	ini, err := readINI(path)
	if err != nil {
		return err
	}
	sec, ok := ini["stateward"]
	if !ok {
		return fmt.Errorf("%s: no [stateward] profile", path)
	}
	s.AccessKey, s.SecretKey = sec["aws_access_key_id"], sec["aws_secret_access_key"]
	if s.AccessKey == "" || s.SecretKey == "" {
		return fmt.Errorf("%s: [stateward] lacks aws_access_key_id or aws_secret_access_key", path)
	}
	return nil
}

// S3 returns an aws-sdk-go-v2 S3 client for the server: path style, static credentials, the
// SDK's default checksum behaviour, and for TLS an HTTP client trusting the server's cert.
func (s *server) S3() *s3.Client {
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.Proxy = nil
			if c, ok := s.HTTPClient.Transport.(*http.Transport); ok && c.TLSClientConfig != nil {
				tr.TLSClientConfig = c.TLSClientConfig.Clone()
			}
		}),
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.URL)
		o.UsePathStyle = true
	})
}

// CreateBucket creates a bucket through aws-sdk-go-v2 and fails the test on error.
func (s *server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

// objectExists reports whether HeadObject finds bucket/key (false on 404, fatal otherwise).
func (s *server) objectExists(t testing.TB, bucket, key string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.S3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		return true
	}
	var nf *s3types.NotFound
	var nsk *s3types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nsk) {
		return false
	}
	t.Fatalf("HeadObject %s/%s: %v", bucket, key, err)
	return false
}

// getObject returns the body of bucket/key via the SDK, failing the test on error.
func (s *server) getObject(t testing.TB, bucket, key string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := s.S3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject %s/%s: read body: %v", bucket, key, err)
	}
	return b
}

// listKeys returns every key in bucket under prefix (ListObjectsV2, all pages).
func (s *server) listKeys(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.S3(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectsV2 %s prefix %q: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// readINI parses an AWS shared config/credentials file: sections of key = value lines.
func readINI(path string) (map[string]map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	var cur map[string]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			name := strings.TrimSpace(line[1 : len(line)-1])
			cur = map[string]string{}
			out[name] = cur
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || cur == nil {
				return nil, fmt.Errorf("%s:%d: not a key = value line inside a section: %q", path, n, line)
			}
			cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return out, sc.Err()
}

// cleanEnv returns the process environment without anything that could point a client at real
// AWS or at the developer's own configuration (AWS_*, TF_*, CHECKPOINT_*, HOME), plus extra.
func cleanEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.HasPrefix(k, "TF_"), strings.HasPrefix(k, "CHECKPOINT_"), k == "HOME":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// cmdResult is the outcome of one client command.
type cmdResult struct {
	Name     string
	Args     []string
	Dir      string
	Stdout   []byte
	Stderr   []byte
	ExitCode int   // -1 when the process did not run or was killed
	Err      error // nil when the process exited 0
	Elapsed  time.Duration
}

// Output is stdout followed by stderr, for matching messages whichever stream they land on.
func (r *cmdResult) Output() string { return string(r.Stdout) + string(r.Stderr) }

// String renders the command and its full output (each stream capped at 256 KiB) for a log.
func (r *cmdResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ %s %s\n  (in %s; exit %d; %s", filepath.Base(r.Name), strings.Join(r.Args, " "), r.Dir, r.ExitCode, r.Elapsed.Round(time.Millisecond))
	if r.Err != nil {
		fmt.Fprintf(&b, "; %v", r.Err)
	}
	b.WriteString(")\n")
	for _, s := range []struct {
		name string
		data []byte
	}{{"stdout", r.Stdout}, {"stderr", r.Stderr}} {
		fmt.Fprintf(&b, "--- %s (%d bytes) ---\n", s.name, len(s.data))
		const max = 256 << 10
		if len(s.data) > max {
			fmt.Fprintf(&b, "%s\n… [%d bytes cut] …\n", s.data[:max/2], len(s.data)-max)
			b.Write(s.data[len(s.data)-max/2:])
		} else {
			b.Write(s.data)
		}
		if len(s.data) > 0 && s.data[len(s.data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// command prepares a client command bounded by ctx: it runs in its own process group, and a
// cancelled ctx kills the whole group (provisioners, CLI workers) rather than only the leader.
func command(ctx context.Context, dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// runCmd runs a client command to completion under cmdTimeout and logs a one-line summary.
func runCmd(t testing.TB, dir string, env []string, name string, args ...string) *cmdResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := command(ctx, dir, env, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := &cmdResult{Name: name, Args: args, Dir: dir, Stdout: stdout.Bytes(), Stderr: stderr.Bytes(),
		ExitCode: -1, Err: err, Elapsed: time.Since(start)}
	if cmd.ProcessState != nil {
		r.ExitCode = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		r.Err = fmt.Errorf("killed after %s: %w (%v)", cmdTimeout, ctx.Err(), err)
	}
	t.Logf("$ %s %s → exit %d in %s", filepath.Base(name), strings.Join(args, " "), r.ExitCode, r.Elapsed.Round(time.Millisecond))
	return r
}

// mustRun is runCmd that fails the test, with the full output, unless the command exits 0.
func mustRun(t testing.TB, dir string, env []string, name string, args ...string) *cmdResult {
	t.Helper()
	r := runCmd(t, dir, env, name, args...)
	if r.Err != nil {
		t.Fatalf("command failed:\n%s", r)
	}
	return r
}

// tailBuffer keeps the last cap bytes written to it; safe for concurrent use.
type tailBuffer struct {
	mu      sync.Mutex
	cap     int
	buf     []byte
	dropped int64
}

func newTailBuffer(cap int) *tailBuffer { return &tailBuffer{cap: cap} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.cap; over > 0 {
		b.dropped += int64(over)
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("[… %d earlier bytes dropped …]\n%s", b.dropped, b.buf)
	}
	return string(b.buf)
}

// writeFile writes a file for a test, failing it on error.
func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestServeWritesClientFiles checks the first-start contract every other test relies on: the
// 0600 credentials and config files, the TLS certificate, and that /readyz answers.
func TestServeWritesClientFiles(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(transportName(tls), func(t *testing.T) {
			srv := startServer(t, serverOpts{TLS: tls})
			for _, name := range []string{"credentials", "config"} {
				p := filepath.Join(srv.DataDir, name)
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v, want 0600", p, fi.Mode().Perm())
				}
			}
			cfg, err := readINI(filepath.Join(srv.DataDir, "config"))
			if err != nil {
				t.Fatal(err)
			}
			prof, ok := cfg["profile stateward"]
			if !ok {
				t.Fatalf("config: no [profile stateward] section; got sections %v", keysOf(cfg))
			}
			if got := prof["region"]; got != region {
				t.Errorf("config: region = %q, want %q", got, region)
			}
			if got := strings.TrimSuffix(prof["endpoint_url"], "/"); got != srv.URL {
				t.Errorf("config: endpoint_url = %q, want %q", got, srv.URL)
			}
			if tls {
				if srv.CAFile == "" {
					t.Errorf("TLS server: no tls/cert.pem used")
				}
				if resp, err := http.Get(srv.URL + "/readyz"); err == nil {
					resp.Body.Close()
					t.Errorf("GET %s/readyz with the system roots succeeded; want a certificate error for a self-signed cert", srv.URL)
				}
			}
		})
	}
}

func transportName(tls bool) string {
	if tls {
		return "https"
	}
	return "http"
}

func keysOf[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
