package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// secretsTfvars is a variables file with a value of each kind.
const secretsTfvars = `
db_password = "s3cr3t 'quoted' \"double\" $${no_ref}"
port        = 5432
zones       = ["eu-west-1a", "eu-west-1b"]
tags        = { team = "platform" }
`

// printVars is a shell command printing the TF_VAR_ variables it was given, one per line.
const printVars = `for v in db_password port zones tags; do eval "printf '%s=%s|' $v \"\${TF_VAR_$v-unset}\""; done`

func TestSecretsImportAndExec(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	env := e.keysEnv(t, e.Creds)
	dir := t.TempDir()
	file := filepath.Join(dir, "prod.tfvars")
	if err := os.WriteFile(file, []byte(secretsTfvars), 0o600); err != nil {
		t.Fatal(err)
	}

	r := cli(t, env, nil, "secrets", "import", "--path", "/app/prod/", file).ok(t, "import")
	if !strings.Contains(r.stderr, "Imported 4 variables into /app/prod; every value read back, so "+file+" may be deleted") {
		t.Errorf("import said %q", r.stderr)
	}
	if _, err := os.Stat(file); err != nil {
		t.Errorf("import without --delete removed the file: %v", err)
	}
	want := map[string]string{
		"/app/prod/db_password": `s3cr3t 'quoted' "double" ${no_ref}`,
		"/app/prod/port":        "5432",
		"/app/prod/zones":       `["eu-west-1a", "eu-west-1b"]`,
		"/app/prod/tags":        "{\n  team = \"platform\"\n}",
	}
	desc := must[*ssm.DescribeParametersOutput](t)(e.root.SSM.DescribeParameters(ctx, &ssm.DescribeParametersInput{}))
	if len(desc.Parameters) != len(want) {
		t.Fatalf("%d parameters after import, want %d", len(desc.Parameters), len(want))
	}
	for _, p := range desc.Parameters {
		if p.Type != ssmtypes.ParameterTypeSecureString || aws.ToString(p.KeyId) != "alias/aws/ssm" || p.Version != 1 {
			t.Errorf("%s: type %s, key %s, version %d; want a SecureString under alias/aws/ssm, version 1", aws.ToString(p.Name), p.Type, aws.ToString(p.KeyId), p.Version)
		}
	}
	for name, value := range want {
		out := must[*ssm.GetParameterOutput](t)(e.root.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)}))
		if got := aws.ToString(out.Parameter.Value); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}

	// Again without --overwrite: refused before anything is written.
	if err := os.WriteFile(file, []byte(secretsTfvars+"\nnew_one = \"x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cli(t, env, nil, "secrets", "import", "--path", "/app/prod", file).refused(t, "import over existing parameters", 1,
		"/app/prod/db_password, /app/prod/port, /app/prod/tags, /app/prod/zones already exist(s); nothing was written")
	if _, err := e.root.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/prod/new_one")}); apiCode(err) != "ParameterNotFound" {
		t.Errorf("a refused import wrote new_one: %v", err)
	}
	// With --overwrite and --delete: new versions, and the file is gone.
	cli(t, env, nil, "secrets", "import", "--path", "/app/prod", "--overwrite", "--delete", file).ok(t, "import --overwrite --delete")
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("import --delete left the file: %v", err)
	}
	out := must[*ssm.GetParameterOutput](t)(e.root.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/prod/port")}))
	if out.Parameter.Version != 2 {
		t.Errorf("port is at version %d after --overwrite, want 2", out.Parameter.Version)
	}

	// exec: each parameter as TF_VAR_<name>, the child's exit code returned.
	r = cli(t, env, nil, "secrets", "exec", "--path", "/app/prod", "--", "/bin/sh", "-c", printVars+"; exit 3")
	wantOut := `db_password=s3cr3t 'quoted' "double" ${no_ref}|port=5432|zones=["eu-west-1a", "eu-west-1b"]|tags={` + "\n" + `  team = "platform"` + "\n}|"
	if r.code != 3 || r.stdout != wantOut {
		t.Errorf("exec: exit %d, stdout %q; want exit 3 and %q\nstderr: %s", r.code, r.stdout, wantOut, r.stderr)
	}
	// A later path wins; a StringList becomes an HCL list.
	must[*ssm.PutParameterOutput](t)(e.root.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/override/zones"),
		Value: aws.String("a,b c"), Type: ssmtypes.ParameterTypeStringList}))
	r = cli(t, env, nil, "secrets", "exec", "--path", "/app/prod", "--path", "/app/override", "--", "/bin/sh", "-c", printVars).ok(t, "exec with two paths")
	if !strings.Contains(r.stdout, `|zones=["a", "b c"]|`) || !strings.Contains(r.stdout, "port=5432|") {
		t.Errorf("exec with two paths printed %q", r.stdout)
	}
	cli(t, env, nil, "secrets", "exec", "--path", "/app/typo", "--", "true").refused(t, "exec on an empty path", 1, "no parameters under /app/typo")
	cli(t, env, nil, "secrets", "exec", "--path", "/app/prod", "--", "/nonexistent/tofu").refused(t, "exec of a missing command", 127, "/nonexistent/tofu")

	// Under a key of its own (alias/aws/ssm's policy lets the account's SSM users decrypt, as
	// on AWS), a user who may read the parameters but not decrypt them runs nothing.
	key := must[*kms.CreateKeyOutput](t)(e.root.KMS.CreateKey(ctx, &kms.CreateKeyInput{}))
	must[*kms.CreateAliasOutput](t)(e.root.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/terraform"), TargetKeyId: key.KeyMetadata.KeyId}))
	cli(t, env, nil, "secrets", "put", "--path", "/app/cmk", "--key", "alias/terraform", "db_password", "x").ok(t, "put under alias/terraform")
	noKMS := e.user(t, "nokms", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ssm:GetParametersByPath","Resource":"*"}}`)
	cli(t, e.keysEnv(t, noKMS), nil, "secrets", "exec", "--path", "/app/cmk", "--", "/bin/sh", "-c", "echo ran").
		refused(t, "exec without kms:Decrypt", 1, "AccessDeniedException")
	cli(t, e.keysEnv(t, noKMS), nil, "secrets", "exec", "--path", "/app/prod", "--", "true").ok(t, "exec under alias/aws/ssm without kms:Decrypt")
}

func TestSecretsImportRefusesBadFiles(t *testing.T) {
	e := newSTSEnv(t)
	env := e.keysEnv(t, e.Creds)
	dir := t.TempDir()
	for _, tt := range []struct{ name, src, want string }{
		{"refs.tfvars", "a = \"x\"\nb = var.a\n", "refs.tfvars:2,5: Variables not allowed"},
		{"empty.tfvars", "# nothing\n", "defines no variables"},
		{"bad.tfvars.json", `{"a": ["x", null]}`, `variable "a": a null inside the value (at [1])`},
	} {
		file := filepath.Join(dir, tt.name)
		if err := os.WriteFile(file, []byte(tt.src), 0o600); err != nil {
			t.Fatal(err)
		}
		cli(t, env, nil, "secrets", "import", "--path", "/app/prod", "--delete", file).refused(t, tt.name, 1, tt.want)
		if _, err := os.Stat(file); err != nil {
			t.Errorf("%s: a refused import removed the file: %v", tt.name, err)
		}
	}
	desc := must[*ssm.DescribeParametersOutput](t)(e.root.SSM.DescribeParameters(context.Background(), &ssm.DescribeParametersInput{}))
	if len(desc.Parameters) != 0 {
		t.Errorf("refused imports wrote %d parameters", len(desc.Parameters))
	}
	// An unknown key: the server's error, and the file kept.
	file := filepath.Join(dir, "ok.tfvars")
	if err := os.WriteFile(file, []byte(`a = "x"`), 0o600); err != nil {
		t.Fatal(err)
	}
	cli(t, env, nil, "secrets", "import", "--path", "/app/prod", "--key", "alias/nope", "--delete", file).refused(t, "import under an unknown key", 1, "InvalidKeyId")
	if _, err := os.Stat(file); err != nil {
		t.Errorf("a failed import removed the file: %v", err)
	}
}

func TestSecretsPutGetListRemove(t *testing.T) {
	e := newSTSEnv(t)
	env := e.keysEnv(t, e.Creds)
	cli(t, env, strings.NewReader("from stdin\n"), "secrets", "put", "--path", "/app/prod", "db_password").ok(t, "put from stdin")
	cli(t, env, nil, "secrets", "put", "--path", "/app/prod", "db_password", "second").ok(t, "put an argument")
	cli(t, env, nil, "secrets", "put", "--type", "String", "/app/prod/region", "eu-west-1").ok(t, "put an absolute name")
	cli(t, env, nil, "secrets", "put", "--path", "/app/prod/deeper", "x", "y").ok(t, "put deeper")

	if r := cli(t, env, nil, "secrets", "get", "--path", "/app/prod", "db_password").ok(t, "get"); r.stdout != "second\n" {
		t.Errorf("get printed %q", r.stdout)
	}
	if r := cli(t, env, nil, "secrets", "get", "/app/prod/db_password", "--version", "1").ok(t, "get --version"); r.stdout != "from stdin\n" {
		t.Errorf("get --version 1 printed %q", r.stdout)
	}
	cli(t, env, nil, "secrets", "get", "--path", "/app/prod", "nope").refused(t, "get of a missing parameter", 1, "ParameterNotFound")

	r := cli(t, env, nil, "secrets", "ls", "--path", "/app/prod").ok(t, "ls")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "db_password") ||
		!strings.Contains(lines[1], "SecureString  2") || !strings.HasPrefix(lines[2], "region") || strings.Contains(r.stdout, "second") {
		t.Errorf("ls printed:\n%s", r.stdout)
	}
	var listed []listedSecret
	r = cli(t, env, nil, "secrets", "ls", "--path", "/app/prod", "-o", "json").ok(t, "ls -o json")
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || len(listed) != 2 || listed[0].Name != "/app/prod/db_password" ||
		listed[0].LastModifiedUser != "arn:aws:iam::"+e.Account+":root" {
		t.Errorf("ls -o json: %v\n%s", err, r.stdout)
	}

	cli(t, env, nil, "secrets", "rm", "--path", "/app/prod", "db_password", "missing").refused(t, "rm with a missing name", 1, "not found: /app/prod/missing")
	cli(t, env, nil, "secrets", "get", "--path", "/app/prod", "db_password").refused(t, "get after rm", 1, "ParameterNotFound")
	cli(t, env, nil, "secrets", "rm", "/app/prod/region").ok(t, "rm an absolute name")
	if r := cli(t, env, nil, "secrets", "ls", "--path", "/app/prod").ok(t, "ls of an empty path"); r.stdout != "" || !strings.Contains(r.stderr, "No parameters under /app/prod.") {
		t.Errorf("ls of an empty path: %q %q", r.stdout, r.stderr)
	}
}

func TestSecretsUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"secrets", "import", "x.tfvars"}, "--path is required"},
		{[]string{"secrets", "import", "--path", "app", "x.tfvars"}, "--path must begin with /"},
		{[]string{"secrets", "exec", "--path", "/app"}, "no command to run"},
		{[]string{"secrets", "exec", "--path", "/app", "tofu"}, `unexpected argument "tofu" (the command to run goes after --)`},
		{[]string{"secrets", "exec", "--", "tofu"}, "--path is required"},
		{[]string{"secrets", "get", "db"}, "--path is required"},
		{[]string{"secrets", "get", "--path", "/app", "a/b"}, `"a/b" is not a variable name`},
		{[]string{"secrets", "put", "--type", "StringList", "/a/b", "x"}, "--type must be SecureString or String"},
		{[]string{"secrets", "ls", "--path", "/a", "-o", "yaml"}, "--output must be table or json"},
		{[]string{"secrets", "rm"}, "requires at least 1 arg"},
	} {
		cli(t, map[string]string{}, nil, tt.args...).refused(t, strings.Join(tt.args, " "), 2, tt.want)
	}
}
