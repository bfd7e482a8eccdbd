package iam_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/stateward/stateward/internal/iam"
	"github.com/stateward/stateward/internal/policy"
)

// minimalForms are the smallest valid requests of every operation the front-end serves.
func minimalForms(acct string) map[string]map[string]string {
	doc := allowAll
	trust := trustAccount(acct)
	polARN := "arn:aws:iam::" + acct + ":policy/p"
	serial := "arn:aws:iam::" + acct + ":mfa/d"
	tag := map[string]string{"Tags.member.1.Key": "k", "Tags.member.1.Value": "v"}
	with := func(a, b map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out
	}
	u := map[string]string{"UserName": "u"}
	g := map[string]string{"GroupName": "g"}
	r := map[string]string{"RoleName": "r"}
	p := map[string]string{"PolicyArn": polARN}
	named := map[string]string{"PolicyName": "inline"}
	oidc := map[string]string{"OpenIDConnectProviderArn": "arn:aws:iam::" + acct + ":oidc-provider/token.actions.githubusercontent.com"}
	putDoc := map[string]string{"PolicyName": "inline", "PolicyDocument": doc}
	return map[string]map[string]string{
		"CreateUser":                              u,
		"GetUser":                                 {},
		"ListUsers":                               {},
		"UpdateUser":                              u,
		"DeleteUser":                              u,
		"TagUser":                                 with(u, tag),
		"UntagUser":                               with(u, map[string]string{"TagKeys.member.1": "k"}),
		"ListUserTags":                            u,
		"CreateGroup":                             g,
		"GetGroup":                                g,
		"ListGroups":                              {},
		"UpdateGroup":                             g,
		"DeleteGroup":                             g,
		"AddUserToGroup":                          with(g, u),
		"RemoveUserFromGroup":                     with(g, u),
		"ListGroupsForUser":                       u,
		"CreateRole":                              with(r, map[string]string{"AssumeRolePolicyDocument": trust}),
		"GetRole":                                 r,
		"ListRoles":                               {},
		"UpdateRole":                              r,
		"UpdateRoleDescription":                   with(r, map[string]string{"Description": "d"}),
		"UpdateAssumeRolePolicy":                  with(r, map[string]string{"PolicyDocument": trust}),
		"DeleteRole":                              r,
		"TagRole":                                 with(r, tag),
		"UntagRole":                               with(r, map[string]string{"TagKeys.member.1": "k"}),
		"ListRoleTags":                            r,
		"PutUserPolicy":                           with(u, putDoc),
		"GetUserPolicy":                           with(u, named),
		"ListUserPolicies":                        u,
		"DeleteUserPolicy":                        with(u, named),
		"PutGroupPolicy":                          with(g, putDoc),
		"GetGroupPolicy":                          with(g, named),
		"ListGroupPolicies":                       g,
		"DeleteGroupPolicy":                       with(g, named),
		"PutRolePolicy":                           with(r, putDoc),
		"GetRolePolicy":                           with(r, named),
		"ListRolePolicies":                        r,
		"DeleteRolePolicy":                        with(r, named),
		"CreatePolicy":                            {"PolicyName": "p", "PolicyDocument": doc},
		"GetPolicy":                               p,
		"ListPolicies":                            {},
		"DeletePolicy":                            p,
		"CreatePolicyVersion":                     with(p, map[string]string{"PolicyDocument": doc}),
		"GetPolicyVersion":                        with(p, map[string]string{"VersionId": "v1"}),
		"ListPolicyVersions":                      p,
		"DeletePolicyVersion":                     with(p, map[string]string{"VersionId": "v2"}),
		"SetDefaultPolicyVersion":                 with(p, map[string]string{"VersionId": "v1"}),
		"TagPolicy":                               with(p, tag),
		"UntagPolicy":                             with(p, map[string]string{"TagKeys.member.1": "k"}),
		"ListPolicyTags":                          p,
		"AttachUserPolicy":                        with(u, p),
		"DetachUserPolicy":                        with(u, p),
		"ListAttachedUserPolicies":                u,
		"AttachGroupPolicy":                       with(g, p),
		"DetachGroupPolicy":                       with(g, p),
		"ListAttachedGroupPolicies":               g,
		"AttachRolePolicy":                        with(r, p),
		"DetachRolePolicy":                        with(r, p),
		"ListAttachedRolePolicies":                r,
		"ListEntitiesForPolicy":                   p,
		"CreateAccessKey":                         u,
		"ListAccessKeys":                          u,
		"UpdateAccessKey":                         with(u, map[string]string{"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA", "Status": "Active"}),
		"DeleteAccessKey":                         with(u, map[string]string{"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA"}),
		"GetAccessKeyLastUsed":                    {"AccessKeyId": "AKIAAAAAAAAAAAAAAAAA"},
		"CreateVirtualMFADevice":                  {"VirtualMFADeviceName": "d"},
		"EnableMFADevice":                         with(u, map[string]string{"SerialNumber": serial, "AuthenticationCode1": "123456", "AuthenticationCode2": "654321"}),
		"ListMFADevices":                          u,
		"ListVirtualMFADevices":                   {},
		"DeactivateMFADevice":                     with(u, map[string]string{"SerialNumber": serial}),
		"DeleteVirtualMFADevice":                  {"SerialNumber": serial},
		"CreateLoginProfile":                      with(u, map[string]string{"Password": "long enough password"}),
		"GetLoginProfile":                         u,
		"UpdateLoginProfile":                      u,
		"DeleteLoginProfile":                      u,
		"CreateOpenIDConnectProvider":             {"Url": "https://token.actions.githubusercontent.com", "ClientIDList.member.1": "sts.amazonaws.com"},
		"GetOpenIDConnectProvider":                oidc,
		"ListOpenIDConnectProviders":              {},
		"DeleteOpenIDConnectProvider":             oidc,
		"AddClientIDToOpenIDConnectProvider":      with(oidc, map[string]string{"ClientID": "c"}),
		"RemoveClientIDFromOpenIDConnectProvider": with(oidc, map[string]string{"ClientID": "c"}),
		"UpdateOpenIDConnectProviderThumbprint":   with(oidc, map[string]string{"ThumbprintList.member.1": strings.Repeat("a", 40)}),
		"TagOpenIDConnectProvider":                with(oidc, tag),
		"UntagOpenIDConnectProvider":              with(oidc, map[string]string{"TagKeys.member.1": "k"}),
		"ListOpenIDConnectProviderTags":           oidc,
		"GetAccountAuthorizationDetails":          {},
		"SimulatePrincipalPolicy":                 {"PolicySourceArn": "arn:aws:iam::" + acct + ":user/u", "ActionNames.member.1": "s3:GetObject"},
		"SimulateCustomPolicy":                    {"PolicyInputList.member.1": doc, "ActionNames.member.1": "s3:GetObject"},
	}
}

// TestEveryOperationAuthorizesOnce sends each operation the front-end serves, first refused
// by the authorizer and then allowed, and checks it asked exactly once, for iam:<Operation>
// and a resource in the caller's account.
func TestEveryOperationAuthorizesOnce(t *testing.T) {
	e := newEnv(t)
	forms := minimalForms(e.account.ID)
	for _, op := range iam.Operations() {
		if forms[op] == nil {
			t.Errorf("%s: no minimal request in the test table", op)
		}
	}
	for _, mode := range []string{"denied", "allowed"} {
		for _, op := range iam.Operations() {
			fields, ok := forms[op]
			if !ok {
				continue
			}
			form := url.Values{"Action": {op}, "Version": {"2010-05-08"}}
			for k, v := range fields {
				form.Set(k, v)
			}
			if mode == "denied" {
				e.authz.reset(func(*policy.Request) bool { return true })
			} else {
				e.authz.reset(nil)
			}
			status, body := e.rawCall(t, form)
			reqs := e.authz.requests()
			if len(reqs) != 1 {
				t.Errorf("%s (%s): %d authorization requests, want 1 (status %d: %s)", op, mode, len(reqs), status, body)
				continue
			}
			r := reqs[0]
			if r.Action != "iam:"+op || r.Resource == "" || r.ResourceAccount != e.account.ID {
				t.Errorf("%s (%s): asked %q on %q in %q", op, mode, r.Action, r.Resource, r.ResourceAccount)
			}
			if r.Resource != "*" && !strings.HasPrefix(r.Resource, "arn:aws:iam::"+e.account.ID+":") {
				t.Errorf("%s: resource %q is not in the caller's account", op, r.Resource)
			}
			if mode == "denied" && (status != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>")) {
				t.Errorf("%s: denied request answered %d: %s", op, status, body)
			}
			if status >= 500 {
				t.Errorf("%s (%s): %d %s", op, mode, status, body)
			}
		}
	}
}

// TestAuthorizationRequests checks the resource and condition keys of representative calls.
func TestAuthorizationRequests(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}}))
	must(e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("deploy"), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(trustAccount(acct)), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))
	must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("admins"), Path: aws.String("/ops/")}))
	tests := []struct {
		name     string
		call     func() error
		action   string
		resource string
		keys     map[string]string
	}{
		{"CreateUser", func() error {
			_, err := e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/x/"),
				Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "iam:CreateUser", "arn:aws:iam::" + acct + ":user/x/bob", map[string]string{"aws:RequestTag/k": "v", "aws:TagKeys": "k"}},
		{"GetUser", func() error {
			_, err := e.Root.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("alice")})
			return err
		}, "iam:GetUser", "arn:aws:iam::" + acct + ":user/eng/alice", map[string]string{"iam:ResourceTag/team": "platform", "aws:ResourceTag/team": "platform"}},
		{"GetRole", func() error {
			_, err := e.Root.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("deploy")})
			return err
		}, "iam:GetRole", "arn:aws:iam::" + acct + ":role/ci/deploy", map[string]string{"iam:ResourceTag/env": "prod"}},
		{"AttachGroupPolicy", func() error {
			_, err := e.Root.AttachGroupPolicy(ctx, &awsiam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
			return err
		}, "iam:AttachGroupPolicy", "arn:aws:iam::" + acct + ":group/ops/admins", map[string]string{"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
		{"GetPolicy", func() error {
			_, err := e.Root.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
			return err
		}, "iam:GetPolicy", "arn:aws:iam::aws:policy/ReadOnlyAccess", nil},
		{"CreateVirtualMFADevice", func() error {
			_, err := e.Root.CreateVirtualMFADevice(ctx, &awsiam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("m"), Path: aws.String("/p/")})
			return err
		}, "iam:CreateVirtualMFADevice", "arn:aws:iam::" + acct + ":mfa/p/m", nil},
		{"ListUsers", func() error {
			_, err := e.Root.ListUsers(ctx, &awsiam.ListUsersInput{})
			return err
		}, "iam:ListUsers", "*", nil},
		{"root's own access keys", func() error {
			_, err := e.Root.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{})
			return err
		}, "iam:ListAccessKeys", "arn:aws:iam::" + acct + ":root", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.authz.reset(nil)
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			reqs := e.authz.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			if r.Action != tt.action || r.Resource != tt.resource || r.ResourceAccount != acct {
				t.Errorf("asked %q on %q in %q, want %q on %q", r.Action, r.Resource, r.ResourceAccount, tt.action, tt.resource)
			}
			for k, v := range tt.keys {
				if got := r.Keys[k]; !slices.Contains(got, v) {
					t.Errorf("key %s = %v, want %q", k, got, v)
				}
			}
			if r.Caller == nil || r.Caller.Principal == nil || r.Caller.Principal.ARN != "arn:aws:iam::"+acct+":root" {
				t.Errorf("caller = %+v", r.Caller)
			}
		})
	}
}
