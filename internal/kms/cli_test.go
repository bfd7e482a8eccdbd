package kms_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI runs the seeds' commands verbatim with the real aws CLI (botocore), when it is
// installed: aws kms create-key, create-alias, then describe-key and list-aliases, and an
// encrypt/decrypt round trip through the alias.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the aws CLI")
	}
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	e := newEnv(t)
	home := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoint-url", e.url, "--output", "json"}, args...)...)
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env,
			"HOME="+home,
			"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
			"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
			"AWS_ACCESS_KEY_ID=AKIDROOTA",
			"AWS_SECRET_ACCESS_KEY="+secret,
			"AWS_DEFAULT_REGION="+region,
			"AWS_REGION="+region,
			"AWS_MAX_ATTEMPTS=1",
		)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	var created struct {
		KeyMetadata struct {
			KeyID    string `json:"KeyId"`
			Arn      string
			KeyState string
		}
	}
	out := run("kms", "create-key", "--description", "Used by terraform to store remote state")
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create-key printed %s: %v", out, err)
	}
	id := created.KeyMetadata.KeyID
	if !uuidV4.MatchString(id) || created.KeyMetadata.KeyState != "Enabled" {
		t.Fatalf("create-key = %s", out)
	}
	run("kms", "create-alias", "--alias-name", "alias/parameter_store_key", "--target-key-id", id)
	if out := run("kms", "describe-key", "--key-id", "alias/parameter_store_key"); !strings.Contains(out, created.KeyMetadata.Arn) {
		t.Errorf("describe-key by alias = %s", out)
	}
	if out := run("kms", "list-aliases"); !strings.Contains(out, `"alias/parameter_store_key"`) || !strings.Contains(out, id) {
		t.Errorf("list-aliases = %s", out)
	}
	plain := filepath.Join(home, "plain.txt")
	if err := os.WriteFile(plain, []byte("chamber secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	var enc struct{ CiphertextBlob string }
	if err := json.Unmarshal([]byte(run("kms", "encrypt", "--key-id", "alias/parameter_store_key",
		"--plaintext", "fileb://"+plain, "--encryption-context", "app=chamber")), &enc); err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(home, "blob")
	raw, err := decodeBase64(enc.CiphertextBlob)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blob, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var dec struct{ Plaintext string }
	if err := json.Unmarshal([]byte(run("kms", "decrypt", "--ciphertext-blob", "fileb://"+blob,
		"--encryption-context", "app=chamber")), &dec); err != nil {
		t.Fatal(err)
	}
	if got, _ := decodeBase64(dec.Plaintext); string(got) != "chamber secret" {
		t.Errorf("decrypt = %q", got)
	}
}

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
