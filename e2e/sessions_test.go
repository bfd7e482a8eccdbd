package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// Sessions as the seeds use them (001, 002, 004): admins who may only assume a Terraform role
// per environment account, with MFA, for an hour; the aws CLI's role profiles; revocation.

// stsCreds is the Credentials member of an STS response.
type stsCreds struct {
	AccessKeyId, SecretAccessKey, SessionToken, Expiration string
}

// withSession returns a copy of cc that signs with temporary credentials.
func (cc *cliCase) withSession(c stsCreds) *cliCase {
	s := cc.as(c.AccessKeyId, c.SecretAccessKey)
	s.token = c.SessionToken
	s.env = s.environ(nil)
	return s
}

// assumeRole runs `aws sts assume-role` and returns the credentials.
func (cc *cliCase) assumeRole(t testing.TB, args ...string) stsCreds {
	t.Helper()
	var out struct {
		Credentials     stsCreds
		AssumedRoleUser struct{ Arn string }
	}
	cc.seedJSON(t, &out, append([]string{"sts", "assume-role"}, args...)...)
	if !strings.HasPrefix(out.Credentials.AccessKeyId, "ASIA") || out.Credentials.SessionToken == "" {
		t.Fatalf("assume-role gave %+v", out.Credentials)
	}
	return out.Credentials
}

// mfaDevice is a user's virtual MFA device, created and enabled as seed 004 does it.
type mfaDevice struct {
	serial, secret string
	used           time.Time // the newest 30 s step a code was used for
}

// newMFADevice runs seed 004's create-virtual-mfa-device and enable-mfa-device for user.
func (cc *cliCase) newMFADevice(t *testing.T, user string) *mfaDevice {
	t.Helper()
	png := "qrcode." + user + ".png"
	var dev struct{ VirtualMFADevice struct{ SerialNumber string } }
	cc.seedJSON(t, &dev, "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", user, "--outfile", png, "--bootstrap-method", "QRCodePNG")
	u, err := url.Parse(decodeQR(t, filepath.Join(cc.dir, png)))
	if err != nil {
		t.Fatal(err)
	}
	d := &mfaDevice{serial: dev.VirtualMFADevice.SerialNumber, secret: u.Query().Get("secret"), used: time.Now()}
	c1, _ := totp.GenerateCode(d.secret, d.used.Add(-30*time.Second))
	c2, _ := totp.GenerateCode(d.secret, d.used)
	cc.seedSilent(t, "iam", "enable-mfa-device", "--user-name", user, "--serial-number", d.serial,
		"--authentication-code1", c1, "--authentication-code2", c2)
	return d
}

// code returns the device's next unused code: the server accepts the current step and the
// ones either side, each once. A device serves one more code without waiting; the tests give
// each step that needs a code a device of its own rather than wait for the clock.
func (d *mfaDevice) code(t *testing.T) string {
	next := d.used.Add(30 * time.Second)
	if next.After(time.Now().Add(30 * time.Second)) {
		t.Fatal("test bug: this device's next code is not valid yet; give the step its own device")
	}
	d.used = next
	c, _ := totp.GenerateCode(d.secret, next)
	return c
}

// TestSeedSessions: an organization with staging and production accounts, each with a
// Terraform role trusting the management account with MFA for an hour; admins who may only
// assume it; and what a session may and may not do. With aws CLI v1 (whose role profiles use
// the profile's endpoint_url; the Debian v2.9 calls AWS's STS for them) and v2 for the rest.
func TestSeedSessions(t *testing.T) {
	for _, c := range awsCLIs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bin := c.binary(t)
			srv := startServer(t, serverOpts{Region: seedRegion})
			cc := newCLICase(t, c, bin, srv)
			cc.seedSessions(t, c.major == "1")
		})
	}
}

func (cc *cliCase) seedSessions(t *testing.T, roleProfiles bool) {
	account := cc.callerAccount(t)
	var org struct{ Organization struct{ Id string } }
	cc.seedJSON(t, &org, "organizations", "create-organization")
	envs := map[string]string{}
	for _, env := range []string{"staging", "production"} {
		var st struct {
			CreateAccountStatus struct{ Id, AccountId string }
		}
		cc.seedJSON(t, &st, "organizations", "create-account", "--email", env+"@example.com", "--account-name", env)
		envs[env] = st.CreateAccountStatus.AccountId
		// As the seed's admin does it: into the new account through the role Organizations
		// made, to create the environment's Terraform role and state bucket there.
		setup := cc.withSession(cc.assumeRole(t, "--role-arn", "arn:aws:iam::"+envs[env]+":role/OrganizationAccountAccessRole",
			"--role-session-name", "setup"))
		writeFile(t, filepath.Join(cc.dir, "trust.json"), []byte(`{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::`+account+`:root"},
    "Action": "sts:AssumeRole",
    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
  }]
}`))
		setup.seedOK(t, "iam", "create-role", "--role-name", "terraform", "--assume-role-policy-document", "file://trust.json",
			"--max-session-duration", "3600")
		setup.seedSilent(t, "iam", "attach-role-policy", "--role-name", "terraform", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess")
		setup.createSeedBucket(t, env+"-terraform-state-"+account)
	}
	role := func(env string) string { return "arn:aws:iam::" + envs[env] + ":role/terraform" }

	// The admins group may only assume the environments' terraform roles.
	cc.seedOK(t, "iam", "create-group", "--group-name", "admins")
	writeFile(t, filepath.Join(cc.dir, "admins.json"), []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/terraform"}}`))
	cc.seedSilent(t, "iam", "put-group-policy", "--group-name", "admins", "--policy-name", "assume-only", "--policy-document", "file://admins.json")
	admin := func(name string) (*cliCase, *mfaDevice) {
		cc.seedOK(t, "iam", "create-user", "--user-name", name)
		cc.seedSilent(t, "iam", "add-user-to-group", "--user-name", name, "--group-name", "admins")
		id, secret := cc.createAccessKey(t, name)
		return cc.as(id, secret), cc.newMFADevice(t, name)
	}
	alice, aliceMFA := admin("alice")
	bob, bobMFA := admin("bob")

	// Without MFA, refused; two hours, refused (the role's sessions last an hour at most).
	r := alice.seed(t, "sts", "assume-role", "--role-arn", role("staging"), "--role-session-name", "alice")
	if r.Err == nil || !strings.Contains(r.Output(), "AccessDenied") {
		t.Errorf("assume-role without MFA: want AccessDenied\n%s", r)
	}
	r = alice.seed(t, "sts", "assume-role", "--role-arn", role("staging"), "--role-session-name", "alice",
		"--serial-number", aliceMFA.serial, "--token-code", aliceMFA.code(t), "--duration-seconds", "7200")
	if r.Err == nil || !strings.Contains(r.Output(), "MaxSessionDuration") {
		t.Errorf("assume-role for 7200 s: want the MaxSessionDuration refusal\n%s", r)
	}
	// With MFA, for an hour: the seed's activation.
	code := bobMFA.code(t)
	creds := bob.assumeRole(t, "--role-arn", role("staging"), "--role-session-name", "bob",
		"--serial-number", bobMFA.serial, "--token-code", code, "--duration-seconds", "3600")
	if exp, err := time.Parse(time.RFC3339, creds.Expiration); err != nil || time.Until(exp) > time.Hour+time.Minute || time.Until(exp) < 58*time.Minute {
		t.Errorf("Expiration %q: want an hour from now (%v)", creds.Expiration, err)
	}
	r = bob.seed(t, "sts", "assume-role", "--role-arn", role("staging"), "--role-session-name", "bob",
		"--serial-number", bobMFA.serial, "--token-code", code)
	if r.Err == nil || !strings.Contains(r.Output(), "MultiFactorAuthentication failed") {
		t.Errorf("assume-role with a reused code: want the MFA refusal\n%s", r)
	}
	staging := bob.withSession(creds)
	var who struct{ Arn, Account string }
	staging.seedJSON(t, &who, "sts", "get-caller-identity")
	if who.Arn != "arn:aws:sts::"+envs["staging"]+":assumed-role/terraform/bob" || who.Account != envs["staging"] {
		t.Errorf("session's get-caller-identity: %+v", who)
	}
	writeFile(t, filepath.Join(cc.dir, "state.json"), []byte(`{"version":4}`))
	staging.seedOK(t, "s3api", "put-object", "--bucket", "staging-terraform-state-"+account, "--key", "terraform.tfstate", "--body", "state.json")
	r = staging.seed(t, "s3api", "put-object", "--bucket", "production-terraform-state-"+account, "--key", "terraform.tfstate", "--body", "state.json")
	if r.Err == nil || !strings.Contains(r.Output(), "AccessDenied") {
		t.Errorf("the staging session writing production's state: want AccessDenied\n%s", r)
	}
	// The admin's own keys change nothing.
	r = bob.seed(t, "s3api", "list-buckets")
	if r.Err == nil || !strings.Contains(r.Output(), "AccessDenied") {
		t.Errorf("bob's own key listing buckets: want AccessDenied\n%s", r)
	}

	if roleProfiles {
		// The aws CLI's own role profile: role_arn, source_profile, mfa_serial; it asks for the
		// code on its prompt.
		carol, carolMFA := admin("carol")
		writeFile(t, filepath.Join(cc.home, ".aws", "credentials"), []byte(fmt.Sprintf("[carol]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
			carol.keyID, carol.secret)))
		writeFile(t, filepath.Join(cc.home, ".aws", "config"), []byte(fmt.Sprintf(
			"[profile carol]\nregion = %s\nendpoint_url = %s\n\n[profile production]\nrole_arn = %s\nsource_profile = carol\nmfa_serial = %s\nduration_seconds = 3600\nregion = %s\nendpoint_url = %s\n",
			seedRegion, cc.srv.URL, role("production"), carolMFA.serial, seedRegion, cc.srv.URL)))
		env := cleanEnv([]string{"HOME=" + cc.home, "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_PROFILE=production"})
		r := runCmdInput(t, cc.dir, env, carolMFA.code(t)+"\n", cc.bin, "sts", "get-caller-identity")
		if r.Err != nil || !strings.Contains(string(r.Stdout), "assumed-role/terraform/") || !strings.Contains(string(r.Stdout), envs["production"]) {
			t.Errorf("a role profile with mfa_serial: want the production role's session\n%s", r)
		}
	}

	// AWS's revocation: AWSRevokeOlderSessions on the role, in its account.
	setup := cc.withSession(cc.assumeRole(t, "--role-arn", "arn:aws:iam::"+envs["staging"]+":role/OrganizationAccountAccessRole", "--role-session-name", "revoke"))
	// Issued before a minute from now: every session of the role so far (the in-process tests
	// show a session issued after the cutoff working; here the clock cannot move).
	writeFile(t, filepath.Join(cc.dir, "revoke.json"), []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"`+
		time.Now().Add(time.Minute).UTC().Format(time.RFC3339)+`"}}}]}`))
	setup.seedSilent(t, "iam", "put-role-policy", "--role-name", "terraform", "--policy-name", "AWSRevokeOlderSessions", "--policy-document", "file://revoke.json")
	for _, args := range [][]string{{"s3api", "list-objects-v2", "--bucket", "staging-terraform-state-" + account}, {"dynamodb", "list-tables"}, {"kms", "list-keys"}} {
		r := staging.seed(t, args...)
		if r.Err == nil || !strings.Contains(r.Output(), "AccessDenied") {
			t.Errorf("the revoked session, %s: want AccessDenied\n%s", strings.Join(args[:2], " "), r)
		}
	}
}

// runCmdInput is runCmd with input on the command's stdin.
func runCmdInput(t testing.TB, dir string, env []string, input, name string, args ...string) *cmdResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := command(ctx, dir, env, name, args...)
	cmd.Stdin = strings.NewReader(input)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := &cmdResult{Name: name, Args: args, Dir: dir, Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: -1, Err: err, Elapsed: time.Since(start)}
	if cmd.ProcessState != nil {
		r.ExitCode = cmd.ProcessState.ExitCode()
	}
	t.Logf("$ %s %s < input → exit %d in %s", filepath.Base(name), strings.Join(args, " "), r.ExitCode, r.Elapsed.Round(time.Millisecond))
	return r
}

// TestAssumeRoleBackend: the s3 backend assumes a role itself (OpenTofu 1.12 and Terraform
// 1.8's assume_role block, Terraform 1.5's top-level role_arn), with an external id; the
// caller's own key can do nothing but assume the role, and the role may touch one
// workspace's prefix only.
func TestAssumeRoleBackend(t *testing.T) {
	for _, c := range tfClients {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bin := clientBinary(t, c.name)
			cli := awsCLIs[1]
			awsBin := cli.binary(t)
			srv := startServer(t, serverOpts{Region: seedRegion})
			lc := &lockCase{tc: &tfCase{client: c, bin: bin, srv: srv}, cli: newCLICase(t, cli, awsBin, srv)}
			lc.testAssumeRoleBackend(t)
		})
	}
}

func (lc *lockCase) testAssumeRoleBackend(t *testing.T) {
	const bucket, table = "assumed-state", "locks"
	cc := lc.cli
	account := cc.callerAccount(t)
	cc.createSeedBucket(t, bucket)
	cc.seedOK(t, "dynamodb", "create-table", "--table-name", table, "--attribute-definitions", "AttributeName=LockID,AttributeType=S",
		"--key-schema", "AttributeName=LockID,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
	cc.seedOK(t, "iam", "create-user", "--user-name", "ci")
	roleARN := "arn:aws:iam::" + account + ":role/state-writer"
	writeFile(t, filepath.Join(cc.dir, "ci.json"), []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"`+roleARN+`"}}`))
	cc.seedSilent(t, "iam", "put-user-policy", "--user-name", "ci", "--policy-name", "assume", "--policy-document", "file://ci.json")
	id, secret := cc.createAccessKey(t, "ci")
	writeFile(t, filepath.Join(cc.dir, "trust.json"), []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Principal":{"AWS":"arn:aws:iam::`+account+`:user/ci"},"Action":"sts:AssumeRole",
  "Condition":{"StringEquals":{"sts:ExternalId":"tf-external"}}}]}`))
	cc.seedOK(t, "iam", "create-role", "--role-name", "state-writer", "--assume-role-policy-document", "file://trust.json")
	// The default workspace's state and the dev workspace's prefix, nothing else.
	writeFile(t, filepath.Join(cc.dir, "role.json"), []byte(`{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::`+bucket+`"},
  {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::`+bucket+`/app.tfstate","arn:aws:s3:::`+bucket+`/envs/dev/*"]},
  {"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:DeleteItem"],"Resource":"arn:aws:dynamodb:*:*:table/`+table+`"}]}`))
	cc.seedSilent(t, "iam", "put-role-policy", "--role-name", "state-writer", "--policy-name", "state", "--policy-document", "file://role.json")

	backend := func(externalID string) string {
		assume := []string{fmt.Sprintf("assume_role = {\n  role_arn     = %q\n  external_id  = %q\n  session_name = \"terraform\"\n  duration     = \"1h\"\n}", roleARN, externalID)}
		if lc.tc.client.legacyOptions {
			assume = []string{fmt.Sprintf("role_arn     = %q", roleARN), fmt.Sprintf("external_id  = %q", externalID), `session_name = "terraform"`}
		}
		return lc.backendBlock(bucket, "app.tfstate", append(assume, fmt.Sprintf("dynamodb_table = %q", table), `workspace_key_prefix = "envs"`)...)
	}
	// A wrong external id: the role is not assumed, nothing starts.
	bad := lc.tc.newDirAs(t, backend("wrong")+fmt.Sprintf(greetingTF, "x"), id, secret)
	// Terraform 1.5 words the refusal "IAM Role … cannot be assumed"; the server's log names it.
	if r := bad.run(t, "init", "-input=false", "-no-color"); r.ExitCode == 0 ||
		!(strings.Contains(r.Output(), "AccessDenied") || strings.Contains(r.Output(), "cannot be assumed")) {
		t.Errorf("init with a wrong external id: want AccessDenied\n%s", r)
	}
	if log := lc.tc.srv.stderr.String(); !strings.Contains(log, `msg="access denied"`) || !strings.Contains(log, "action=sts:AssumeRole resource="+roleARN) {
		t.Errorf("the server logged no sts:AssumeRole denial for the wrong external id")
	}
	d := lc.tc.newDirAs(t, backend("tf-external")+fmt.Sprintf(greetingTF, "assumed"), id, secret)
	d.init(t)
	d.apply(t)
	d.planNoChanges(t)
	if got := stringOutput(t, lc.tc.stateObject(t, bucket, "app.tfstate"), "greeting"); got != "assumed" {
		t.Errorf("default workspace state: greeting = %q", got)
	}
	d.ok(t, "workspace", "new", "-no-color", "dev")
	d.apply(t)
	if !lc.tc.srv.objectExists(t, bucket, "envs/dev/app.tfstate") {
		t.Errorf("no state at envs/dev/app.tfstate")
	}
	// Another workspace's prefix is out of the role's reach.
	r := d.run(t, "workspace", "new", "-no-color", "-lock-timeout=0s", "prod")
	if r.ExitCode == 0 {
		r = d.run(t, "apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=0s")
	}
	if r.ExitCode == 0 || !strings.Contains(r.Output(), "AccessDenied") {
		t.Errorf("the prod workspace: want AccessDenied\n%s", r)
	}
	if lc.tc.srv.objectExists(t, bucket, "envs/prod/app.tfstate") {
		t.Errorf("the refused workspace wrote envs/prod/app.tfstate")
	}
}

// TestSessionActivate: seed 004's activation script, built in. The real binary's `session
// activate` asks the server for a role's session with an MFA code, for an hour, and runs
// OpenTofu with it (the backend cannot ask for a code itself); `session ls` shows the session
// and `session revoke` ends it.
func TestSessionActivate(t *testing.T) {
	bin := clientBinary(t, "tofu-1.12.6")
	cli := awsCLIs[1]
	awsBin := cli.binary(t)
	srv := startServer(t, serverOpts{})
	cc := newCLICase(t, cli, awsBin, srv)
	account := cc.callerAccount(t)
	roleARN := "arn:aws:iam::" + account + ":role/terraform"
	writeFile(t, filepath.Join(cc.dir, "trust.json"), []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Principal":{"AWS":"arn:aws:iam::`+account+`:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`))
	cc.ok(t, "iam", "create-role", "--role-name", "terraform", "--assume-role-policy-document", "file://trust.json", "--max-session-duration", "3600")
	writeFile(t, filepath.Join(cc.dir, "role.json"), []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::terraform-state","arn:aws:s3:::terraform-state/*"]}}`))
	cc.ok(t, "iam", "put-role-policy", "--role-name", "terraform", "--policy-name", "state", "--policy-document", "file://role.json")
	cc.ok(t, "iam", "create-user", "--user-name", "martin")
	writeFile(t, filepath.Join(cc.dir, "assume.json"), []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["sts:AssumeRole","iam:ListMFADevices"],"Resource":"*"}}`))
	cc.ok(t, "iam", "put-user-policy", "--user-name", "martin", "--policy-name", "assume", "--policy-document", "file://assume.json")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	cc.okJSON(t, &key, "iam", "create-access-key", "--user-name", "martin")
	dev := cc.newMFADevice(t, "martin")

	// Martin's profile, as `aws configure` would leave it; no keys in the environment.
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".aws", "credentials"), []byte(fmt.Sprintf("[martin]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey)))
	writeFile(t, filepath.Join(home, ".aws", "config"), []byte(fmt.Sprintf("[profile martin]\nregion = %s\nendpoint_url = %s\n", region, srv.URL)))
	d := (&tfCase{client: tfClient{name: "tofu-1.12.6", lockfile: true}, bin: bin, srv: srv}).newDir(t,
		(&tfCase{client: tfClient{lockfile: true}, srv: srv}).backendBlock("terraform-state", "activate/terraform.tfstate", "use_lockfile = true")+
			fmt.Sprintf(greetingTF, "activated"))
	env := []string{"HOME=" + home, "AWS_PROFILE=martin"}
	for _, kv := range d.env {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	sw := statewardBinary(t)
	r := runCmd(t, d.dir, env, sw, "session", "activate", "--role", roleARN, "--code", dev.code(t), "--",
		"/bin/sh", "-c", bin+" init -input=false -no-color && "+bin+" apply -auto-approve -input=false -no-color")
	if r.Err != nil {
		t.Fatalf("session activate -- tofu init && apply:\n%s", r)
	}
	if got := stringOutput(t, (&tfCase{srv: srv}).stateObject(t, "terraform-state", "activate/terraform.tfstate"), "greeting"); got != "activated" {
		t.Errorf("state written through the session: greeting = %q", got)
	}
	// The root lists and revokes it.
	rootEnv := cleanEnv([]string{"HOME=" + t.TempDir(), "AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey,
		"AWS_REGION=" + region, "AWS_ENDPOINT_URL=" + srv.URL})
	var listed struct {
		Sessions []struct {
			ID  string `json:"SessionId"`
			ARN string `json:"Arn"`
			MFA bool   `json:"MFA"`
		}
	}
	r = mustRun(t, d.dir, rootEnv, sw, "session", "ls", "--role", roleARN, "--output", "json")
	sessions := &listed.Sessions
	if err := json.Unmarshal(r.Stdout, &listed); err != nil || len(*sessions) != 1 || !(*sessions)[0].MFA ||
		(*sessions)[0].ARN != "arn:aws:sts::"+account+":assumed-role/terraform/martin" {
		t.Fatalf("session ls: %v\n%s", err, r)
	}
	id := (*sessions)[0].ID
	r = mustRun(t, d.dir, rootEnv, sw, "session", "revoke", id)
	if !strings.Contains(string(r.Stdout), id) {
		t.Errorf("session revoke printed no id:\n%s", r)
	}
	r = mustRun(t, d.dir, rootEnv, sw, "session", "ls", "--role", roleARN, "--output", "json")
	if strings.Contains(string(r.Stdout), id) {
		t.Errorf("the revoked session is still listed as live:\n%s", r)
	}
}
