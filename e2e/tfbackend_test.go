package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// tfClient is one Terraform-compatible client under test.
type tfClient struct {
	name string // binary name in $STATEWARD_CLIENTS_BIN
	// legacyOptions: the pre-1.6 backend option names (endpoint, sts_endpoint, force_path_style).
	legacyOptions bool
	// lockfile: supports use_lockfile (S3-native locking).
	lockfile bool
}

var tfClients = []tfClient{
	{name: "tofu-1.12.6", lockfile: true},
	{name: "terraform-1.8.5"},
	{name: "terraform-1.5.7", legacyOptions: true},
}

// TestTerraformS3Backend runs every backend "s3" scenario for each client over HTTP and HTTPS.
// Each (client, transport) pair gets its own server; scenarios run sequentially on it, each in
// its own bucket. Clients run in parallel with each other (bounded by -parallel).
func TestTerraformS3Backend(t *testing.T) {
	for _, c := range tfClients {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bin := clientBinary(t, c.name)
			for _, tls := range []bool{false, true} {
				t.Run(transportName(tls), func(t *testing.T) {
					srv := startServer(t, serverOpts{TLS: tls})
					tc := &tfCase{client: c, bin: bin, srv: srv}
					t.Run("apply", tc.testApply)
					t.Run("state-push", tc.testStatePush)
					t.Run("workspaces", func(t *testing.T) { tc.testWorkspaces(t, "") })
					t.Run("workspaces-custom-prefix", func(t *testing.T) { tc.testWorkspaces(t, "workspaces") })
					t.Run("remote-state", tc.testRemoteState)
					t.Run("large-state", tc.testLargeState)
					if c.lockfile {
						t.Run("lockfile", tc.testLockfile)
					}
				})
			}
		})
	}
}

// tfCase is one client against one server.
type tfCase struct {
	client tfClient
	bin    string
	srv    *server
}

// backendAttrs is the body of a backend "s3" block (and of a terraform_remote_state config
// object): the options that point the client at the server. extra lines are appended verbatim.
func (tc *tfCase) backendAttrs(bucket, key string, extra ...string) string {
	u := tc.srv.URL
	lines := []string{
		fmt.Sprintf("bucket = %q", bucket),
		fmt.Sprintf("key    = %q", key),
		fmt.Sprintf("region = %q", region),
	}
	if tc.client.legacyOptions {
		lines = append(lines,
			fmt.Sprintf("endpoint     = %q", u),
			fmt.Sprintf("sts_endpoint = %q", u),
			fmt.Sprintf("iam_endpoint = %q", u),
			"force_path_style = true",
		)
	} else {
		lines = append(lines,
			fmt.Sprintf("endpoints = {\n  s3  = %q\n  sts = %q\n  iam = %q\n}", u, u, u),
			"use_path_style = true",
		)
	}
	lines = append(lines, extra...)
	return indent(strings.Join(lines, "\n"), "    ")
}

// backendBlock is a terraform { backend "s3" { … } } block.
func (tc *tfCase) backendBlock(bucket, key string, extra ...string) string {
	return fmt.Sprintf("terraform {\n  backend \"s3\" {\n%s\n  }\n}\n", tc.backendAttrs(bucket, key, extra...))
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// tfDir is a working directory with its own HOME and environment for one configuration.
type tfDir struct {
	tc  *tfCase
	dir string
	env []string
}

// newDir writes main.tf into a fresh working directory and prepares the client's environment:
// an empty CLI config, no AWS profile or shared files (HOME is private), the server's keys, and
// for HTTPS the server's certificate as AWS_CA_BUNDLE.
func (tc *tfCase) newDir(t *testing.T, mainTF string) *tfDir {
	t.Helper()
	return tc.newDirAs(t, mainTF, tc.srv.AccessKey, tc.srv.SecretKey)
}

// newDirAs is newDir with the client signing as another access key.
func (tc *tfCase) newDirAs(t *testing.T, mainTF, keyID, secret string) *tfDir {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "work")
	home := filepath.Join(root, "home")
	cliConfig := filepath.Join(home, "empty.tfrc")
	writeFile(t, cliConfig, nil)
	writeFile(t, filepath.Join(dir, "main.tf"), []byte(mainTF))
	extra := []string{
		"HOME=" + home,
		"TF_CLI_CONFIG_FILE=" + cliConfig,
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		"AWS_ACCESS_KEY_ID=" + keyID,
		"AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_EC2_METADATA_DISABLED=true",
	}
	if tc.srv.TLS {
		extra = append(extra, "AWS_CA_BUNDLE="+tc.srv.CAFile)
	}
	if v := os.Getenv("STATEWARD_E2E_TF_LOG"); v != "" {
		extra = append(extra, "TF_LOG="+v)
	}
	return &tfDir{tc: tc, dir: dir, env: cleanEnv(extra)}
}

// run runs the client with args in the directory and returns the result, whatever the exit code.
func (d *tfDir) run(t *testing.T, args ...string) *cmdResult {
	t.Helper()
	return runCmd(t, d.dir, d.env, d.tc.bin, args...)
}

// ok runs the client and fails the test with its full output unless it exits 0.
func (d *tfDir) ok(t *testing.T, args ...string) *cmdResult {
	t.Helper()
	return mustRun(t, d.dir, d.env, d.tc.bin, args...)
}

func (d *tfDir) init(t *testing.T) {
	t.Helper()
	d.ok(t, "init", "-input=false", "-no-color")
}

func (d *tfDir) apply(t *testing.T, args ...string) {
	t.Helper()
	d.ok(t, append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, args...)...)
}

// planNoChanges asserts that `plan -detailed-exitcode` reports no changes (exit 0).
func (d *tfDir) planNoChanges(t *testing.T, args ...string) {
	t.Helper()
	r := d.run(t, append([]string{"plan", "-detailed-exitcode", "-input=false", "-no-color"}, args...)...)
	switch r.ExitCode {
	case 0:
	case 2:
		t.Errorf("plan -detailed-exitcode = 2 (changes pending), want 0 (no changes):\n%s", r)
	default:
		t.Fatalf("plan failed:\n%s", r)
	}
}

// pull runs `state pull` and parses its output.
func (d *tfDir) pull(t *testing.T) (*tfState, []byte) {
	t.Helper()
	r := d.ok(t, "state", "pull")
	st, err := parseState(r.Stdout)
	if err != nil {
		t.Fatalf("state pull output is not a state: %v\n%s", err, r)
	}
	return st, r.Stdout
}

// outputRaw runs `output -raw name`.
func (d *tfDir) outputRaw(t *testing.T, name string) string {
	t.Helper()
	return string(d.ok(t, "output", "-no-color", "-raw", name).Stdout)
}

// workspaces runs `workspace list` and returns the names (current marker removed).
func (d *tfDir) workspaces(t *testing.T) []string {
	t.Helper()
	r := d.ok(t, "workspace", "list", "-no-color")
	var names []string
	for _, l := range strings.Split(string(r.Stdout), "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "*"))
		if l != "" {
			names = append(names, l)
		}
	}
	return names
}

// tfState is the part of a Terraform v4 state file the tests look at.
type tfState struct {
	Version          int                      `json:"version"`
	TerraformVersion string                   `json:"terraform_version"`
	Serial           int64                    `json:"serial"`
	Lineage          string                   `json:"lineage"`
	Outputs          map[string]tfStateOutput `json:"outputs"`
	Resources        []json.RawMessage        `json:"resources"`
}

type tfStateOutput struct {
	Value     json.RawMessage `json:"value"`
	Sensitive bool            `json:"sensitive"`
}

func parseState(b []byte) (*tfState, error) {
	var st tfState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	if st.Version != 4 || st.Lineage == "" {
		return nil, fmt.Errorf("not a v4 state (version %d, lineage %q)", st.Version, st.Lineage)
	}
	return &st, nil
}

// stringOutput returns output name of st as a string, failing the test if absent or not a string.
func stringOutput(t testing.TB, st *tfState, name string) string {
	t.Helper()
	o, ok := st.Outputs[name]
	if !ok {
		t.Fatalf("state has no output %q (outputs: %v)", name, keysOf(st.Outputs))
	}
	var s string
	if err := json.Unmarshal(o.Value, &s); err != nil {
		t.Fatalf("output %q = %.200s: not a string: %v", name, o.Value, err)
	}
	return s
}

// stateObject fetches bucket/key through the S3 API and parses it as a state.
func (tc *tfCase) stateObject(t testing.TB, bucket, key string) *tfState {
	t.Helper()
	b := tc.srv.getObject(t, bucket, key)
	st, err := parseState(b)
	if err != nil {
		t.Fatalf("S3 object %s/%s (%d bytes) is not a state: %v\n%.2000s", bucket, key, len(b), err, b)
	}
	return st
}

func (tc *tfCase) label() string {
	return tc.client.name + " over " + transportName(tc.srv.TLS)
}

const greetingTF = `
variable "greeting" {
  type    = string
  default = %q
}

resource "terraform_data" "greeting" {
  input = var.greeting
}

output "greeting" {
  value = terraform_data.greeting.output
}
`

// testApply: init + apply → the state object exists, state pull and the S3 object both carry
// the output, and a second plan shows no changes.
func (tc *tfCase) testApply(t *testing.T) {
	const bucket, key = "scenario-apply", "app/terraform.tfstate"
	tc.srv.CreateBucket(t, bucket)
	want := "hello from " + tc.label()
	d := tc.newDir(t, tc.backendBlock(bucket, key)+fmt.Sprintf(greetingTF, want))
	d.init(t)
	d.apply(t)

	if !tc.srv.objectExists(t, bucket, key) {
		t.Fatalf("after apply, s3://%s/%s does not exist; bucket holds %q", bucket, key, tc.srv.listKeys(t, bucket, ""))
	}
	if got := stringOutput(t, tc.stateObject(t, bucket, key), "greeting"); got != want {
		t.Errorf("S3 state object: output greeting = %q, want %q", got, want)
	}
	st, _ := d.pull(t)
	if got := stringOutput(t, st, "greeting"); got != want {
		t.Errorf("state pull: output greeting = %q, want %q", got, want)
	}
	if len(st.Resources) != 1 {
		t.Errorf("state pull: %d resources, want 1", len(st.Resources))
	}
	if got := d.outputRaw(t, "greeting"); got != want {
		t.Errorf("output -raw greeting = %q, want %q", got, want)
	}
	d.planNoChanges(t)
}

// testStatePush: pull, bump the serial and change an output, push; a second pull and the S3
// object show the pushed state.
func (tc *tfCase) testStatePush(t *testing.T) {
	const bucket, key = "scenario-push", "push/terraform.tfstate"
	tc.srv.CreateBucket(t, bucket)
	d := tc.newDir(t, tc.backendBlock(bucket, key)+fmt.Sprintf(greetingTF, "before push"))
	d.init(t)
	d.apply(t)
	before, raw := d.pull(t)

	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	doc["serial"] = before.Serial + 1
	const pushed = "set by state push"
	doc["outputs"].(map[string]any)["greeting"].(map[string]any)["value"] = pushed
	mod, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(d.dir, "pushed.tfstate"), mod)
	d.ok(t, "state", "push", "pushed.tfstate")

	// The client may bump the serial once more when it persists the pushed state.
	after, _ := d.pull(t)
	if after.Serial <= before.Serial {
		t.Errorf("after push: serial = %d, want > %d", after.Serial, before.Serial)
	}
	if after.Lineage != before.Lineage {
		t.Errorf("after push: lineage = %q, want %q", after.Lineage, before.Lineage)
	}
	if got := stringOutput(t, after, "greeting"); got != pushed {
		t.Errorf("after push: state pull output greeting = %q, want %q", got, pushed)
	}
	obj := tc.stateObject(t, bucket, key)
	if obj.Serial != after.Serial || stringOutput(t, obj, "greeting") != pushed {
		t.Errorf("after push: S3 object has serial %d, greeting %q; state pull has %d, want greeting %q",
			obj.Serial, stringOutput(t, obj, "greeting"), after.Serial, pushed)
	}
}

// testWorkspaces: create dev, apply there, list, switch back, delete. With prefix "" the
// default env: prefix is used and dev is deleted with -force; with a custom prefix dev is
// destroyed first and deleted without -force.
func (tc *tfCase) testWorkspaces(t *testing.T, prefix string) {
	bucket, key := "scenario-ws", "ws/terraform.tfstate"
	var extra []string
	wsPrefix := "env:"
	if prefix != "" {
		bucket = "scenario-ws-prefix"
		wsPrefix = prefix
		extra = append(extra, fmt.Sprintf("workspace_key_prefix = %q", prefix))
	}
	devKey := wsPrefix + "/dev/" + key
	tc.srv.CreateBucket(t, bucket)

	// The default workspace gets state too, so that listing must tell it apart from dev.
	d := tc.newDir(t, tc.backendBlock(bucket, key, extra...)+fmt.Sprintf(greetingTF, "default workspace"))
	d.init(t)
	d.apply(t)

	d.ok(t, "workspace", "new", "-no-color", "dev")
	if got := strings.TrimSpace(string(d.ok(t, "workspace", "show").Stdout)); got != "dev" {
		t.Errorf("workspace show = %q, want dev", got)
	}
	d.apply(t, "-var", "greeting=dev workspace")
	if !tc.srv.objectExists(t, bucket, devKey) {
		t.Fatalf("while dev exists, s3://%s/%s is missing; bucket holds %q", bucket, devKey, tc.srv.listKeys(t, bucket, ""))
	}
	if got := stringOutput(t, tc.stateObject(t, bucket, devKey), "greeting"); got != "dev workspace" {
		t.Errorf("S3 object %s: greeting = %q, want %q", devKey, got, "dev workspace")
	}
	if prefix != "" && tc.srv.objectExists(t, bucket, "env:/dev/"+key) {
		t.Errorf("with workspace_key_prefix = %q, s3://%s/env:/dev/%s exists too", prefix, bucket, key)
	}
	st, _ := d.pull(t)
	if got := stringOutput(t, st, "greeting"); got != "dev workspace" {
		t.Errorf("state pull in dev: greeting = %q, want %q", got, "dev workspace")
	}
	if ws := d.workspaces(t); !slices.Contains(ws, "default") || !slices.Contains(ws, "dev") || len(ws) != 2 {
		t.Errorf("workspace list = %q, want [default dev]", ws)
	}

	deleteArgs := []string{"workspace", "delete", "-no-color", "-force", "dev"}
	if prefix != "" {
		// Empty the workspace so that it can be deleted without -force.
		d.ok(t, "destroy", "-auto-approve", "-input=false", "-no-color", "-var", "greeting=dev workspace")
		deleteArgs = []string{"workspace", "delete", "-no-color", "dev"}
	}
	d.ok(t, "workspace", "select", "-no-color", "default")
	// The default workspace's state is untouched by dev.
	st, _ = d.pull(t)
	if got := stringOutput(t, st, "greeting"); got != "default workspace" {
		t.Errorf("state pull in default: greeting = %q, want %q", got, "default workspace")
	}
	d.ok(t, deleteArgs...)
	if tc.srv.objectExists(t, bucket, devKey) {
		t.Errorf("after workspace delete dev, s3://%s/%s still exists", bucket, devKey)
	}
	if ws := d.workspaces(t); !slices.Equal(ws, []string{"default"}) {
		t.Errorf("after delete: workspace list = %q, want [default]", ws)
	}
	if !tc.srv.objectExists(t, bucket, key) {
		t.Errorf("after deleting dev, the default state s3://%s/%s is gone", bucket, key)
	}
	d.planNoChanges(t)
}

// testRemoteState: a second configuration reads the first one's output through
// data "terraform_remote_state" with backend "s3" and re-exports it.
func (tc *tfCase) testRemoteState(t *testing.T) {
	const bucket = "scenario-remote"
	const producerKey, consumerKey = "producer/terraform.tfstate", "consumer/terraform.tfstate"
	tc.srv.CreateBucket(t, bucket)
	want := "shared by the producer (" + tc.label() + ")"

	producer := tc.newDir(t, tc.backendBlock(bucket, producerKey)+fmt.Sprintf(`
output "shared" {
  value = %q
}

output "number" {
  value = 42
}
`, want))
	producer.init(t)
	producer.apply(t)

	consumer := tc.newDir(t, tc.backendBlock(bucket, consumerKey)+fmt.Sprintf(`
data "terraform_remote_state" "producer" {
  backend = "s3"
  config = {
%s
  }
}

output "reexport" {
  value = data.terraform_remote_state.producer.outputs.shared
}

output "number_plus_one" {
  value = data.terraform_remote_state.producer.outputs.number + 1
}
`, tc.backendAttrs(bucket, producerKey)))
	consumer.init(t)
	consumer.apply(t)
	if got := consumer.outputRaw(t, "reexport"); got != want {
		t.Errorf("consumer output reexport = %q, want %q", got, want)
	}
	if got := consumer.outputRaw(t, "number_plus_one"); got != "43" {
		t.Errorf("consumer output number_plus_one = %q, want 43", got)
	}
	if got := stringOutput(t, tc.stateObject(t, bucket, consumerKey), "reexport"); got != want {
		t.Errorf("S3 object %s: reexport = %q, want %q", consumerKey, got, want)
	}
	consumer.planNoChanges(t)
}

// Large state: 1000 chunks of 7000 zero-padded digits = 7,000,000 bytes (> 6 MiB, so Terraform
// uploads it in parts). range() stops at 1024 elements and many small elements make the
// expression slow, hence few wide ones. Each chunk ends in its own number and chunks do not line
// up with 5 MiB part boundaries, so a dropped, repeated or reordered part changes the hash.
// Sensitive keeps the value out of plan output.
const (
	bigChunks, bigWidth = 1000, 7000
	bigTF               = `
locals {
  big = join("", [for i in range(%d) : format("%%0%dd", i)])
}

output "big" {
  value     = local.big
  sensitive = true
}

output "big_len" {
  value = length(local.big)
}

output "rev" {
  value = %d
}
`
)

func bigValue() string {
	var b strings.Builder
	b.Grow(bigChunks * bigWidth)
	for i := 0; i < bigChunks; i++ {
		fmt.Fprintf(&b, "%0*d", bigWidth, i)
	}
	return b.String()
}

// testLargeState: a state above 6 MiB (Terraform: multipart upload, ranged GETs) survives a
// round trip byte for byte, and can be overwritten.
func (tc *tfCase) testLargeState(t *testing.T) {
	const bucket, key = "scenario-large", "large/terraform.tfstate"
	tc.srv.CreateBucket(t, bucket)
	big := bigValue()
	wantSum := sha256.Sum256([]byte(big))

	check := func(t *testing.T, d *tfDir, rev int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		head, err := tc.srv.S3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("HeadObject %s/%s: %v", bucket, key, err)
		}
		obj := tc.srv.getObject(t, bucket, key)
		if n := aws.ToInt64(head.ContentLength); n != int64(len(obj)) {
			t.Errorf("HeadObject Content-Length = %d, GetObject returned %d bytes", n, len(obj))
		}
		if len(obj) <= 6<<20 {
			t.Errorf("state object is %d bytes; the scenario needs > 6 MiB", len(obj))
		}
		pulled, raw := d.pull(t)
		for _, src := range []struct {
			name string
			raw  []byte
			st   *tfState
		}{{"S3 object", obj, tc.stateObject(t, bucket, key)}, {"state pull", raw, pulled}} {
			got := stringOutput(t, src.st, "big")
			if sum := sha256.Sum256([]byte(got)); sum != wantSum {
				t.Errorf("%s (%d bytes): output big has %d bytes, sha256 %s; want %d bytes, sha256 %s (first difference at byte %d)",
					src.name, len(src.raw), len(got), hex.EncodeToString(sum[:8]), len(big), hex.EncodeToString(wantSum[:8]), firstDiff(got, big))
			}
			if r := string(src.st.Outputs["rev"].Value); r != fmt.Sprint(rev) {
				t.Errorf("%s: output rev = %s, want %d", src.name, r, rev)
			}
		}
		if !bytes.Equal(bytes.TrimSpace(raw), bytes.TrimSpace(obj)) {
			// Not an error by itself (state pull re-serializes), but worth seeing when
			// something else fails.
			t.Logf("note: state pull output (%d bytes) differs from the S3 object (%d bytes) at byte %d", len(raw), len(obj), firstDiff(string(raw), string(obj)))
		}
	}

	d := tc.newDir(t, tc.backendBlock(bucket, key)+fmt.Sprintf(bigTF, bigChunks, bigWidth, 1))
	d.init(t)
	d.apply(t)
	check(t, d, 1)
	if got := d.outputRaw(t, "big_len"); got != fmt.Sprint(len(big)) {
		t.Errorf("output big_len = %s, want %d", got, len(big))
	}
	d.planNoChanges(t)

	// Overwrite the large object with a new one.
	writeFile(t, filepath.Join(d.dir, "main.tf"), []byte(tc.backendBlock(bucket, key)+fmt.Sprintf(bigTF, bigChunks, bigWidth, 2)))
	d.apply(t)
	check(t, d, 2)
	d.planNoChanges(t)
}

func firstDiff(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) == len(b) {
		return -1
	}
	return n
}

// lockTF holds the state lock open: its provisioner waits (at most 120 s) for a release file.
const lockTF = `
variable "run" {
  type = string
}

variable "release_file" {
  type = string
}

resource "terraform_data" "hold" {
  triggers_replace = var.run

  provisioner "local-exec" {
    command = "i=0; while [ ! -e \"$RELEASE\" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done"
    environment = {
      RELEASE = var.release_file
    }
  }
}

output "run" {
  value = terraform_data.hold.output
}
`

// lockInfo is Terraform's LockInfo, as stored in <key>.tflock.
type lockInfo struct {
	ID        string `json:"ID"`
	Operation string `json:"Operation"`
	Info      string `json:"Info"`
	Who       string `json:"Who"`
	Version   string `json:"Version"`
	Created   string `json:"Created"`
	Path      string `json:"Path"`
}

// staleLock is a lock left behind by a client that died, as Terraform would have written it
// for the state at path (<bucket>/<key>), with the ID the force-unlock tests free.
func staleLock(path string) lockInfo {
	return lockInfo{
		ID:        "test-lock-id",
		Operation: "OperationTypeApply",
		Who:       "e2e@stateward",
		Version:   "1.12.6",
		// As json.Marshal writes a time.Time, so that OpenTofu's conditional unlock, which
		// compares Info with its own re-encoding, matches.
		Created: time.Now().UTC().Format(time.RFC3339Nano),
		Path:    path,
	}
}

var (
	lockIDRe = regexp.MustCompile(`(?m)^\s*ID:\s+(\S+)`)
	lockOpRe = regexp.MustCompile(`(?m)^\s*Operation:\s+OperationTypeApply\s*$`)
)

// checkLockRefusal checks that r, an apply run while another held the lock, failed and
// printed the holder's Lock Info: its ID (heldID, as read from the holder, the lock object or
// item) and who, when and what.
func checkLockRefusal(t *testing.T, r *cmdResult, heldID, holder string) {
	t.Helper()
	if r.ExitCode == 0 {
		t.Errorf("second apply succeeded while the first held the lock:\n%s", r)
		return
	}
	out := r.Output()
	m := lockIDRe.FindStringSubmatch(out)
	switch {
	case !strings.Contains(out, "Lock Info:"):
		t.Errorf("second apply failed without printing Lock Info:\n%s", r)
	case m == nil:
		t.Errorf("second apply printed no lock ID:\n%s", r)
	case m[1] != heldID:
		t.Errorf("second apply reports lock ID %q, the %s holds %q:\n%s", m[1], holder, heldID, r)
	case !strings.Contains(out, "Who:") || !strings.Contains(out, "Created:") || !lockOpRe.MatchString(out):
		t.Errorf("second apply's Lock Info lacks Who:, Created: or Operation: OperationTypeApply:\n%s", r)
	}
}

// testLockfile (use_lockfile = true): a second apply fails fast on the lock the first one
// holds; a stale lock object blocks plans until force-unlock removes it.
func (tc *tfCase) testLockfile(t *testing.T) {
	const bucket, key = "scenario-lock", "lock/terraform.tfstate"
	const lockKey = key + ".tflock"
	tc.srv.CreateBucket(t, bucket)
	d := tc.newDir(t, tc.backendBlock(bucket, key, "use_lockfile = true")+lockTF)
	release := filepath.Join(filepath.Dir(d.dir), "release")
	vars := func(run string) []string { return []string{"-var", "run=" + run, "-var", "release_file=" + release} }
	d.init(t)

	t.Run("concurrent-apply", func(t *testing.T) {
		defer writeFile(t, release, nil) // whatever happens, let the first apply finish
		// First apply, in the background; it holds the lock until the release file appears.
		first := d.background(t, append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, vars("1")...)...)
		deadline := time.Now().Add(90 * time.Second)
		for !tc.srv.objectExists(t, bucket, lockKey) {
			if first.finished() {
				t.Fatalf("first apply ended (%v) before its lock object appeared:\n%s", first.err, first.out.String())
			}
			if time.Now().After(deadline) {
				t.Fatalf("no s3://%s/%s within 90s of starting the first apply; its output so far:\n%s", bucket, lockKey, first.out.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
		var held lockInfo
		if err := json.Unmarshal(tc.srv.getObject(t, bucket, lockKey), &held); err != nil || held.ID == "" {
			t.Fatalf("lock object %s is not LockInfo JSON with an ID: %v", lockKey, err)
		}
		if held.Path != bucket+"/"+key {
			t.Errorf("lock object Path = %q, want %q", held.Path, bucket+"/"+key)
		}

		r := d.run(t, append([]string{"apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=0s"}, vars("2")...)...)
		checkLockRefusal(t, r, held.ID, "lock object")

		writeFile(t, release, nil)
		first.wait(t, "first apply")
		if tc.srv.objectExists(t, bucket, lockKey) {
			t.Errorf("after the first apply finished, s3://%s/%s still exists", bucket, lockKey)
		}
	})

	t.Run("force-unlock", func(t *testing.T) {
		writeFile(t, release, nil)
		body, _ := json.Marshal(staleLock(bucket + "/" + key))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := tc.srv.S3().PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(lockKey),
			Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
		}); err != nil {
			t.Fatalf("PutObject %s: %v", lockKey, err)
		}

		r := d.run(t, append([]string{"plan", "-input=false", "-no-color", "-lock-timeout=0s"}, vars("1")...)...)
		if r.ExitCode == 0 || !strings.Contains(r.Output(), "test-lock-id") {
			t.Errorf("plan against a stale lock: want a failure naming test-lock-id, got:\n%s", r)
		}
		d.ok(t, "force-unlock", "-force", "test-lock-id")
		if tc.srv.objectExists(t, bucket, lockKey) {
			t.Errorf("after force-unlock, s3://%s/%s still exists", bucket, lockKey)
		}
		d.planNoChanges(t, append([]string{"-lock-timeout=0s"}, vars("1")...)...)
	})
}
