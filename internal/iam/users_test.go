package iam_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestUserLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	out := must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("terraform-deployer"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}}))
	u := out.User
	if got, want := aws.ToString(u.Arn), "arn:aws:iam::"+acct+":user/terraform-deployer"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
	if !regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`).MatchString(aws.ToString(u.UserId)) {
		t.Errorf("UserId = %q", aws.ToString(u.UserId))
	}
	if aws.ToString(u.Path) != "/" || !u.CreateDate.Equal(startTime) {
		t.Errorf("Path %q CreateDate %v", aws.ToString(u.Path), u.CreateDate)
	}
	if len(u.Tags) != 1 || aws.ToString(u.Tags[0].Key) != "team" {
		t.Errorf("Tags = %+v", u.Tags)
	}

	_, err := e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("Terraform-Deployer")})
	wantCode(t, err, "EntityAlreadyExists")
	if got, want := errMessage(err), "User with name terraform-deployer already exists."; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}

	got := must(e.Root.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("TERRAFORM-deployer")}))
	if aws.ToString(got.User.UserId) != aws.ToString(u.UserId) || len(got.User.Tags) != 1 {
		t.Errorf("GetUser = %+v", got.User)
	}
	_, err = e.Root.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")
	if got, want := errMessage(err), "The user with name nobody cannot be found."; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}

	// The root user asking about itself.
	self := must(e.Root.GetUser(ctx, &awsiam.GetUserInput{}))
	if aws.ToString(self.User.Arn) != "arn:aws:iam::"+acct+":root" || aws.ToString(self.User.UserId) != acct {
		t.Errorf("root GetUser = %+v", self.User)
	}

	// Rename and move: the user keeps its id, its groups follow.
	must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("admins")}))
	must(e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("terraform-deployer")}))
	must(e.Root.UpdateUser(ctx, &awsiam.UpdateUserInput{UserName: aws.String("terraform-deployer"),
		NewUserName: aws.String("deployer"), NewPath: aws.String("/ci/")}))
	moved := must(e.Root.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("deployer")}))
	if aws.ToString(moved.User.Arn) != "arn:aws:iam::"+acct+":user/ci/deployer" || aws.ToString(moved.User.UserId) != aws.ToString(u.UserId) {
		t.Errorf("after UpdateUser: %+v", moved.User)
	}
	_, err = e.Root.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("terraform-deployer")})
	wantCode(t, err, "NoSuchEntity")
	g := must(e.Root.GetGroup(ctx, &awsiam.GetGroupInput{GroupName: aws.String("admins")}))
	if len(g.Users) != 1 || aws.ToString(g.Users[0].UserName) != "deployer" {
		t.Errorf("group members after rename: %+v", g.Users)
	}
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("other")}))
	_, err = e.Root.UpdateUser(ctx, &awsiam.UpdateUserInput{UserName: aws.String("other"), NewUserName: aws.String("Deployer")})
	wantCode(t, err, "EntityAlreadyExists")

	// DeleteConflict while it is in a group; then it goes.
	_, err = e.Root.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("deployer")})
	wantCode(t, err, "DeleteConflict")
	must(e.Root.RemoveUserFromGroup(ctx, &awsiam.RemoveUserFromGroupInput{GroupName: aws.String("admins"), UserName: aws.String("deployer")}))
	must(e.Root.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("deployer")}))
	_, err = e.Root.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("deployer")})
	wantCode(t, err, "NoSuchEntity")
}

func TestDeleteUserConflicts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	name := aws.String("alice")
	tests := []struct {
		name       string
		add, clear func() error
		message    string
	}{
		{"access key", func() error {
			_, err := e.Root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: name})
			return err
		}, func() error {
			keys := must(e.Root.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{UserName: name}))
			_, err := e.Root.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: name, AccessKeyId: keys.AccessKeyMetadata[0].AccessKeyId})
			return err
		}, "Cannot delete entity, must delete access keys first."},
		{"inline policy", func() error {
			_, err := e.Root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: name, PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)})
			return err
		}, func() error {
			_, err := e.Root.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: name, PolicyName: aws.String("p")})
			return err
		}, "Cannot delete entity, must delete policies first."},
		{"attached policy", func() error {
			_, err := e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: name, PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
			return err
		}, func() error {
			_, err := e.Root.DetachUserPolicy(ctx, &awsiam.DetachUserPolicyInput{UserName: name, PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
			return err
		}, "Cannot delete entity, must detach all policies first."},
		{"group", func() error {
			if _, err := e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("g")}); err != nil {
				return err
			}
			_, err := e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: name})
			return err
		}, func() error {
			_, err := e.Root.RemoveUserFromGroup(ctx, &awsiam.RemoveUserFromGroupInput{GroupName: aws.String("g"), UserName: name})
			return err
		}, "Cannot delete entity, must remove users from group first."},
		{"login profile", func() error {
			_, err := e.Root.CreateLoginProfile(ctx, &awsiam.CreateLoginProfileInput{UserName: name, Password: aws.String("correct horse battery")})
			return err
		}, func() error {
			_, err := e.Root.DeleteLoginProfile(ctx, &awsiam.DeleteLoginProfileInput{UserName: name})
			return err
		}, "Cannot delete entity, must delete login profile first."},
		{"MFA device", func() error {
			return enableMFA(t, e, "alice", "alice-mfa")
		}, func() error {
			_, err := e.Root.DeactivateMFADevice(ctx, &awsiam.DeactivateMFADeviceInput{UserName: name,
				SerialNumber: aws.String("arn:aws:iam::" + e.account.ID + ":mfa/alice-mfa")})
			return err
		}, "Cannot delete entity, must delete MFA device first."},
	}
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: name}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.add(); err != nil {
				t.Fatal(err)
			}
			_, err := e.Root.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: name})
			wantCode(t, err, "DeleteConflict")
			if got := errMessage(err); got != tt.message {
				t.Errorf("message = %q, want %q", got, tt.message)
			}
			if err := tt.clear(); err != nil {
				t.Fatal(err)
			}
		})
	}
	must(e.Root.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: name}))
}

func TestListUsersPaging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, n := range []string{"carol", "alice", "bob", "dave", "erin"} {
		path := "/team/"
		if n == "erin" {
			path = "/other/"
		}
		must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String(n), Path: aws.String(path)}))
	}
	var names []string
	var pages int
	p := awsiam.NewListUsersPaginator(e.Root, &awsiam.ListUsersInput{PathPrefix: aws.String("/team/"), MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out := must(p.NextPage(ctx))
		pages++
		if p.HasMorePages() != out.IsTruncated {
			t.Errorf("IsTruncated = %v with marker %q", out.IsTruncated, aws.ToString(out.Marker))
		}
		for _, u := range out.Users {
			names = append(names, aws.ToString(u.UserName))
			if len(u.Tags) != 0 {
				t.Errorf("ListUsers shows tags")
			}
		}
	}
	if want := []string{"alice", "bob", "carol", "dave"}; pages != 2 || !equal(names, want) {
		t.Errorf("pages %d names %v, want 2 pages of %v", pages, names, want)
	}
	all := must(e.Root.ListUsers(ctx, &awsiam.ListUsersInput{}))
	if len(all.Users) != 5 || all.IsTruncated {
		t.Errorf("ListUsers: %d users, truncated %v", len(all.Users), all.IsTruncated)
	}
	_, err := e.Root.ListUsers(ctx, &awsiam.ListUsersInput{Marker: aws.String("!!not-a-marker")})
	wantCode(t, err, "ValidationError")
}

func TestUserTags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	name := aws.String("alice")
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: name, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}}))
	must(e.Root.TagUser(ctx, &awsiam.TagUserInput{UserName: name, Tags: []types.Tag{
		{Key: aws.String("A"), Value: aws.String("2")}, {Key: aws.String("b"), Value: aws.String("")}}}))
	tags := must(e.Root.ListUserTags(ctx, &awsiam.ListUserTagsInput{UserName: name}))
	if len(tags.Tags) != 2 || aws.ToString(tags.Tags[0].Key) != "A" || aws.ToString(tags.Tags[0].Value) != "2" {
		t.Errorf("tags = %+v", tags.Tags)
	}
	must(e.Root.UntagUser(ctx, &awsiam.UntagUserInput{UserName: name, TagKeys: []string{"a", "missing"}}))
	tags = must(e.Root.ListUserTags(ctx, &awsiam.ListUserTagsInput{UserName: name}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "b" {
		t.Errorf("tags after untag = %+v", tags.Tags)
	}
	_, err := e.Root.TagUser(ctx, &awsiam.TagUserInput{UserName: name, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}})
	wantCode(t, err, "InvalidInput")
	_, err = e.Root.TagUser(ctx, &awsiam.TagUserInput{UserName: name, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("K"), Value: aws.String("2")}}})
	wantCode(t, err, "InvalidInput")
	var many []types.Tag
	for i := range 50 {
		many = append(many, types.Tag{Key: aws.String("k" + string(rune('a'+i/26)) + string(rune('a'+i%26))), Value: aws.String("v")})
	}
	_, err = e.Root.TagUser(ctx, &awsiam.TagUserInput{UserName: name, Tags: many})
	wantCode(t, err, "LimitExceeded")
	_, err = e.Root.TagUser(ctx, &awsiam.TagUserInput{UserName: aws.String("nobody"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.ListUserTags(ctx, &awsiam.ListUserTagsInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.UntagUser(ctx, &awsiam.UntagUserInput{UserName: aws.String("nobody"), TagKeys: []string{"k"}})
	wantCode(t, err, "NoSuchEntity")
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
