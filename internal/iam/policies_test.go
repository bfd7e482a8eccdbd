package iam_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// assumeOnly is seed 001's group policy: the group may only assume a role.
const assumeOnly = `{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "sts:AssumeRole",
    "Resource": "arn:aws:iam::222233334444:role/UpdateApp"
  }
}`

// sizedPolicy is a valid identity policy of about n characters without whitespace.
func sizedPolicy(n int) string {
	head := `{"Version":"2012-10-17","Statement":[{"Sid":"`
	tail := `","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	return head + strings.Repeat("a", max(n-len(head)-len(tail), 1)) + tail
}

func TestInlinePolicies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("u")}))
	must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("g")}))
	must(e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustAccount(e.account.ID))}))

	type calls struct {
		kind   string
		quota  int
		put    func(entity, name, doc string) error
		get    func(entity, name string) (string, string, error) // entity name, document
		list   func(entity string, marker *string) ([]string, *string, error)
		delete func(entity, name string) error
	}
	kinds := []calls{
		{"user", 2048,
			func(en, n, d string) error {
				_, err := e.Root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String(en), PolicyName: aws.String(n), PolicyDocument: aws.String(d)})
				return err
			},
			func(en, n string) (string, string, error) {
				out, err := e.Root.GetUserPolicy(ctx, &awsiam.GetUserPolicyInput{UserName: aws.String(en), PolicyName: aws.String(n)})
				if err != nil {
					return "", "", err
				}
				return aws.ToString(out.UserName), decodeDoc(t, out.PolicyDocument), nil
			},
			func(en string, m *string) ([]string, *string, error) {
				out, err := e.Root.ListUserPolicies(ctx, &awsiam.ListUserPoliciesInput{UserName: aws.String(en), Marker: m, MaxItems: aws.Int32(1)})
				if err != nil {
					return nil, nil, err
				}
				return out.PolicyNames, out.Marker, nil
			},
			func(en, n string) error {
				_, err := e.Root.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: aws.String(en), PolicyName: aws.String(n)})
				return err
			}},
		{"group", 5120,
			func(en, n, d string) error {
				_, err := e.Root.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: aws.String(en), PolicyName: aws.String(n), PolicyDocument: aws.String(d)})
				return err
			},
			func(en, n string) (string, string, error) {
				out, err := e.Root.GetGroupPolicy(ctx, &awsiam.GetGroupPolicyInput{GroupName: aws.String(en), PolicyName: aws.String(n)})
				if err != nil {
					return "", "", err
				}
				return aws.ToString(out.GroupName), decodeDoc(t, out.PolicyDocument), nil
			},
			func(en string, m *string) ([]string, *string, error) {
				out, err := e.Root.ListGroupPolicies(ctx, &awsiam.ListGroupPoliciesInput{GroupName: aws.String(en), Marker: m, MaxItems: aws.Int32(1)})
				if err != nil {
					return nil, nil, err
				}
				return out.PolicyNames, out.Marker, nil
			},
			func(en, n string) error {
				_, err := e.Root.DeleteGroupPolicy(ctx, &awsiam.DeleteGroupPolicyInput{GroupName: aws.String(en), PolicyName: aws.String(n)})
				return err
			}},
		{"role", 10240,
			func(en, n, d string) error {
				_, err := e.Root.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String(en), PolicyName: aws.String(n), PolicyDocument: aws.String(d)})
				return err
			},
			func(en, n string) (string, string, error) {
				out, err := e.Root.GetRolePolicy(ctx, &awsiam.GetRolePolicyInput{RoleName: aws.String(en), PolicyName: aws.String(n)})
				if err != nil {
					return "", "", err
				}
				return aws.ToString(out.RoleName), decodeDoc(t, out.PolicyDocument), nil
			},
			func(en string, m *string) ([]string, *string, error) {
				out, err := e.Root.ListRolePolicies(ctx, &awsiam.ListRolePoliciesInput{RoleName: aws.String(en), Marker: m, MaxItems: aws.Int32(1)})
				if err != nil {
					return nil, nil, err
				}
				return out.PolicyNames, out.Marker, nil
			},
			func(en, n string) error {
				_, err := e.Root.DeleteRolePolicy(ctx, &awsiam.DeleteRolePolicyInput{RoleName: aws.String(en), PolicyName: aws.String(n)})
				return err
			}},
	}
	for _, k := range kinds {
		t.Run(k.kind, func(t *testing.T) {
			en := k.kind[:1]
			if err := k.put(en, "assume", assumeOnly); err != nil {
				t.Fatal(err)
			}
			if err := k.put(en, "all", allowAll); err != nil {
				t.Fatal(err)
			}
			// Putting a name again replaces the document.
			if err := k.put(en, "all", allowAll+" "); err != nil {
				t.Fatal(err)
			}
			name, doc, err := k.get(en, "assume")
			if err != nil || name != en || doc != assumeOnly {
				t.Errorf("get = %q, %q, %v", name, doc, err)
			}
			_, doc, _ = k.get(en, "all")
			if doc != allowAll+" " {
				t.Errorf("replaced document = %q", doc)
			}
			var names []string
			var marker *string
			for {
				page, next, err := k.list(en, marker)
				if err != nil {
					t.Fatal(err)
				}
				names = append(names, page...)
				if next == nil {
					break
				}
				marker = next
			}
			if !equal(names, []string{"all", "assume"}) {
				t.Errorf("list = %v", names)
			}

			_, _, err = k.get(en, "missing")
			wantCode(t, err, "NoSuchEntity")
			if got, want := errMessage(err), "The "+k.kind+" policy with name missing cannot be found."; got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
			wantCode(t, k.delete(en, "missing"), "NoSuchEntity")
			wantCode(t, k.put("nobody", "p", allowAll), "NoSuchEntity")
			_, _, err = k.list("nobody", nil)
			wantCode(t, err, "NoSuchEntity")
			for _, bad := range []string{"{", `{"Version":"2012-10-17"}`} {
				wantCode(t, k.put(en, "bad", bad), "MalformedPolicyDocument")
			}
			// The quota counts all of the entity's inline policies, whitespace excluded.
			wantCode(t, k.put(en, "big", sizedPolicy(k.quota)), "LimitExceeded")
			if err := k.put(en, "spaced", strings.ReplaceAll(sizedPolicy(k.quota/2), ",", ",   \n\t   ")); err != nil {
				t.Errorf("a policy within the quota once whitespace is discounted: %v", err)
			}
			for _, n := range []string{"all", "assume", "spaced"} {
				if err := k.delete(en, n); err != nil {
					t.Fatal(err)
				}
			}
			if names, _, _ := k.list(en, nil); len(names) != 0 {
				t.Errorf("after deleting: %v", names)
			}
		})
	}
}

func TestManagedPolicies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	out := must(e.Root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("state-rw"), Path: aws.String("/tf/"),
		PolicyDocument: aws.String(allowAll), Description: aws.String("state access"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	p := out.Policy
	arn := "arn:aws:iam::" + acct + ":policy/tf/state-rw"
	if aws.ToString(p.Arn) != arn || aws.ToString(p.DefaultVersionId) != "v1" || aws.ToInt32(p.AttachmentCount) != 0 ||
		!p.IsAttachable || !strings.HasPrefix(aws.ToString(p.PolicyId), "ANPA") || !p.CreateDate.Equal(startTime) || len(p.Tags) != 1 {
		t.Errorf("CreatePolicy = %+v", p)
	}
	_, err := e.Root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("STATE-rw"), PolicyDocument: aws.String(allowAll)})
	wantCode(t, err, "EntityAlreadyExists")
	_, err = e.Root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("bad"), PolicyDocument: aws.String("[")})
	wantCode(t, err, "MalformedPolicyDocument")
	_, err = e.Root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("big"), PolicyDocument: aws.String(sizedPolicy(6200))})
	wantCode(t, err, "LimitExceeded")
	_, err = e.Root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("badpath"), Path: aws.String("tf"), PolicyDocument: aws.String(allowAll)})
	wantCode(t, err, "ValidationError")

	got := must(e.Root.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)}))
	if aws.ToString(got.Policy.Description) != "state access" || aws.ToString(got.Policy.Path) != "/tf/" {
		t.Errorf("GetPolicy = %+v", got.Policy)
	}
	for _, bad := range []struct{ arn, code string }{
		{"arn:aws:iam::" + acct + ":policy/state-rw", "NoSuchEntity"}, // wrong path
		{"arn:aws:iam::" + acct + ":policy/tf/missing", "NoSuchEntity"},
		{"arn:aws:iam::999988887777:policy/tf/state-rw", "NoSuchEntity"},
		{"arn:aws:iam::aws:policy/NoSuchPolicy", "NoSuchEntity"},
		{"not-an-arn-at-all-really", "InvalidInput"},
	} {
		_, err := e.Root.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(bad.arn)})
		wantCode(t, err, bad.code)
	}

	// Versions: at most five; the default cannot be deleted.
	for i := 2; i <= 5; i++ {
		v := must(e.Root.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn),
			PolicyDocument: aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"v%d","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, i)),
			SetAsDefault:   i == 3}))
		if aws.ToString(v.PolicyVersion.VersionId) != fmt.Sprintf("v%d", i) || v.PolicyVersion.IsDefaultVersion != (i == 3) {
			t.Errorf("CreatePolicyVersion %d = %+v", i, v.PolicyVersion)
		}
	}
	_, err = e.Root.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(allowAll)})
	wantCode(t, err, "LimitExceeded")
	_, err = e.Root.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String("{")})
	wantCode(t, err, "MalformedPolicyDocument")
	versions := must(e.Root.ListPolicyVersions(ctx, &awsiam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)}))
	var ids []string
	for _, v := range versions.Versions {
		ids = append(ids, aws.ToString(v.VersionId))
		if v.Document != nil {
			t.Errorf("ListPolicyVersions shows documents")
		}
	}
	if !equal(ids, []string{"v5", "v4", "v3", "v2", "v1"}) || !versions.Versions[2].IsDefaultVersion {
		t.Errorf("ListPolicyVersions = %v", ids)
	}
	v3 := must(e.Root.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")}))
	if doc := decodeDoc(t, v3.PolicyVersion.Document); !strings.Contains(doc, `"Sid":"v3"`) || !v3.PolicyVersion.IsDefaultVersion {
		t.Errorf("GetPolicyVersion v3 = %q, default %v", doc, v3.PolicyVersion.IsDefaultVersion)
	}
	_, err = e.Root.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("3")})
	wantCode(t, err, "ValidationError")
	_, err = e.Root.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
	wantCode(t, err, "DeleteConflict")
	if got := errMessage(err); got != "Cannot delete the default version of a policy." {
		t.Errorf("message = %q", got)
	}
	must(e.Root.SetDefaultPolicyVersion(ctx, &awsiam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v5")}))
	_, err = e.Root.SetDefaultPolicyVersion(ctx, &awsiam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	wantCode(t, err, "NoSuchEntity")
	got = must(e.Root.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)}))
	if aws.ToString(got.Policy.DefaultVersionId) != "v5" {
		t.Errorf("DefaultVersionId = %q", aws.ToString(got.Policy.DefaultVersionId))
	}
	_, err = e.Root.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	wantCode(t, err, "NoSuchEntity")
	// DeletePolicy refuses a policy with versions besides the default.
	_, err = e.Root.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantCode(t, err, "DeleteConflict")
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		must(e.Root.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(v)}))
	}
	// The next version number keeps counting.
	v6 := must(e.Root.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(allowAll)}))
	if aws.ToString(v6.PolicyVersion.VersionId) != "v6" {
		t.Errorf("next version = %q", aws.ToString(v6.PolicyVersion.VersionId))
	}
	must(e.Root.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v6")}))

	// Attachments, counted, listed both ways; DeletePolicy refuses an attached policy.
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("u")}))
	must(e.Root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("g"), Path: aws.String("/team/")}))
	must(e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustAccount(acct))}))
	must(e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(arn)}))
	must(e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(arn)})) // again: no change
	must(e.Root.AttachGroupPolicy(ctx, &awsiam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(arn)}))
	must(e.Root.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(arn)}))
	must(e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3FullAccess")}))
	got = must(e.Root.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)}))
	if aws.ToInt32(got.Policy.AttachmentCount) != 3 {
		t.Errorf("AttachmentCount = %d, want 3", aws.ToInt32(got.Policy.AttachmentCount))
	}
	attached := must(e.Root.ListAttachedUserPolicies(ctx, &awsiam.ListAttachedUserPoliciesInput{UserName: aws.String("u")}))
	if len(attached.AttachedPolicies) != 2 || aws.ToString(attached.AttachedPolicies[0].PolicyName) != "state-rw" ||
		aws.ToString(attached.AttachedPolicies[1].PolicyArn) != "arn:aws:iam::aws:policy/AmazonS3FullAccess" {
		t.Errorf("ListAttachedUserPolicies = %+v", attached.AttachedPolicies)
	}
	attached = must(e.Root.ListAttachedUserPolicies(ctx, &awsiam.ListAttachedUserPoliciesInput{UserName: aws.String("u"), PathPrefix: aws.String("/tf/")}))
	if len(attached.AttachedPolicies) != 1 {
		t.Errorf("ListAttachedUserPolicies /tf/ = %+v", attached.AttachedPolicies)
	}
	if a := must(e.Root.ListAttachedGroupPolicies(ctx, &awsiam.ListAttachedGroupPoliciesInput{GroupName: aws.String("g")})); len(a.AttachedPolicies) != 1 {
		t.Errorf("ListAttachedGroupPolicies = %+v", a.AttachedPolicies)
	}
	if a := must(e.Root.ListAttachedRolePolicies(ctx, &awsiam.ListAttachedRolePoliciesInput{RoleName: aws.String("r")})); len(a.AttachedPolicies) != 1 {
		t.Errorf("ListAttachedRolePolicies = %+v", a.AttachedPolicies)
	}
	ents := must(e.Root.ListEntitiesForPolicy(ctx, &awsiam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)}))
	if len(ents.PolicyUsers) != 1 || len(ents.PolicyGroups) != 1 || len(ents.PolicyRoles) != 1 ||
		aws.ToString(ents.PolicyUsers[0].UserName) != "u" || aws.ToString(ents.PolicyRoles[0].RoleId) == "" {
		t.Errorf("ListEntitiesForPolicy = %+v", ents)
	}
	ents = must(e.Root.ListEntitiesForPolicy(ctx, &awsiam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn), EntityFilter: types.EntityTypeGroup}))
	if len(ents.PolicyUsers) != 0 || len(ents.PolicyGroups) != 1 {
		t.Errorf("ListEntitiesForPolicy Group = %+v", ents)
	}
	ents = must(e.Root.ListEntitiesForPolicy(ctx, &awsiam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn), PathPrefix: aws.String("/team/")}))
	if len(ents.PolicyGroups) != 1 || len(ents.PolicyUsers)+len(ents.PolicyRoles) != 0 {
		t.Errorf("ListEntitiesForPolicy /team/ = %+v", ents)
	}
	ents = must(e.Root.ListEntitiesForPolicy(ctx, &awsiam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn), MaxItems: aws.Int32(2)}))
	if n := len(ents.PolicyGroups) + len(ents.PolicyUsers) + len(ents.PolicyRoles); n != 2 || !ents.IsTruncated {
		t.Errorf("ListEntitiesForPolicy page of 2: %d, truncated %v", n, ents.IsTruncated)
	}
	_, err = e.Root.ListEntitiesForPolicy(ctx, &awsiam.ListEntitiesForPolicyInput{PolicyArn: aws.String("arn:aws:iam::" + acct + ":policy/missing")})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantCode(t, err, "DeleteConflict")
	if got := errMessage(err); got != "Cannot delete a policy attached to entities." {
		t.Errorf("message = %q", got)
	}

	// Renaming or moving an entity keeps its attachments findable.
	must(e.Root.UpdateUser(ctx, &awsiam.UpdateUserInput{UserName: aws.String("u"), NewUserName: aws.String("u2"), NewPath: aws.String("/moved/")}))
	ents = must(e.Root.ListEntitiesForPolicy(ctx, &awsiam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn), PathPrefix: aws.String("/moved/")}))
	if len(ents.PolicyUsers) != 1 || aws.ToString(ents.PolicyUsers[0].UserName) != "u2" {
		t.Errorf("after UpdateUser: %+v", ents.PolicyUsers)
	}

	_, err = e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("u2"), PolicyArn: aws.String("arn:aws:iam::" + acct + ":policy/missing")})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("nobody"), PolicyArn: aws.String(arn)})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.DetachUserPolicy(ctx, &awsiam.DetachUserPolicyInput{UserName: aws.String("u2"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.ListAttachedUserPolicies(ctx, &awsiam.ListAttachedUserPoliciesInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")

	for _, c := range []func() error{
		func() error {
			_, err := e.Root.DetachUserPolicy(ctx, &awsiam.DetachUserPolicyInput{UserName: aws.String("u2"), PolicyArn: aws.String(arn)})
			return err
		},
		func() error {
			_, err := e.Root.DetachGroupPolicy(ctx, &awsiam.DetachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(arn)})
			return err
		},
		func() error {
			_, err := e.Root.DetachRolePolicy(ctx, &awsiam.DetachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(arn)})
			return err
		},
	} {
		if err := c(); err != nil {
			t.Fatal(err)
		}
	}
	must(e.Root.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)}))
	_, err = e.Root.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantCode(t, err, "NoSuchEntity")
}

func TestAttachQuota(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	must(e.Root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustAccount(e.account.ID))}))
	for i := range 11 {
		out := must(e.Root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%02d", i)), PolicyDocument: aws.String(allowAll)}))
		_, err := e.Root.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: out.Policy.Arn})
		if i < 10 {
			wantCode(t, err, "")
		} else {
			wantCode(t, err, "LimitExceeded")
			if got := errMessage(err); got != "Cannot exceed quota for PoliciesPerRole: 10" {
				t.Errorf("message = %q", got)
			}
		}
	}
}

func TestAWSManagedPolicies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	names := []string{"AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "IAMFullAccess", "AmazonS3FullAccess",
		"AmazonS3ReadOnlyAccess", "AmazonDynamoDBFullAccess", "AWSKeyManagementServicePowerUser", "AmazonSSMFullAccess", "AmazonSSMReadOnlyAccess"}
	for _, name := range names {
		arn := "arn:aws:iam::aws:policy/" + name
		p := must(e.Root.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)}))
		if aws.ToString(p.Policy.PolicyName) != name || aws.ToString(p.Policy.Arn) != arn || aws.ToString(p.Policy.DefaultVersionId) == "" {
			t.Errorf("%s: %+v", name, p.Policy)
		}
		v := must(e.Root.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId}))
		var doc struct {
			Version   string
			Statement []json.RawMessage
		}
		if err := json.Unmarshal([]byte(decodeDoc(t, v.PolicyVersion.Document)), &doc); err != nil || doc.Version != "2012-10-17" || len(doc.Statement) == 0 {
			t.Errorf("%s: document %q (%v)", name, decodeDoc(t, v.PolicyVersion.Document), err)
		}
	}
	s3 := must(e.Root.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3FullAccess"), VersionId: aws.String("v1")}))
	if doc := decodeDoc(t, s3.PolicyVersion.Document); !strings.Contains(doc, `"s3:*"`) || !strings.Contains(doc, `"s3-object-lambda:*"`) {
		t.Errorf("AmazonS3FullAccess = %s", doc)
	}

	// Read-only: refused as a change to a resource of another account.
	admin := aws.String("arn:aws:iam::aws:policy/AdministratorAccess")
	_, err := e.Root.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: admin})
	wantCode(t, err, "AccessDenied")
	_, err = e.Root.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: admin, PolicyDocument: aws.String(allowAll)})
	wantCode(t, err, "AccessDenied")
	_, err = e.Root.SetDefaultPolicyVersion(ctx, &awsiam.SetDefaultPolicyVersionInput{PolicyArn: admin, VersionId: aws.String("v1")})
	wantCode(t, err, "AccessDenied")
	_, err = e.Root.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: admin, VersionId: aws.String("v1")})
	wantCode(t, err, "AccessDenied")
	_, err = e.Root.TagPolicy(ctx, &awsiam.TagPolicyInput{PolicyArn: admin, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantCode(t, err, "AccessDenied")

	// Listing by scope, attachment and path.
	must(e.Root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("mine"), PolicyDocument: aws.String(allowAll)}))
	count := func(in *awsiam.ListPoliciesInput) (n int) {
		p := awsiam.NewListPoliciesPaginator(e.Root, in)
		for p.HasMorePages() {
			n += len(must(p.NextPage(ctx)).Policies)
		}
		return n
	}
	if n := count(&awsiam.ListPoliciesInput{}); n != len(names)+1 {
		t.Errorf("ListPolicies All = %d", n)
	}
	if n := count(&awsiam.ListPoliciesInput{MaxItems: aws.Int32(3)}); n != len(names)+1 {
		t.Errorf("ListPolicies All in pages of 3 = %d", n)
	}
	if n := count(&awsiam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws}); n != len(names) {
		t.Errorf("ListPolicies AWS = %d", n)
	}
	if n := count(&awsiam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}); n != 1 {
		t.Errorf("ListPolicies Local = %d", n)
	}
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("terraform-deployer")}))
	must(e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("terraform-deployer"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3FullAccess")}))
	must(e.Root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("terraform-deployer"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess")}))
	attached := must(e.Root.ListPolicies(ctx, &awsiam.ListPoliciesInput{OnlyAttached: true}))
	if len(attached.Policies) != 2 || aws.ToInt32(attached.Policies[0].AttachmentCount) != 1 {
		t.Errorf("ListPolicies OnlyAttached = %+v", attached.Policies)
	}
	if n := count(&awsiam.ListPoliciesInput{PathPrefix: aws.String("/nothing-here/")}); n != 0 {
		t.Errorf("ListPolicies PathPrefix = %d", n)
	}
	_, err = e.Root.ListPolicies(ctx, &awsiam.ListPoliciesInput{Scope: "Everything"})
	wantCode(t, err, "ValidationError")
}

func TestPolicyTags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out := must(e.Root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)}))
	arn := out.Policy.Arn
	must(e.Root.TagPolicy(ctx, &awsiam.TagPolicyInput{PolicyArn: arn, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}))
	must(e.Root.UntagPolicy(ctx, &awsiam.UntagPolicyInput{PolicyArn: arn, TagKeys: []string{"a"}}))
	tags := must(e.Root.ListPolicyTags(ctx, &awsiam.ListPolicyTagsInput{PolicyArn: arn}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "b" {
		t.Errorf("ListPolicyTags = %+v", tags.Tags)
	}
	missing := aws.String("arn:aws:iam::" + e.account.ID + ":policy/missing")
	_, err := e.Root.TagPolicy(ctx, &awsiam.TagPolicyInput{PolicyArn: missing, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.UntagPolicy(ctx, &awsiam.UntagPolicyInput{PolicyArn: missing, TagKeys: []string{"a"}})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.ListPolicyTags(ctx, &awsiam.ListPolicyTagsInput{PolicyArn: missing})
	wantCode(t, err, "NoSuchEntity")
}
