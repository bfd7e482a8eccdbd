package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/pquerna/otp/totp"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// fakeClock is the identity services' clock in these tests: sessions expire and MFA windows
// move when the test says so, not when time passes.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// stsEnv is a server with a fake identity clock and helpers to make users, roles and MFA.
type stsEnv struct {
	*testEnv
	clock *fakeClock
	root  *clients
}

func newSTSEnv(t *testing.T) *stsEnv {
	clock := &fakeClock{t: time.Now().UTC().Truncate(time.Minute)}
	env := newTestEnv(t, envOptions{Clock: clock.Now})
	return &stsEnv{testEnv: env, clock: clock, root: env.as(env.Creds)}
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// user creates an IAM user with an inline policy (none when empty) and returns its key.
func (e *stsEnv) user(t *testing.T, name, doc string) aws.Credentials {
	t.Helper()
	ctx := context.Background()
	must[*iam.CreateUserOutput](t)(e.root.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))
	if doc != "" {
		must[*iam.PutUserPolicyOutput](t)(e.root.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name),
			PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}))
	}
	k := must[*iam.CreateAccessKeyOutput](t)(e.root.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)}))
	return aws.Credentials{AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(k.AccessKey.SecretAccessKey)}
}

// role creates a role with a trust policy and an inline policy, and returns its ARN.
func (e *stsEnv) role(t *testing.T, name, trust, doc string, maxSession int32) string {
	t.Helper()
	ctx := context.Background()
	out := must[*iam.CreateRoleOutput](t)(e.root.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name),
		AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(maxSession)}))
	if doc != "" {
		must[*iam.PutRolePolicyOutput](t)(e.root.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name),
			PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}))
	}
	return aws.ToString(out.Role.Arn)
}

// mfa gives user a virtual MFA device, enabled with two consecutive codes at the fake clock,
// and returns its serial and a source of the next unused code (one step ahead each time,
// moving the clock when the window would be left).
func (e *stsEnv) mfa(t *testing.T, user string) (serial string, next func() string) {
	t.Helper()
	ctx := context.Background()
	dev := must[*iam.CreateVirtualMFADeviceOutput](t)(e.root.IAM.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(user)}))
	seed := string(dev.VirtualMFADevice.Base32StringSeed)
	serial = aws.ToString(dev.VirtualMFADevice.SerialNumber)
	now := e.clock.Now()
	c1, _ := totp.GenerateCode(seed, now.Add(-30*time.Second))
	c2, _ := totp.GenerateCode(seed, now)
	must[*iam.EnableMFADeviceOutput](t)(e.root.IAM.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(user),
		SerialNumber: aws.String(serial), AuthenticationCode1: aws.String(c1), AuthenticationCode2: aws.String(c2)}))
	used := now // the newest step a code was used for
	return serial, func() string {
		// The server accepts a code of the current 30 s step or the ones either side, each
		// step once: take the step after the last used, moving the clock so that it is at
		// most one step ahead.
		step := used.Add(30 * time.Second)
		if d := step.Sub(e.clock.Now().Add(30 * time.Second)); d > 0 {
			e.clock.Advance(d)
		}
		used = step
		code, _ := totp.GenerateCode(seed, step)
		return code
	}
}

func sessionCreds(c *ststypes.Credentials) aws.Credentials {
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken: aws.ToString(c.SessionToken)}
}

// apiCode is the error code of an SDK error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

func wantCode(t *testing.T, what string, err error, code, msgPart string) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Errorf("%s: error %q, want %s (%v)", what, got, code, err)
		return
	}
	if msgPart != "" && !strings.Contains(err.Error(), msgPart) {
		t.Errorf("%s: %v, want a message with %q", what, err, msgPart)
	}
}

const mfaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::ACCOUNT:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`

// TestAssumeRoleSeedFlow is seeds 001 and 004 with sessions: a user who may only assume a
// role, the role trusting the account with MFA, one-hour sessions limited to the role's
// permissions.
func TestAssumeRoleSeedFlow(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	acct := e.Account
	for _, b := range []string{"staging-state", "prod-state"} {
		mustBucket(t, e.testEnv, b)
	}
	roleARN := e.role(t, "terraform", strings.ReplaceAll(mfaTrust, "ACCOUNT", acct),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::staging-state","arn:aws:s3:::staging-state/*"]}]}`, 3600)
	alice := e.as(e.user(t, "alice", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"`+roleARN+`"}}`))
	serial, code := e.mfa(t, "alice")

	_, err := alice.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("alice")})
	wantCode(t, "without MFA", err, "AccessDenied", "not authorized to perform: sts:AssumeRole on resource: "+roleARN)

	_, err = alice.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("alice"),
		SerialNumber: &serial, TokenCode: aws.String("000000")})
	wantCode(t, "wrong code", err, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code")

	c := code()
	_, err = alice.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("alice"),
		SerialNumber: &serial, TokenCode: &c, DurationSeconds: aws.Int32(7200)})
	wantCode(t, "7200 s on a 3600 s role", err, "ValidationError", "exceeds the MaxSessionDuration")

	c = code()
	out, err := alice.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("alice"),
		SerialNumber: &serial, TokenCode: &c, DurationSeconds: aws.Int32(3600)})
	if err != nil {
		t.Fatal(err)
	}
	creds := sessionCreds(out.Credentials)
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || len(creds.SessionToken) < 32 {
		t.Errorf("credentials %s / token of %d bytes", creds.AccessKeyID, len(creds.SessionToken))
	}
	if got, want := aws.ToTime(out.Credentials.Expiration), e.clock.Now().Truncate(time.Second).Add(time.Hour); !got.Equal(want) {
		t.Errorf("Expiration %s, want %s", got, want)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::"+acct+":assumed-role/terraform/alice" {
		t.Errorf("AssumedRoleUser.Arn = %s", got)
	}
	_, err = alice.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("again"),
		SerialNumber: &serial, TokenCode: &c})
	wantCode(t, "a reused code", err, "AccessDenied", "MultiFactorAuthentication failed")

	s := e.as(creds)
	who := must[*sts.GetCallerIdentityOutput](t)(s.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(who.Arn) != "arn:aws:sts::"+acct+":assumed-role/terraform/alice" || !strings.HasPrefix(aws.ToString(who.UserId), "AROA") ||
		!strings.HasSuffix(aws.ToString(who.UserId), ":alice") || aws.ToString(who.Account) != acct {
		t.Errorf("session's GetCallerIdentity: %s %s %s", aws.ToString(who.Arn), aws.ToString(who.UserId), aws.ToString(who.Account))
	}
	if _, err := s.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("staging-state"), Key: aws.String("tfstate"), Body: strings.NewReader("{}")}); err != nil {
		t.Errorf("the session writes the staging state: %v", err)
	}
	_, err = s.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("prod-state"), Key: aws.String("tfstate"), Body: strings.NewReader("{}")})
	wantCode(t, "the session writes the production state", err, "AccessDenied", "assumed-role/terraform/alice is not authorized to perform: s3:PutObject")
	// The user itself holds keys that can change nothing.
	_, err = alice.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("staging-state"), Key: aws.String("tfstate"), Body: strings.NewReader("{}")})
	wantCode(t, "alice's own key", err, "AccessDenied", "")

	// The session carries MFA into later decisions: a bucket policy that demands it.
	must[*s3.PutBucketPolicyOutput](t)(e.root.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("staging-state"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::staging-state/*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`)}))
	if _, err := s.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("staging-state"), Key: aws.String("tfstate")}); err != nil {
		t.Errorf("an MFA session deletes under an MFA-only policy: %v", err)
	}
	_, err = e.root.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("staging-state"), Key: aws.String("tfstate")})
	wantCode(t, "the root's long-term key under an MFA-only policy", err, "AccessDenied", "explicit deny in a resource-based policy")

	// An hour on, the session is over, on every service.
	e.clock.Advance(time.Hour)
	_, err = s.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("staging-state")})
	wantCode(t, "S3 after expiry", err, "ExpiredToken", "")
	_, err = s.DDB.ListTables(ctx, &dynamodb.ListTablesInput{})
	wantCode(t, "DynamoDB after expiry", err, "ExpiredTokenException", "")
	_, err = s.KMS.ListKeys(ctx, &kms.ListKeysInput{})
	wantCode(t, "KMS after expiry", err, "ExpiredTokenException", "")
	_, err = s.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, "STS after expiry", err, "ExpiredToken", "")
}

// TestAssumeRoleRules covers the trust rules, chaining, external ids, session policies, tags,
// duration limits and mismatched tokens.
func TestAssumeRoleRules(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	acct := e.Account
	mustBucket(t, e.testEnv, "state")
	s3All := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	bob := e.user(t, "bob", "")
	bobARN := "arn:aws:iam::" + acct + ":user/bob"
	// A trust policy naming the user lets it assume the role with no policy of its own …
	direct := e.role(t, "direct", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+bobARN+`"},"Action":"sts:AssumeRole"}]}`, s3All, 3600)
	// … one naming the account delegates to the user's own policies.
	delegated := e.role(t, "delegated", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+acct+`"},"Action":"sts:AssumeRole"}]}`, s3All, 3600)
	external := e.role(t, "external", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+bobARN+`"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"tf-7"}}}]}`, s3All, 7200)
	chained := e.role(t, "chained", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+direct+`"},"Action":"sts:AssumeRole"}]}`, s3All, 7200)
	b := e.as(bob)

	assume := func(c *clients, in *sts.AssumeRoleInput) (*clients, error) {
		out, err := c.STS.AssumeRole(ctx, in)
		if err != nil {
			return nil, err
		}
		return e.as(sessionCreds(out.Credentials)), nil
	}
	s, err := assume(b, &sts.AssumeRoleInput{RoleArn: &direct, RoleSessionName: aws.String("bob")})
	if err != nil {
		t.Fatalf("trust naming the user: %v", err)
	}
	_, err = assume(b, &sts.AssumeRoleInput{RoleArn: &delegated, RoleSessionName: aws.String("bob")})
	wantCode(t, "trust naming the account, no identity policy", err, "AccessDenied", "because no identity-based policy allows the sts:AssumeRole action")
	_, err = assume(b, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/missing"), RoleSessionName: aws.String("bob")})
	wantCode(t, "a role that does not exist", err, "AccessDenied", "")
	_, err = assume(b, &sts.AssumeRoleInput{RoleArn: &external, RoleSessionName: aws.String("bob"), ExternalId: aws.String("wrong")})
	wantCode(t, "wrong external id", err, "AccessDenied", "")
	if _, err := assume(b, &sts.AssumeRoleInput{RoleArn: &external, RoleSessionName: aws.String("bob"), ExternalId: aws.String("tf-7"),
		Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("infra")}}, DurationSeconds: aws.Int32(7200)}); err != nil {
		t.Errorf("right external id, tags and 2 h on a 2 h role: %v", err)
	}
	_, err = assume(b, &sts.AssumeRoleInput{RoleArn: &direct, RoleSessionName: aws.String("bob"),
		Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("infra")}}})
	wantCode(t, "tags the trust policy does not allow (sts:TagSession)", err, "AccessDenied", "sts:TagSession")

	// Role chaining: at most an hour.
	_, err = assume(s, &sts.AssumeRoleInput{RoleArn: &chained, RoleSessionName: aws.String("hop"), DurationSeconds: aws.Int32(3601)})
	wantCode(t, "a chained session of more than an hour", err, "ValidationError", "role chaining")
	hop, err := assume(s, &sts.AssumeRoleInput{RoleArn: &chained, RoleSessionName: aws.String("hop"), DurationSeconds: aws.Int32(3600)})
	if err != nil {
		t.Fatalf("role chaining: %v", err)
	}
	who := must[*sts.GetCallerIdentityOutput](t)(hop.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(who.Arn) != "arn:aws:sts::"+acct+":assumed-role/chained/hop" {
		t.Errorf("chained session is %s", aws.ToString(who.Arn))
	}
	_, err = assume(b, &sts.AssumeRoleInput{RoleArn: &direct, RoleSessionName: aws.String("bob"), DurationSeconds: aws.Int32(899)})
	wantCode(t, "899 s", err, "ValidationError", "900")

	// A session policy narrows the role.
	ro, err := assume(b, &sts.AssumeRoleInput{RoleArn: &direct, RoleSessionName: aws.String("ro"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("state")}); err != nil {
		t.Errorf("session policy allows listing: %v", err)
	}
	_, err = ro.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("state"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, "session policy, PutObject", err, "AccessDenied", "because no session policy allows the s3:PutObject action")
	_, err = assume(b, &sts.AssumeRoleInput{RoleArn: &direct, RoleSessionName: aws.String("bad"), Policy: aws.String(`{"Statement":[]}`)})
	wantCode(t, "malformed session policy", err, "MalformedPolicyDocument", "")
	_, err = assume(b, &sts.AssumeRoleInput{RoleArn: &direct, RoleSessionName: aws.String("bad"), PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::" + acct + ":policy/none")}}})
	wantCode(t, "session policy ARN naming nothing", err, "MalformedPolicyDocument", "")

	// A session's key with another session's token, or a long-term key with a token.
	other := must[*sts.AssumeRoleOutput](t)(b.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &direct, RoleSessionName: aws.String("other")}))
	mixed := sessionCreds(other.Credentials)
	mixed.SessionToken = aws.ToString(must[*sts.AssumeRoleOutput](t)(b.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &direct, RoleSessionName: aws.String("third")})).Credentials.SessionToken)
	_, err = e.as(mixed).S3.ListBuckets(ctx, &s3.ListBucketsInput{})
	wantCode(t, "a token of another session (S3)", err, "InvalidToken", "")
	_, err = e.as(mixed).DDB.ListTables(ctx, &dynamodb.ListTablesInput{})
	wantCode(t, "a token of another session (DynamoDB)", err, "UnrecognizedClientException", "")
	withToken := bob
	withToken.SessionToken = aws.ToString(other.Credentials.SessionToken)
	_, err = e.as(withToken).STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, "a long-term key with a token", err, "InvalidClientTokenId", "")

	// GetAccessKeyInfo names the account of either kind of key.
	for _, id := range []string{bob.AccessKeyID, aws.ToString(other.Credentials.AccessKeyId)} {
		info := must[*sts.GetAccessKeyInfoOutput](t)(e.root.STS.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(id)}))
		if aws.ToString(info.Account) != acct {
			t.Errorf("GetAccessKeyInfo(%s) = %s", id, aws.ToString(info.Account))
		}
	}
}

// TestGetSessionToken: a user's MFA session carries MFA into every decision; a session may
// not ask for another.
func TestGetSessionToken(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	mustBucket(t, e.testEnv, "state")
	// The user may write state only with MFA.
	carol := e.as(e.user(t, "carol", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::state/*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`))
	serial, code := e.mfa(t, "carol")
	_, err := carol.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("state"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, "long-term key", err, "AccessDenied", "")
	plain := e.as(sessionCreds(must[*sts.GetSessionTokenOutput](t)(carol.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})).Credentials))
	_, err = plain.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("state"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, "session without MFA", err, "AccessDenied", "")
	c := code()
	out := must[*sts.GetSessionTokenOutput](t)(carol.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: &serial, TokenCode: &c, DurationSeconds: aws.Int32(3600)}))
	s := e.as(sessionCreds(out.Credentials))
	who := must[*sts.GetCallerIdentityOutput](t)(s.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(who.Arn) != "arn:aws:iam::"+e.Account+":user/carol" {
		t.Errorf("GetSessionToken session is %s, want the user", aws.ToString(who.Arn))
	}
	if _, err := s.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("state"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Errorf("MFA session: %v", err)
	}
	_, err = s.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	wantCode(t, "GetSessionToken from a session", err, "AccessDenied", "session credentials")
	// As on AWS: such credentials reach IAM only with MFA, and STS only to assume a role or
	// ask who they are.
	_, err = plain.IAM.ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, "IAM with a session without MFA", err, "AccessDenied", "without MFA")
	_, err = s.IAM.ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, "IAM with an MFA session, no IAM policy", err, "AccessDenied", "iam:ListUsers")
	_, err = s.STS.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(e.Creds.AccessKeyID)})
	wantCode(t, "GetAccessKeyInfo with session credentials", err, "AccessDenied", "GetSessionToken")
	_, err = carol.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129601)})
	wantCode(t, "longer than 36 h", err, "ValidationError", "")
}

// TestSessionRevocation: AWS's own pattern (a policy denying sessions issued before a time)
// and stateward's RevokeSession both end a live session from its next request on, while a new
// session works.
func TestSessionRevocation(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	acct := e.Account
	mustBucket(t, e.testEnv, "state")
	dave := e.user(t, "dave", "")
	daveARN := "arn:aws:iam::" + acct + ":user/dave"
	roleARN := e.role(t, "deploy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+daveARN+`"},"Action":"sts:AssumeRole"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","dynamodb:*","kms:*"],"Resource":"*"}]}`, 3600)
	session := func(name string) *clients {
		out := must[*sts.AssumeRoleOutput](t)(e.as(dave).STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String(name)}))
		return e.as(sessionCreds(out.Credentials))
	}
	works := func(what string, c *clients) {
		t.Helper()
		if _, err := c.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("state")}); err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}

	// AWS's pattern: the role gets AWSRevokeOlderSessions, denying everything to sessions
	// issued before now.
	old := session("old")
	works("before revocation", old)
	e.clock.Advance(2 * time.Second)
	cutoff := e.clock.Now().UTC().Format(time.RFC3339)
	must[*iam.PutRolePolicyOutput](t)(e.root.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("deploy"),
		PolicyName: aws.String("AWSRevokeOlderSessions"), PolicyDocument: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + cutoff + `"}}}]}`)}))
	_, err := old.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("state")})
	wantCode(t, "S3, a session older than AWSRevokeOlderSessions", err, "AccessDenied", "explicit deny in an identity-based policy")
	_, err = old.DDB.ListTables(ctx, &dynamodb.ListTablesInput{})
	wantCode(t, "DynamoDB, the same session", err, "AccessDeniedException", "")
	_, err = old.KMS.ListKeys(ctx, &kms.ListKeysInput{})
	wantCode(t, "KMS, the same session", err, "AccessDeniedException", "")
	works("a session issued after the cutoff", session("new"))
	must[*iam.DeleteRolePolicyOutput](t)(e.root.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("AWSRevokeOlderSessions")}))

	// stateward's own: revoke one session by id; the user may revoke what it started.
	a, b := session("session-a"), session("session-b")
	idA := a.cfgKey(t)
	var listed struct {
		Sessions []struct {
			SessionID string `xml:"SessionId"`
			Arn       string `xml:"Arn"`
		} `xml:"ListSessionsResult>Sessions>member"`
	}
	e.query(t, e.Creds, "ListSessions", url.Values{"RoleArn": {roleARN}}, 200, &listed)
	found := false
	for _, s := range listed.Sessions {
		found = found || (s.SessionID == idA && s.Arn == "arn:aws:sts::"+acct+":assumed-role/deploy/session-a")
	}
	if !found {
		t.Errorf("ListSessions lacks session a (%s): %+v", idA, listed.Sessions)
	}
	e.query(t, e.Creds, "RevokeSession", url.Values{"SessionId": {idA}}, 200, nil)
	_, err = a.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("state")})
	wantCode(t, "S3 after RevokeSession", err, "ExpiredToken", "")
	_, err = a.DDB.ListTables(ctx, &dynamodb.ListTablesInput{})
	wantCode(t, "DynamoDB after RevokeSession", err, "ExpiredTokenException", "")
	_, err = a.KMS.ListKeys(ctx, &kms.ListKeysInput{})
	wantCode(t, "KMS after RevokeSession", err, "ExpiredTokenException", "")
	works("another session of the same role", b)
	// Dave, with no policy, may revoke the sessions he started, and no one else's.
	e.query(t, dave, "RevokeSession", url.Values{"UserName": {"dave"}}, 200, nil)
	_, err = b.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("state")})
	wantCode(t, "after the user revoked its own", err, "ExpiredToken", "")
	e.query(t, dave, "RevokeSession", url.Values{"RoleArn": {roleARN}}, 403, nil)
	works("a session started after revocation", session("session-c"))
	// IAM reports when the role was last assumed.
	got := must[*iam.GetRoleOutput](t)(e.root.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deploy")}))
	if got.Role.RoleLastUsed == nil || !aws.ToTime(got.Role.RoleLastUsed.LastUsedDate).Equal(e.clock.Now().Truncate(time.Second)) ||
		aws.ToString(got.Role.RoleLastUsed.Region) != "us-east-1" {
		t.Errorf("RoleLastUsed = %+v, want now in us-east-1", got.Role.RoleLastUsed)
	}
}

// cfgKey is the access key id the clients sign with.
func (c *clients) cfgKey(t *testing.T) string {
	creds, err := c.S3.Options().Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return creds.AccessKeyID
}

// query sends a signed STS Query call (stateward's own actions have no SDK method), checks
// the status, and decodes the body into out.
func (e *testEnv) query(t *testing.T, creds aws.Credentials, action string, form url.Values, status int, out any) {
	t.Helper()
	form.Set("Action", action)
	form.Set("Version", "2011-06-15")
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, e.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "sts", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s: %d, want %d: %s", action, resp.StatusCode, status, raw)
	}
	if out != nil {
		if err := xml.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v\n%s", action, err, raw)
		}
	}
}

// TestCrossAccountRole: the management account's admin assumes OrganizationAccountAccessRole
// in a member account created with Organizations: the trust policy and the admin's own
// policy must both allow it.
func TestCrossAccountRole(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	org := organizations.NewFromConfig(e.cfg, func(o *organizations.Options) { o.BaseEndpoint = aws.String(e.URL) })
	must[*organizations.CreateOrganizationOutput](t)(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}))
	st := must[*organizations.CreateAccountOutput](t)(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("staging"), Email: aws.String("staging@example.com")}))
	member := aws.ToString(st.CreateAccountStatus.AccountId)
	roleARN := "arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole"
	nobody := e.as(e.user(t, "nobody", ""))
	_, err := nobody.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("nobody")})
	wantCode(t, "cross-account without an identity policy", err, "AccessDenied", "")
	admin := e.as(e.user(t, "admin", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/OrganizationAccountAccessRole"}}`))
	out, err := admin.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("admin")})
	if err != nil {
		t.Fatal(err)
	}
	s := e.as(sessionCreds(out.Credentials))
	who := must[*sts.GetCallerIdentityOutput](t)(s.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(who.Account) != member {
		t.Errorf("session's account %s, want the member %s", aws.ToString(who.Account), member)
	}
	// AdministratorAccess in the member account: it can make that account's resources.
	if _, err := s.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("staging-terraform-state")}); err != nil {
		t.Errorf("member account session creates a bucket: %v", err)
	}
	if _, err := s.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci")}); err != nil {
		t.Errorf("member account session creates a user: %v", err)
	}
	// Nothing in the management account.
	_, err = s.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(defaultBucket)})
	wantCode(t, "the member session reads the management account's bucket", err, "AccessDenied", "")
}

// TestDecodeAuthorizationMessage: a denial sealed for the log decodes for its own account.
func TestDecodeAuthorizationMessage(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	blob := e.srv.sessions.EncodeAuthorizationMessage(ctxAsRoot(e), &policy.DeniedError{PrincipalARN: "arn:aws:iam::" + e.Account + ":user/x",
		Action: "s3:PutObject", Resource: "arn:aws:s3:::b/k", Reason: policy.ResourceExplicitDeny, Statements: []string{"resource/bucket statement 0"}})
	out := must[*sts.DecodeAuthorizationMessageOutput](t)(e.root.STS.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: &blob}))
	for _, want := range []string{`"explicitDeny":true`, `"action":"s3:PutObject"`, `"resource":"arn:aws:s3:::b/k"`, "resource/bucket statement 0"} {
		if !strings.Contains(aws.ToString(out.DecodedMessage), want) {
			t.Errorf("DecodedMessage %s lacks %s", aws.ToString(out.DecodedMessage), want)
		}
	}
	_, err := e.root.STS.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(blob[:len(blob)-4] + "AAAA")})
	wantCode(t, "an altered message", err, "InvalidAuthorizationMessageException", "")
	nobody := e.as(e.user(t, "nobody", ""))
	_, err = nobody.STS.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: &blob})
	wantCode(t, "a caller not allowed to decode", err, "AccessDenied", "")
}

// TestPresignedSessionURL: a presigned GET made with session credentials carries the token in
// the query and works until the session ends.
func TestPresignedSessionURL(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	mustBucket(t, e.testEnv, "state")
	must[*s3.PutObjectOutput](t)(e.root.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("state"), Key: aws.String("k"), Body: strings.NewReader("hello")}))
	out := must[*sts.GetSessionTokenOutput](t)(e.root.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{}))
	s := e.as(sessionCreds(out.Credentials))
	req, err := s3.NewPresignClient(s.S3).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("state"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(req.URL, "X-Amz-Security-Token=") {
		t.Fatalf("presigned URL without a token: %s", req.URL)
	}
	get := func() (int, string) {
		resp, err := e.Client.Get(req.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(); code != 200 || body != "hello" {
		t.Errorf("presigned GET: %d %s", code, body)
	}
	e.clock.Advance(2 * time.Hour) // a root's session lasts an hour
	if code, body := get(); code != 400 || !strings.Contains(body, "<Code>ExpiredToken</Code>") {
		t.Errorf("presigned GET after the session ended: %d %s", code, body)
	}
}

// ctxAsRoot is a context whose caller is the account's root user.
func ctxAsRoot(e *stsEnv) context.Context {
	return identity.WithPrincipal(context.Background(), &identity.Principal{Type: identity.Root, AccountID: e.Account,
		ARN: identity.RootARN(e.Account), UserID: e.Account})
}
