package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestSSMAuthorization is the authorization table of Parameter Store through real IAM
// principals: reading a SecureString with decryption needs ssm:GetParameter* on the parameter
// and kms:Decrypt on its key (alias/aws/ssm's key policy grants the latter to the account's
// principals through SSM, as on AWS); a policy limited to a path reaches only that path; and
// a second account's principal (an OrganizationAccountAccessRole session with
// AdministratorAccess in a member account) reaches neither the management account's
// parameters nor its key.
func TestSSMAuthorization(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	root := e.root
	key := must[*kms.CreateKeyOutput](t)(root.KMS.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("parameter store")}))
	keyARN := aws.ToString(key.KeyMetadata.Arn)
	must[*kms.CreateAliasOutput](t)(root.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/parameter_store_key"), TargetKeyId: key.KeyMetadata.KeyId}))
	for name, keyID := range map[string]string{
		"/app/staging/db_password": "alias/parameter_store_key",
		"/app/prod/db_password":    "alias/parameter_store_key",
		"/app/staging/managed":     "", // alias/aws/ssm
	} {
		in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("secret of " + name), Type: ssmtypes.ParameterTypeSecureString}
		if keyID != "" {
			in.KeyId = aws.String(keyID)
		}
		must[*ssm.PutParameterOutput](t)(root.SSM.PutParameter(ctx, in))
	}
	must[*ssm.PutParameterOutput](t)(root.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/staging/region"), Value: aws.String("eu-west-1"),
		Type: ssmtypes.ParameterTypeString}))

	reader := e.as(e.user(t, "reader", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ssm:GetParameter*","ssm:DescribeParameters"],"Resource":"*"},
		{"Effect":"Allow","Action":"kms:Decrypt","Resource":"`+keyARN+`"}]}`))
	noKMS := e.as(e.user(t, "nokms", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ssm:GetParameter*","ssm:DescribeParameters"],"Resource":"*"}]}`))
	staging := e.as(e.user(t, "staging", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ssm:*","Resource":"arn:aws:ssm:*:*:parameter/app/staging/*"},
		{"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}]}`))

	// A member account, and its administrator's session there.
	org := organizations.NewFromConfig(e.cfg, func(o *organizations.Options) { o.BaseEndpoint = aws.String(e.URL) })
	must[*organizations.CreateOrganizationOutput](t)(org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}))
	acct := must[*organizations.CreateAccountOutput](t)(org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("dev"),
		Email: aws.String("dev@example.com")}))
	member := aws.ToString(acct.CreateAccountStatus.AccountId)
	sess := must[*sts.AssumeRoleOutput](t)(root.STS.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("admin")}))
	other := e.as(sessionCreds(sess.Credentials))

	arnOf := func(name string) string { return "arn:aws:ssm:us-east-1:" + e.Account + ":parameter" + name }
	get := func(c *clients, name string, decrypt bool) func() error {
		return func() error {
			out, err := c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(decrypt)})
			if err == nil && decrypt && !strings.HasPrefix(aws.ToString(out.Parameter.Value), "secret of ") && out.Parameter.Type == ssmtypes.ParameterTypeSecureString {
				t.Errorf("%s decrypted to %q", name, aws.ToString(out.Parameter.Value))
			}
			return err
		}
	}
	byPath := func(c *clients, path string, recursive bool) func() error {
		return func() error {
			_, err := c.SSM.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String(path), Recursive: aws.Bool(recursive), WithDecryption: aws.Bool(true)})
			return err
		}
	}
	putSecure := func(c *clients, name, keyID string) func() error {
		return func() error {
			_, err := c.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("secret of " + name), Type: ssmtypes.ParameterTypeSecureString,
				KeyId: aws.String(keyID), Overwrite: aws.Bool(true)})
			return err
		}
	}
	describe := func(c *clients) func() error {
		return func() error { _, err := c.SSM.DescribeParameters(ctx, &ssm.DescribeParametersInput{}); return err }
	}
	for _, tc := range []struct {
		name string
		call func() error
		code string // "" for success
		msg  string // part of the denial's message
	}{
		{"ssm and kms:Decrypt: value", get(reader, "/app/staging/db_password", true), "", ""},
		{"ssm and kms:Decrypt: path", byPath(reader, "/app", true), "", ""},
		{"no kms:Decrypt: value refused", get(noKMS, "/app/staging/db_password", true), "AccessDeniedException", "kms:Decrypt on resource: " + keyARN},
		{"no kms:Decrypt: path refused", byPath(noKMS, "/app/staging", false), "AccessDeniedException", "kms:Decrypt"},
		{"no kms:Decrypt: metadata and ciphertext", get(noKMS, "/app/staging/db_password", false), "", ""},
		{"no kms:Decrypt: describe", describe(noKMS), "", ""},
		{"no kms:Decrypt: a String", get(noKMS, "/app/staging/region", true), "", ""},
		{"no kms:Decrypt: alias/aws/ssm grants use through SSM", get(noKMS, "/app/staging/managed", true), "", ""},
		{"path policy: inside", get(staging, "/app/staging/db_password", true), "", ""},
		{"path policy: outside", get(staging, "/app/prod/db_password", true), "AccessDeniedException", "ssm:GetParameter on resource: " + arnOf("/app/prod/db_password")},
		{"path policy: by path with the trailing slash (chamber exec)", byPath(staging, "/app/staging/", false), "", ""},
		{"path policy: the path itself is outside", byPath(staging, "/app/staging", false), "AccessDeniedException", "ssm:GetParametersByPath"},
		{"path policy: a parent path", byPath(staging, "/app", true), "AccessDeniedException", "ssm:GetParametersByPath"},
		{"path policy: write inside", putSecure(staging, "/app/staging/new", "alias/parameter_store_key"), "", ""},
		{"path policy: write outside", putSecure(staging, "/app/prod/new", "alias/parameter_store_key"), "AccessDeniedException", "ssm:PutParameter"},
		{"path policy: delete outside", func() error {
			_, err := staging.SSM.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/app/prod/db_password")})
			return err
		}, "AccessDeniedException", "ssm:DeleteParameter"},
		{"path policy: describe needs *", describe(staging), "AccessDeniedException", "ssm:DescribeParameters"},
		{"other account: by ARN", get(other, arnOf("/app/staging/region"), false), "AccessDeniedException", "ssm:GetParameter"},
		{"other account: its own namespace", get(other, "/app/staging/region", false), "ParameterNotFound", ""},
		{"other account: the key by ARN", putSecure(other, "/mine", keyARN), "AccessDeniedException", "kms:Encrypt"},
		{"other account: its own alias/aws/ssm", func() error {
			if err := putSecure(other, "/mine", "alias/aws/ssm")(); err != nil {
				return err
			}
			return get(other, "/mine", true)()
		}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.name, tc.call(), tc.code, tc.msg) })
	}
}
