package e2e

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pquerna/otp/totp"
)

// The seeds' IAM and Organizations commands, run as printed with the aws CLI (only
// --endpoint-url added), and what they set up enforced: seed 003's deployer named in a bucket
// policy, seed 001's admins group that may only assume roles and its per-environment accounts,
// seed 004's terraform group, MFA-gated role and virtual MFA device.

// iamUser is the part of an IAM User the seeds read.
type iamUser struct {
	UserName, Path, UserId, Arn string
	CreateDate                  string
}

var (
	userIDRe = regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`)
	keyIDRe  = regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
)

// as returns a copy of cc that signs with another access key.
func (cc *cliCase) as(id, secret string) *cliCase {
	c := *cc
	c.keyID, c.secret, c.token = id, secret, ""
	c.env = c.environ(nil)
	return &c
}

// createAccessKey runs `aws iam create-access-key --user-name user` and returns the key.
func (cc *cliCase) createAccessKey(t testing.TB, user string) (id, secret string) {
	t.Helper()
	var out struct {
		AccessKey struct{ UserName, AccessKeyId, Status, SecretAccessKey, CreateDate string }
	}
	cc.seedJSON(t, &out, "iam", "create-access-key", "--user-name", user)
	k := out.AccessKey
	if k.UserName != user || !keyIDRe.MatchString(k.AccessKeyId) || k.Status != "Active" || len(k.SecretAccessKey) != 40 || k.CreateDate == "" {
		t.Fatalf("create-access-key: %+v", k)
	}
	return k.AccessKeyId, k.SecretAccessKey
}

// denied runs a command that the policies must refuse, and checks the client saw AWS's
// refusal: the code its protocol uses and the "not authorized" text.
func (cc *cliCase) denied(t testing.TB, code string, args ...string) {
	t.Helper()
	r := cc.seed(t, args...)
	if r.Err == nil {
		t.Errorf("aws %s: allowed, want %s\n%s", strings.Join(args[:2], " "), code, r)
		return
	}
	if !strings.Contains(r.Output(), code) {
		t.Errorf("aws %s: want %s\n%s", strings.Join(args[:2], " "), code, r)
	}
}

// TestSeedIAM runs the seeds' IAM and Organizations setup with both aws CLIs.
func TestSeedIAM(t *testing.T) {
	for _, c := range awsCLIs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bin := c.binary(t)
			srv := startServer(t, serverOpts{Region: seedRegion})
			cc := newCLICase(t, c, bin, srv)
			account := cc.callerAccount(t)
			t.Run("seed003", func(t *testing.T) { cc.seed003IAM(t, account) })
			t.Run("seed001", func(t *testing.T) { cc.seed001IAM(t, account) })
			t.Run("seed004", func(t *testing.T) { cc.seed004IAM(t, account) })
		})
	}
}

// seed003IAM: "create an unprivileged IAM user", attach AmazonS3FullAccess and
// AmazonDynamoDBFullAccess, name the user's ARN (as create-user printed it) in the bucket
// policy. The bucket policy is checked to be enforced before the managed policies are
// attached: alone, it lets the deployer list terraform-remote-store and nothing else.
func (cc *cliCase) seed003IAM(t *testing.T, account string) {
	var out struct{ User iamUser }
	r := cc.seedJSON(t, &out, "iam", "create-user", "--user-name", "terraform-deployer")
	u := out.User
	if u.UserName != "terraform-deployer" || u.Path != "/" || !userIDRe.MatchString(u.UserId) || u.CreateDate == "" ||
		u.Arn != "arn:aws:iam::"+account+":user/terraform-deployer" {
		t.Fatalf("create-user: %+v\n%s", u, r)
	}
	cc.createSeedBucket(t, seed003RemoteBucket)
	cc.createSeedBucket(t, "other-bucket")
	// "Take note of the Arn from the command's output": the policy names it.
	policy := strings.ReplaceAll(seed003Policy, "arn:aws:iam::123456789012:user/terraform-deployer", u.Arn)
	cc.putSeedPolicy(t, seed003RemoteBucket, policy)
	id, secret := cc.createAccessKey(t, "terraform-deployer")
	deployer := cc.as(id, secret)
	var who struct{ Arn string }
	deployer.seedJSON(t, &who, "sts", "get-caller-identity")
	if who.Arn != u.Arn {
		t.Errorf("deployer's get-caller-identity: Arn %q, want %q", who.Arn, u.Arn)
	}
	// The bucket policy grants s3:* on the bucket's ARN: listing it, not writing objects.
	deployer.seedOK(t, "s3api", "list-objects-v2", "--bucket", seed003RemoteBucket)
	writeFile(t, filepath.Join(cc.dir, "state.json"), []byte(`{"version":4}`))
	deployer.denied(t, "AccessDenied", "s3api", "put-object", "--bucket", seed003RemoteBucket, "--key", "terraform.tfstate", "--body", "state.json")
	deployer.denied(t, "AccessDenied", "s3api", "list-objects-v2", "--bucket", "other-bucket")
	deployer.denied(t, "AccessDeniedException", "dynamodb", "list-tables")

	cc.seedSilent(t, "iam", "attach-user-policy", "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3FullAccess", "--user-name", "terraform-deployer")
	cc.seedSilent(t, "iam", "attach-user-policy", "--policy-arn", "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess", "--user-name", "terraform-deployer")
	deployer.seedOK(t, "s3api", "put-object", "--bucket", seed003RemoteBucket, "--key", "terraform.tfstate", "--body", "state.json")
	deployer.seedOK(t, "s3api", "list-objects-v2", "--bucket", "other-bucket")
	deployer.seedOK(t, "dynamodb", "list-tables")
	// Still nothing beyond S3 and DynamoDB.
	deployer.denied(t, "AccessDenied", "iam", "list-users")
	deployer.denied(t, "AccessDeniedException", "kms", "list-keys")
	var attached struct {
		AttachedPolicies []struct{ PolicyName, PolicyArn string }
	}
	cc.seedJSON(t, &attached, "iam", "list-attached-user-policies", "--user-name", "terraform-deployer")
	if len(attached.AttachedPolicies) != 2 {
		t.Errorf("list-attached-user-policies: %+v, want the two managed policies", attached.AttachedPolicies)
	}
}

// seed001IAM: an organization with per-environment accounts, an admins group whose only
// permission is sts:AssumeRole on the production role, and an admin user in it.
func (cc *cliCase) seed001IAM(t *testing.T, account string) {
	var org struct {
		Organization struct{ Id, MasterAccountId, FeatureSet string }
	}
	cc.seedJSON(t, &org, "organizations", "create-organization")
	if org.Organization.MasterAccountId != account || !strings.HasPrefix(org.Organization.Id, "o-") {
		t.Fatalf("create-organization: %+v", org.Organization)
	}
	accounts := map[string]string{}
	for _, env := range []string{"staging", "production"} {
		var st struct {
			CreateAccountStatus struct{ Id, State, AccountId string }
		}
		cc.seedJSON(t, &st, "organizations", "create-account", "--email", env+"@example.com", "--account-name", env)
		var done struct {
			CreateAccountStatus struct{ Id, State, AccountId, AccountName string }
		}
		cc.seedJSON(t, &done, "organizations", "describe-create-account-status", "--create-account-request-id", st.CreateAccountStatus.Id)
		if done.CreateAccountStatus.State != "SUCCEEDED" || !accountRe.MatchString(done.CreateAccountStatus.AccountId) {
			t.Fatalf("describe-create-account-status: %+v", done.CreateAccountStatus)
		}
		accounts[env] = done.CreateAccountStatus.AccountId
	}
	var list struct {
		Accounts []struct{ Id, Name, Status string }
	}
	cc.seedJSON(t, &list, "organizations", "list-accounts")
	if len(list.Accounts) != 3 {
		t.Errorf("list-accounts: %+v, want the management account and two members", list.Accounts)
	}

	cc.seedOK(t, "iam", "create-group", "--group-name", "admins")
	groupPolicy := strings.ReplaceAll(`{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "sts:AssumeRole",
    "Resource": "arn:aws:iam::PRODUCTION-ACCOUNT-ID:role/UpdateApp"
  }
}`, "PRODUCTION-ACCOUNT-ID", accounts["production"])
	writeFile(t, filepath.Join(cc.dir, "admins.json"), []byte(groupPolicy))
	cc.seedSilent(t, "iam", "put-group-policy", "--group-name", "admins", "--policy-name", "assume-environment-roles",
		"--policy-document", "file://admins.json")
	cc.seedOK(t, "iam", "create-user", "--user-name", "alice")
	cc.seedSilent(t, "iam", "add-user-to-group", "--user-name", "alice", "--group-name", "admins")
	id, secret := cc.createAccessKey(t, "alice")
	alice := cc.as(id, secret)
	var who struct{ Arn, Account string }
	alice.seedJSON(t, &who, "sts", "get-caller-identity")
	if who.Arn != "arn:aws:iam::"+account+":user/alice" || who.Account != account {
		t.Errorf("alice's get-caller-identity: %+v", who)
	}
	// Admins hold keys that can change nothing: every call but assuming a role is refused.
	alice.denied(t, "AccessDenied", "s3api", "list-buckets")
	alice.denied(t, "AccessDenied", "iam", "create-user", "--user-name", "mallory")
	alice.denied(t, "AccessDeniedException", "dynamodb", "list-tables")
	alice.denied(t, "AccessDeniedException", "organizations", "list-accounts")
	// The simulator answers with the engine that enforces.
	role := "arn:aws:iam::" + accounts["production"] + ":role/UpdateApp"
	var sim struct {
		EvaluationResults []struct{ EvalActionName, EvalResourceName, EvalDecision string }
	}
	cc.seedJSON(t, &sim, "iam", "simulate-principal-policy", "--policy-source-arn", who.Arn,
		"--action-names", "sts:AssumeRole", "s3:ListAllMyBuckets", "--resource-arns", role)
	want := map[string]string{"sts:AssumeRole": "allowed", "s3:ListAllMyBuckets": "implicitDeny"}
	if len(sim.EvaluationResults) != 2 {
		t.Fatalf("simulate-principal-policy: %+v", sim.EvaluationResults)
	}
	for _, res := range sim.EvaluationResults {
		if want[res.EvalActionName] != res.EvalDecision {
			t.Errorf("simulate-principal-policy %s on %s: %s, want %s", res.EvalActionName, res.EvalResourceName, res.EvalDecision, want[res.EvalActionName])
		}
	}
	var created struct{ Users []iamUser }
	cc.seedJSON(t, &created, "iam", "list-users")
	for _, u := range created.Users {
		if u.UserName == "mallory" {
			t.Errorf("alice's refused create-user created %+v", u)
		}
	}
}

// seed004IAM: the terraform role (AdministratorAccess, trusted with MFA, one-hour sessions),
// a group that may only assume it, a user in the group with an access key, and the user's
// virtual MFA device, created with a QR code PNG and enabled with two consecutive codes.
func (cc *cliCase) seed004IAM(t *testing.T, account string) {
	trust := `{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::` + account + `:root"},
    "Action": "sts:AssumeRole",
    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
  }]
}`
	writeFile(t, filepath.Join(cc.dir, "trust.json"), []byte(trust))
	var role struct {
		Role struct {
			RoleName, Arn, RoleId    string
			MaxSessionDuration       int
			AssumeRolePolicyDocument json.RawMessage
		}
	}
	cc.seedJSON(t, &role, "iam", "create-role", "--role-name", "terraform", "--assume-role-policy-document", "file://trust.json",
		"--max-session-duration", "3600")
	if role.Role.Arn != "arn:aws:iam::"+account+":role/terraform" || role.Role.MaxSessionDuration != 3600 || !strings.HasPrefix(role.Role.RoleId, "AROA") {
		t.Errorf("create-role: %+v", role.Role)
	}
	// Both CLIs print the trust policy as JSON, decoded from IAM's URL-encoded form.
	var doc struct{ Statement []struct{ Action string } }
	if err := json.Unmarshal(role.Role.AssumeRolePolicyDocument, &doc); err != nil || len(doc.Statement) != 1 || doc.Statement[0].Action != "sts:AssumeRole" {
		t.Errorf("create-role: AssumeRolePolicyDocument %s (%v)", role.Role.AssumeRolePolicyDocument, err)
	}
	cc.seedSilent(t, "iam", "attach-role-policy", "--role-name", "terraform", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess")
	cc.seedOK(t, "iam", "create-group", "--group-name", "terraform")
	writeFile(t, filepath.Join(cc.dir, "group.json"), []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"`+role.Role.Arn+`"}]}`))
	cc.seedSilent(t, "iam", "put-group-policy", "--group-name", "terraform", "--policy-name", "assume-terraform", "--policy-document", "file://group.json")
	const user = "martin.rosselle.terraform"
	cc.seedOK(t, "iam", "create-user", "--user-name", user)
	cc.seedSilent(t, "iam", "add-user-to-group", "--user-name", user, "--group-name", "terraform")
	cc.createAccessKey(t, user)

	// The seed's command, verbatim: the QR code lands in the file it names.
	png := "qrcode." + user + ".png"
	var dev struct{ VirtualMFADevice struct{ SerialNumber string } }
	cc.seedJSON(t, &dev, "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", user, "--outfile", png, "--bootstrap-method", "QRCodePNG")
	serial := dev.VirtualMFADevice.SerialNumber
	if serial != "arn:aws:iam::"+account+":mfa/"+user {
		t.Fatalf("create-virtual-mfa-device: SerialNumber %q", serial)
	}
	uri := decodeQR(t, filepath.Join(cc.dir, png))
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") == "" {
		t.Fatalf("QR code holds %q, want an otpauth://totp/ URI with a secret", uri)
	}
	secret := u.Query().Get("secret")
	// "pass the consequent 2 otp values": the previous 30 s step's code and the current one.
	now := time.Now()
	code1, err := totp.GenerateCode(secret, now.Add(-30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	code2, _ := totp.GenerateCode(secret, now)
	// A wrong pair is refused first.
	r := cc.seed(t, "iam", "enable-mfa-device", "--user-name", user, "--serial-number", serial, "--authentication-code1", code2, "--authentication-code2", code1)
	if r.Err == nil || !strings.Contains(r.Output(), "InvalidAuthenticationCode") {
		t.Errorf("enable-mfa-device with the codes swapped: want InvalidAuthenticationCode\n%s", r)
	}
	cc.seedSilent(t, "iam", "enable-mfa-device", "--user-name", user, "--serial-number", serial,
		"--authentication-code1", code1, "--authentication-code2", code2)
	var devices struct {
		MFADevices []struct{ UserName, SerialNumber string }
	}
	cc.seedJSON(t, &devices, "iam", "list-mfa-devices", "--user-name", user)
	if len(devices.MFADevices) != 1 || devices.MFADevices[0].SerialNumber != serial {
		t.Errorf("list-mfa-devices: %+v", devices.MFADevices)
	}
	// With the device enabled the role's trust policy is what stands between the user and
	// the role; assuming it is the STS sessions issue.
}

// decodeQR reads a QR code PNG back to its text.
func decodeQR(t testing.TB, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the CLI wrote no QR code: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, pureBarcode)
	if err != nil {
		t.Fatalf("%s holds no readable QR code: %v", path, err)
	}
	return res.GetText()
}

// pureBarcode tells the decoder the image is a generated code, not a photo: its detector for
// photos misreads about one in fifty unrotated synthetic codes (which zbar reads fine), and a
// test that fails for the decoder's sake says nothing about the code.
var pureBarcode = map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true}
