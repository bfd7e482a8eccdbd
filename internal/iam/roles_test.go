package iam_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// mfaTrust is seed 004's trust policy: the account may assume the role, with MFA.
func mfaTrust(acct string) string {
	return `{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::` + acct + `:root"},
    "Action": "sts:AssumeRole",
    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
  }]
}`
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	trust := mfaTrust(acct)
	out := must(e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("terraform"), Path: aws.String("/deploy/"),
		AssumeRolePolicyDocument: aws.String(trust), Description: aws.String("runs terraform"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))
	r := out.Role
	if aws.ToString(r.Arn) != "arn:aws:iam::"+acct+":role/deploy/terraform" || !regexp.MustCompile(`^AROA[A-Z2-7]{17}$`).MatchString(aws.ToString(r.RoleId)) {
		t.Errorf("CreateRole = %+v", r)
	}
	if aws.ToInt32(r.MaxSessionDuration) != 3600 || decodeDoc(t, r.AssumeRolePolicyDocument) != trust || len(r.Tags) != 1 {
		t.Errorf("CreateRole: MaxSessionDuration %d, document %q, tags %+v", aws.ToInt32(r.MaxSessionDuration), decodeDoc(t, r.AssumeRolePolicyDocument), r.Tags)
	}
	_, err := e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("Terraform"), AssumeRolePolicyDocument: aws.String(trust)})
	wantCode(t, err, "EntityAlreadyExists")

	got := must(e.Root.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("terraform")}))
	if decodeDoc(t, got.Role.AssumeRolePolicyDocument) != trust || aws.ToString(got.Role.Description) != "runs terraform" ||
		got.Role.RoleLastUsed == nil || got.Role.RoleLastUsed.LastUsedDate != nil || len(got.Role.Tags) != 1 {
		t.Errorf("GetRole = %+v", got.Role)
	}
	_, err = e.Root.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("nope")})
	wantCode(t, err, "NoSuchEntity")
	if got := errMessage(err); got != "The role with name nope cannot be found." {
		t.Errorf("message = %q", got)
	}

	// MaxSessionDuration: 3600 to 43200.
	for _, d := range []int32{3599, 43201} {
		_, err := e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(d)})
		wantCode(t, err, "ValidationError")
		_, err = e.Root.UpdateRole(ctx, &awsiam.UpdateRoleInput{RoleName: aws.String("terraform"), MaxSessionDuration: aws.Int32(d)})
		wantCode(t, err, "ValidationError")
	}
	must(e.Root.UpdateRole(ctx, &awsiam.UpdateRoleInput{RoleName: aws.String("terraform"), MaxSessionDuration: aws.Int32(43200)}))
	must(e.Root.UpdateRole(ctx, &awsiam.UpdateRoleInput{RoleName: aws.String("terraform"), Description: aws.String("")}))
	got = must(e.Root.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("terraform")}))
	if aws.ToInt32(got.Role.MaxSessionDuration) != 43200 || aws.ToString(got.Role.Description) != "" {
		t.Errorf("after UpdateRole: %d %q", aws.ToInt32(got.Role.MaxSessionDuration), aws.ToString(got.Role.Description))
	}
	desc := must(e.Root.UpdateRoleDescription(ctx, &awsiam.UpdateRoleDescriptionInput{RoleName: aws.String("terraform"), Description: aws.String("again")}))
	if aws.ToString(desc.Role.Description) != "again" {
		t.Errorf("UpdateRoleDescription = %+v", desc.Role)
	}
	_, err = e.Root.UpdateRole(ctx, &awsiam.UpdateRoleInput{RoleName: aws.String("nope")})
	wantCode(t, err, "NoSuchEntity")

	// Trust policies are validated as trust policies.
	plain := trustAccount(acct)
	must(e.Root.UpdateAssumeRolePolicy(ctx, &awsiam.UpdateAssumeRolePolicyInput{RoleName: aws.String("terraform"), PolicyDocument: aws.String(plain)}))
	got = must(e.Root.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("terraform")}))
	if decodeDoc(t, got.Role.AssumeRolePolicyDocument) != plain {
		t.Errorf("trust policy after update = %q", decodeDoc(t, got.Role.AssumeRolePolicyDocument))
	}
	for _, bad := range []string{"not json", `{"Version":"2012-10-17"}`} {
		_, err = e.Root.UpdateAssumeRolePolicy(ctx, &awsiam.UpdateAssumeRolePolicyInput{RoleName: aws.String("terraform"), PolicyDocument: aws.String(bad)})
		wantCode(t, err, "MalformedPolicyDocument")
		_, err = e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String(bad)})
		wantCode(t, err, "MalformedPolicyDocument")
	}
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Sid":"` + strings.Repeat("a", 2048) + `"}]}`
	_, err = e.Root.UpdateAssumeRolePolicy(ctx, &awsiam.UpdateAssumeRolePolicyInput{RoleName: aws.String("terraform"), PolicyDocument: aws.String(big)})
	wantCode(t, err, "LimitExceeded")
	_, err = e.Root.UpdateAssumeRolePolicy(ctx, &awsiam.UpdateAssumeRolePolicyInput{RoleName: aws.String("nope"), PolicyDocument: aws.String(plain)})
	wantCode(t, err, "NoSuchEntity")

	// Listing.
	must(e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("another"), AssumeRolePolicyDocument: aws.String(plain)}))
	list := must(e.Root.ListRoles(ctx, &awsiam.ListRolesInput{}))
	if len(list.Roles) != 2 || aws.ToString(list.Roles[0].RoleName) != "another" || list.Roles[1].Tags != nil || decodeDoc(t, list.Roles[0].AssumeRolePolicyDocument) != plain {
		t.Errorf("ListRoles = %+v", list.Roles)
	}
	list = must(e.Root.ListRoles(ctx, &awsiam.ListRolesInput{PathPrefix: aws.String("/deploy/")}))
	if len(list.Roles) != 1 {
		t.Errorf("ListRoles /deploy/ = %+v", list.Roles)
	}

	// Tags.
	must(e.Root.TagRole(ctx, &awsiam.TagRoleInput{RoleName: aws.String("terraform"), Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("ops")}}}))
	must(e.Root.UntagRole(ctx, &awsiam.UntagRoleInput{RoleName: aws.String("terraform"), TagKeys: []string{"env"}}))
	tags := must(e.Root.ListRoleTags(ctx, &awsiam.ListRoleTagsInput{RoleName: aws.String("terraform")}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "owner" {
		t.Errorf("ListRoleTags = %+v", tags.Tags)
	}
	_, err = e.Root.TagRole(ctx, &awsiam.TagRoleInput{RoleName: aws.String("nope"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.ListRoleTags(ctx, &awsiam.ListRoleTagsInput{RoleName: aws.String("nope")})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.UntagRole(ctx, &awsiam.UntagRoleInput{RoleName: aws.String("nope"), TagKeys: []string{"a"}})
	wantCode(t, err, "NoSuchEntity")

	// DeleteConflict with inline or attached policies.
	must(e.Root.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("terraform"), PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)}))
	_, err = e.Root.DeleteRole(ctx, &awsiam.DeleteRoleInput{RoleName: aws.String("terraform")})
	wantCode(t, err, "DeleteConflict")
	if got := errMessage(err); got != "Cannot delete entity, must delete policies first." {
		t.Errorf("message = %q", got)
	}
	must(e.Root.DeleteRolePolicy(ctx, &awsiam.DeleteRolePolicyInput{RoleName: aws.String("terraform"), PolicyName: aws.String("p")}))
	must(e.Root.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("terraform"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	_, err = e.Root.DeleteRole(ctx, &awsiam.DeleteRoleInput{RoleName: aws.String("terraform")})
	wantCode(t, err, "DeleteConflict")
	must(e.Root.DetachRolePolicy(ctx, &awsiam.DetachRolePolicyInput{RoleName: aws.String("terraform"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	must(e.Root.DeleteRole(ctx, &awsiam.DeleteRoleInput{RoleName: aws.String("terraform")}))
	_, err = e.Root.DeleteRole(ctx, &awsiam.DeleteRoleInput{RoleName: aws.String("terraform")})
	wantCode(t, err, "NoSuchEntity")
}
