package dynamodb_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestAWSCLISeeds runs the seeds' `aws dynamodb` lines verbatim against the server, when an
// aws CLI is installed.
func TestAWSCLISeeds(t *testing.T) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("no aws CLI on PATH")
	}
	if testing.Short() {
		t.Skip("starts the aws CLI several times")
	}
	env := newEnv(t)
	empty := t.TempDir() + "/empty"
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(line string) []byte {
		t.Helper()
		args := strings.Fields(strings.ReplaceAll(line, "\\\n", " "))
		if args[0] != "aws" {
			t.Fatalf("not an aws command: %s", line)
		}
		cmd := exec.Command(bin, args[1:]...)
		// The machine's own AWS settings (profiles, CA bundle, …) stay out of it.
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, "AWS_ENDPOINT_URL="+env.URL, "AWS_ACCESS_KEY_ID="+testAKID,
			"AWS_SECRET_ACCESS_KEY="+testSecret, "AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty,
			"AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		return out
	}
	// Seed 001, as printed there.
	out := run(`aws dynamodb create-table \
        --region eu-west-1 \
        --table-name terraform_locks \
        --attribute-definitions AttributeName=LockID,AttributeType=S \
        --key-schema AttributeName=LockID,KeyType=HASH \
        --provisioned-throughput ReadCapacityUnits=1,WriteCapacityUnits=1`)
	var created struct {
		TableDescription struct{ TableName, TableStatus string }
	}
	if err := json.Unmarshal(out, &created); err != nil || created.TableDescription.TableStatus != "ACTIVE" {
		t.Errorf("create-table printed %s (%v)", out, err)
	}
	// WIRE.md §6's on-demand variant.
	run(`aws dynamodb create-table --table-name tf-locks --attribute-definitions AttributeName=LockID,AttributeType=S --key-schema AttributeName=LockID,KeyType=HASH --billing-mode PAY_PER_REQUEST`)
	run(`aws dynamodb wait table-exists --region eu-west-1 --table-name terraform_locks`)
	out = run(`aws dynamodb describe-table --table-name tf-locks`)
	if !strings.Contains(string(out), `"BillingMode": "PAY_PER_REQUEST"`) {
		t.Errorf("describe-table printed %s", out)
	}
	run(`aws dynamodb put-item --table-name terraform_locks --item {"LockID":{"S":"b/k"},"Info":{"S":"x"}} --condition-expression attribute_not_exists(LockID)`)
	out = run(`aws dynamodb scan --table-name terraform_locks`)
	if !strings.Contains(string(out), `"Count": 1`) {
		t.Errorf("scan printed %s", out)
	}
	out = run(`aws dynamodb list-tables`)
	if !strings.Contains(string(out), `"terraform_locks"`) || !strings.Contains(string(out), `"tf-locks"`) {
		t.Errorf("list-tables printed %s", out)
	}
}
