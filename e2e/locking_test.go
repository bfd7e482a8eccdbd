package e2e

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDynamoDBLockingBackend runs the seeds' backend blocks with DynamoDB locking for each
// Terraform-compatible client over HTTP and HTTPS: each (client, transport) pair gets its own
// server in eu-west-1, set up with the aws CLI v1 as seeds 001 and 003 do it by hand.
func TestDynamoDBLockingBackend(t *testing.T) {
	for _, c := range tfClients {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bin := clientBinary(t, c.name)
			// The setup is the seeds' aws commands, run with Debian's v2 (which
			// scripts/install-clients installs) so that this suite does not hang on v1.
			cli := awsCLIs[1]
			awsBin := cli.binary(t)
			for _, tls := range []bool{false, true} {
				t.Run(transportName(tls), func(t *testing.T) {
					srv := startServer(t, serverOpts{TLS: tls, Region: seedRegion})
					lc := &lockCase{
						tc:  &tfCase{client: c, bin: bin, srv: srv},
						cli: newCLICase(t, cli, awsBin, srv),
					}
					if !t.Run("setup", lc.setup) {
						t.Fatal("setup failed; every scenario depends on it")
					}
					t.Run("seed001-apply", lc.testSeed001Apply)
					t.Run("seed001-policy-requires-kms", lc.testSeed001RequiresKMS)
					t.Run("seed003-apply", lc.testSeed003Apply)
					t.Run("one-state-user", lc.testOneStateUser)
					t.Run("locking", lc.testLocking)
					if c.lockfile {
						t.Run("lockfile-and-dynamodb", lc.testBothLocks)
					}
				})
			}
		})
	}
}

// lockCase is one Terraform-compatible client and the aws CLI against one server.
type lockCase struct {
	tc      *tfCase
	cli     *cliCase
	account string
	key     kmsKeyMetadata // seed 001's KMS key
}

// setup creates what seeds 001 and 003 create by hand before their first `terraform init`.
func (lc *lockCase) setup(t *testing.T) {
	cc := lc.cli
	lc.account = cc.callerAccount(t)

	// Seed 001: KMS key with an alias, a versioned bucket encrypted with it by default whose
	// policy requires aws:kms, and the terraform_locks table.
	lc.key = cc.createSeedKey(t, lc.account)
	cc.createSeedBucket(t, seed001Bucket)
	cc.seedSilent(t, "s3api", "put-bucket-versioning", "--bucket", seed001Bucket, "--versioning-configuration", "Status=Enabled")
	cc.seedSilent(t, "s3api", "put-bucket-encryption", "--bucket", seed001Bucket,
		"--server-side-encryption-configuration",
		`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"`+lc.key.Arn+`"}}]}`)
	cc.putSeedPolicy(t, seed001Bucket, seed001PolicyFor(seed001Bucket))
	cc.createSeed001Table(t, lc.account)

	// Seed 003: terraform-remote-store with its policy and versioning, and the lock table its
	// aws_dynamodb_table resource describes.
	cc.createSeedBucket(t, seed003RemoteBucket)
	cc.putSeedPolicy(t, seed003RemoteBucket, seed003Policy)
	cc.seedSilent(t, "s3api", "put-bucket-versioning", "--bucket", "terraform-remote-store", "--versioning-configuration", "Status=Enabled")
	cc.createSeed003Table(t, lc.account)
}

// backendBlock is a seed's backend "s3" block: bucket, key, region eu-west-1 and extra as the
// seed gives them, plus the endpoint options the rest of the suite uses, with DynamoDB's.
func (lc *lockCase) backendBlock(bucket, key string, extra ...string) string {
	u := lc.tc.srv.URL
	lines := []string{
		fmt.Sprintf("bucket = %q", bucket),
		fmt.Sprintf("key    = %q", key),
		fmt.Sprintf("region = %q", seedRegion),
	}
	lines = append(lines, extra...)
	if lc.tc.client.legacyOptions {
		lines = append(lines,
			fmt.Sprintf("endpoint          = %q", u),
			fmt.Sprintf("sts_endpoint      = %q", u),
			fmt.Sprintf("iam_endpoint      = %q", u),
			fmt.Sprintf("dynamodb_endpoint = %q", u),
			"force_path_style = true",
		)
	} else {
		lines = append(lines,
			fmt.Sprintf("endpoints = {\n  s3       = %q\n  sts      = %q\n  iam      = %q\n  dynamodb = %q\n}", u, u, u, u),
			"use_path_style = true",
		)
	}
	return fmt.Sprintf("terraform {\n  backend \"s3\" {\n%s\n  }\n}\n", indent(strings.Join(lines, "\n"), "    "))
}

// seed001Backend is seed 001's backend block (with encrypt = true, without which the S3 backend
// ignores kms_key_id) for key.
func (lc *lockCase) seed001Backend(key string, extra ...string) string {
	return lc.backendBlock(seed001Bucket, key, append([]string{
		fmt.Sprintf("dynamodb_table = %q", seed001Table),
		fmt.Sprintf("kms_key_id     = %q", lc.key.Arn),
		"encrypt        = true",
	}, extra...)...)
}

// getItem reads the item LockID = lockID with `aws dynamodb get-item` (consistent read) and
// returns its string attributes, or nil when there is no item.
func (lc *lockCase) getItem(t testing.TB, table, lockID string) map[string]string {
	t.Helper()
	k, _ := json.Marshal(map[string]map[string]string{"LockID": {"S": lockID}})
	r := lc.cli.seedOK(t, "dynamodb", "get-item", "--table-name", table, "--key", string(k), "--consistent-read")
	if strings.TrimSpace(string(r.Stdout)) == "" {
		return nil // the CLI prints nothing for an empty response
	}
	var out struct {
		Item map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(r.Stdout, &out); err != nil {
		t.Fatalf("get-item output is not JSON: %v\n%s", err, r)
	}
	if out.Item == nil {
		return nil
	}
	attrs := map[string]string{}
	for name, av := range out.Item {
		s, ok := av["S"]
		if !ok || len(av) != 1 {
			t.Errorf("get-item %s: attribute %s = %v, want a single S value", lockID, name, av)
			continue
		}
		var v string
		if err := json.Unmarshal(s, &v); err != nil {
			t.Errorf("get-item %s: attribute %s: %v", lockID, name, err)
		}
		attrs[name] = v
	}
	return attrs
}

// lockItem returns the LockInfo held in table for bucket/key, or nil when there is no lock item.
func (lc *lockCase) lockItem(t testing.TB, table, bucket, key string) *lockInfo {
	t.Helper()
	item := lc.getItem(t, table, bucket+"/"+key)
	if item == nil {
		return nil
	}
	var li lockInfo
	if err := json.Unmarshal([]byte(item["Info"]), &li); err != nil || li.ID == "" {
		t.Fatalf("lock item %s/%s: Info %q is not LockInfo JSON with an ID (%v); item %v", bucket, key, item["Info"], err, item)
	}
	return &li
}

// checkNoLock fails the test if a lock item for bucket/key remains in table.
func (lc *lockCase) checkNoLock(t testing.TB, table, bucket, key string) {
	t.Helper()
	if li := lc.lockItem(t, table, bucket, key); li != nil {
		t.Errorf("lock item %s/%s remains in %s: %+v", bucket, key, table, *li)
	}
}

// checkDigest: the digest item <bucket>/<key>-md5 holds the MD5 of the state object's bytes.
func (lc *lockCase) checkDigest(t testing.TB, table, bucket, key string) {
	t.Helper()
	obj := lc.tc.srv.getObject(t, bucket, key)
	sum := md5.Sum(obj)
	want := hex.EncodeToString(sum[:])
	item := lc.getItem(t, table, bucket+"/"+key+"-md5")
	switch {
	case item == nil:
		t.Errorf("no digest item %s/%s-md5 in %s", bucket, key, table)
	case item["Digest"] != want:
		t.Errorf("digest item %s/%s-md5 = %v, want Digest %s (MD5 of the %d-byte state object)", bucket, key, item, want, len(obj))
	}
}

// objectHead is the part of `aws s3api head-object` output the scenarios look at.
type objectHead struct {
	ContentLength        int64
	VersionId            string
	ServerSideEncryption string
	SSEKMSKeyId          string
}

func (lc *lockCase) headObject(t testing.TB, bucket, key string) objectHead {
	t.Helper()
	var h objectHead
	lc.cli.seedJSON(t, &h, "s3api", "head-object", "--bucket", bucket, "--key", key)
	if h.VersionId == "" || h.VersionId == "null" {
		t.Errorf("head-object %s/%s: VersionId = %q, want a real version id (the bucket is versioned)", bucket, key, h.VersionId)
	}
	return h
}

// testSeed001Apply: seed 001's backend block; the state is stored under the KMS key, its digest
// recorded, and no lock left behind.
func (lc *lockCase) testSeed001Apply(t *testing.T) {
	const key = "common/production"
	want := "seed 001 via " + lc.tc.label()
	d := lc.tc.newDir(t, lc.seed001Backend(key)+fmt.Sprintf(greetingTF, want))
	d.init(t)
	d.apply(t)

	h := lc.headObject(t, seed001Bucket, key)
	if h.ServerSideEncryption != "aws:kms" || h.SSEKMSKeyId != lc.key.Arn {
		t.Errorf("head-object %s/%s: ServerSideEncryption %q, SSEKMSKeyId %q; want aws:kms, %s", seed001Bucket, key, h.ServerSideEncryption, h.SSEKMSKeyId, lc.key.Arn)
	}
	if got := stringOutput(t, lc.tc.stateObject(t, seed001Bucket, key), "greeting"); got != want {
		t.Errorf("state object: greeting = %q, want %q", got, want)
	}
	lc.checkDigest(t, seed001Table, seed001Bucket, key)
	lc.checkNoLock(t, seed001Table, seed001Bucket, key)
	d.planNoChanges(t)
}

// testSeed003Apply: seed 003's final backend block (encrypt = true, dynamodb_table).
func (lc *lockCase) testSeed003Apply(t *testing.T) {
	const key = "terraform.tfstate"
	want := "seed 003 via " + lc.tc.label()
	d := lc.tc.newDir(t, lc.backendBlock(seed003RemoteBucket, key,
		"encrypt        = true",
		fmt.Sprintf("dynamodb_table = %q", seed003Table),
	)+fmt.Sprintf(greetingTF, want))
	d.init(t)
	d.apply(t)

	if h := lc.headObject(t, seed003RemoteBucket, key); h.ServerSideEncryption != "AES256" {
		t.Errorf("head-object %s/%s: ServerSideEncryption %q, want AES256", seed003RemoteBucket, key, h.ServerSideEncryption)
	}
	if got := stringOutput(t, lc.tc.stateObject(t, seed003RemoteBucket, key), "greeting"); got != want {
		t.Errorf("state object: greeting = %q, want %q", got, want)
	}
	lc.checkDigest(t, seed003Table, seed003RemoteBucket, key)
	lc.checkNoLock(t, seed003Table, seed003RemoteBucket, key)
	d.planNoChanges(t)
}

// bgRun is a client command running in the background.
type bgRun struct {
	args    []string
	out     *tailBuffer
	start   time.Time
	done    chan struct{}
	err     error         // valid after done is closed
	elapsed time.Duration // valid after done is closed
}

// background starts the client with args in d. The command is bounded by cmdTimeout; when the
// test ends it gets another minute to finish (the test releases what it waits for) before its
// process group is killed.
func (d *tfDir) background(t *testing.T, args ...string) *bgRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	b := &bgRun{args: args, out: newTailBuffer(4 << 20), done: make(chan struct{})}
	cmd := command(ctx, d.dir, d.env, d.tc.bin, args...)
	cmd.Stdout, cmd.Stderr = b.out, b.out
	b.start = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Logf("$ %s %s (background)", filepath.Base(d.tc.bin), strings.Join(args, " "))
	go func() {
		b.err = cmd.Wait()
		b.elapsed = time.Since(b.start)
		close(b.done)
	}()
	t.Cleanup(func() {
		select {
		case <-b.done:
		case <-time.After(time.Minute):
		}
		cancel()
		<-b.done
	})
	return b
}

func (b *bgRun) finished() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// wait waits for the command to end and fails the test unless it exited 0.
func (b *bgRun) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(cmdTimeout):
		t.Fatalf("%s did not finish within %s:\n%s", what, cmdTimeout, b.out.String())
	}
	t.Logf("%s → %v in %s", what, b.err, b.elapsed.Round(time.Millisecond))
	if b.err != nil {
		t.Fatalf("%s failed: %v\n$ %s\n%s", what, b.err, strings.Join(b.args, " "), b.out.String())
	}
}

// waitLockItem polls until the lock item for bucket/key exists and returns it, failing the test
// if b ends first or 90 s pass.
func (lc *lockCase) waitLockItem(t *testing.T, b *bgRun, table, bucket, key string) *lockInfo {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if li := lc.lockItem(t, table, bucket, key); li != nil {
			return li
		}
		if b.finished() {
			t.Fatalf("the apply ended (%v) before a lock item %s/%s appeared in %s:\n%s", b.err, bucket, key, table, b.out.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lock item %s/%s in %s within 90s; the apply's output so far:\n%s", bucket, key, table, b.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// holdRun is the triggers_replace (the run variable) of lockTF's terraform_data.hold in st.
func holdRun(t testing.TB, st *tfState) string {
	t.Helper()
	for _, raw := range st.Resources {
		var r struct {
			Type, Name string
			Instances  []struct {
				Attributes struct {
					TriggersReplace json.RawMessage `json:"triggers_replace"`
				} `json:"attributes"`
			} `json:"instances"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("state resource %.200s: %v", raw, err)
		}
		if r.Type != "terraform_data" || r.Name != "hold" || len(r.Instances) != 1 {
			continue
		}
		// A dynamic value: {"value": …, "type": …}.
		var dyn struct{ Value string }
		if err := json.Unmarshal(r.Instances[0].Attributes.TriggersReplace, &dyn); err != nil {
			t.Fatalf("terraform_data.hold triggers_replace %s: %v", r.Instances[0].Attributes.TriggersReplace, err)
		}
		return dyn.Value
	}
	t.Fatalf("state has no terraform_data.hold instance")
	return ""
}

// testLocking: with seed 001's backend, an apply holds the DynamoDB lock; a second one fails
// fast showing the holder, a third with -lock-timeout waits for it and then succeeds; then a
// stale lock item blocks a plan until force-unlock removes it.
func (lc *lockCase) testLocking(t *testing.T) {
	const key = "common/locking"
	d := lc.tc.newDir(t, lc.seed001Backend(key)+lockTF)
	release := filepath.Join(filepath.Dir(d.dir), "release")
	vars := func(run string) []string { return []string{"-var", "run=" + run, "-var", "release_file=" + release} }
	applyArgs := func(run string, extra ...string) []string {
		return append(append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, extra...), vars(run)...)
	}
	d.init(t)

	t.Run("concurrent-apply", func(t *testing.T) {
		defer writeFile(t, release, nil) // whatever happens, let the first apply finish
		first := d.background(t, applyArgs("1")...)
		held := lc.waitLockItem(t, first, seed001Table, seed001Bucket, key)
		if held.Path != seed001Bucket+"/"+key || held.Operation != "OperationTypeApply" {
			t.Errorf("lock item Info: Path %q, Operation %q; want %q, OperationTypeApply", held.Path, held.Operation, seed001Bucket+"/"+key)
		}

		r := d.run(t, applyArgs("2", "-lock-timeout=0s")...)
		checkLockRefusal(t, r, held.ID, "lock item")

		// A third apply that may wait: it must still be waiting when the first lets go. The
		// clients retry a held lock after 1, 2, 4, 8 … s (attempts at about 0, 1, 3, 7 s);
		// releasing at 4.5 s keeps the first's unlock clear of an attempt, since a lock that
		// vanishes between the failed PutItem and the GetItem that reads its holder ends the
		// wait with an error instead of a retry (statemgr.LockWithContext).
		const head = 4500 * time.Millisecond
		third := d.background(t, applyArgs("3", "-lock-timeout=30s")...)
		time.Sleep(head)
		if third.finished() {
			t.Errorf("third apply (-lock-timeout=30s) ended (%v) while the first held the lock:\n%s", third.err, third.out.String())
		}
		if first.finished() {
			t.Errorf("first apply ended (%v) before its release file existed:\n%s", first.err, first.out.String())
		}
		writeFile(t, release, nil)
		first.wait(t, "first apply")
		third.wait(t, "third apply")
		if out := third.out.String(); strings.Contains(out, "Error acquiring the state lock") {
			t.Errorf("third apply succeeded but reported a lock error:\n%s", out)
		}
		if third.elapsed < head {
			t.Errorf("third apply took %s; it should have waited at least %s for the lock", third.elapsed, head)
		}
		if got := holdRun(t, lc.tc.stateObject(t, seed001Bucket, key)); got != "3" {
			t.Errorf("after the third apply, terraform_data.hold has triggers_replace %q, want 3 (the third apply's)", got)
		}
		lc.checkNoLock(t, seed001Table, seed001Bucket, key)
		lc.checkDigest(t, seed001Table, seed001Bucket, key)
	})

	t.Run("force-unlock", func(t *testing.T) {
		writeFile(t, release, nil)
		info, _ := json.Marshal(staleLock(seed001Bucket + "/" + key))
		item, _ := json.Marshal(map[string]map[string]string{
			"LockID": {"S": seed001Bucket + "/" + key},
			"Info":   {"S": string(info)},
		})
		lc.cli.seedSilent(t, "dynamodb", "put-item", "--table-name", seed001Table, "--item", string(item))

		r := d.run(t, append([]string{"plan", "-input=false", "-no-color", "-lock-timeout=0s"}, vars("3")...)...)
		if r.ExitCode == 0 || !strings.Contains(r.Output(), "test-lock-id") {
			t.Errorf("plan against a stale lock item: want a failure naming test-lock-id, got:\n%s", r)
		}
		d.ok(t, "force-unlock", "-force", "test-lock-id")
		lc.checkNoLock(t, seed001Table, seed001Bucket, key)
		d.planNoChanges(t, append([]string{"-lock-timeout=0s"}, vars("3")...)...)
	})
}

// testBothLocks (OpenTofu): use_lockfile = true together with dynamodb_table takes both locks
// during an apply and leaves neither.
func (lc *lockCase) testBothLocks(t *testing.T) {
	const key = "common/both"
	const lockKey = key + ".tflock"
	d := lc.tc.newDir(t, lc.seed001Backend(key, "use_lockfile   = true")+lockTF)
	release := filepath.Join(filepath.Dir(d.dir), "release")
	defer writeFile(t, release, nil)
	d.init(t)

	b := d.background(t, "apply", "-auto-approve", "-input=false", "-no-color", "-var", "run=1", "-var", "release_file="+release)
	held := lc.waitLockItem(t, b, seed001Table, seed001Bucket, key)
	deadline := time.Now().Add(30 * time.Second)
	for !lc.tc.srv.objectExists(t, seed001Bucket, lockKey) {
		if time.Now().After(deadline) || b.finished() {
			t.Fatalf("the DynamoDB lock %s is held but s3://%s/%s does not exist; bucket holds %q\n%s",
				held.ID, seed001Bucket, lockKey, lc.tc.srv.listKeys(t, seed001Bucket, ""), b.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	var file lockInfo
	if err := json.Unmarshal(lc.tc.srv.getObject(t, seed001Bucket, lockKey), &file); err != nil || file.ID == "" {
		t.Errorf("lock object %s is not LockInfo JSON with an ID: %v", lockKey, err)
	}
	t.Logf("held: DynamoDB lock %s, lock file %s", held.ID, file.ID)

	writeFile(t, release, nil)
	b.wait(t, "apply with both locks")
	lc.checkNoLock(t, seed001Table, seed001Bucket, key)
	if lc.tc.srv.objectExists(t, seed001Bucket, lockKey) {
		t.Errorf("after the apply, s3://%s/%s still exists", seed001Bucket, lockKey)
	}
	lc.checkDigest(t, seed001Table, seed001Bucket, key)
	h := lc.headObject(t, seed001Bucket, key)
	if h.ServerSideEncryption != "aws:kms" || h.SSEKMSKeyId != lc.key.Arn {
		t.Errorf("head-object %s/%s: ServerSideEncryption %q, SSEKMSKeyId %q; want aws:kms, %s", seed001Bucket, key, h.ServerSideEncryption, h.SSEKMSKeyId, lc.key.Arn)
	}
}
