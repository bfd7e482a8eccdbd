package kms_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/policy"
)

// awsCode is the code of an error from the service's Go API, as S3 would read it.
func awsCode(err error) string {
	if err == nil {
		return ""
	}
	return awsproto.Classify(err, awsproto.JSON11).Code // as the gateway renders it
}

// TestManagedS3KeyCreatedOnce races first uses of alias/aws/s3 in one account: exactly one
// key and one alias come out, and every caller gets that key.
func TestManagedS3KeyCreatedOnce(t *testing.T) {
	e := newEnv(t)
	const n = 16
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				got[i], errs[i] = e.svc.ResolveForS3(as(accountA), accountA, "")
				return
			}
			_, _, got[i], errs[i] = e.svc.GenerateDataKeyFor(as(accountA), accountA, "alias/aws/s3", nil)
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("caller %d got %s, caller 0 got %s", i, got[i], got[0])
		}
	}
	ctx := context.Background()
	keys, err := e.A.ListKeys(ctx, &awskms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	aliases, err := e.A.ListAliases(ctx, &awskms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 1 || len(aliases.Aliases) != 1 || aws.ToString(aliases.Aliases[0].AliasName) != "alias/aws/s3" {
		t.Fatalf("after racing first uses: %d keys, aliases %+v; want one of each", len(keys.Keys), aliases.Aliases)
	}
	desc, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
	if err != nil {
		t.Fatal(err)
	}
	m := desc.KeyMetadata
	if m.KeyManager != types.KeyManagerTypeAws || aws.ToString(m.Arn) != got[0] || aws.ToString(m.AWSAccountId) != accountA ||
		!uuidV4.MatchString(aws.ToString(m.KeyId)) || m.KeyState != types.KeyStateEnabled ||
		aws.ToString(m.Description) != "Default key that protects my S3 objects when no other key is defined" {
		t.Errorf("DescribeKey(alias/aws/s3) = %+v", m)
	}
	rot, err := e.A.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: m.KeyId})
	if err != nil || !rot.KeyRotationEnabled {
		t.Errorf("managed key rotation status = %+v, %v; want enabled", rot, err)
	}
	// Another account gets its own managed key, here through the API's first use.
	descB, err := e.B.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(descB.KeyMetadata.AWSAccountId) != accountB || aws.ToString(descB.KeyMetadata.Arn) == got[0] {
		t.Errorf("account B's managed key = %+v", descB.KeyMetadata)
	}
}

// TestManagedKeyBelongsToAWS checks that callers cannot administer an AWS managed key.
func TestManagedKeyBelongsToAWS(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arn, err := e.svc.ResolveForS3(as(accountA), accountA, "")
	if err != nil {
		t.Fatal(err)
	}
	id := aws.String(arn)
	calls := map[string]func() error{
		"DisableKey": func() error { _, err := e.A.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: id}); return err },
		"ScheduleKeyDeletion": func() error {
			_, err := e.A.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: id})
			return err
		},
		"PutKeyPolicy": func() error {
			_, err := e.A.PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: id, Policy: aws.String(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}`)})
			return err
		},
		"RotateKeyOnDemand": func() error {
			_, err := e.A.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: id})
			return err
		},
		"TagResource": func() error {
			_, err := e.A.TagResource(ctx, &awskms.TagResourceInput{KeyId: id, Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("b")}}})
			return err
		},
		"CreateAlias to it": func() error {
			_, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/mine"), TargetKeyId: id})
			return err
		},
	}
	// Its key policy lets the account read it and use it through S3, nothing more: managing
	// it is refused by the key policy before anything else, as on KMS.
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantCode(t, call(), "AccessDeniedException") })
	}
	_, err = e.A.DeleteAlias(ctx, &awskms.DeleteAliasInput{AliasName: aws.String("alias/aws/s3")})
	wantCode(t, err, "NotAuthorizedException")
	policy, err := e.A.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains([]byte(aws.ToString(policy.Policy)), []byte(`"kms:ViaService":"s3.`+region+`.amazonaws.com"`)) {
		t.Errorf("managed key policy = %s", aws.ToString(policy.Policy))
	}
}

func TestS3DataKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, arn := createKey(t, e.A, "state key")
	if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/terraform"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	encCtx := map[string]string{"aws:s3:arn": "arn:aws:s3:::state/env/prod.tfstate"}
	for _, ref := range []string{id, arn, "alias/terraform", "arn:aws:kms:" + region + ":" + accountA + ":alias/terraform"} {
		t.Run(ref, func(t *testing.T) {
			resolved, err := e.svc.ResolveForS3(as(accountA), accountA, ref)
			if err != nil || resolved != arn {
				t.Fatalf("ResolveForS3 = %q, %v; want %q", resolved, err, arn)
			}
			plain, blob, keyARN, err := e.svc.GenerateDataKeyFor(as(accountA), accountA, ref, encCtx)
			if err != nil {
				t.Fatal(err)
			}
			if len(plain) != 32 || keyARN != arn {
				t.Fatalf("data key of %d bytes under %s", len(plain), keyARN)
			}
			got, gotARN, err := e.svc.DecryptFor(as(accountA), accountA, blob, encCtx)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) || gotARN != arn {
				t.Error("DecryptFor does not return the data key")
			}
			_, _, err = e.svc.DecryptFor(as(accountA), accountA, blob, map[string]string{"aws:s3:arn": "arn:aws:s3:::state/other"})
			if c := awsCode(err); c != "InvalidCiphertextException" {
				t.Errorf("DecryptFor with another context: %q", c)
			}
			// The same blob is a KMS ciphertext: the API decrypts it too.
			dec, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: blob, EncryptionContext: encCtx})
			if err != nil || !bytes.Equal(dec.Plaintext, plain) {
				t.Errorf("API Decrypt of an S3 data key: %v", err)
			}
		})
	}
	// The errors S3 passes on as KMS.<code>.
	_, blob, _, err := e.svc.GenerateDataKeyFor(as(accountA), accountA, id, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.A.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = e.svc.GenerateDataKeyFor(as(accountA), accountA, id, encCtx)
	if c := awsCode(err); c != "DisabledException" {
		t.Errorf("GenerateDataKeyFor on a disabled key: %q", c)
	}
	_, _, err = e.svc.DecryptFor(as(accountA), accountA, blob, encCtx)
	if c := awsCode(err); c != "DisabledException" {
		t.Errorf("DecryptFor on a disabled key: %q", c)
	}
	if _, err := e.A.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.svc.DecryptFor(as(accountA), accountA, blob, encCtx)
	if c := awsCode(err); c != "KMSInvalidStateException" {
		t.Errorf("DecryptFor on a key pending deletion: %q", c)
	}
	for name, call := range map[string]func() error{
		"ResolveForS3 unknown alias": func() error {
			_, err := e.svc.ResolveForS3(as(accountA), accountA, "alias/nope")
			return err
		},
		"GenerateDataKeyFor unknown id": func() error {
			_, _, _, err := e.svc.GenerateDataKeyFor(as(accountA), accountA, "0b8f5c4e-9b7a-4c3d-8e2f-1a2b3c4d5e6f", nil)
			return err
		},
	} {
		if c := awsCode(call()); c != "NotFoundException" {
			t.Errorf("%s: %q, want NotFoundException", name, c)
		}
	}
	// Without a caller in the context nothing is served.
	if _, err := e.svc.ResolveForS3(context.Background(), accountA, ""); !errors.Is(err, policy.ErrDenied) {
		t.Errorf("ResolveForS3 without a caller: %v", err)
	}
}

// TestSSMPath covers the Encrypt/Decrypt path SSM uses for SecureString parameters: the AWS
// managed key alias/aws/ssm made on first use with the key policy AWS gives it, every form of
// key reference, requests marked kms:ViaService ssm.<region>.amazonaws.com with the
// parameter's encryption context, and KMS's refusals.
func TestSSMPath(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const paramARN = "arn:aws:ssm:" + region + ":" + accountA + ":parameter/terraform/db_password"
	encCtx := map[string]string{"PARAMETER_ARN": paramARN}
	secret := []byte("a data key, or any short secret")

	// No key named: alias/aws/ssm, created once, owned by AWS, usable through SSM only.
	blob, managedARN, err := e.svc.EncryptForSSM(as(accountA), accountA, "", secret, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("alias/aws/ssm")})
	if err != nil {
		t.Fatal(err)
	}
	if m := desc.KeyMetadata; aws.ToString(m.Arn) != managedARN || m.KeyManager != types.KeyManagerTypeAws ||
		aws.ToString(m.Description) != "Default key that protects my SSM parameters when no other key is defined" {
		t.Errorf("alias/aws/ssm = %+v, EncryptForSSM used %s", m, managedARN)
	}
	if _, again, err := e.svc.EncryptForSSM(as(accountA), accountA, "alias/aws/ssm", secret, encCtx); err != nil || again != managedARN {
		t.Errorf("second use of alias/aws/ssm: %s, %v; want %s", again, err, managedARN)
	}
	pol, err := e.A.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(managedARN)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(pol.Policy), `"kms:ViaService":"ssm.`+region+`.amazonaws.com","kms:CallerAccount":"`+accountA+`"`) {
		t.Errorf("alias/aws/ssm key policy = %s", aws.ToString(pol.Policy))
	}
	got, arn, err := e.svc.DecryptForSSM(as(accountA), accountA, blob, encCtx)
	if err != nil || !bytes.Equal(got, secret) || arn != managedARN {
		t.Fatalf("DecryptForSSM = %q, %s, %v", got, arn, err)
	}
	// Directly, not through SSM, the managed key's policy refuses its use.
	_, err = e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: blob, EncryptionContext: encCtx})
	wantCode(t, err, "AccessDeniedException")
	// Nor does SSM get to use S3's managed key, whose policy names S3.
	if _, err := e.svc.ResolveForS3(as(accountA), accountA, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.EncryptForSSM(as(accountA), accountA, "alias/aws/s3", secret, encCtx); !errors.Is(err, policy.ErrDenied) {
		t.Errorf("EncryptForSSM under alias/aws/s3: %v, want a denial", err)
	}

	// A customer key, named every way chamber or the CLI may name it.
	id, keyARN := createKey(t, e.A, "parameter store key")
	if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/parameter_store_key"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{id, keyARN, "alias/parameter_store_key", "arn:aws:kms:" + region + ":" + accountA + ":alias/parameter_store_key"} {
		e.authz.reset(nil)
		blob, arn, err := e.svc.EncryptForSSM(as(accountA), accountA, ref, secret, encCtx)
		if err != nil || arn != keyARN {
			t.Fatalf("EncryptForSSM(%s) = %s, %v", ref, arn, err)
		}
		reqs := e.authz.requests()
		if len(reqs) != 1 || reqs[0].Action != "kms:Encrypt" || reqs[0].Resource != keyARN ||
			!slices.Equal(reqs[0].Keys["kms:ViaService"], []string{"ssm." + region + ".amazonaws.com"}) ||
			!slices.Equal(reqs[0].Keys["kms:EncryptionContext:PARAMETER_ARN"], []string{paramARN}) {
			t.Errorf("EncryptForSSM(%s) asked %+v", ref, reqs)
		}
		if _, _, err := e.svc.DecryptForSSM(as(accountA), accountA, blob, map[string]string{"PARAMETER_ARN": paramARN + "x"}); awsCode(err) != "InvalidCiphertextException" {
			t.Errorf("DecryptForSSM with another parameter's context: %v", err)
		}
	}
	if _, _, err := e.svc.EncryptForSSM(as(accountA), accountA, "alias/nope", secret, encCtx); awsCode(err) != "NotFoundException" {
		t.Errorf("EncryptForSSM under a missing alias: %v", err)
	}
	blob, _, err = e.svc.EncryptForSSM(as(accountA), accountA, id, secret, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.A.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.EncryptForSSM(as(accountA), accountA, id, secret, encCtx); awsCode(err) != "DisabledException" {
		t.Errorf("EncryptForSSM under a disabled key: %v", err)
	}
	if _, _, err := e.svc.DecryptForSSM(as(accountA), accountA, blob, encCtx); awsCode(err) != "DisabledException" {
		t.Errorf("DecryptForSSM under a disabled key: %v", err)
	}
	if _, err := e.A.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.DecryptForSSM(as(accountA), accountA, blob, encCtx); awsCode(err) != "KMSInvalidStateException" {
		t.Errorf("DecryptForSSM under a key pending deletion: %v", err)
	}
	// Another account's root cannot use account A's key through SSM either.
	if _, _, err := e.svc.DecryptForSSM(as(accountB), accountB, blob, encCtx); !errors.Is(err, policy.ErrDenied) {
		t.Errorf("DecryptForSSM by another account: %v, want a denial", err)
	}
}
