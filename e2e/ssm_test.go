package e2e

import (
	"slices"
	"strings"
	"testing"
)

// ssmParameter is the part of the CLI's Parameter, ParameterMetadata and ParameterHistory
// output the tests read.
type ssmParameter struct {
	Name, Type, Value, ARN, KeyId, Description, DataType, Tier, LastModifiedUser, Selector string
	Version                                                                                int64
	Labels                                                                                 []string
}

// TestSSMCLI drives the aws ssm commands of the issue with both aws CLIs: a KMS key and
// alias for SecureStrings, put-parameter of every type and an overwrite, get-parameter with
// and without decryption and by label, get-parameters-by-path (one level and recursive, which
// the CLI pages through), describe-parameters with a Path filter, get-parameter-history,
// label-parameter-version and delete-parameter.
func TestSSMCLI(t *testing.T) {
	for _, c := range awsCLIs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bin := c.binary(t)
			srv := startServer(t, serverOpts{})
			cc := newCLICase(t, c, bin, srv)
			cc.ssm(t)
		})
	}
}

func (cc *cliCase) ssm(t *testing.T) {
	var key struct{ KeyMetadata struct{ KeyId, Arn string } }
	cc.okJSON(t, &key, "kms", "create-key", "--description", "parameter store")
	cc.ok(t, "kms", "create-alias", "--alias-name", "alias/parameter_store_key", "--target-key-id", key.KeyMetadata.KeyId)

	var put struct {
		Version int64
		Tier    string
	}
	cc.okJSON(t, &put, "ssm", "put-parameter", "--name", "/app/prod/db_password", "--value", "hunter2", "--type", "SecureString",
		"--key-id", "alias/parameter_store_key", "--description", "database password")
	if put.Version != 1 || put.Tier != "Standard" {
		t.Errorf("put-parameter printed %+v", put)
	}
	cc.ok(t, "ssm", "put-parameter", "--name", "/app/prod/db_host", "--value", "db.internal", "--type", "String")
	cc.ok(t, "ssm", "put-parameter", "--name", "/app/prod/zones", "--value", "a,b,c", "--type", "StringList")
	cc.ok(t, "ssm", "put-parameter", "--name", "/app/prod/cache/ttl", "--value", "60", "--type", "String")
	for i := range 7 { // 11 under /app: the CLI pages through GetParametersByPath (10 a page)
		cc.ok(t, "ssm", "put-parameter", "--name", "/app/bulk/p"+string(rune('a'+i)), "--value", "x", "--type", "String")
	}
	if r := cc.aws(t, "ssm", "put-parameter", "--name", "/app/prod/db_password", "--value", "again", "--type", "SecureString"); r.Err == nil ||
		!strings.Contains(r.Output(), "ParameterAlreadyExists") {
		t.Errorf("put-parameter over an existing parameter:\n%s", r)
	}
	cc.okJSON(t, &put, "ssm", "put-parameter", "--name", "/app/prod/db_password", "--value", "correct horse", "--overwrite")
	if put.Version != 2 {
		t.Errorf("overwrite printed %+v", put)
	}

	var got struct{ Parameter ssmParameter }
	cc.okJSON(t, &got, "ssm", "get-parameter", "--name", "/app/prod/db_password", "--with-decryption")
	if p := got.Parameter; p.Value != "correct horse" || p.Version != 2 || p.Type != "SecureString" ||
		!strings.HasSuffix(p.ARN, ":parameter/app/prod/db_password") {
		t.Errorf("get-parameter --with-decryption printed %+v", p)
	}
	cc.okJSON(t, &got, "ssm", "get-parameter", "--name", "/app/prod/db_password")
	if p := got.Parameter; p.Value == "correct horse" || p.Value == "" {
		t.Errorf("get-parameter without decryption printed the value: %+v", p)
	}

	var byPath struct{ Parameters []ssmParameter }
	cc.okJSON(t, &byPath, "ssm", "get-parameters-by-path", "--path", "/app/prod", "--with-decryption")
	if got := names(byPath.Parameters); !slices.Equal(got, []string{"/app/prod/db_host", "/app/prod/db_password", "/app/prod/zones"}) {
		t.Errorf("get-parameters-by-path one level: %q", got)
	}
	cc.okJSON(t, &byPath, "ssm", "get-parameters-by-path", "--path", "/app", "--recursive", "--with-decryption")
	if len(byPath.Parameters) != 11 {
		t.Errorf("get-parameters-by-path --recursive: %d parameters, want 11: %q", len(byPath.Parameters), names(byPath.Parameters))
	}
	for _, p := range byPath.Parameters {
		if p.Name == "/app/prod/db_password" && p.Value != "correct horse" {
			t.Errorf("recursive listing decrypted %+v", p)
		}
	}

	var desc struct{ Parameters []ssmParameter }
	cc.okJSON(t, &desc, "ssm", "describe-parameters", "--parameter-filters", "Key=Path,Option=OneLevel,Values=/app/prod")
	if got := names(desc.Parameters); !slices.Equal(got, []string{"/app/prod/db_host", "/app/prod/db_password", "/app/prod/zones"}) {
		t.Errorf("describe-parameters: %q", got)
	}
	for _, m := range desc.Parameters {
		if m.Name == "/app/prod/db_password" && (m.KeyId != "alias/parameter_store_key" || m.Description != "database password" ||
			!strings.HasSuffix(m.LastModifiedUser, ":root")) {
			t.Errorf("describe-parameters printed %+v", m)
		}
	}
	cc.okJSON(t, &desc, "ssm", "describe-parameters")
	if len(desc.Parameters) != 11 {
		t.Errorf("describe-parameters (paged by the CLI): %d parameters", len(desc.Parameters))
	}

	var label struct{ ParameterVersion int64 }
	cc.okJSON(t, &label, "ssm", "label-parameter-version", "--name", "/app/prod/db_password", "--parameter-version", "1", "--labels", "initial")
	if label.ParameterVersion != 1 {
		t.Errorf("label-parameter-version printed %+v", label)
	}
	cc.okJSON(t, &got, "ssm", "get-parameter", "--name", "/app/prod/db_password:initial", "--with-decryption")
	if got.Parameter.Value != "hunter2" || got.Parameter.Version != 1 {
		t.Errorf("get-parameter by label printed %+v", got.Parameter)
	}

	var hist struct{ Parameters []ssmParameter }
	cc.okJSON(t, &hist, "ssm", "get-parameter-history", "--name", "/app/prod/db_password", "--with-decryption")
	if len(hist.Parameters) != 2 || hist.Parameters[0].Value != "hunter2" || hist.Parameters[1].Value != "correct horse" ||
		!slices.Equal(hist.Parameters[0].Labels, []string{"initial"}) || hist.Parameters[0].Description != "database password" {
		t.Errorf("get-parameter-history printed %+v", hist.Parameters)
	}

	cc.ok(t, "ssm", "delete-parameter", "--name", "/app/prod/db_host")
	for _, args := range [][]string{
		{"ssm", "get-parameter", "--name", "/app/prod/db_host"},
		{"ssm", "delete-parameter", "--name", "/app/prod/db_host"},
	} {
		if r := cc.aws(t, args...); r.Err == nil || !strings.Contains(r.Output(), "ParameterNotFound") {
			t.Errorf("%s after delete-parameter:\n%s", args[1], r)
		}
	}
}

func names(ps []ssmParameter) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}
