package ssm_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/stateward/stateward/internal/policy"
)

// TestSecureStringKeys writes SecureStrings under a customer key named every way SSM accepts
// it, and under the default alias/aws/ssm, and checks each is encrypted under that key: KMS
// is asked for kms:Encrypt and kms:Decrypt on it, through SSM, with the parameter's ARN as
// encryption context.
func TestSecureStringKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, keyARN := createKey(t, e.KMS, "alias/parameter_store_key")
	for i, ref := range []string{"alias/parameter_store_key", id, keyARN, "arn:aws:kms:" + region + ":" + accountA + ":alias/parameter_store_key"} {
		name := "/chamber/k" + string(rune('0'+i))
		arn := "arn:aws:ssm:" + region + ":" + accountA + ":parameter" + name
		e.authz.reset(nil)
		put(t, e.A, name, "s3cr3t", types.ParameterTypeSecureString, func(in *awsssm.PutParameterInput) { in.KeyId = aws.String(ref) })
		if got, want := e.authz.asked(), []string{"ssm:PutParameter " + arn, "kms:Encrypt " + keyARN}; !slices.Equal(got, want) {
			t.Errorf("PutParameter under %s asked %q, want %q", ref, got, want)
		}
		kmsReq := e.authz.requests()[1]
		if !slices.Equal(kmsReq.Keys["kms:ViaService"], []string{"ssm." + region + ".amazonaws.com"}) ||
			!slices.Equal(kmsReq.Keys["kms:EncryptionContext:PARAMETER_ARN"], []string{arn}) {
			t.Errorf("kms:Encrypt condition keys %v", kmsReq.Keys)
		}
		e.authz.reset(nil)
		if p := get(t, e.A, name); aws.ToString(p.Value) != "s3cr3t" {
			t.Errorf("%s = %+v", name, p)
		}
		if got, want := e.authz.asked(), []string{"ssm:GetParameter " + arn, "kms:Decrypt " + keyARN}; !slices.Equal(got, want) {
			t.Errorf("GetParameter WithDecryption asked %q, want %q", got, want)
		}
		// The key is reported as the caller named it.
		desc, err := e.A.DescribeParameters(ctx, &awsssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{
			{Key: aws.String("Name"), Values: []string{name}}}})
		if err != nil || len(desc.Parameters) != 1 || aws.ToString(desc.Parameters[0].KeyId) != ref {
			t.Errorf("DescribeParameters %s = %+v, %v", name, desc, err)
		}
	}
	// No key named: alias/aws/ssm, created on first use.
	put(t, e.A, "/default", "managed", types.ParameterTypeSecureString)
	desc, err := e.KMS.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("alias/aws/ssm")})
	if err != nil {
		t.Fatal(err)
	}
	e.authz.reset(nil)
	if p := get(t, e.A, "/default"); aws.ToString(p.Value) != "managed" {
		t.Errorf("/default = %+v", p)
	}
	if got := e.authz.asked(); len(got) != 2 || got[1] != "kms:Decrypt "+aws.ToString(desc.KeyMetadata.Arn) {
		t.Errorf("read under alias/aws/ssm asked %q", got)
	}
	// Another account's managed key is its own.
	put(t, e.B, "/default", "b's", types.ParameterTypeSecureString)
	if p := get(t, e.B, "/default"); aws.ToString(p.Value) != "b's" {
		t.Errorf("account B /default = %+v", p)
	}
}

// TestSecureStringRefusals: KMS's refusals reach the SSM caller as SSM reports them, and a
// caller without kms:Decrypt sees the metadata and the ciphertext, not the value.
func TestSecureStringRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := createKey(t, e.KMS, "alias/k")
	put(t, e.A, "/s/secret", "top", types.ParameterTypeSecureString, func(in *awsssm.PutParameterInput) { in.KeyId = aws.String("alias/k") })
	put(t, e.A, "/s/plain", "open", types.ParameterTypeString)

	e.authz.reset(func(r *policy.Request) bool { return r.Action == "kms:Decrypt" })
	for name, call := range map[string]func() error{
		"GetParameter": func() error {
			_, err := e.A.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/s/secret"), WithDecryption: aws.Bool(true)})
			return err
		},
		"GetParameters": func() error {
			_, err := e.A.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{"/s/secret", "/s/plain"}, WithDecryption: aws.Bool(true)})
			return err
		},
		"GetParametersByPath": func() error {
			_, err := e.A.GetParametersByPath(ctx, &awsssm.GetParametersByPathInput{Path: aws.String("/s"), WithDecryption: aws.Bool(true)})
			return err
		},
		"GetParameterHistory": func() error {
			_, err := e.A.GetParameterHistory(ctx, &awsssm.GetParameterHistoryInput{Name: aws.String("/s/secret"), WithDecryption: aws.Bool(true)})
			return err
		},
	} {
		t.Run("no kms:Decrypt/"+name, func(t *testing.T) {
			err := call()
			wantCode(t, err, "AccessDeniedException")
			if !strings.Contains(err.Error(), "kms:Decrypt") {
				t.Errorf("denial does not name kms:Decrypt: %v", err)
			}
		})
	}
	// The same caller still reads the metadata, and the value in its encrypted form.
	out, err := e.A.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/s/secret")})
	if err != nil || strings.Contains(aws.ToString(out.Parameter.Value), "top") || out.Parameter.Version != 1 {
		t.Errorf("GetParameter without decryption: %+v, %v", out, err)
	}
	if _, err := e.A.DescribeParameters(ctx, &awsssm.DescribeParametersInput{}); err != nil {
		t.Error(err)
	}
	if p := get(t, e.A, "/s/plain"); aws.ToString(p.Value) != "open" {
		t.Errorf("a String needs no kms:Decrypt: %+v", p)
	}
	e.authz.reset(func(r *policy.Request) bool { return r.Action == "kms:Encrypt" })
	_, err = e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/s/secret"), Value: aws.String("new"), Overwrite: aws.Bool(true)})
	wantCode(t, err, "AccessDeniedException")
	e.authz.reset(nil)
	if p := get(t, e.A, "/s/secret"); aws.ToString(p.Value) != "top" || p.Version != 1 {
		t.Errorf("a refused write changed the parameter: %+v", p)
	}

	// A disabled key refuses both ways, as KMS does; SSM reports it as InvalidKeyId.
	if _, err := e.KMS.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.A.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/s/secret"), WithDecryption: aws.Bool(true)})
	wantCode(t, err, "InvalidKeyId")
	if !strings.Contains(err.Error(), "DisabledException") {
		t.Errorf("disabled key: %v", err)
	}
	_, err = e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/s/secret"), Value: aws.String("new"), Overwrite: aws.Bool(true)})
	wantCode(t, err, "InvalidKeyId")
	if _, err := e.KMS.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if p := get(t, e.A, "/s/secret"); aws.ToString(p.Value) != "top" {
		t.Errorf("after enabling the key again: %+v", p)
	}
	if _, err := e.KMS.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.A.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/s/secret"), WithDecryption: aws.Bool(true)})
	wantCode(t, err, "InvalidKeyId")
	if !strings.Contains(err.Error(), "KMSInvalidStateException") {
		t.Errorf("key pending deletion: %v", err)
	}
	// Another account's key cannot be used without its key policy's grant.
	_, keyB := createKey(t, e.KMSB, "alias/b")
	_, err = e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/s/cross"), Value: aws.String("x"), Type: types.ParameterTypeSecureString,
		KeyId: aws.String(keyB)})
	wantCode(t, err, "AccessDeniedException")
}
