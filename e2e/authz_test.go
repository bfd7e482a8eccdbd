package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Authorization as the clients meet it: seed 001's bucket policy refusing a state written
// without aws:kms, and seed 002's user limited to one state key, which with stateward also
// cannot lock (or unlock) any other state.

// testSeed001RequiresKMS: seed 001's bucket policy denies s3:PutObject unless the request
// asks for aws:kms. Without kms_key_id (encrypt = true alone asks for AES256) the client's
// state write is refused, and nothing is written or left locked; with it (testSeed001Apply)
// the same backend works.
func (lc *lockCase) testSeed001RequiresKMS(t *testing.T) {
	const key = "common/no-kms"
	d := lc.tc.newDir(t, lc.backendBlock(seed001Bucket, key,
		fmt.Sprintf("dynamodb_table = %q", seed001Table),
		"encrypt        = true",
	)+fmt.Sprintf(greetingTF, "refused"))
	d.init(t)
	r := d.run(t, "apply", "-auto-approve", "-input=false", "-no-color")
	if r.ExitCode == 0 || !strings.Contains(r.Output(), "AccessDenied") {
		t.Fatalf("apply without kms_key_id under seed 001's bucket policy: want an AccessDenied failure, got:\n%s", r)
	}
	if lc.tc.srv.objectExists(t, seed001Bucket, key) {
		t.Errorf("a refused state write left %s/%s behind", seed001Bucket, key)
	}
	lc.checkNoLock(t, seed001Table, seed001Bucket, key)
}

// statePolicy is seed 002's "access to only a single state object" policy for key in
// terraform-remote-store, granting actions on it, with the lock-table permissions seed 002
// lists for the s3 backend.
func statePolicy(key string, actions ...string) string {
	acts, _ := json.Marshal(actions)
	return `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::` + seed003RemoteBucket + `"
    },
    {
      "Effect": "Allow",
      "Action": ` + string(acts) + `,
      "Resource": "arn:aws:s3:::` + seed003RemoteBucket + `/` + key + `"
    },
    {
      "Effect": "Allow",
      "Action": ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
      "Resource": "arn:aws:dynamodb:*:*:table/` + seed003Table + `"
    }
  ]
}`
}

// stateUser creates a user with statePolicy and returns its access key.
func (lc *lockCase) stateUser(t *testing.T, name, key string, actions ...string) (id, secret string) {
	cc := lc.cli
	cc.seedOK(t, "iam", "create-user", "--user-name", name)
	writeFile(t, filepath.Join(cc.dir, name+".json"), []byte(statePolicy(key, actions...)))
	cc.seedSilent(t, "iam", "put-user-policy", "--user-name", name, "--policy-name", "state", "--policy-document", "file://"+name+".json")
	return cc.createAccessKey(t, name)
}

// testOneStateUser: a user whose policy allows one state key (seed 002's policy) inits, plans
// and applies that state, and cannot even initialise another. A second user who may read the
// other state but not write it can plan without a lock, but cannot take the lock, write the
// state, or remove a lock another principal holds on it: the lock table itself is open to
// both (DynamoDB grants cannot be narrower than the table, as seed 002 says), but with
// stateward a lock follows its state.
func (lc *lockCase) testOneStateUser(t *testing.T) {
	const mine, other = "myapp/production/tfstate", "myapp/staging/tfstate"
	backend := func(key string) string {
		return lc.backendBlock(seed003RemoteBucket, key, "encrypt        = true", fmt.Sprintf("dynamodb_table = %q", seed003Table))
	}
	id, secret := lc.stateUser(t, "app-production", mine, "s3:GetObject", "s3:PutObject")
	d := lc.tc.newDirAs(t, backend(mine)+fmt.Sprintf(greetingTF, "mine"), id, secret)
	d.init(t)
	d.apply(t)
	d.planNoChanges(t)
	if got := stringOutput(t, lc.tc.stateObject(t, seed003RemoteBucket, mine), "greeting"); got != "mine" {
		t.Errorf("the user's own state: greeting = %q", got)
	}
	lc.checkNoLock(t, seed003Table, seed003RemoteBucket, mine)

	// The root account keeps the other state.
	root := lc.tc.newDir(t, backend(other)+fmt.Sprintf(greetingTF, "theirs"))
	root.init(t)
	root.apply(t)
	before := lc.tc.srv.getObject(t, seed003RemoteBucket, other)

	// Not even readable: init stops at reading it (403, as on AWS).
	o := lc.tc.newDirAs(t, backend(other)+fmt.Sprintf(greetingTF, "mine now"), id, secret)
	if r := o.run(t, "init", "-input=false", "-no-color"); r.ExitCode == 0 || !strings.Contains(r.Output(), "403") {
		t.Errorf("init on another state: want a 403 refusal, got:\n%s", r)
	}

	// Readable, not writable: reading works, locking does not.
	rid, rsecret := lc.stateUser(t, "app-staging-reader", other, "s3:GetObject")
	rd := lc.tc.newDirAs(t, backend(other)+fmt.Sprintf(greetingTF, "changed"), rid, rsecret)
	rd.init(t)
	if r := rd.run(t, "plan", "-input=false", "-no-color", "-lock-timeout=0s"); r.ExitCode == 0 ||
		!strings.Contains(r.Output(), "Error acquiring the state lock") || !strings.Contains(r.Output(), "AccessDenied") {
		t.Errorf("plan by a reader: want the lock refused with AccessDenied, got:\n%s", r)
	}
	lc.checkNoLock(t, seed003Table, seed003RemoteBucket, other)
	rd.ok(t, "plan", "-input=false", "-no-color", "-lock=false")
	if r := rd.run(t, "apply", "-auto-approve", "-input=false", "-no-color", "-lock=false"); r.ExitCode == 0 || !strings.Contains(r.Output(), "AccessDenied") {
		t.Errorf("apply -lock=false by a reader: want the state write refused with AccessDenied, got:\n%s", r)
	}
	if after := lc.tc.srv.getObject(t, seed003RemoteBucket, other); !bytes.Equal(after, before) {
		t.Errorf("a refused apply changed %s", other)
	}
	// A lock the root holds stays: the reader cannot force it open.
	info := staleLock(seed003RemoteBucket + "/" + other)
	lc.putLockItem(t, seed003Table, info)
	if r := rd.run(t, "force-unlock", "-force", info.ID); r.ExitCode == 0 || !strings.Contains(r.Output(), "AccessDenied") {
		t.Errorf("force-unlock by a reader: want AccessDenied, got:\n%s", r)
	}
	if li := lc.lockItem(t, seed003Table, seed003RemoteBucket, other); li == nil || li.ID != info.ID {
		t.Errorf("after a refused force-unlock the lock item is %+v, want it kept", li)
	}
	root.ok(t, "force-unlock", "-force", info.ID)
}

// putLockItem writes a lock item holding info into table, as a client holding the lock would.
func (lc *lockCase) putLockItem(t testing.TB, table string, info lockInfo) {
	t.Helper()
	raw, _ := json.Marshal(info)
	item, _ := json.Marshal(map[string]map[string]string{"LockID": {"S": info.Path}, "Info": {"S": string(raw)}})
	lc.cli.seedSilent(t, "dynamodb", "put-item", "--table-name", table, "--item", string(item))
}

// deniedCall is one call a principal may not make: the aws CLI arguments, the error code its
// protocol answers with, and a root-side check that nothing changed.
type deniedCall struct {
	args      []string
	code      string
	unchanged func(t *testing.T, root *cliCase)
}

// TestDeniedCalls runs, for principals with no or read-only permissions, a table of calls
// across S3, DynamoDB, KMS, IAM and Organizations: each is refused in its client's wire format
// (S3's and the Query services' AccessDenied, the JSON services' AccessDeniedException) with
// AWS's "is not authorized to perform" message, writes nothing, and is counted in /metrics.
func TestDeniedCalls(t *testing.T) {
	cli := awsCLIs[1] // Debian's v2, as the locking suite uses
	bin := cli.binary(t)
	srv := startServer(t, serverOpts{})
	root := newCLICase(t, cli, bin, srv)
	account := root.callerAccount(t)
	root.ok(t, "s3api", "create-bucket", "--bucket", "guarded")
	writeFile(t, filepath.Join(root.dir, "state.json"), []byte(`{"version":4}`))
	root.ok(t, "s3api", "put-object", "--bucket", "guarded", "--key", "kept", "--body", "state.json")
	root.ok(t, "dynamodb", "create-table", "--table-name", "locks", "--attribute-definitions", "AttributeName=LockID,AttributeType=S",
		"--key-schema", "AttributeName=LockID,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
	var key struct{ KeyMetadata struct{ KeyId string } }
	root.okJSON(t, &key, "kms", "create-key")

	users := map[string]string{"nobody": "", "reader": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
	callers := map[string]*cliCase{}
	for name, managed := range users {
		root.ok(t, "iam", "create-user", "--user-name", name)
		if managed != "" {
			root.ok(t, "iam", "attach-user-policy", "--user-name", name, "--policy-arn", managed)
		}
		var out struct {
			AccessKey struct{ AccessKeyId, SecretAccessKey string }
		}
		root.okJSON(t, &out, "iam", "create-access-key", "--user-name", name)
		callers[name] = root.as(out.AccessKey.AccessKeyId, out.AccessKey.SecretAccessKey)
	}
	absent := func(args ...string) func(t *testing.T, root *cliCase) {
		return func(t *testing.T, root *cliCase) {
			if r := root.aws(t, args...); r.Err == nil {
				t.Errorf("aws %s found what a refused call must not have made:\n%s", strings.Join(args, " "), r)
			}
		}
	}
	present := func(args ...string) func(t *testing.T, root *cliCase) {
		return func(t *testing.T, root *cliCase) { root.ok(t, args...) }
	}
	item := `{"LockID":{"S":"guarded/kept"}}`
	writes := []deniedCall{
		{[]string{"s3api", "put-object", "--bucket", "guarded", "--key", "new", "--body", "state.json"}, "AccessDenied",
			absent("s3api", "head-object", "--bucket", "guarded", "--key", "new")},
		{[]string{"s3api", "delete-object", "--bucket", "guarded", "--key", "kept"}, "AccessDenied",
			present("s3api", "head-object", "--bucket", "guarded", "--key", "kept")},
		{[]string{"s3api", "put-bucket-policy", "--bucket", "guarded", "--policy", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::guarded/*"}]}`},
			"AccessDenied", absent("s3api", "get-bucket-policy", "--bucket", "guarded")},
		{[]string{"s3api", "create-bucket", "--bucket", "squatted"}, "AccessDenied", absent("s3api", "head-bucket", "--bucket", "squatted")},
		{[]string{"dynamodb", "put-item", "--table-name", "locks", "--item", item}, "AccessDeniedException",
			func(t *testing.T, root *cliCase) {
				if r := root.ok(t, "dynamodb", "get-item", "--table-name", "locks", "--key", item); strings.Contains(string(r.Stdout), "Item") {
					t.Errorf("a refused put-item wrote the item:\n%s", r)
				}
			}},
		{[]string{"dynamodb", "delete-table", "--table-name", "locks"}, "AccessDeniedException", present("dynamodb", "describe-table", "--table-name", "locks")},
		{[]string{"kms", "schedule-key-deletion", "--key-id", key.KeyMetadata.KeyId}, "AccessDeniedException",
			func(t *testing.T, root *cliCase) {
				var out struct{ KeyMetadata struct{ KeyState string } }
				root.okJSON(t, &out, "kms", "describe-key", "--key-id", key.KeyMetadata.KeyId)
				if out.KeyMetadata.KeyState != "Enabled" {
					t.Errorf("after a refused schedule-key-deletion the key is %s", out.KeyMetadata.KeyState)
				}
			}},
		{[]string{"iam", "create-user", "--user-name", "mallory"}, "AccessDenied", absent("iam", "get-user", "--user-name", "mallory")},
		{[]string{"iam", "attach-user-policy", "--user-name", "CALLER", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess"}, "AccessDenied",
			func(t *testing.T, root *cliCase) {
				for name := range users {
					var out struct{ AttachedPolicies []struct{ PolicyName string } }
					root.okJSON(t, &out, "iam", "list-attached-user-policies", "--user-name", name)
					for _, p := range out.AttachedPolicies {
						if p.PolicyName == "AdministratorAccess" {
							t.Errorf("%s escalated itself to AdministratorAccess", name)
						}
					}
				}
			}},
		{[]string{"organizations", "create-organization"}, "AccessDeniedException", absent("organizations", "describe-organization")},
	}
	for name, cc := range callers {
		t.Run(name, func(t *testing.T) {
			calls := writes
			if name == "nobody" {
				calls = append(calls,
					deniedCall{[]string{"s3api", "get-object", "--bucket", "guarded", "--key", "kept", "out.json"}, "AccessDenied", nil},
					deniedCall{[]string{"kms", "create-key"}, "AccessDeniedException", nil},
					deniedCall{[]string{"dynamodb", "list-tables"}, "AccessDeniedException", nil})
			} else {
				// Read-only means reading works.
				cc.ok(t, "s3api", "get-object", "--bucket", "guarded", "--key", "kept", "out.json")
				cc.ok(t, "dynamodb", "describe-table", "--table-name", "locks")
			}
			for _, c := range calls {
				args := slices.Clone(c.args)
				for i, a := range args {
					if a == "CALLER" {
						args[i] = name
					}
				}
				t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
					r := cc.aws(t, args...)
					if r.Err == nil {
						t.Fatalf("allowed, want %s:\n%s", c.code, r)
					}
					want := "(" + c.code + ")"
					if !strings.Contains(r.Output(), want) || !strings.Contains(r.Output(), "is not authorized to perform") ||
						!strings.Contains(r.Output(), "arn:aws:iam::"+account+":user/"+name) {
						t.Errorf("want %s naming the caller and AWS's message, got:\n%s", want, r)
					}
					if c.unchanged != nil {
						c.unchanged(t, root)
					}
				})
			}
		})
	}
	// Every refusal is counted by service and action.
	metrics := srv.get(t, "/metrics")
	for _, want := range []string{`stateward_authorization_denials_total{action="s3:PutObject",service="s3"} 2`,
		`stateward_authorization_denials_total{action="iam:CreateUser",service="iam"} 2`,
		`stateward_authorization_denials_total{action="dynamodb:PutItem",service="dynamodb"} 2`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// get fetches an unsigned path (the operational endpoints) and returns the body.
func (s *server) get(t testing.TB, path string) string {
	t.Helper()
	resp, err := s.HTTPClient.Get(s.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
