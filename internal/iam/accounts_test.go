package iam_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/stateward/stateward/internal/iam"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/storage"
)

func TestCreateMemberAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mgmt := e.account.ID
	var seen string
	id, err := e.svc.CreateMemberAccount(ctx, "staging", "ops+staging@example.com", "", mgmt, func(tx storage.Tx, accountID string) error {
		seen = accountID
		return tx.Put([]byte("org/test/member/"+accountID), []byte("{}"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[1-9][0-9]{11}$`).MatchString(id) || id == mgmt || seen != id {
		t.Fatalf("account id %q (within saw %q)", id, seen)
	}
	if name, err := e.svc.AccountName(ctx, id); err != nil || name != "staging" {
		t.Errorf("AccountName = %q, %v", name, err)
	}
	if name, err := e.svc.AccountName(ctx, mgmt); err != nil || name != "management" {
		t.Errorf("AccountName(management) = %q, %v", name, err)
	}
	if _, err := e.svc.AccountName(ctx, "999999999999"); err == nil {
		t.Errorf("AccountName of an unknown account succeeded")
	}
	err = e.store.View(ctx, func(tx storage.Tx) error {
		_, err := tx.Get([]byte("org/test/member/" + id))
		return err
	})
	if err != nil {
		t.Errorf("within's record: %v", err)
	}

	// Inside the new account: the role, AdministratorAccess attached, trust to the
	// management account, and no root access key.
	member := identity.WithPrincipal(ctx, &identity.Principal{Type: identity.Root, AccountID: id, ARN: identity.RootARN(id), UserID: id})
	role, err := e.svc.GetRole(member, &iam.GetRoleInput{RoleName: "OrganizationAccountAccessRole"})
	if err != nil {
		t.Fatal(err)
	}
	if role.Role.Arn != "arn:aws:iam::"+id+":role/OrganizationAccountAccessRole" || role.Role.MaxSessionDuration != 3600 {
		t.Errorf("role = %+v", role.Role)
	}
	var trust struct {
		Statement []struct {
			Effect    string
			Principal map[string]string
			Action    string
		}
	}
	if err := json.Unmarshal([]byte(role.Role.AssumeRolePolicyDocument), &trust); err != nil {
		t.Fatal(err)
	}
	if len(trust.Statement) != 1 || trust.Statement[0].Principal["AWS"] != "arn:aws:iam::"+mgmt+":root" ||
		trust.Statement[0].Action != "sts:AssumeRole" || trust.Statement[0].Effect != "Allow" {
		t.Errorf("trust policy = %s", role.Role.AssumeRolePolicyDocument)
	}
	attached, err := e.svc.ListAttachedRolePolicies(member, &iam.ListAttachedRolePoliciesInput{RoleName: "OrganizationAccountAccessRole"})
	if err != nil || len(attached.AttachedPolicies) != 1 || attached.AttachedPolicies[0].PolicyArn != "arn:aws:iam::aws:policy/AdministratorAccess" {
		t.Errorf("attached = %+v, %v", attached, err)
	}
	keys, err := e.svc.ListAccessKeys(member, &iam.ListAccessKeysInput{})
	if err != nil || len(keys.AccessKeyMetadata) != 0 {
		t.Errorf("member root keys = %+v, %v", keys, err)
	}
	// The management account sees none of it.
	_, err = e.Root.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("OrganizationAccountAccessRole")})
	wantCode(t, err, "NoSuchEntity")

	// A named role; a failing within leaves nothing behind.
	id2, err := e.svc.CreateMemberAccount(ctx, "prod", "", "Admin", mgmt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetRole(identity.WithPrincipal(ctx, &identity.Principal{Type: identity.Root, AccountID: id2, ARN: identity.RootARN(id2), UserID: id2}),
		&iam.GetRoleInput{RoleName: "Admin"}); err != nil {
		t.Errorf("named role: %v", err)
	}
	boom := errors.New("boom")
	var failed string
	_, err = e.svc.CreateMemberAccount(ctx, "never", "", "", mgmt, func(tx storage.Tx, accountID string) error {
		failed = accountID
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want within's", err)
	}
	if _, err := e.svc.AccountName(ctx, failed); err == nil {
		t.Errorf("the account of a failed creation exists")
	}
	if _, err := e.svc.CreateMemberAccount(ctx, "bad", "", "bad role name", mgmt, nil); err == nil {
		t.Errorf("a role name IAM refuses was accepted")
	}
}
