package iam_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestGetAccountAuthorizationDetails(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("alice"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	must(e.Root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(allowAll)}))
	must(e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3FullAccess")}))
	must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("admins")}))
	must(e.Root.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: aws.String("admins"), PolicyName: aws.String("assume"), PolicyDocument: aws.String(assumeOnly)}))
	must(e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("alice")}))
	trust := mfaTrust(acct)
	must(e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("terraform"), AssumeRolePolicyDocument: aws.String(trust)}))
	local := must(e.Root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("local"), PolicyDocument: aws.String(allowAll)})).Policy.Arn
	must(e.Root.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: local, PolicyDocument: aws.String(assumeOnly)}))
	must(e.Root.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("terraform"), PolicyArn: local}))

	out := must(e.Root.GetAccountAuthorizationDetails(ctx, &awsiam.GetAccountAuthorizationDetailsInput{}))
	if len(out.UserDetailList) != 1 || len(out.GroupDetailList) != 1 || len(out.RoleDetailList) != 1 || len(out.Policies) != 2 || out.IsTruncated {
		t.Fatalf("details: %d users, %d groups, %d roles, %d policies", len(out.UserDetailList), len(out.GroupDetailList), len(out.RoleDetailList), len(out.Policies))
	}
	u := out.UserDetailList[0]
	if aws.ToString(u.UserName) != "alice" || len(u.UserPolicyList) != 1 || decodeDoc(t, u.UserPolicyList[0].PolicyDocument) != allowAll ||
		!equal(u.GroupList, []string{"admins"}) || len(u.AttachedManagedPolicies) != 1 || len(u.Tags) != 1 {
		t.Errorf("UserDetail = %+v", u)
	}
	g := out.GroupDetailList[0]
	if aws.ToString(g.GroupName) != "admins" || len(g.GroupPolicyList) != 1 || decodeDoc(t, g.GroupPolicyList[0].PolicyDocument) != assumeOnly {
		t.Errorf("GroupDetail = %+v", g)
	}
	r := out.RoleDetailList[0]
	if aws.ToString(r.RoleName) != "terraform" || decodeDoc(t, r.AssumeRolePolicyDocument) != trust || len(r.AttachedManagedPolicies) != 1 ||
		r.RoleLastUsed == nil || r.RoleLastUsed.LastUsedDate != nil {
		t.Errorf("RoleDetail = %+v", r)
	}
	// The AWS managed policy in use, and the account's own with every version.
	var sawAWS bool
	for _, p := range out.Policies {
		switch aws.ToString(p.Arn) {
		case "arn:aws:iam::aws:policy/AmazonS3FullAccess":
			sawAWS = aws.ToInt32(p.AttachmentCount) == 1
		case aws.ToString(local):
			if len(p.PolicyVersionList) != 2 || decodeDoc(t, p.PolicyVersionList[1].Document) != assumeOnly || !p.PolicyVersionList[0].IsDefaultVersion {
				t.Errorf("local policy detail = %+v", p)
			}
		default:
			t.Errorf("unexpected policy %s", aws.ToString(p.Arn))
		}
	}
	if !sawAWS {
		t.Errorf("AmazonS3FullAccess missing from Policies")
	}

	roles := must(e.Root.GetAccountAuthorizationDetails(ctx, &awsiam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{types.EntityTypeRole}}))
	if len(roles.RoleDetailList) != 1 || len(roles.UserDetailList)+len(roles.GroupDetailList)+len(roles.Policies) != 0 {
		t.Errorf("Filter Role = %+v", roles)
	}
	local2 := must(e.Root.GetAccountAuthorizationDetails(ctx, &awsiam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{types.EntityTypeLocalManagedPolicy}}))
	if len(local2.Policies) != 1 {
		t.Errorf("Filter LocalManagedPolicy = %d policies", len(local2.Policies))
	}

	// Pages of two cover everything once.
	var n int
	p := awsiam.NewGetAccountAuthorizationDetailsPaginator(e.Root, &awsiam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page := must(p.NextPage(ctx))
		pages++
		n += len(page.UserDetailList) + len(page.GroupDetailList) + len(page.RoleDetailList) + len(page.Policies)
	}
	if n != 5 || pages != 3 {
		t.Errorf("paged: %d items in %d pages, want 5 in 3", n, pages)
	}
	_, err := e.Root.GetAccountAuthorizationDetails(ctx, &awsiam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{"Bogus"}})
	wantCode(t, err, "ValidationError")
}
