package kms_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestAliasLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id1, arn1 := createKey(t, e.A, "first")
	id2, _ := createKey(t, e.A, "second")
	// The seed's command, verbatim: aws kms create-alias --alias-name alias/parameter_store_key --target-key-id <id>
	if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/parameter_store_key"), TargetKeyId: aws.String(id1)}); err != nil {
		t.Fatal(err)
	}
	// A key ARN is a valid target too.
	if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/terraform"), TargetKeyId: aws.String(arn1)}); err != nil {
		t.Fatal(err)
	}
	_, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/terraform"), TargetKeyId: aws.String(id2)})
	wantCode(t, err, "AlreadyExistsException")

	list, err := e.A.ListAliases(ctx, &awskms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Aliases) != 2 || list.Truncated {
		t.Fatalf("ListAliases = %+v", list)
	}
	a := list.Aliases[0]
	if aws.ToString(a.AliasName) != "alias/parameter_store_key" || aws.ToString(a.TargetKeyId) != id1 ||
		aws.ToString(a.AliasArn) != "arn:aws:kms:"+region+":"+accountA+":alias/parameter_store_key" ||
		a.CreationDate == nil || a.LastUpdatedDate == nil {
		t.Errorf("alias entry = %+v", a)
	}

	if _, err := e.A.UpdateAlias(ctx, &awskms.UpdateAliasInput{AliasName: aws.String("alias/terraform"), TargetKeyId: aws.String(id2)}); err != nil {
		t.Fatal(err)
	}
	desc, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("alias/terraform")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(desc.KeyMetadata.KeyId) != id2 {
		t.Errorf("alias/terraform resolves to %s after UpdateAlias, want %s", aws.ToString(desc.KeyMetadata.KeyId), id2)
	}
	byKey, err := e.A.ListAliases(ctx, &awskms.ListAliasesInput{KeyId: aws.String(id2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(byKey.Aliases) != 1 || aws.ToString(byKey.Aliases[0].AliasName) != "alias/terraform" {
		t.Errorf("ListAliases(KeyId) = %+v", byKey.Aliases)
	}
	_, err = e.A.UpdateAlias(ctx, &awskms.UpdateAliasInput{AliasName: aws.String("alias/absent"), TargetKeyId: aws.String(id2)})
	wantCode(t, err, "NotFoundException")

	if _, err := e.A.DeleteAlias(ctx, &awskms.DeleteAliasInput{AliasName: aws.String("alias/terraform")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.A.DeleteAlias(ctx, &awskms.DeleteAliasInput{AliasName: aws.String("alias/terraform")})
	wantCode(t, err, "NotFoundException")
	_, err = e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("alias/terraform")})
	wantCode(t, err, "NotFoundException")
	// Aliases are per account: B does not see A's.
	_, err = e.B.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String("alias/parameter_store_key")})
	wantCode(t, err, "NotFoundException")
}

func TestAliasNameValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := createKey(t, e.A, "")
	if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/existing"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, alias, target, want string
	}{
		{"nested name", "alias/team/app_key-1", id, ""},
		{"no prefix", "terraform", id, "ValidationException"},
		{"reserved prefix", "alias/aws/s3", id, "NotAuthorizedException"},
		{"reserved prefix, other name", "alias/aws/mine", id, "NotAuthorizedException"},
		{"empty name", "alias/", id, "InvalidAliasNameException"},
		{"colon", "alias/a:b", id, "InvalidAliasNameException"},
		{"space", "alias/a b", id, "ValidationException"},
		{"too long", "alias/" + strings.Repeat("a", 251), id, "ValidationException"},
		{"target is an alias", "alias/other", "alias/existing", "ValidationException"},
		{"target does not exist", "alias/other", "0b8f5c4e-9b7a-4c3d-8e2f-1a2b3c4d5e6f", "NotFoundException"},
		{"target malformed", "alias/other", "not-a-key", "NotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String(tt.alias), TargetKeyId: aws.String(tt.target)})
			wantCode(t, err, tt.want)
		})
	}
	for _, tt := range []struct{ name, alias, want string }{
		{"reserved", "alias/aws/s3", "NotAuthorizedException"},
		{"no prefix", "existing", "ValidationException"},
	} {
		t.Run("delete "+tt.name, func(t *testing.T) {
			_, err := e.A.DeleteAlias(ctx, &awskms.DeleteAliasInput{AliasName: aws.String(tt.alias)})
			wantCode(t, err, tt.want)
		})
	}
}

func TestListAliasesPaging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := createKey(t, e.A, "")
	names := []string{"alias/a", "alias/b", "alias/c", "alias/d", "alias/e"}
	for _, n := range names {
		if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String(n), TargetKeyId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	var marker *string
	for {
		out, err := e.A.ListAliases(ctx, &awskms.ListAliasesInput{Limit: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Aliases {
			got = append(got, aws.ToString(a.AliasName))
		}
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("paged aliases = %v, want %v", got, names)
	}
	_, err := e.A.ListAliases(ctx, &awskms.ListAliasesInput{Limit: aws.Int32(101)})
	wantCode(t, err, "ValidationException")
}

// TestAliasResolutionEverywhere uses an alias name and an alias ARN wherever KMS accepts a key
// identifier.
func TestAliasResolutionEverywhere(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, arn := createKey(t, e.A, "")
	other, _ := createKey(t, e.A, "")
	if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	enc, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"alias/app", "arn:aws:kms:" + region + ":" + accountA + ":alias/app"} {
		k := aws.String(ref)
		calls := map[string]func() (string, error){
			"DescribeKey": func() (string, error) {
				out, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: k})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.KeyMetadata.Arn), nil
			},
			"Encrypt": func() (string, error) {
				out, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: k, Plaintext: []byte("x")})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.KeyId), nil
			},
			"Decrypt": func() (string, error) {
				out, err := e.A.Decrypt(ctx, &awskms.DecryptInput{KeyId: k, CiphertextBlob: enc.CiphertextBlob})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.KeyId), nil
			},
			"GenerateDataKey": func() (string, error) {
				out, err := e.A.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: k, KeySpec: types.DataKeySpecAes256})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.KeyId), nil
			},
			"GenerateDataKeyWithoutPlaintext": func() (string, error) {
				out, err := e.A.GenerateDataKeyWithoutPlaintext(ctx, &awskms.GenerateDataKeyWithoutPlaintextInput{KeyId: k, KeySpec: types.DataKeySpecAes128})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.KeyId), nil
			},
			"ReEncrypt source and destination": func() (string, error) {
				out, err := e.A.ReEncrypt(ctx, &awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceKeyId: k, DestinationKeyId: k})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.KeyId), nil
			},
			"GetKeyPolicy": func() (string, error) {
				_, err := e.A.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: k})
				return arn, err
			},
			"GetKeyRotationStatus": func() (string, error) {
				out, err := e.A.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: k})
				if err != nil {
					return "", err
				}
				return aws.ToString(out.KeyId), nil
			},
			"EnableKeyRotation": func() (string, error) {
				_, err := e.A.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: k})
				return arn, err
			},
			"ListResourceTags": func() (string, error) {
				_, err := e.A.ListResourceTags(ctx, &awskms.ListResourceTagsInput{KeyId: k})
				return arn, err
			},
			"TagResource": func() (string, error) {
				_, err := e.A.TagResource(ctx, &awskms.TagResourceInput{KeyId: k, Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("b")}}})
				return arn, err
			},
			"ListAliases": func() (string, error) {
				out, err := e.A.ListAliases(ctx, &awskms.ListAliasesInput{KeyId: k})
				if err != nil || len(out.Aliases) != 1 {
					return "", err
				}
				return keyARNOf(aws.ToString(out.Aliases[0].TargetKeyId)), nil
			},
			"ListKeyRotations": func() (string, error) {
				_, err := e.A.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: k})
				return arn, err
			},
			"DisableKey then EnableKey": func() (string, error) {
				if _, err := e.A.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: k}); err != nil {
					return "", err
				}
				_, err := e.A.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: k})
				return arn, err
			},
		}
		for name, call := range calls {
			t.Run(ref+"/"+name, func(t *testing.T) {
				got, err := call()
				if err != nil {
					t.Fatal(err)
				}
				if got != arn {
					t.Errorf("resolved to %q, want %q", got, arn)
				}
			})
		}
	}
	// Decrypt with an alias of another key is IncorrectKeyException.
	if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/other"), TargetKeyId: aws.String(other)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.A.Decrypt(ctx, &awskms.DecryptInput{KeyId: aws.String("alias/other"), CiphertextBlob: enc.CiphertextBlob})
	wantCode(t, err, "IncorrectKeyException")
}

func keyARNOf(id string) string { return "arn:aws:kms:" + region + ":" + accountA + ":key/" + id }
