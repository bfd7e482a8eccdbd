package iam_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestGroups(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	out := must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("admins"), Path: aws.String("/ops/")}))
	g := out.Group
	if aws.ToString(g.Arn) != "arn:aws:iam::"+acct+":group/ops/admins" || !regexp.MustCompile(`^AGPA[A-Z2-7]{17}$`).MatchString(aws.ToString(g.GroupId)) ||
		!g.CreateDate.Equal(startTime) {
		t.Errorf("CreateGroup = %+v", g)
	}
	_, err := e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("ADMINS")})
	wantCode(t, err, "EntityAlreadyExists")

	for _, u := range []string{"zoe", "adam"} {
		must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String(u)}))
		must(e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String(u)}))
	}
	// Adding a member again changes nothing.
	must(e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("zoe")}))
	_, err = e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("nogroup"), UserName: aws.String("zoe")})
	wantCode(t, err, "NoSuchEntity")
	if got := errMessage(err); got != "The group with name nogroup cannot be found." {
		t.Errorf("message = %q", got)
	}

	got := must(e.Root.GetGroup(ctx, &awsiam.GetGroupInput{GroupName: aws.String("admins"), MaxItems: aws.Int32(1)}))
	if aws.ToString(got.Group.GroupName) != "admins" || len(got.Users) != 1 || aws.ToString(got.Users[0].UserName) != "adam" || !got.IsTruncated {
		t.Errorf("GetGroup page 1 = %+v, users %+v", got.Group, got.Users)
	}
	got = must(e.Root.GetGroup(ctx, &awsiam.GetGroupInput{GroupName: aws.String("admins"), Marker: got.Marker}))
	if len(got.Users) != 1 || aws.ToString(got.Users[0].UserName) != "zoe" || got.IsTruncated {
		t.Errorf("GetGroup page 2 users %+v", got.Users)
	}

	for i := range 9 {
		name := "g" + string(rune('0'+i))
		must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String(name)}))
		must(e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String("zoe")}))
	}
	must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("eleventh")}))
	_, err = e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("eleventh"), UserName: aws.String("zoe")})
	wantCode(t, err, "LimitExceeded")
	if got := errMessage(err); got != "Cannot exceed quota for GroupsPerUser: 10" {
		t.Errorf("message = %q", got)
	}

	forUser := must(e.Root.ListGroupsForUser(ctx, &awsiam.ListGroupsForUserInput{UserName: aws.String("zoe")}))
	if len(forUser.Groups) != 10 || aws.ToString(forUser.Groups[0].GroupName) != "admins" {
		t.Errorf("ListGroupsForUser = %d groups, first %q", len(forUser.Groups), aws.ToString(forUser.Groups[0].GroupName))
	}
	_, err = e.Root.ListGroupsForUser(ctx, &awsiam.ListGroupsForUserInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")

	list := must(e.Root.ListGroups(ctx, &awsiam.ListGroupsInput{PathPrefix: aws.String("/ops/")}))
	if len(list.Groups) != 1 || aws.ToString(list.Groups[0].GroupName) != "admins" {
		t.Errorf("ListGroups /ops/ = %+v", list.Groups)
	}
	list = must(e.Root.ListGroups(ctx, &awsiam.ListGroupsInput{}))
	if len(list.Groups) != 11 {
		t.Errorf("ListGroups = %d groups", len(list.Groups))
	}

	// Rename: members follow.
	must(e.Root.UpdateGroup(ctx, &awsiam.UpdateGroupInput{GroupName: aws.String("admins"), NewGroupName: aws.String("operators"), NewPath: aws.String("/")}))
	_, err = e.Root.GetGroup(ctx, &awsiam.GetGroupInput{GroupName: aws.String("admins")})
	wantCode(t, err, "NoSuchEntity")
	forUser = must(e.Root.ListGroupsForUser(ctx, &awsiam.ListGroupsForUserInput{UserName: aws.String("adam")}))
	if len(forUser.Groups) != 1 || aws.ToString(forUser.Groups[0].Arn) != "arn:aws:iam::"+acct+":group/operators" {
		t.Errorf("adam's groups after rename = %+v", forUser.Groups)
	}
	_, err = e.Root.UpdateGroup(ctx, &awsiam.UpdateGroupInput{GroupName: aws.String("operators"), NewGroupName: aws.String("G0")})
	wantCode(t, err, "EntityAlreadyExists")
	_, err = e.Root.UpdateGroup(ctx, &awsiam.UpdateGroupInput{GroupName: aws.String("nogroup"), NewGroupName: aws.String("x")})
	wantCode(t, err, "NoSuchEntity")

	// DeleteConflict while it has members, inline or attached policies.
	_, err = e.Root.DeleteGroup(ctx, &awsiam.DeleteGroupInput{GroupName: aws.String("operators")})
	wantCode(t, err, "DeleteConflict")
	for _, u := range []string{"zoe", "adam"} {
		must(e.Root.RemoveUserFromGroup(ctx, &awsiam.RemoveUserFromGroupInput{GroupName: aws.String("operators"), UserName: aws.String(u)}))
	}
	_, err = e.Root.RemoveUserFromGroup(ctx, &awsiam.RemoveUserFromGroupInput{GroupName: aws.String("operators"), UserName: aws.String("zoe")})
	wantCode(t, err, "NoSuchEntity")
	must(e.Root.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: aws.String("operators"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)}))
	_, err = e.Root.DeleteGroup(ctx, &awsiam.DeleteGroupInput{GroupName: aws.String("operators")})
	wantCode(t, err, "DeleteConflict")
	must(e.Root.DeleteGroupPolicy(ctx, &awsiam.DeleteGroupPolicyInput{GroupName: aws.String("operators"), PolicyName: aws.String("p")}))
	must(e.Root.AttachGroupPolicy(ctx, &awsiam.AttachGroupPolicyInput{GroupName: aws.String("operators"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
	_, err = e.Root.DeleteGroup(ctx, &awsiam.DeleteGroupInput{GroupName: aws.String("operators")})
	wantCode(t, err, "DeleteConflict")
	if got := errMessage(err); got != "Cannot delete entity, must detach all policies first." {
		t.Errorf("message = %q", got)
	}
	must(e.Root.DetachGroupPolicy(ctx, &awsiam.DetachGroupPolicyInput{GroupName: aws.String("operators"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
	must(e.Root.DeleteGroup(ctx, &awsiam.DeleteGroupInput{GroupName: aws.String("operators")}))
	_, err = e.Root.DeleteGroup(ctx, &awsiam.DeleteGroupInput{GroupName: aws.String("operators")})
	wantCode(t, err, "NoSuchEntity")
}
