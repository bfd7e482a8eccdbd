package kms_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/stateward/stateward/internal/policy"
)

// TestAuthorizationRequests checks what each call asks the authorizer: the action, the
// resource (the key ARN, or * for account-wide calls) and the resource's account.
func TestAuthorizationRequests(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, arn := createKey(t, e.A, "")
	dst, dstARN := createKey(t, e.A, "")
	enc, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x"), EncryptionContext: map[string]string{"app": "tf"}})
	if err != nil {
		t.Fatal(err)
	}
	aliasARN := "arn:aws:kms:" + region + ":" + accountA + ":alias/app"
	type want struct{ action, resource, account string }
	tests := []struct {
		name string
		call func() error
		want []want
	}{
		{"CreateKey", func() error { _, err := e.A.CreateKey(ctx, &awskms.CreateKeyInput{}); return err },
			[]want{{"kms:CreateKey", "*", ""}}},
		{"ListKeys", func() error { _, err := e.A.ListKeys(ctx, &awskms.ListKeysInput{}); return err },
			[]want{{"kms:ListKeys", "*", accountA}}},
		{"ListAliases", func() error { _, err := e.A.ListAliases(ctx, &awskms.ListAliasesInput{}); return err },
			[]want{{"kms:ListAliases", "*", accountA}}},
		{"DescribeKey", func() error {
			_, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			return err
		}, []want{{"kms:DescribeKey", arn, accountA}}},
		{"Encrypt", func() error {
			_, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
			return err
		}, []want{{"kms:Encrypt", arn, accountA}}},
		{"Decrypt", func() error {
			_, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"app": "tf"}})
			return err
		}, []want{{"kms:Decrypt", arn, accountA}}},
		{"GenerateDataKey", func() error {
			_, err := e.A.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256})
			return err
		}, []want{{"kms:GenerateDataKey", arn, accountA}}},
		{"ReEncrypt", func() error {
			_, err := e.A.ReEncrypt(ctx, &awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: map[string]string{"app": "tf"}, DestinationKeyId: aws.String(dst)})
			return err
		}, []want{{"kms:ReEncryptTo", dstARN, accountA}, {"kms:ReEncryptFrom", arn, accountA}}},
		{"CreateAlias", func() error {
			_, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: aws.String(id)})
			return err
		}, []want{{"kms:CreateAlias", arn, accountA}, {"kms:CreateAlias", aliasARN, accountA}}},
		{"DisableKey", func() error {
			_, err := e.A.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String("alias/app")})
			return err
		}, []want{{"kms:DisableKey", arn, accountA}}},
		{"ScheduleKeyDeletion", func() error {
			_, err := e.A.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(arn)})
			return err
		}, []want{{"kms:ScheduleKeyDeletion", arn, accountA}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.authz.reset(nil)
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			got := e.authz.requests()
			if len(got) != len(tt.want) {
				t.Fatalf("%d authorization requests, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Action != w.action || g.Resource != w.resource || g.ResourceAccount != w.account ||
					g.Caller.Principal.AccountID != accountA || !g.Caller.Principal.IsRoot() || g.Caller.Principal.ARN != "arn:aws:iam::"+accountA+":root" {
					t.Errorf("request %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
	// Encryption context reaches the authorizer as condition keys.
	e.authz.reset(nil)
	if _, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(dst), Plaintext: []byte("x"), EncryptionContext: map[string]string{"app": "tf"}}); err != nil {
		t.Fatal(err)
	}
	c := e.authz.requests()[0].Keys
	if strings.Join(c["kms:EncryptionContext:app"], ",") != "tf" || strings.Join(c["kms:EncryptionContextKeys"], ",") != "app" ||
		strings.Join(c["kms:CallerAccount"], ",") != accountA {
		t.Errorf("conditions = %v", c)
	}
	// S3's calls carry kms:ViaService.
	e.authz.reset(nil)
	if _, _, _, err := e.svc.GenerateDataKeyFor(as(accountA), accountA, dst, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.authz.requests(); len(got) != 1 || got[0].Action != "kms:GenerateDataKey" ||
		strings.Join(got[0].Keys["kms:ViaService"], ",") != "s3."+region+".amazonaws.com" {
		t.Errorf("GenerateDataKeyFor asked %+v", got)
	}
}

func TestAccessDenied(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, arn := createKey(t, e.A, "")
	enc, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want string
	}{
		// The default authorizer lets a root act in its own account only.
		{"other account by key ARN", func() error {
			_, err := e.B.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(arn)})
			return err
		}, "AccessDeniedException"},
		{"other account decrypts", func() error {
			_, err := e.B.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
			return err
		}, "AccessDeniedException"},
		{"other account, missing key", func() error {
			_, err := e.B.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:" + region + ":" + accountA + ":key/0b8f5c4e-9b7a-4c3d-8e2f-1a2b3c4d5e6f")})
			return err
		}, "AccessDeniedException"},
		{"other account by bare id", func() error {
			_, err := e.B.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
			return err
		}, "NotFoundException"},
		{"non-root user", func() error {
			_, err := e.User.CreateKey(ctx, &awskms.CreateKeyInput{})
			return err
		}, "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.want) })
	}
	// A policy that denies one action refuses exactly that action.
	e.authz.reset(func(r *policy.Request) bool { return r.Action == "kms:Decrypt" })
	_, err = e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantCode(t, err, "AccessDeniedException")
	if _, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")}); err != nil {
		t.Errorf("Encrypt while only Decrypt is denied: %v", err)
	}
	_, _, err = e.svc.DecryptFor(as(accountA), accountA, enc.CiphertextBlob, nil)
	if c := awsCode(err); c != "AccessDeniedException" {
		t.Errorf("DecryptFor while Decrypt is denied: %q", c)
	}
}

// TestKeyPolicyGrantsAcrossAccounts: another account may use a key only when the key policy
// grants it (cross-account, the key policy and the caller's own permissions must both allow;
// a root user's own side always does), and a key policy Deny overrides even the owner's root.
func TestKeyPolicyGrantsAcrossAccounts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, arn := createKey(t, e.A, "shared")
	encryptAs := func(c *awskms.Client) error {
		_, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(arn), Plaintext: []byte("x")})
		return err
	}
	wantCode(t, encryptAs(e.B), "AccessDeniedException")
	put := func(policy string) {
		t.Helper()
		if _, err := e.A.PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: aws.String(arn), Policy: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
	}
	owner := `{"Sid":"Owner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + accountA + `:root"},"Action":"kms:*","Resource":"*"}`
	put(`{"Version":"2012-10-17","Statement":[` + owner + `,` +
		`{"Sid":"UseFromB","Effect":"Allow","Principal":{"AWS":"` + accountB + `"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}]}`)
	if err := encryptAs(e.B); err != nil {
		t.Fatalf("account B with a key policy grant: %v", err)
	}
	_, err := e.B.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String(arn)})
	wantCode(t, err, "AccessDeniedException") // granted Encrypt and Decrypt only
	put(`{"Version":"2012-10-17","Statement":[` + owner + `,` +
		`{"Sid":"NoEncrypt","Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*"}]}`)
	wantCode(t, encryptAs(e.A), "AccessDeniedException")
	wantCode(t, encryptAs(e.B), "AccessDeniedException")
}
