package iam_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestSimulatorRequests checks what the simulator accepts and refuses, and the shape of its
// answer; the decisions themselves are the engine's (iam_engine_test.go).
func TestSimulatorRequests(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("deployer")}))
	must(e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("deployer"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3FullAccess")}))
	must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("admins")}))
	must(e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("terraform"), AssumeRolePolicyDocument: aws.String(trustAccount(acct))}))
	user := aws.String("arn:aws:iam::" + acct + ":user/deployer")

	out := must(e.Root.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{PolicySourceArn: user,
		ActionNames: []string{"s3:PutObject", "dynamodb:PutItem"}, ResourceArns: []string{"arn:aws:s3:::state/a", "arn:aws:s3:::state/b"}}))
	if len(out.EvaluationResults) != 4 || out.IsTruncated {
		t.Fatalf("%d results, truncated %v; want one per action and resource", len(out.EvaluationResults), out.IsTruncated)
	}
	r := out.EvaluationResults[1]
	if aws.ToString(r.EvalActionName) != "s3:PutObject" || aws.ToString(r.EvalResourceName) != "arn:aws:s3:::state/b" {
		t.Errorf("second result = %+v", r)
	}
	for _, r := range out.EvaluationResults {
		switch r.EvalDecision {
		case types.PolicyEvaluationDecisionTypeAllowed, types.PolicyEvaluationDecisionTypeExplicitDeny, types.PolicyEvaluationDecisionTypeImplicitDeny:
		default:
			t.Errorf("EvalDecision %q", r.EvalDecision)
		}
	}
	// No resources means "*"; pages of one.
	page := must(e.Root.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{PolicySourceArn: user, ActionNames: []string{"s3:GetObject", "s3:ListBucket"}, MaxItems: aws.Int32(1)}))
	if len(page.EvaluationResults) != 1 || !page.IsTruncated || aws.ToString(page.EvaluationResults[0].EvalResourceName) != "*" {
		t.Errorf("first page = %+v", page)
	}
	page = must(e.Root.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{PolicySourceArn: user, ActionNames: []string{"s3:GetObject", "s3:ListBucket"}, Marker: page.Marker}))
	if len(page.EvaluationResults) != 1 || page.IsTruncated || aws.ToString(page.EvaluationResults[0].EvalActionName) != "s3:ListBucket" {
		t.Errorf("second page = %+v", page)
	}

	// Groups and roles are sources too.
	for _, src := range []string{"arn:aws:iam::" + acct + ":group/admins", "arn:aws:iam::" + acct + ":role/terraform"} {
		if _, err := e.Root.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(src), ActionNames: []string{"s3:GetObject"}}); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}

	// Every context key type is accepted with values of its type.
	entries := []types.ContextEntry{
		{ContextKeyName: aws.String("aws:username"), ContextKeyType: types.ContextKeyTypeEnumString, ContextKeyValues: []string{"deployer"}},
		{ContextKeyName: aws.String("aws:TagKeys"), ContextKeyType: types.ContextKeyTypeEnumStringList, ContextKeyValues: []string{"a", "b"}},
		{ContextKeyName: aws.String("aws:MultiFactorAuthAge"), ContextKeyType: types.ContextKeyTypeEnumNumeric, ContextKeyValues: []string{"300"}},
		{ContextKeyName: aws.String("test:numbers"), ContextKeyType: types.ContextKeyTypeEnumNumericList, ContextKeyValues: []string{"1", "2.5"}},
		{ContextKeyName: aws.String("aws:MultiFactorAuthPresent"), ContextKeyType: types.ContextKeyTypeEnumBoolean, ContextKeyValues: []string{"true"}},
		{ContextKeyName: aws.String("test:flags"), ContextKeyType: types.ContextKeyTypeEnumBooleanList, ContextKeyValues: []string{"true", "false"}},
		{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyType: types.ContextKeyTypeEnumIp, ContextKeyValues: []string{"203.0.113.7"}},
		{ContextKeyName: aws.String("test:nets"), ContextKeyType: types.ContextKeyTypeEnumIpList, ContextKeyValues: []string{"10.0.0.0/8", "2001:db8::1"}},
		{ContextKeyName: aws.String("test:blob"), ContextKeyType: types.ContextKeyTypeEnumBinary, ContextKeyValues: []string{"aGVsbG8="}},
		{ContextKeyName: aws.String("test:blobs"), ContextKeyType: types.ContextKeyTypeEnumBinaryList, ContextKeyValues: []string{"aGVsbG8=", "d29ybGQ="}},
		{ContextKeyName: aws.String("aws:CurrentTime"), ContextKeyType: types.ContextKeyTypeEnumDate, ContextKeyValues: []string{"2026-03-01T12:00:00Z"}},
		{ContextKeyName: aws.String("test:dates"), ContextKeyType: types.ContextKeyTypeEnumDateList, ContextKeyValues: []string{"2026-03-01T12:00:00Z", "1772366400"}},
	}
	if _, err := e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{allowAll}, ActionNames: []string{"s3:GetObject"}, ContextEntries: entries}); err != nil {
		t.Errorf("context entries of every type: %v", err)
	}

	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"unknown user", func() error {
			_, err := e.Root.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::" + acct + ":user/ghost"), ActionNames: []string{"s3:GetObject"}})
			return err
		}, "NoSuchEntity"},
		{"not a user, group or role", func() error {
			_, err := e.Root.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:s3:::bucket-name-here"), ActionNames: []string{"s3:GetObject"}})
			return err
		}, "InvalidInput"},
		{"malformed input policy", func() error {
			_, err := e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{"{"}, ActionNames: []string{"s3:GetObject"}})
			return err
		}, "MalformedPolicyDocument"},
		{"malformed resource policy", func() error {
			_, err := e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{allowAll}, ActionNames: []string{"s3:GetObject"}, ResourcePolicy: aws.String("{")})
			return err
		}, "MalformedPolicyDocument"},
		{"permissions boundary", func() error {
			_, err := e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{allowAll}, ActionNames: []string{"s3:GetObject"}, PermissionsBoundaryPolicyInputList: []string{allowAll}})
			return err
		}, "InvalidInput"},
		{"bad resource owner", func() error {
			_, err := e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{allowAll}, ActionNames: []string{"s3:GetObject"}, ResourceOwner: aws.String("somebody")})
			return err
		}, "InvalidInput"},
		{"unknown caller", func() error {
			_, err := e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{allowAll}, ActionNames: []string{"s3:GetObject"}, CallerArn: aws.String("arn:aws:iam::" + acct + ":user/ghost")})
			return err
		}, "NoSuchEntity"},
		{"caller not a user", func() error {
			_, err := e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{allowAll}, ActionNames: []string{"s3:GetObject"}, CallerArn: aws.String("arn:aws:iam::" + acct + ":role/terraform")})
			return err
		}, "InvalidInput"},
		{"numeric context value", func() error {
			_, err := e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{allowAll}, ActionNames: []string{"s3:GetObject"},
				ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:MultiFactorAuthAge"), ContextKeyType: types.ContextKeyTypeEnumNumeric, ContextKeyValues: []string{"soon"}}}})
			return err
		}, "InvalidInput"},
		{"two values for a single-valued key", func() error {
			_, err := e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{allowAll}, ActionNames: []string{"s3:GetObject"},
				ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyType: types.ContextKeyTypeEnumIp, ContextKeyValues: []string{"10.0.0.1", "10.0.0.2"}}}})
			return err
		}, "InvalidInput"},
		{"unknown context type", func() error {
			_, err := e.Root.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{allowAll}, ActionNames: []string{"s3:GetObject"},
				ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyType: "address", ContextKeyValues: []string{"10.0.0.1"}}}})
			return err
		}, "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.code) })
	}
	// The SDK checks required members itself; the server does too.
	if status, body := e.rawCall(t, form("SimulatePrincipalPolicy", "PolicySourceArn", aws.ToString(user))); status != 400 ||
		!strings.Contains(body, "Value null at &#39;actionNames&#39;") {
		t.Errorf("no actions: %d %s", status, body)
	}
}
