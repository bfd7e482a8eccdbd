package iam_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/stateward/stateward/internal/iam"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/sigv4"
	"github.com/stateward/stateward/internal/storage"
)

func TestAuthenticate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID

	secret, p, err := e.svc.Authenticate(ctx, e.rootKey.ID, "")
	if err != nil || secret != e.rootKey.Secret.Reveal() {
		t.Fatalf("root key: %v", err)
	}
	if p.Type != identity.Root || p.ARN != "arn:aws:iam::"+acct+":root" || p.UserID != acct || p.AccountID != acct || p.AccessKeyID != e.rootKey.ID {
		t.Errorf("root principal = %+v", p)
	}

	u := must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}})).User
	k := must(e.Root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("alice")})).AccessKey
	id := aws.ToString(k.AccessKeyId)
	secret, p, err = e.svc.Authenticate(ctx, id, "")
	if err != nil || secret != aws.ToString(k.SecretAccessKey) {
		t.Fatalf("user key: %v", err)
	}
	want := identity.Principal{Type: identity.User, AccountID: acct, ARN: "arn:aws:iam::" + acct + ":user/eng/alice",
		UserID: aws.ToString(u.UserId), Name: "alice", AccessKeyID: id}
	if p.Type != want.Type || p.ARN != want.ARN || p.UserID != want.UserID || p.Name != want.Name || p.AccessKeyID != id ||
		p.Tags["team"] != "platform" || p.AccountID != acct {
		t.Errorf("user principal = %+v, want %+v with tag team=platform", p, want)
	}

	// A rename is seen at once.
	must(e.Root.UpdateUser(ctx, &awsiam.UpdateUserInput{UserName: aws.String("alice"), NewUserName: aws.String("alicia")}))
	if _, p, err = e.svc.Authenticate(ctx, id, ""); err != nil || p.ARN != "arn:aws:iam::"+acct+":user/eng/alicia" || p.Name != "alicia" {
		t.Errorf("after rename: %+v, %v", p, err)
	}

	unknown := func(name, id string) {
		t.Helper()
		_, _, err := e.svc.Authenticate(ctx, id, "")
		if !errors.Is(err, iam.ErrUnknownAccessKey) || !errors.Is(err, sigv4.ErrUnknownAccessKey) {
			t.Errorf("%s: err = %v, want ErrUnknownAccessKey", name, err)
		}
	}
	unknown("no such key", "AKIAAAAAAAAAAAAAAAAA")
	must(e.Root.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("alicia"), AccessKeyId: aws.String(id), Status: types.StatusTypeInactive}))
	unknown("inactive", id)
	must(e.Root.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("alicia"), AccessKeyId: aws.String(id), Status: types.StatusTypeActive}))
	// A key whose user is gone (as a store written by an older version could hold) is unknown.
	err = e.store.Update(ctx, func(tx storage.Tx) error { return tx.Delete([]byte("iam/acct/" + acct + "/user/alicia")) })
	if err != nil {
		t.Fatal(err)
	}
	unknown("orphaned", id)
	// The older lookup keeps answering as it did.
	if key, err := e.svc.LookupAccessKey(ctx, e.rootKey.ID); err != nil || key.Secret.Reveal() != e.rootKey.Secret.Reveal() {
		t.Errorf("LookupAccessKey = %v, %v", key, err)
	}
}

// countingStore counts the reads and scans of the transactions run on it.
type countingStore struct {
	storage.Store
	gets, scans atomic.Int64
}

func (s *countingStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	return s.Store.View(ctx, func(tx storage.Tx) error { return fn(&countingTx{Tx: tx, s: s}) })
}

type countingTx struct {
	storage.Tx
	s *countingStore
}

func (t *countingTx) Get(k []byte) ([]byte, error) {
	t.s.gets.Add(1)
	return t.Tx.Get(k)
}

func (t *countingTx) Scan(start, end []byte, fn func(k, v []byte) error) error {
	t.s.scans.Add(1)
	return t.Tx.Scan(start, end, fn)
}

type source struct{ id, typ, text string }

func sources(pp *policy.PrincipalPolicies) []source {
	var out []source
	for _, s := range pp.Identity {
		out = append(out, source{s.ID, s.Type, s.Doc.Text})
	}
	return out
}

func TestPoliciesFor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	counting := &countingStore{Store: e.store}
	// A second Service over the same store, counting what PoliciesFor reads.
	svc := iam.NewService(iam.Config{Store: counting, Now: e.clock.Now})
	defer svc.Close()

	const userDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	const groupDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	local := aws.ToString(must(e.Root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("local"), PolicyDocument: aws.String(allowAll)})).Policy.Arn)
	s3Full := "arn:aws:iam::aws:policy/AmazonS3FullAccess"
	readOnly := "arn:aws:iam::aws:policy/ReadOnlyAccess"

	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("alice")}))
	k := must(e.Root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("alice")})).AccessKey
	_, p, err := svc.Authenticate(ctx, aws.ToString(k.AccessKeyId), "")
	if err != nil {
		t.Fatal(err)
	}
	must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("admins")}))
	must(e.Root.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: aws.String("admins"), PolicyName: aws.String("assume"), PolicyDocument: aws.String(groupDoc)}))
	must(e.Root.AttachGroupPolicy(ctx, &awsiam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String(readOnly)}))

	get := func() *policy.PrincipalPolicies {
		t.Helper()
		pp, err := svc.PoliciesFor(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return pp
	}
	check := func(step string, want []source) *policy.PrincipalPolicies {
		t.Helper()
		pp := get()
		got := sources(pp)
		if len(got) != len(want) {
			t.Fatalf("%s: sources %+v, want %+v", step, got, want)
		}
		for i := range got {
			if got[i].id != want[i].id || got[i].typ != want[i].typ || (want[i].text != "" && got[i].text != want[i].text) {
				t.Errorf("%s: source %d = %+v, want %+v", step, i, got[i], want[i])
			}
		}
		// The next call is answered from the cache: one read, no scan, the same policies.
		g, s := counting.gets.Load(), counting.scans.Load()
		if again := get(); again != pp {
			t.Errorf("%s: a second call was not answered from the cache", step)
		}
		if dg, ds := counting.gets.Load()-g, counting.scans.Load()-s; dg != 1 || ds != 0 {
			t.Errorf("%s: a cached call cost %d reads and %d scans, want 1 and 0", step, dg, ds)
		}
		return pp
	}

	check("no policies", nil)
	must(e.Root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("s3"), PolicyDocument: aws.String(userDoc)}))
	check("inline put", []source{{"s3", "user", userDoc}})
	must(e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(s3Full)}))
	must(e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(local)}))
	check("attached", []source{{"s3", "user", userDoc}, {s3Full, "aws-managed", ""}, {local, "user-managed", allowAll}})
	must(e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("alice")}))
	check("group member", []source{{"s3", "user", userDoc}, {s3Full, "aws-managed", ""}, {local, "user-managed", allowAll},
		{"assume", "group", groupDoc}, {readOnly, "aws-managed", ""}})
	must(e.Root.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(local), PolicyDocument: aws.String(userDoc), SetAsDefault: true}))
	check("new default version", []source{{"s3", "user", userDoc}, {s3Full, "aws-managed", ""}, {local, "user-managed", userDoc},
		{"assume", "group", groupDoc}, {readOnly, "aws-managed", ""}})
	must(e.Root.SetDefaultPolicyVersion(ctx, &awsiam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(local), VersionId: aws.String("v1")}))
	check("default version set back", []source{{"s3", "user", userDoc}, {s3Full, "aws-managed", ""}, {local, "user-managed", allowAll},
		{"assume", "group", groupDoc}, {readOnly, "aws-managed", ""}})
	must(e.Root.DetachGroupPolicy(ctx, &awsiam.DetachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String(readOnly)}))
	check("group detach", []source{{"s3", "user", userDoc}, {s3Full, "aws-managed", ""}, {local, "user-managed", allowAll}, {"assume", "group", groupDoc}})
	must(e.Root.RemoveUserFromGroup(ctx, &awsiam.RemoveUserFromGroupInput{GroupName: aws.String("admins"), UserName: aws.String("alice")}))
	check("group removal", []source{{"s3", "user", userDoc}, {s3Full, "aws-managed", ""}, {local, "user-managed", allowAll}})
	must(e.Root.DetachUserPolicy(ctx, &awsiam.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(s3Full)}))
	check("detach", []source{{"s3", "user", userDoc}, {local, "user-managed", allowAll}})
	must(e.Root.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("s3")}))
	pp := check("inline delete", []source{{local, "user-managed", allowAll}})

	// Recording the key's use (PoliciesFor itself notes it) leaves the cache valid.
	e.clock.Advance(2 * 60e9)
	_ = get()
	svc.WaitForKeyUses()
	if get() != pp {
		t.Errorf("an access key's last-use record invalidated the cache")
	}

	// A role session: the role's policies.
	must(e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("deploy"), Path: aws.String("/ci/"), AssumeRolePolicyDocument: aws.String(trustAccount(acct))}))
	must(e.Root.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("deploy"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(userDoc)}))
	must(e.Root.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("deploy"), PolicyArn: aws.String(readOnly)}))
	session := &identity.Principal{Type: identity.AssumedRole, AccountID: acct, RoleARN: "arn:aws:iam::" + acct + ":role/ci/deploy",
		ARN: "arn:aws:sts::" + acct + ":assumed-role/deploy/s", UserID: "AROAX:s", Name: "deploy", Session: &identity.Session{Name: "s"}}
	rp, err := svc.PoliciesFor(ctx, session)
	if err != nil {
		t.Fatal(err)
	}
	if got := sources(rp); len(got) != 2 || got[0].id != "inline" || got[0].typ != "role" || got[1].id != readOnly || rp.HasSession {
		t.Errorf("role session policies = %+v (HasSession %v)", got, rp.HasSession)
	}
	// A role ARN with the wrong path names no role.
	session.RoleARN = "arn:aws:iam::" + acct + ":role/deploy"
	if rp, err := svc.PoliciesFor(ctx, session); err != nil || len(rp.Identity) != 0 {
		t.Errorf("wrong-path role = %+v, %v", rp, err)
	}
	// The root user has none.
	if rp, err := svc.PoliciesFor(ctx, &identity.Principal{Type: identity.Root, AccountID: acct}); err != nil || len(rp.Identity) != 0 {
		t.Errorf("root = %+v, %v", rp, err)
	}
	// A principal whose user was deleted and recreated has none of the new user's policies.
	stale := *p
	stale.UserID = "AIDASTALE"
	if rp, err := svc.PoliciesFor(ctx, &stale); err != nil || len(rp.Identity) != 0 {
		t.Errorf("stale principal = %+v, %v", rp, err)
	}
}
