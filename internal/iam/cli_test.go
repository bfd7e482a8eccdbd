package iam_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI runs the seeds' IAM commands verbatim with the real aws CLI (botocore), when it
// is installed: users, managed policy attachments, access keys, a virtual MFA device written
// to a PNG and enabled with two codes, a group allowed only to assume a role, and a role
// whose trust policy requires MFA.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the aws CLI")
	}
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	e := newEnv(t)
	acct := e.account.ID
	home := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoint-url", e.url, "--output", "json"}, args...)...)
		cmd.Dir = home
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
			"AWS_ACCESS_KEY_ID="+e.rootKey.ID,
			"AWS_SECRET_ACCESS_KEY="+e.rootKey.Secret.Reveal(),
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
	decode := func(out string, v any) {
		t.Helper()
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
	}

	// Seed 003.
	var user struct {
		User struct{ Arn, UserName, CreateDate string }
	}
	decode(run("iam", "create-user", "--user-name", "terraform-deployer"), &user)
	if user.User.Arn != "arn:aws:iam::"+acct+":user/terraform-deployer" || user.User.CreateDate == "" {
		t.Errorf("create-user = %+v", user)
	}
	run("iam", "attach-user-policy", "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3FullAccess", "--user-name", "terraform-deployer")
	run("iam", "attach-user-policy", "--policy-arn", "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess", "--user-name", "terraform-deployer")
	var attached struct{ AttachedPolicies []struct{ PolicyName string } }
	decode(run("iam", "list-attached-user-policies", "--user-name", "terraform-deployer"), &attached)
	if len(attached.AttachedPolicies) != 2 {
		t.Errorf("list-attached-user-policies = %+v", attached)
	}

	// Seed 004.
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey, Status string }
	}
	decode(run("iam", "create-access-key", "--user-name", "terraform-deployer"), &key)
	if len(key.AccessKey.SecretAccessKey) != 40 || key.AccessKey.Status != "Active" {
		t.Errorf("create-access-key = %+v", key.AccessKey)
	}
	var device struct{ VirtualMFADevice struct{ SerialNumber string } }
	decode(run("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "terraform-deployer",
		"--outfile", "qrcode.terraform-deployer.png", "--bootstrap-method", "QRCodePNG"), &device)
	serial := device.VirtualMFADevice.SerialNumber
	if serial != "arn:aws:iam::"+acct+":mfa/terraform-deployer" {
		t.Errorf("serial = %q", serial)
	}
	qr, err := os.ReadFile(filepath.Join(home, "qrcode.terraform-deployer.png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(qr)); err != nil {
		t.Errorf("--outfile is not a PNG: %v", err)
	}
	run("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "seeded", "--outfile", "seed.txt", "--bootstrap-method", "Base32StringSeed")
	seed, err := os.ReadFile(filepath.Join(home, "seed.txt"))
	if err != nil || len(seed) != 32 {
		t.Fatalf("Base32StringSeed outfile = %q, %v", seed, err)
	}
	n := step(e.clock.Now())
	run("iam", "enable-mfa-device", "--user-name", "terraform-deployer", "--serial-number", "arn:aws:iam::"+acct+":mfa/seeded",
		"--authentication-code1", totpCode(t, string(seed), n-1), "--authentication-code2", totpCode(t, string(seed), n))
	var devices struct {
		MFADevices []struct{ SerialNumber, EnableDate string }
	}
	decode(run("iam", "list-mfa-devices", "--user-name", "terraform-deployer"), &devices)
	if len(devices.MFADevices) != 1 || devices.MFADevices[0].SerialNumber != "arn:aws:iam::"+acct+":mfa/seeded" {
		t.Errorf("list-mfa-devices = %+v", devices)
	}

	// Seeds 001 and 004: a group that may only assume a role; a role requiring MFA.
	run("iam", "create-group", "--group-name", "admins")
	run("iam", "put-group-policy", "--group-name", "admins", "--policy-name", "assume", "--policy-document", assumeOnly)
	run("iam", "add-user-to-group", "--group-name", "admins", "--user-name", "terraform-deployer")
	trustFile := filepath.Join(home, "trust.json")
	if err := os.WriteFile(trustFile, []byte(mfaTrust(acct)), 0o600); err != nil {
		t.Fatal(err)
	}
	run("iam", "create-role", "--role-name", "terraform", "--assume-role-policy-document", "file://"+trustFile, "--max-session-duration", "3600")
	// The CLI decodes the URL-encoded document into JSON.
	var role struct {
		Role struct {
			MaxSessionDuration       int
			AssumeRolePolicyDocument struct {
				Statement []struct {
					Condition map[string]map[string]string
				}
			}
		}
	}
	decode(run("iam", "get-role", "--role-name", "terraform"), &role)
	if role.Role.MaxSessionDuration != 3600 || len(role.Role.AssumeRolePolicyDocument.Statement) != 1 ||
		role.Role.AssumeRolePolicyDocument.Statement[0].Condition["Bool"]["aws:MultiFactorAuthPresent"] != "true" {
		t.Errorf("get-role = %+v", role)
	}
	var group struct {
		PolicyDocument struct{ Statement struct{ Action string } }
	}
	decode(run("iam", "get-group-policy", "--group-name", "admins", "--policy-name", "assume"), &group)
	if group.PolicyDocument.Statement.Action != "sts:AssumeRole" {
		t.Errorf("get-group-policy = %+v", group)
	}
	var details struct {
		UserDetailList []struct{ GroupList []string }
		RoleDetailList []struct{ RoleName string }
		Policies       []struct {
			PolicyName        string
			PolicyVersionList []struct{ Document map[string]any }
		}
	}
	decode(run("iam", "get-account-authorization-details"), &details)
	if len(details.UserDetailList) != 1 || len(details.RoleDetailList) != 1 || len(details.Policies) != 2 ||
		details.Policies[0].PolicyVersionList[0].Document["Version"] != "2012-10-17" {
		t.Errorf("get-account-authorization-details = %+v", details)
	}
	var lastUsed struct {
		AccessKeyLastUsed struct{ ServiceName, Region string }
	}
	decode(run("iam", "get-access-key-last-used", "--access-key-id", key.AccessKey.AccessKeyId), &lastUsed)
	if lastUsed.AccessKeyLastUsed.ServiceName != "N/A" {
		t.Errorf("get-access-key-last-used = %+v", lastUsed)
	}
	var sim struct {
		EvaluationResults []struct{ EvalActionName, EvalDecision string }
	}
	decode(run("iam", "simulate-principal-policy", "--policy-source-arn", user.User.Arn, "--action-names", "s3:PutObject", "sts:AssumeRole"), &sim)
	if len(sim.EvaluationResults) != 2 || sim.EvaluationResults[0].EvalDecision == "" {
		t.Errorf("simulate-principal-policy = %+v", sim)
	}
}
