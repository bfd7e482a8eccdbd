package iam_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/stateward/stateward/internal/iam"
	"github.com/stateward/stateward/internal/storage"
)

func TestLoginProfiles(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	const password = "correct horse battery staple"
	name := aws.String("alice")
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: name}))

	_, err := e.Root.CreateLoginProfile(ctx, &awsiam.CreateLoginProfileInput{UserName: name, Password: aws.String("short")})
	wantCode(t, err, "PasswordPolicyViolation")
	_, err = e.Root.CreateLoginProfile(ctx, &awsiam.CreateLoginProfileInput{UserName: name})
	wantCode(t, err, "ValidationError")
	_, err = e.Root.CreateLoginProfile(ctx, &awsiam.CreateLoginProfileInput{UserName: aws.String("nobody"), Password: aws.String(password)})
	wantCode(t, err, "NoSuchEntity")
	out := must(e.Root.CreateLoginProfile(ctx, &awsiam.CreateLoginProfileInput{UserName: name, Password: aws.String(password), PasswordResetRequired: true}))
	if aws.ToString(out.LoginProfile.UserName) != "alice" || !out.LoginProfile.PasswordResetRequired || !out.LoginProfile.CreateDate.Equal(startTime) {
		t.Errorf("CreateLoginProfile = %+v", out.LoginProfile)
	}
	_, err = e.Root.CreateLoginProfile(ctx, &awsiam.CreateLoginProfileInput{UserName: name, Password: aws.String(password)})
	wantCode(t, err, "EntityAlreadyExists")

	// Only an argon2id hash is stored.
	var raw []byte
	err = e.store.View(ctx, func(tx storage.Tx) (err error) {
		raw, err = tx.Get([]byte("iam/acct/" + acct + "/login/alice"))
		return err
	})
	if err != nil || strings.Contains(string(raw), password) || !strings.Contains(string(raw), "$argon2id$v=19$") {
		t.Errorf("stored login record %q (%v)", raw, err)
	}

	if err := e.svc.CheckPassword(ctx, acct, "alice", password); !errors.Is(err, iam.ErrPasswordResetRequired) {
		t.Errorf("CheckPassword with reset required = %v", err)
	}
	must(e.Root.UpdateLoginProfile(ctx, &awsiam.UpdateLoginProfileInput{UserName: name, Password: aws.String(password + "!"), PasswordResetRequired: aws.Bool(false)}))
	got := must(e.Root.GetLoginProfile(ctx, &awsiam.GetLoginProfileInput{UserName: name}))
	if got.LoginProfile.PasswordResetRequired || aws.ToString(got.LoginProfile.UserName) != "alice" {
		t.Errorf("GetLoginProfile = %+v", got.LoginProfile)
	}
	for _, tt := range []struct {
		user, password string
		want           error
	}{
		{"alice", password + "!", nil},
		{"ALICE", password + "!", nil},
		{"alice", password, iam.ErrInvalidPassword},
		{"alice", "", iam.ErrInvalidPassword},
		{"nobody", password + "!", iam.ErrInvalidPassword},
	} {
		if err := e.svc.CheckPassword(ctx, acct, tt.user, tt.password); !errors.Is(err, tt.want) {
			t.Errorf("CheckPassword(%q, %q) = %v, want %v", tt.user, tt.password, err, tt.want)
		}
	}
	u := must(e.Root.GetUser(ctx, &awsiam.GetUserInput{UserName: name}))
	if u.User.PasswordLastUsed == nil || !u.User.PasswordLastUsed.Equal(startTime) {
		t.Errorf("PasswordLastUsed = %v", u.User.PasswordLastUsed)
	}
	_, err = e.Root.UpdateLoginProfile(ctx, &awsiam.UpdateLoginProfileInput{UserName: name, Password: aws.String("short")})
	wantCode(t, err, "PasswordPolicyViolation")

	must(e.Root.DeleteLoginProfile(ctx, &awsiam.DeleteLoginProfileInput{UserName: name}))
	_, err = e.Root.GetLoginProfile(ctx, &awsiam.GetLoginProfileInput{UserName: name})
	wantCode(t, err, "NoSuchEntity")
	if got := errMessage(err); got != "Login Profile for User alice cannot be found." {
		t.Errorf("message = %q", got)
	}
	_, err = e.Root.DeleteLoginProfile(ctx, &awsiam.DeleteLoginProfileInput{UserName: name})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.UpdateLoginProfile(ctx, &awsiam.UpdateLoginProfileInput{UserName: name, PasswordResetRequired: aws.Bool(true)})
	wantCode(t, err, "NoSuchEntity")
	if err := e.svc.CheckPassword(ctx, acct, "alice", password+"!"); !errors.Is(err, iam.ErrInvalidPassword) {
		t.Errorf("CheckPassword without a profile = %v", err)
	}
	// The root user has no login profile of its own here.
	_, err = e.Root.GetLoginProfile(ctx, &awsiam.GetLoginProfileInput{})
	wantCode(t, err, "ValidationError")
}
