package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// cliResult is what one run of the command line did.
type cliResult struct {
	code           int
	stdout, stderr string
}

// cli runs the command line with env as its whole environment (PATH added) and stdin. The
// AWS variables of the process are cleared for the SDK, which reads a few itself.
func cli(t *testing.T, env map[string]string, stdin io.Reader, args ...string) cliResult {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "AWS_") {
			t.Setenv(name, "")
		}
	}
	all := map[string]string{"PATH": os.Getenv("PATH")}
	for k, v := range env {
		all[k] = v
	}
	var stdout, stderr bytes.Buffer
	m := &Main{Stdin: stdin, Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return all[k] },
		Environ: func() []string {
			var kv []string
			for k, v := range all {
				kv = append(kv, k+"="+v)
			}
			return kv
		}}
	code := m.Run(context.Background(), args)
	return cliResult{code, stdout.String(), stderr.String()}
}

// ok fails the test unless the run exited 0.
func (r cliResult) ok(t *testing.T, what string) cliResult {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", what, r.code, r.stdout, r.stderr)
	}
	return r
}

// refused fails the test unless the run exited code with msg on stderr.
func (r cliResult) refused(t *testing.T, what string, code int, msg string) {
	t.Helper()
	if r.code != code || !strings.Contains(r.stderr, msg) {
		t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", what, r.code, r.stderr, code, msg)
	}
}

// keysEnv is an environment with keys, the endpoint and the region, and no shared files.
func (e *stsEnv) keysEnv(t *testing.T, creds aws.Credentials) map[string]string {
	dir := t.TempDir()
	return map[string]string{
		"AWS_ACCESS_KEY_ID": creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey,
		"AWS_ENDPOINT_URL": e.URL, "AWS_REGION": "us-east-1",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
	}
}

// evalExports evaluates activate's output in a real shell, as `eval "$(…)"` does, and
// returns the variables it set.
func evalExports(t *testing.T, out string) map[string]string {
	t.Helper()
	names := []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_CA_BUNDLE", "AWS_PROFILE"}
	script := `eval "$1"`
	for _, n := range names {
		script += `; printf '%s\n' "${` + n + `-unset}"`
	}
	cmd := exec.Command("/bin/sh", "-c", script, "sh", out)
	cmd.Env = []string{"AWS_PROFILE=before"}
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("eval %q: %v", out, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(names) {
		t.Fatalf("eval printed %q", b)
	}
	vars := map[string]string{}
	for i, n := range names {
		vars[n] = lines[i]
	}
	return vars
}

func varsCreds(vars map[string]string) aws.Credentials {
	return aws.Credentials{AccessKeyID: vars["AWS_ACCESS_KEY_ID"], SecretAccessKey: vars["AWS_SECRET_ACCESS_KEY"], SessionToken: vars["AWS_SESSION_TOKEN"]}
}

// callerARN is the ARN GetCallerIdentity answers for creds, or the error code.
func (e *stsEnv) callerARN(t *testing.T, creds aws.Credentials) string {
	t.Helper()
	out, err := e.as(creds).STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		return apiCode(err)
	}
	return aws.ToString(out.Arn)
}

// seed004 is seed 004's setup: a role trusting the account with MFA, and users who may assume
// it (alice may also find her MFA device), each with an enabled device.
type seed004 struct {
	*stsEnv
	role           string
	alice, bob     aws.Credentials
	aliceSerial    string
	aliceCode      func() string
	bobSerial      string
	bobCode        func() string
	nobody         aws.Credentials
	assumedRoleARN func(session string) string
}

func newSeed004(t *testing.T) *seed004 {
	e := newSTSEnv(t)
	s := &seed004{stsEnv: e}
	s.role = e.role(t, "terraform", strings.ReplaceAll(mfaTrust, "ACCOUNT", e.Account),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, 3600)
	assume := `{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + s.role + `"}`
	s.alice = e.user(t, "alice", `{"Version":"2012-10-17","Statement":[`+assume+
		`,{"Effect":"Allow","Action":"iam:ListMFADevices","Resource":"arn:aws:iam::`+e.Account+`:user/${aws:username}"}]}`)
	s.bob = e.user(t, "bob", `{"Version":"2012-10-17","Statement":[`+assume+`]}`)
	s.nobody = e.user(t, "nobody", "")
	s.aliceSerial, s.aliceCode = e.mfa(t, "alice")
	s.bobSerial, s.bobCode = e.mfa(t, "bob")
	s.assumedRoleARN = func(session string) string { return "arn:aws:sts::" + e.Account + ":assumed-role/terraform/" + session }
	return s
}

// TestSessionActivate is seed 004's `source activate`, built in: a code from the flag or
// stdin, exports that work under eval, a command run with the session, and the refusals.
func TestSessionActivate(t *testing.T) {
	s := newSeed004(t)
	alice := s.keysEnv(t, s.alice)

	// --code; the MFA device and the session name are alice's own.
	r := cli(t, alice, nil, "session", "activate", "--role", s.role, "--code", s.aliceCode()).ok(t, "activate --code")
	vars := evalExports(t, r.stdout)
	if got := s.callerARN(t, varsCreds(vars)); got != s.assumedRoleARN("alice") {
		t.Errorf("exported credentials are %s, want %s", got, s.assumedRoleARN("alice"))
	}
	if !strings.HasPrefix(vars["AWS_ACCESS_KEY_ID"], "ASIA") || vars["AWS_ENDPOINT_URL"] != s.URL || vars["AWS_REGION"] != "us-east-1" ||
		vars["AWS_DEFAULT_REGION"] != "us-east-1" ||
		vars["AWS_CA_BUNDLE"] != "unset" || vars["AWS_PROFILE"] != "before" {
		t.Errorf("exports: %v", vars)
	}
	if strings.Contains(r.stderr, vars["AWS_SECRET_ACCESS_KEY"]) || strings.Contains(r.stderr, vars["AWS_SESSION_TOKEN"]) ||
		!strings.Contains(r.stderr, vars["AWS_ACCESS_KEY_ID"]) {
		t.Errorf("stderr should name the session and hold no secret: %s", r.stderr)
	}

	// The code on stdin; bob names his device and the session.
	bob := s.keysEnv(t, s.bob)
	r = cli(t, bob, strings.NewReader(s.bobCode()+"\n"), "session", "activate", "--role", s.role, "--serial", s.bobSerial,
		"--session-name", "bob-stdin", "--duration", "15m").ok(t, "activate, code on stdin")
	if got := s.callerARN(t, varsCreds(evalExports(t, r.stdout))); got != s.assumedRoleARN("bob-stdin") {
		t.Errorf("credentials from a code on stdin are %s", got)
	}

	// A command run with the session: the code on stdin, the rest of stdin for the command;
	// it sees the session's variables, no profile, and its exit code is passed through.
	alice["AWS_PROFILE"] = "" // set but empty: no profile to load, yet a variable to remove
	alice["AWS_DEFAULT_PROFILE"] = "old"
	alice["AWS_SESSION_TOKEN"] = ""
	script := `read line; printf '%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "${AWS_DEFAULT_PROFILE-unset}" "$line"; exit 7`
	r = cli(t, alice, strings.NewReader(s.aliceCode()+"\nfor the command\n"), "session", "activate", "--role", s.role,
		"--session-name", "exec", "--", "/bin/sh", "-c", script)
	if r.code != 7 {
		t.Fatalf("activate -- sh: exit %d, want the command's 7\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 5 || lines[3] != "unset" || lines[4] != "for the command" {
		t.Fatalf("the command printed %q", r.stdout)
	}
	execCreds := aws.Credentials{AccessKeyID: lines[0], SecretAccessKey: lines[1], SessionToken: lines[2]}
	if got := s.callerARN(t, execCreds); got != s.assumedRoleARN("exec") {
		t.Errorf("the command's credentials are %s", got)
	}
	if strings.Contains(r.stderr, lines[1]) || strings.Contains(r.stderr, lines[2]) {
		t.Errorf("a secret on stderr: %s", r.stderr)
	}
	r = cli(t, s.keysEnv(t, s.alice), nil, "session", "activate", "--role", s.role, "--code", s.aliceCode(), "--", "/bin/sh", "-c", "exit 0")
	if r.code != 0 || r.stdout != "" {
		t.Errorf("a command that succeeds: exit %d, stdout %q", r.code, r.stdout)
	}
	r = cli(t, s.keysEnv(t, s.alice), nil, "session", "activate", "--role", s.role, "--code", s.aliceCode(), "--", "no-such-command-here")
	r.refused(t, "a command that does not exist", 127, "no-such-command-here")

	// Refusals: the server's MFA message, a user who may not look up its device, bad lines.
	cli(t, s.keysEnv(t, s.alice), nil, "session", "activate", "--role", s.role, "--code", "000000").
		refused(t, "a wrong code", 1, "AssumeRole: AccessDenied: MultiFactorAuthentication failed with invalid MFA one time pass code")
	cli(t, s.keysEnv(t, s.bob), nil, "session", "activate", "--role", s.role, "--code", "123456").
		refused(t, "bob without --serial", 1, "finding your MFA device (or give --serial): ListMFADevices: AccessDenied")
	cli(t, s.keysEnv(t, s.nobody), nil, "session", "activate", "--role", s.role, "--serial", s.bobSerial, "--code", s.bobCode()).
		refused(t, "a user the role does not let in", 1, "AssumeRole: AccessDenied")
	cli(t, s.keysEnv(t, s.alice), strings.NewReader(""), "session", "activate", "--role", s.role).
		refused(t, "no code on stdin", 1, "no MFA code on stdin")
	cli(t, s.keysEnv(t, s.alice), nil, "session", "activate", "--role", s.role, "--code", "12345").
		refused(t, "five digits", 1, "six digits")
	cli(t, alice, nil, "session", "activate", "--role", s.role, "--duration", "2h").refused(t, "2 h", 2, "--duration")
	cli(t, alice, nil, "session", "activate", "--code", "123456").refused(t, "no role", 2, "--role is required")
	cli(t, alice, nil, "session", "activate", "--role", s.role, "terraform").refused(t, "a command without --", 2, "goes after --")
	cli(t, alice, nil, "session", "activate", "--role", s.role, "--").refused(t, "-- and nothing", 2, "no command after --")
}

// TestSessionListRevoke: ls shows the sessions activate started (table and JSON), revoke ends
// them by id, role or user, and callers without permission are refused.
func TestSessionListRevoke(t *testing.T) {
	s := newSeed004(t)
	root := s.keysEnv(t, s.Creds)
	activate := func(env map[string]string, serial, code, name string) aws.Credentials {
		t.Helper()
		r := cli(t, env, nil, "session", "activate", "--role", s.role, "--serial", serial, "--code", code, "--session-name", name).ok(t, "activate "+name)
		return varsCreds(evalExports(t, r.stdout))
	}
	a1 := activate(s.keysEnv(t, s.alice), s.aliceSerial, s.aliceCode(), "a1")
	a2 := activate(s.keysEnv(t, s.alice), s.aliceSerial, s.aliceCode(), "a2")
	b1 := activate(s.keysEnv(t, s.bob), s.bobSerial, s.bobCode(), "b1")
	for _, c := range []aws.Credentials{a1, a2, b1} {
		// An authorized call is a use (GetCallerIdentity needs no permission and is none).
		if _, err := s.as(c).S3.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	// Uses are recorded in the background.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var listed struct{ Sessions []listedSession }
		r := cli(t, root, nil, "session", "ls", "-o", "json").ok(t, "ls -o json")
		if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil {
			t.Fatal(err)
		}
		used := 0
		for _, l := range listed.Sessions {
			if l.LastUsed != "" {
				used++
			}
		}
		if used == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions' last use never recorded: %s", r.stdout)
		}
	}

	r := cli(t, root, nil, "session", "ls").ok(t, "ls")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "SESSION ") || !strings.Contains(lines[0], "LAST USED") || strings.Contains(lines[0], "REVOKED") || len(lines) != 4 {
		t.Fatalf("ls table:\n%s", r.stdout)
	}
	row := ""
	for _, l := range lines {
		if strings.HasPrefix(l, a1.AccessKeyID+" ") {
			row = l
		}
	}
	if f := strings.Fields(row); len(f) != 8 || f[1] != "assumed-role/terraform/a1" || f[2] != "role/terraform" || f[3] != "-" || f[4] != "yes" || f[7] == "-" {
		t.Errorf("ls row of a1: %q", row)
	}

	var listed struct{ Sessions []listedSession }
	r = cli(t, root, nil, "session", "ls", "--output", "json", "--role", s.role).ok(t, "ls --output json --role")
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil {
		t.Fatalf("ls --output json: %v\n%s", err, r.stdout)
	}
	var ids []string
	for _, l := range listed.Sessions {
		ids = append(ids, l.SessionID)
		if l.SessionID == a1.AccessKeyID && (l.Arn != s.assumedRoleARN("a1") || l.PrincipalArn != s.role || !l.MFA || l.Expiration == "" || l.LastUsed == "") {
			t.Errorf("a1 in JSON: %+v", l)
		}
	}
	slices.Sort(ids)
	if want := sortedIDs(a1, a2, b1); !slices.Equal(ids, want) {
		t.Errorf("ls --role: %v, want %v", ids, want)
	}

	// A user lists its own sessions with no policy for it; the account's, it may not.
	r = cli(t, s.keysEnv(t, s.alice), nil, "session", "ls", "--user", "alice", "-o", "json").ok(t, "alice ls --user alice")
	listed.Sessions = nil
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || len(listed.Sessions) != 2 {
		t.Errorf("alice's own sessions: %v %s", err, r.stdout)
	}
	cli(t, s.keysEnv(t, s.alice), nil, "session", "ls").refused(t, "alice lists the account's sessions", 1, "ListSessions: AccessDenied: ")
	cli(t, s.keysEnv(t, s.nobody), nil, "session", "revoke", a1.AccessKeyID).refused(t, "nobody revokes a1", 1, "RevokeSession: AccessDenied: ")
	cli(t, s.keysEnv(t, s.alice), nil, "session", "revoke", "--role", s.role).refused(t, "alice revokes the role's sessions", 1, "AccessDenied")
	if got := s.callerARN(t, a1); got != s.assumedRoleARN("a1") {
		t.Fatalf("a refused revocation ended the session: %s", got)
	}

	// Revoke by id: that session ends, the others go on; then by user (alice's own), by role.
	r = cli(t, root, nil, "session", "revoke", a1.AccessKeyID).ok(t, "revoke ID")
	if r.stdout != a1.AccessKeyID+"\n" {
		t.Errorf("revoke ID printed %q", r.stdout)
	}
	if got := s.callerARN(t, a1); got != "ExpiredToken" {
		t.Errorf("a1 after revoke: %s, want ExpiredToken", got)
	}
	if got := s.callerARN(t, a2); got != s.assumedRoleARN("a2") {
		t.Errorf("a2 after a1's revocation: %s", got)
	}
	cli(t, root, nil, "session", "revoke", a1.AccessKeyID).refused(t, "revoke a revoked session", 1, "RevokeSession: NoSuchEntity: No live session")
	r = cli(t, s.keysEnv(t, s.alice), nil, "session", "revoke", "--user", "alice").ok(t, "alice revokes her own")
	if r.stdout != a2.AccessKeyID+"\n" || s.callerARN(t, a2) != "ExpiredToken" {
		t.Errorf("revoke --user alice printed %q; a2 is %s", r.stdout, s.callerARN(t, a2))
	}
	r = cli(t, root, nil, "session", "revoke", "--role", s.role).ok(t, "revoke --role")
	if r.stdout != b1.AccessKeyID+"\n" || s.callerARN(t, b1) != "ExpiredToken" {
		t.Errorf("revoke --role printed %q; b1 is %s", r.stdout, s.callerARN(t, b1))
	}
	r = cli(t, root, nil, "session", "ls").ok(t, "ls with nothing live")
	if r.stdout != "" || !strings.Contains(r.stderr, "No sessions.") {
		t.Errorf("ls with nothing live: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	r = cli(t, root, nil, "session", "ls", "--all").ok(t, "ls --all")
	if lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"); len(lines) != 4 || !strings.HasSuffix(strings.TrimSpace(lines[0]), "REVOKED") ||
		strings.HasSuffix(strings.TrimSpace(lines[1]), "-") {
		t.Errorf("ls --all:\n%s", r.stdout)
	}

	cli(t, root, nil, "session", "revoke").refused(t, "revoke nothing", 2, "exactly one of")
	cli(t, root, nil, "session", "revoke", "ASIAX", "--user", "alice").refused(t, "revoke two things", 2, "exactly one of")
	cli(t, root, nil, "session", "ls", "--output", "yaml").refused(t, "ls --output yaml", 2, "table or json")
	cli(t, root, nil, "session", "bogus").refused(t, "an unknown session command", 2, `unknown command "bogus"`)
}

func sortedIDs(creds ...aws.Credentials) []string {
	var ids []string
	for _, c := range creds {
		ids = append(ids, c.AccessKeyID)
	}
	slices.Sort(ids)
	return ids
}

// TestSessionProfiles: credentials, endpoint and region come from the shared files as serve
// writes them, chosen by --profile or AWS_PROFILE; keys in the environment win over
// AWS_PROFILE but not over --profile; a command run with a session sees no profile.
func TestSessionProfiles(t *testing.T) {
	s := newSeed004(t)
	dir := t.TempDir()
	if err := writeClientFiles(dir, s.srv.key, "us-east-1", s.URL); err != nil {
		t.Fatal(err)
	}
	appendFile(t, filepath.Join(dir, "config"), "\n[profile alice]\nregion = eu-west-1\nendpoint_url = "+s.URL+"\n")
	appendFile(t, filepath.Join(dir, "credentials"), "\n[alice]\naws_access_key_id = "+s.alice.AccessKeyID+"\naws_secret_access_key = "+s.alice.SecretAccessKey+"\n")
	files := map[string]string{"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials")}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range files {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}

	// Only the files: the profile gives the keys (the root's) and the endpoint.
	cli(t, files, nil, "session", "ls", "--profile", "stateward").ok(t, "--profile stateward")
	cli(t, with(map[string]string{"AWS_PROFILE": "stateward"}), nil, "session", "ls").ok(t, "AWS_PROFILE=stateward")
	nobodyKeys := map[string]string{"AWS_ACCESS_KEY_ID": s.nobody.AccessKeyID, "AWS_SECRET_ACCESS_KEY": s.nobody.SecretAccessKey}
	nobodyKeys["AWS_PROFILE"] = "stateward"
	cli(t, with(nobodyKeys), nil, "session", "ls").refused(t, "keys in the environment over AWS_PROFILE", 1, "user/nobody is not authorized")
	cli(t, with(nobodyKeys), nil, "session", "ls", "--profile", "stateward").ok(t, "--profile over keys in the environment")
	cli(t, files, nil, "session", "ls", "--profile", "missing").refused(t, "a profile that does not exist", 1, "missing")

	// activate with alice's profile: the command gets the session, the profile's endpoint
	// and region, and no AWS_PROFILE.
	script := `printf '%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$AWS_ENDPOINT_URL" "$AWS_REGION" "${AWS_PROFILE-unset}"`
	r := cli(t, with(map[string]string{"AWS_PROFILE": "alice"}), nil, "session", "activate", "--role", s.role, "--code", s.aliceCode(),
		"--", "/bin/sh", "-c", script).ok(t, "AWS_PROFILE=alice activate -- sh")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 6 || lines[3] != s.URL || lines[4] != "eu-west-1" || lines[5] != "unset" {
		t.Fatalf("the command saw %q", r.stdout)
	}
	if got := s.callerARN(t, aws.Credentials{AccessKeyID: lines[0], SecretAccessKey: lines[1], SessionToken: lines[2]}); got != s.assumedRoleARN("alice") {
		t.Errorf("the command's credentials are %s", got)
	}
	// eval: the profile is unset, so that it cannot shadow the session.
	r = cli(t, with(map[string]string{"AWS_PROFILE": "alice"}), nil, "session", "activate", "--role", s.role, "--code", s.aliceCode()).ok(t, "AWS_PROFILE=alice activate")
	if vars := evalExports(t, r.stdout); vars["AWS_PROFILE"] != "unset" || vars["AWS_REGION"] != "eu-west-1" || s.callerARN(t, varsCreds(vars)) != s.assumedRoleARN("alice") {
		t.Errorf("eval with AWS_PROFILE=alice: %v", vars)
	}
	// Nothing was written beside the files the test wrote.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the profile directory holds %d entries, want the 2 written", len(entries))
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// TestSessionTLS: over HTTPS with a self-signed certificate, --ca-bundle or AWS_CA_BUNDLE
// makes the client trust it, and activate passes the bundle on.
func TestSessionTLS(t *testing.T) {
	e := &stsEnv{testEnv: newTestEnv(t, envOptions{TLS: true})}
	ca := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.http.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	env := e.keysEnv(t, e.Creds)
	cli(t, env, nil, "session", "ls").refused(t, "an unknown certificate", 1, "certificate")
	cli(t, env, nil, "session", "ls", "--ca-bundle", ca).ok(t, "--ca-bundle")
	env["AWS_CA_BUNDLE"] = ca
	cli(t, env, nil, "session", "ls").ok(t, "AWS_CA_BUNDLE")
	env["AWS_CA_BUNDLE"] = filepath.Join(t.TempDir(), "none.pem")
	cli(t, env, nil, "session", "ls").refused(t, "a CA bundle that does not exist", 1, "CA bundle")
}
