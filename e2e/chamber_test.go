package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const chamberVersion = "3.1.4"

// chamberCase is the real chamber CLI against one server.
type chamberCase struct {
	bin string
	dir string
	env []string
}

func (ch *chamberCase) run(t *testing.T, args ...string) *cmdResult {
	t.Helper()
	return runCmd(t, ch.dir, ch.env, ch.bin, args...)
}

// ok runs chamber and fails the test, with its output, unless it exits 0; it returns stdout.
func (ch *chamberCase) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := ch.run(t, args...)
	if r.Err != nil {
		t.Fatalf("chamber failed:\n%s", r)
	}
	return string(r.Stdout)
}

// TestChamber is seed 004's secrets workflow with the real chamber (built by
// scripts/install-clients): Terraform's secret variables kept in SSM as SecureStrings under a
// KMS alias made with `aws kms create-alias`, written, read (latest and by version), listed,
// found, exported as dotenv, JSON and tfvars, injected into a command's environment with
// `chamber exec`, imported, tagged and deleted. It runs once with the endpoint in
// CHAMBER_AWS_SSM_ENDPOINT over HTTP, and once in AWS_ENDPOINT_URL over HTTPS.
func TestChamber(t *testing.T) {
	bin := clientBinary(t, "chamber-"+chamberVersion)
	cli := awsCLIs[1]
	awsBin := cli.binary(t)
	for _, tc := range []struct {
		name, endpointVar string
		tls               bool
	}{
		{"http/CHAMBER_AWS_SSM_ENDPOINT", "CHAMBER_AWS_SSM_ENDPOINT", false},
		{"https/AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, serverOpts{TLS: tc.tls})
			cc := newCLICase(t, cli, awsBin, srv)
			// The key and alias seed 004 makes for chamber (there with Terraform).
			var key struct{ KeyMetadata struct{ KeyId, Arn string } }
			cc.okJSON(t, &key, "kms", "create-key", "--description", "chamber parameter store key")
			cc.ok(t, "kms", "create-alias", "--alias-name", "alias/terraform_secrets", "--target-key-id", key.KeyMetadata.KeyId)

			home := t.TempDir()
			env := []string{"HOME=" + home, "AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey,
				"AWS_REGION=" + region, "AWS_EC2_METADATA_DISABLED=true", "CHAMBER_KMS_KEY_ALIAS=terraform_secrets",
				"CHAMBER_RETRIES=2", tc.endpointVar + "=" + srv.URL}
			if tc.tls {
				env = append(env, "AWS_CA_BUNDLE="+srv.CAFile)
			}
			ch := &chamberCase{bin: bin, dir: t.TempDir(), env: cleanEnv(env)}
			ch.workflow(t, cc, key.KeyMetadata.Arn)
		})
	}
}

func (ch *chamberCase) workflow(t *testing.T, cc *cliCase, keyARN string) {
	ch.ok(t, "write", "terraform", "db_password", "first-password")
	ch.ok(t, "write", "terraform", "db_password", "s3cr3t with spaces & 'quotes'")
	ch.ok(t, "write", "terraform", "api_token", "tok-123")
	ch.ok(t, "write", "--tags", "team=platform", "terraform", "aws_access", "AKIAEXAMPLE")

	// What chamber wrote: SecureStrings under the alias, its version counter in Description.
	var desc struct{ Parameters []ssmParameter }
	cc.okJSON(t, &desc, "ssm", "describe-parameters", "--parameter-filters", "Key=Path,Values=/terraform")
	if got := names(desc.Parameters); !slices.Equal(got, []string{"/terraform/api_token", "/terraform/aws_access", "/terraform/db_password"}) {
		t.Fatalf("parameters after chamber write: %q", got)
	}
	for _, p := range desc.Parameters {
		if p.Type != "SecureString" || p.KeyId != "alias/terraform_secrets" {
			t.Errorf("chamber wrote %+v", p)
		}
	}
	// The value is encrypted under the alias's key: KMS refuses it once the key is disabled.
	cc.ok(t, "kms", "disable-key", "--key-id", keyARN)
	if r := ch.run(t, "read", "terraform", "db_password"); r.Err == nil || !strings.Contains(r.Output(), "InvalidKeyId") {
		t.Errorf("chamber read with the key disabled:\n%s", r)
	}
	cc.ok(t, "kms", "enable-key", "--key-id", keyARN)

	if got := ch.ok(t, "read", "-q", "terraform", "db_password"); got != "s3cr3t with spaces & 'quotes'\n" {
		t.Errorf("chamber read -q = %q", got)
	}
	if got := ch.ok(t, "read", "-q", "--version", "1", "terraform", "db_password"); got != "first-password\n" {
		t.Errorf("chamber read --version 1 = %q", got)
	}
	out := ch.ok(t, "read", "terraform", "db_password")
	if !regexp.MustCompile(`(?m)^db_password\s+s3cr3t with spaces & 'quotes'\s+2\s+.*arn:aws:iam::\d{12}:root`).MatchString(out) {
		t.Errorf("chamber read:\n%s", out)
	}

	out = ch.ok(t, "list", "-e", "terraform")
	for _, want := range []string{`(?m)^db_password\s+2\s+.*s3cr3t with spaces`, `(?m)^api_token\s+1\s+.*tok-123`, `(?m)^aws_access\s+1\s+.*AKIAEXAMPLE`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("chamber list -e: no line like %s:\n%s", want, out)
		}
	}
	// Another service, for the listings across services.
	ch.ok(t, "write", "app/staging", "db_password", "staging-pw")
	out = ch.ok(t, "list-services")
	if !regexp.MustCompile(`(?m)^terraform$`).MatchString(out) || !regexp.MustCompile(`(?m)^app/staging$`).MatchString(out) {
		t.Errorf("chamber list-services:\n%s", out)
	}
	out = ch.ok(t, "find", "db_password")
	if !regexp.MustCompile(`(?m)^terraform\s*$`).MatchString(out) || !regexp.MustCompile(`(?m)^app/staging\s*$`).MatchString(out) {
		t.Errorf("chamber find db_password:\n%s", out)
	}
	out = ch.ok(t, "history", "terraform", "db_password")
	if !regexp.MustCompile(`(?m)^Created\s+1\s+.*:root`).MatchString(out) || !regexp.MustCompile(`(?m)^Updated\s+2\s+.*:root`).MatchString(out) {
		t.Errorf("chamber history:\n%s", out)
	}

	// Seed 004's point: the secrets reach Terraform's process as environment variables.
	out = ch.ok(t, "exec", "terraform", "--", "sh", "-c", `printf '%s|%s' "$DB_PASSWORD" "$API_TOKEN"`)
	if out != "s3cr3t with spaces & 'quotes'|tok-123" {
		t.Errorf("chamber exec: the child saw %q", out)
	}
	out = ch.ok(t, "env", "terraform")
	if !strings.Contains(out, `export DB_PASSWORD='s3cr3t with spaces & '"'"'quotes'"'"''`) || !strings.Contains(out, "export API_TOKEN=tok-123") {
		t.Errorf("chamber env:\n%s", out)
	}
	out = ch.ok(t, "export", "--format", "dotenv", "terraform")
	if !strings.Contains(out, `DB_PASSWORD="s3cr3t with spaces & 'quotes'"`) || !strings.Contains(out, `API_TOKEN="tok-123"`) {
		t.Errorf("chamber export --format dotenv:\n%s", out)
	}
	var exported map[string]string
	if err := json.Unmarshal([]byte(ch.ok(t, "export", "--format", "json", "terraform")), &exported); err != nil ||
		exported["db_password"] != "s3cr3t with spaces & 'quotes'" || exported["api_token"] != "tok-123" || len(exported) != 3 {
		t.Errorf("chamber export --format json: %v, %v", exported, err)
	}
	out = ch.ok(t, "export", "--format", "tfvars", "terraform")
	if !strings.Contains(out, `db_password = "s3cr3t with spaces & 'quotes'"`) || !strings.Contains(out, `api_token = "tok-123"`) {
		t.Errorf("chamber export --format tfvars:\n%s", out)
	}

	// A label on an earlier version selects it in a path listing. (chamber's own service:label
	// form cannot reach it: 3.1.4 validates the service without a leading slash and then parses
	// the label only with one, so it asks for the path "/terraform:bootstrap/".)
	cc.ok(t, "ssm", "label-parameter-version", "--name", "/terraform/db_password", "--parameter-version", "1", "--labels", "bootstrap")
	var labeled struct{ Parameters []ssmParameter }
	cc.okJSON(t, &labeled, "ssm", "get-parameters-by-path", "--path", "/terraform/", "--with-decryption",
		"--parameter-filters", "Key=Label,Option=Equals,Values=bootstrap")
	if len(labeled.Parameters) != 1 || labeled.Parameters[0].Value != "first-password" || labeled.Parameters[0].Version != 1 {
		t.Errorf("get-parameters-by-path with the label: %+v", labeled.Parameters)
	}

	// Import: a .tfvars-like set of secrets moved off the workstation, as seed 004 advises.
	file := filepath.Join(ch.dir, "secrets.json")
	if err := os.WriteFile(file, []byte(`{"github_token": "ghp-xyz", "datadog_key": "dd-42"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := ch.ok(t, "import", "terraform", file); !strings.Contains(out, "Successfully imported 2 secrets") {
		t.Errorf("chamber import: %s", out)
	}
	if got := ch.ok(t, "read", "-q", "terraform", "github_token"); got != "ghp-xyz\n" {
		t.Errorf("imported secret reads %q", got)
	}

	// Tags.
	out = ch.ok(t, "tag", "read", "terraform", "aws_access")
	if !regexp.MustCompile(`(?m)^team\s+platform`).MatchString(out) {
		t.Errorf("chamber tag read (tags from write --tags):\n%s", out)
	}
	ch.ok(t, "tag", "write", "terraform", "db_password", "env=prod", "owner=ops")
	ch.ok(t, "tag", "delete", "terraform", "db_password", "owner")
	out = ch.ok(t, "tag", "read", "terraform", "db_password")
	if !regexp.MustCompile(`(?m)^env\s+prod`).MatchString(out) || strings.Contains(out, "owner") {
		t.Errorf("chamber tag read after write and delete:\n%s", out)
	}

	// Delete.
	ch.ok(t, "delete", "terraform", "api_token")
	if r := ch.run(t, "read", "terraform", "api_token"); r.Err == nil || !strings.Contains(r.Output(), "not found") {
		t.Errorf("chamber read of a deleted secret:\n%s", r)
	}
	if r := ch.run(t, "delete", "terraform", "api_token"); r.Err == nil {
		t.Errorf("chamber delete of a deleted secret succeeded:\n%s", r)
	}
	if r := ch.run(t, "tag", "read", "terraform", "api_token"); r.Err == nil || !strings.Contains(r.Output(), "not found") {
		t.Errorf("chamber tag read of a deleted secret:\n%s", r)
	}
}
