package iam_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestAccessKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("ci")}))
	out := must(e.Root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("ci")}))
	k := out.AccessKey
	if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(aws.ToString(k.AccessKeyId)) || len(aws.ToString(k.SecretAccessKey)) != 40 ||
		k.Status != types.StatusTypeActive || aws.ToString(k.UserName) != "ci" || !k.CreateDate.Equal(startTime) {
		t.Errorf("CreateAccessKey = %+v", k)
	}
	user := e.client(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey))
	// The key authenticates: the user is refused by policy (it has none), not as unknown.
	_, err := user.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	if got, want := errMessage(err), "User: arn:aws:iam::"+e.account.ID+":user/ci is not authorized to perform: iam:ListUsers because no identity-based policy allows the iam:ListUsers action"; got != want {
		t.Errorf("denial = %q, want %q", got, want)
	}

	second := must(e.Root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("ci")}))
	_, err = e.Root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("ci")})
	wantCode(t, err, "LimitExceeded")
	if got := errMessage(err); got != "Cannot exceed quota for AccessKeysPerUser: 2" {
		t.Errorf("message = %q", got)
	}
	list := must(e.Root.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{UserName: aws.String("ci")}))
	if len(list.AccessKeyMetadata) != 2 || aws.ToString(list.AccessKeyMetadata[0].AccessKeyId) != aws.ToString(k.AccessKeyId) {
		t.Errorf("ListAccessKeys = %+v", list.AccessKeyMetadata)
	}
	page := must(e.Root.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{UserName: aws.String("ci"), MaxItems: aws.Int32(1)}))
	if len(page.AccessKeyMetadata) != 1 || !page.IsTruncated {
		t.Errorf("ListAccessKeys page = %+v", page)
	}

	// Inactive keys authenticate nothing until made active again.
	must(e.Root.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: k.AccessKeyId, Status: types.StatusTypeInactive}))
	_, err = user.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantCode(t, err, "InvalidClientTokenId")
	list = must(e.Root.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{UserName: aws.String("ci")}))
	if list.AccessKeyMetadata[0].Status != types.StatusTypeInactive {
		t.Errorf("status after deactivation = %q", list.AccessKeyMetadata[0].Status)
	}
	must(e.Root.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: k.AccessKeyId, Status: types.StatusTypeActive}))
	_, err = user.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	_, err = e.Root.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: k.AccessKeyId, Status: types.StatusTypeExpired})
	wantCode(t, err, "InvalidInput")
	_, err = e.Root.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: k.AccessKeyId, Status: "Bogus"})
	wantCode(t, err, "ValidationError")

	// A key belongs to its user only.
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("other")}))
	_, err = e.Root.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: aws.String("other"), AccessKeyId: k.AccessKeyId})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("other"), AccessKeyId: k.AccessKeyId, Status: types.StatusTypeInactive})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")

	must(e.Root.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: k.AccessKeyId}))
	_, err = user.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantCode(t, err, "InvalidClientTokenId")
	_, err = e.Root.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: k.AccessKeyId})
	wantCode(t, err, "NoSuchEntity")
	must(e.Root.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: second.AccessKey.AccessKeyId}))
	must(e.Root.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("ci")}))
}

func TestRootAccessKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	list := must(e.Root.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{}))
	if len(list.AccessKeyMetadata) != 1 || aws.ToString(list.AccessKeyMetadata[0].AccessKeyId) != e.rootKey.ID || list.AccessKeyMetadata[0].UserName != nil {
		t.Fatalf("root's keys = %+v", list.AccessKeyMetadata)
	}
	out := must(e.Root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{}))
	root2 := e.client(aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey))
	self := must(root2.GetUser(ctx, &awsiam.GetUserInput{}))
	if aws.ToString(self.User.Arn) != "arn:aws:iam::"+e.account.ID+":root" {
		t.Errorf("second root key acts as %q", aws.ToString(self.User.Arn))
	}
	_, err := e.Root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{})
	wantCode(t, err, "LimitExceeded")
	must(root2.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{AccessKeyId: aws.String(e.rootKey.ID)}))
	_, err = e.Root.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantCode(t, err, "InvalidClientTokenId")
	// Bootstrap still starts, without the deleted key.
	acct, key, created, err := e.svc.Bootstrap(ctx)
	if err != nil || created || acct.ID != e.account.ID || key != nil {
		t.Errorf("Bootstrap after the root key's deletion = %v, %v, %v, %v", acct, key, created, err)
	}
}

func TestAccessKeyLastUsed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("ci")}))
	k := must(e.Root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("ci")})).AccessKey
	lastUsed := func(id string) *awsiam.GetAccessKeyLastUsedOutput {
		t.Helper()
		e.svc.WaitForKeyUses()
		return must(e.Root.GetAccessKeyLastUsed(ctx, &awsiam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)}))
	}
	never := lastUsed(aws.ToString(k.AccessKeyId))
	if aws.ToString(never.UserName) != "ci" || never.AccessKeyLastUsed.LastUsedDate != nil ||
		aws.ToString(never.AccessKeyLastUsed.ServiceName) != "N/A" || aws.ToString(never.AccessKeyLastUsed.Region) != "N/A" {
		t.Errorf("unused key = %+v %+v", never, never.AccessKeyLastUsed)
	}

	user := e.client(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey))
	_, _ = user.ListUsers(ctx, &awsiam.ListUsersInput{}) // denied, but the key was used
	used := lastUsed(aws.ToString(k.AccessKeyId)).AccessKeyLastUsed
	if used.LastUsedDate == nil || !used.LastUsedDate.Equal(startTime) || aws.ToString(used.ServiceName) != "iam" || aws.ToString(used.Region) != region {
		t.Errorf("used key = %+v", used)
	}
	// At most once a minute: a use 30 s later is not written, one 61 s after the first is.
	e.clock.Advance(30 * time.Second)
	_, _ = user.ListUsers(ctx, &awsiam.ListUsersInput{})
	if used := lastUsed(aws.ToString(k.AccessKeyId)).AccessKeyLastUsed; !used.LastUsedDate.Equal(startTime) {
		t.Errorf("use within the minute was written: %v", used.LastUsedDate)
	}
	e.clock.Advance(31 * time.Second)
	_, _ = user.ListUsers(ctx, &awsiam.ListUsersInput{})
	if used := lastUsed(aws.ToString(k.AccessKeyId)).AccessKeyLastUsed; !used.LastUsedDate.Equal(startTime.Add(61 * time.Second)) {
		t.Errorf("use after a minute = %v", used.LastUsedDate)
	}

	// The root key's use is noted too.
	root := lastUsed(e.rootKey.ID)
	if root.UserName != nil || root.AccessKeyLastUsed.LastUsedDate == nil || aws.ToString(root.AccessKeyLastUsed.ServiceName) != "iam" {
		t.Errorf("root key = %+v %+v", root, root.AccessKeyLastUsed)
	}
	_, err := e.Root.GetAccessKeyLastUsed(ctx, &awsiam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAAA")})
	wantCode(t, err, "NoSuchEntity")
}
