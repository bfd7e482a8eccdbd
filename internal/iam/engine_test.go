package iam_test

// Tests that need the real policy engine: identity-based policies allowing non-root callers,
// and the simulator's decisions. They skip while policy's placeholder is in place.

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const denyUserCreation = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}`

func TestEngineEnforcesIdentityPolicies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.userClient(t, "admin", "arn:aws:iam::aws:policy/IAMFullAccess")
	reader := e.userClient(t, "reader", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	power := e.userClient(t, "power", "arn:aws:iam::aws:policy/PowerUserAccess")
	nobody := e.userClient(t, "nobody")

	if _, err := admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("made-by-admin")}); err != nil {
		t.Errorf("IAMFullAccess CreateUser: %v", err)
	}
	if _, err := reader.ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Errorf("ReadOnlyAccess ListUsers: %v", err)
	}
	_, err := reader.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("x")})
	wantCode(t, err, "AccessDenied")
	if _, err := power.ListRoles(ctx, &awsiam.ListRolesInput{}); err != nil {
		t.Errorf("PowerUserAccess ListRoles: %v", err)
	}
	_, err = power.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("x")})
	wantCode(t, err, "AccessDenied")
	_, err = nobody.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")

	// An explicit deny in an inline policy wins over IAMFullAccess, at once.
	must(e.Root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String("no-users"), PolicyDocument: aws.String(denyUserCreation)}))
	_, err = admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("y")})
	wantCode(t, err, "AccessDenied")
	must(e.Root.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: aws.String("admin"), PolicyName: aws.String("no-users")}))
	if _, err := admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("y")}); err != nil {
		t.Errorf("after removing the deny: %v", err)
	}

	// A group's policies apply while the user is in it.
	must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("listers")}))
	must(e.Root.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: aws.String("listers"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`)}))
	must(e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("listers"), UserName: aws.String("nobody")}))
	if _, err := nobody.ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Errorf("group member ListUsers: %v", err)
	}
	must(e.Root.RemoveUserFromGroup(ctx, &awsiam.RemoveUserFromGroupInput{GroupName: aws.String("listers"), UserName: aws.String("nobody")}))
	_, err = nobody.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")

	// Resource tags reach the engine as condition keys.
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}))
	must(e.Root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("nobody"), PolicyName: aws.String("team-a"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*","Condition":{"StringEquals":{"iam:ResourceTag/team":"a"}}}]}`)}))
	if _, err := nobody.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("tagged")}); err != nil {
		t.Errorf("GetUser of a team-a user: %v", err)
	}
	_, err = nobody.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("admin")})
	wantCode(t, err, "AccessDenied")
}

func TestEngineMalformedPolicyDocument(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("u")}))
	for _, doc := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`,                                // no Resource
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`, // Principal in an identity policy
	} {
		_, err := e.Root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
		wantCode(t, err, "MalformedPolicyDocument")
		if errMessage(err) == "" {
			t.Errorf("no message for %s", doc)
		}
	}
	// A trust policy needs a Principal and takes no Resource.
	_, err := e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(allowAll)})
	wantCode(t, err, "MalformedPolicyDocument")
}

func TestEngineSimulator(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	s3Full := "arn:aws:iam::aws:policy/AmazonS3FullAccess"
	// Seed 003: terraform-deployer with S3 and DynamoDB full access.
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("terraform-deployer")}))
	must(e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("terraform-deployer"), PolicyArn: aws.String(s3Full)}))
	must(e.Root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("terraform-deployer"), PolicyName: aws.String("no-delete"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`)}))
	// Seed 001: admins may only assume a role.
	must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("admins")}))
	must(e.Root.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: aws.String("admins"), PolicyName: aws.String("assume"), PolicyDocument: aws.String(assumeOnly)}))
	must(e.Root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("terraform-deployer")}))

	out := must(e.Root.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::" + acct + ":user/terraform-deployer"),
		ActionNames:     []string{"s3:PutObject", "s3:DeleteBucket", "dynamodb:PutItem", "sts:AssumeRole"},
		ResourceArns:    []string{"arn:aws:iam::222233334444:role/UpdateApp"},
	}))
	want := map[string]struct {
		decision types.PolicyEvaluationDecisionType
		source   string
		typ      string
	}{
		"s3:PutObject":     {types.PolicyEvaluationDecisionTypeAllowed, s3Full, "aws-managed"},
		"s3:DeleteBucket":  {types.PolicyEvaluationDecisionTypeExplicitDeny, "no-delete", "user"},
		"dynamodb:PutItem": {types.PolicyEvaluationDecisionTypeImplicitDeny, "", ""},
		"sts:AssumeRole":   {types.PolicyEvaluationDecisionTypeAllowed, "assume", "group"},
	}
	for _, r := range out.EvaluationResults {
		w := want[aws.ToString(r.EvalActionName)]
		if r.EvalDecision != w.decision {
			t.Errorf("%s: %s, want %s", aws.ToString(r.EvalActionName), r.EvalDecision, w.decision)
		}
		if w.source == "" {
			if len(r.MatchedStatements) != 0 {
				t.Errorf("%s: matched %+v", aws.ToString(r.EvalActionName), r.MatchedStatements)
			}
			continue
		}
		if !slices.ContainsFunc(r.MatchedStatements, func(s types.Statement) bool {
			return aws.ToString(s.SourcePolicyId) == w.source && string(s.SourcePolicyType) == w.typ
		}) {
			t.Errorf("%s: matched %+v, want %s (%s)", aws.ToString(r.EvalActionName), r.MatchedStatements, w.source, w.typ)
		}
	}

	// Seed 004: a policy that wants MFA, with and without the context key.
	mfaPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`
	with := must(e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{mfaPolicy}, ActionNames: []string{"s3:GetObject"},
		ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:MultiFactorAuthPresent"), ContextKeyType: types.ContextKeyTypeEnumBoolean, ContextKeyValues: []string{"true"}}}}))
	if r := with.EvaluationResults[0]; r.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed ||
		len(r.MatchedStatements) != 1 || aws.ToString(r.MatchedStatements[0].SourcePolicyId) != "PolicyInputList.1" {
		t.Errorf("with MFA: %+v", r)
	}
	without := must(e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{mfaPolicy}, ActionNames: []string{"s3:GetObject"}}))
	if r := without.EvaluationResults[0]; r.EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny {
		t.Errorf("without MFA: %+v", r)
	}

	// A resource policy granting the caller.
	resource := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/terraform-deployer"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::state/*"}]}`
	res := must(e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{
		PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}`},
		ActionNames:     []string{"s3:GetObject"}, ResourceArns: []string{"arn:aws:s3:::state/key"}, ResourcePolicy: aws.String(resource),
		CallerArn: aws.String("arn:aws:iam::" + acct + ":user/terraform-deployer")}))
	if r := res.EvaluationResults[0]; r.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed ||
		!slices.ContainsFunc(r.MatchedStatements, func(s types.Statement) bool { return s.SourcePolicyType == types.PolicySourceTypeResource }) {
		t.Errorf("resource policy: %+v", r)
	}
}
