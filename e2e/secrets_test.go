package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretsTF declares seed 004's kind of secret variable, and others of complex types, and
// puts them into a resource, so that they land in the state.
const secretsTF = `
variable "db_password" {
  type      = string
  sensitive = true
}
variable "zones" { type = list(string) }
variable "tags" { type = map(string) }
variable "port" { type = number }

resource "terraform_data" "db" {
  input = {
    password = var.db_password
    zones    = var.zones
    team     = var.tags["team"]
    port     = var.port + 1
  }
}

output "summary" { value = "${join(",", var.zones)}/${var.tags["team"]}/${var.port}" }
`

// TestSecretsExecTofu is the round trip with OpenTofu: a .tfvars file imported with
// `stateward secrets import --delete`, then `stateward secrets exec -- tofu apply` feeding a
// sensitive variable (and a list, a map and a number) into a resource. The value lands in the
// state, is never printed, and no file holds it anywhere but stateward's sealed data
// directory: not the working directory, not HOME, not the data directory in plaintext.
func TestSecretsExecTofu(t *testing.T) {
	bin := clientBinary(t, "tofu-1.12.6")
	sw := statewardBinary(t)
	srv := startServer(t, serverOpts{})
	tc := &tfCase{client: tfClient{name: "tofu-1.12.6", lockfile: true}, bin: bin, srv: srv}
	d := tc.newDir(t, tc.backendBlock("terraform-state", "app/prod/terraform.tfstate", "use_lockfile = true")+secretsTF)
	home := ""
	for _, kv := range d.env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	d.env = append(d.env, "AWS_ENDPOINT_URL="+srv.URL, "AWS_REGION="+region)

	raw := make([]byte, 12)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	// The file spells it as HCL does (an escaped quote, a literal ${x} as $${x}); Terraform,
	// and the state, hold it unescaped.
	secret := "pw-" + hex.EncodeToString(raw)
	plain := secret + ` "q" ${x}`
	vars := filepath.Join(d.dir, "prod.tfvars")
	writeFile(t, vars, []byte(`db_password = "`+secret+` \"q\" $${x}"
zones = ["a", "b"]
tags = { team = "platform" }
port = 5432
`))

	r := mustRun(t, d.dir, d.env, sw, "secrets", "import", "--path", "/app/prod", "--delete", "prod.tfvars")
	if !strings.Contains(r.Output(), "Imported 4 variables into /app/prod; every value read back, and prod.tfvars is deleted.") {
		t.Errorf("secrets import:\n%s", r)
	}
	if _, err := os.Stat(vars); !os.IsNotExist(err) {
		t.Fatalf("prod.tfvars is still there: %v", err)
	}

	d.init(t)
	r = mustRun(t, d.dir, d.env, sw, "secrets", "exec", "--path", "/app/prod", "--", bin, "apply", "-auto-approve", "-input=false", "-no-color")
	if strings.Contains(r.Output(), plain) || !strings.Contains(r.Output(), "(sensitive value)") {
		t.Errorf("apply printed the value, or did not mark it sensitive:\n%s", r)
	}
	st := tc.stateObject(t, "terraform-state", "app/prod/terraform.tfstate")
	if got := stringOutput(t, st, "summary"); got != "a,b/platform/5432" {
		t.Errorf("summary = %q, want a,b/platform/5432", got)
	}
	var res struct {
		Instances []struct {
			Attributes struct {
				Input struct {
					Value struct {
						Password string
						Port     int
					}
				}
			}
			SensitiveAttributes json.RawMessage `json:"sensitive_attributes"`
		}
	}
	if len(st.Resources) != 1 || json.Unmarshal(st.Resources[0], &res) != nil || len(res.Instances) != 1 {
		t.Fatalf("state resources: %s", st.Resources)
	}
	if in := res.Instances[0]; in.Attributes.Input.Value.Password != plain || in.Attributes.Input.Value.Port != 5433 ||
		!strings.Contains(string(in.SensitiveAttributes), "password") {
		t.Errorf("the resource holds %+v, sensitive %s; want the password %q, port 5433, and the password marked sensitive",
			in.Attributes.Input.Value, in.SensitiveAttributes, plain)
	}

	// The same parameters plan no changes; a changed one is a change, and plan's exit code 2
	// comes back through secrets exec.
	mustRun(t, d.dir, d.env, sw, "secrets", "exec", "--path", "/app/prod", "--", bin, "plan", "-detailed-exitcode", "-input=false", "-no-color")
	mustRun(t, d.dir, d.env, sw, "secrets", "put", "--path", "/app/prod", "port", "6543")
	if r = runCmd(t, d.dir, d.env, sw, "secrets", "exec", "--path", "/app/prod", "--", bin, "plan", "-detailed-exitcode", "-input=false", "-no-color"); r.ExitCode != 2 {
		t.Errorf("plan after a changed parameter: exit %d, want 2\n%s", r.ExitCode, r)
	}

	// No file anywhere holds the value in plaintext, nor does the server's log.
	srv.stop(t)
	if strings.Contains(srv.stderr.String(), secret) {
		t.Error("the server logged the password")
	}
	for _, dir := range []string{d.dir, home, srv.DataDir} {
		err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the password", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
