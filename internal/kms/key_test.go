package kms_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Terraform's and OpenTofu's client-side kms_key_id validation (internal/backend/remote-state/s3/validate.go).
const tfUUID = `[a-f0-9]{8}-[a-f0-9]{4}-[1-5][a-f0-9]{3}-[ab89][a-f0-9]{3}-[a-f0-9]{12}`

var (
	tfKeyID     = regexp.MustCompile(`^` + tfUUID + `$`)
	tfKeyARNRes = regexp.MustCompile(`^key/(` + tfUUID + `)$`)
	uuidV4      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

func TestCreateKeyMetadata(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.A.CreateKey(ctx, &awskms.CreateKeyInput{Description: aws.String("Used by terraform to store remote state")})
	if err != nil {
		t.Fatal(err)
	}
	m := out.KeyMetadata
	id := aws.ToString(m.KeyId)
	checks := []struct {
		name      string
		got, want any
	}{
		{"AWSAccountId", aws.ToString(m.AWSAccountId), accountA},
		{"Arn", aws.ToString(m.Arn), "arn:aws:kms:" + region + ":" + accountA + ":key/" + id},
		{"CreationDate", aws.ToTime(m.CreationDate).UTC(), e.clock.Now()},
		{"Enabled", m.Enabled, true},
		{"Description", aws.ToString(m.Description), "Used by terraform to store remote state"},
		{"KeyUsage", m.KeyUsage, types.KeyUsageTypeEncryptDecrypt},
		{"KeyState", m.KeyState, types.KeyStateEnabled},
		{"Origin", m.Origin, types.OriginTypeAwsKms},
		{"KeyManager", m.KeyManager, types.KeyManagerTypeCustomer},
		{"KeySpec", m.KeySpec, types.KeySpecSymmetricDefault},
		//lint:ignore SA1019 AWS still returns the deprecated field and older clients read it.
		{"CustomerMasterKeySpec", m.CustomerMasterKeySpec, types.CustomerMasterKeySpecSymmetricDefault},
		{"EncryptionAlgorithms", len(m.EncryptionAlgorithms) == 1 && m.EncryptionAlgorithms[0] == types.EncryptionAlgorithmSpecSymmetricDefault, true},
		{"MultiRegion", aws.ToBool(m.MultiRegion), false},
		{"DeletionDate", m.DeletionDate == nil, true},
		{"CurrentKeyMaterialId", len(aws.ToString(m.CurrentKeyMaterialId)), 64},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	desc, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(desc.KeyMetadata.Arn); got != aws.ToString(m.Arn) {
		t.Errorf("DescribeKey Arn = %q, want %q", got, aws.ToString(m.Arn))
	}
}

// TestKeyIDsPassTerraformValidation checks that minted ids and ARNs are what Terraform's
// kms_key_id validation accepts: lowercase RFC 4122 UUIDs (we mint version 4).
func TestKeyIDsPassTerraformValidation(t *testing.T) {
	e := newEnv(t)
	for i := range 20 {
		id, arn := createKey(t, e.A, "")
		if !tfKeyID.MatchString(id) || !uuidV4.MatchString(id) {
			t.Errorf("key %d: id %q is not a lowercase v4 UUID", i, id)
		}
		parts := strings.SplitN(arn, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "kms" || parts[3] != region || parts[4] != accountA {
			t.Fatalf("ARN %q is malformed", arn)
		}
		if m := tfKeyARNRes.FindStringSubmatch(parts[5]); m == nil || m[1] != id {
			t.Errorf("ARN resource %q fails Terraform's key ARN validation", parts[5])
		}
	}
}

// TestCreateKeyWire checks the raw JSON 1.1 answer: content type and epoch-number timestamps.
func TestCreateKeyWire(t *testing.T) {
	e := newEnv(t)
	status, errType, body := e.rawCall(t, "AKIDROOTA", "TrentService.CreateKey", `{"Description":"d"}`)
	if status != 200 || errType != "" {
		t.Fatalf("status %d %s: %s", status, errType, body)
	}
	var out struct {
		KeyMetadata map[string]any
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	if _, ok := out.KeyMetadata["CreationDate"].(float64); !ok {
		t.Errorf("CreationDate = %#v, want a number of epoch seconds", out.KeyMetadata["CreationDate"])
	}
	for _, k := range []string{"AWSAccountId", "KeyId", "Arn", "Enabled", "Description", "KeyUsage", "KeyState",
		"Origin", "KeyManager", "CustomerMasterKeySpec", "KeySpec", "EncryptionAlgorithms", "MultiRegion"} {
		if _, ok := out.KeyMetadata[k]; !ok {
			t.Errorf("KeyMetadata lacks %s: %s", k, body)
		}
	}
}

func TestCreateKeyValidation(t *testing.T) {
	e := newEnv(t)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}]}`
	tests := []struct {
		name string
		in   awskms.CreateKeyInput
		want string
	}{
		{"symmetric default", awskms.CreateKeyInput{KeySpec: types.KeySpecSymmetricDefault, KeyUsage: types.KeyUsageTypeEncryptDecrypt}, ""},
		{"custom policy", awskms.CreateKeyInput{Policy: aws.String(policy)}, ""},
		{"tags", awskms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String("env"), TagValue: aws.String("prod")}}}, ""},
		{"RSA key spec", awskms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify}, "UnsupportedOperationException"},
		{"HMAC key spec", awskms.CreateKeyInput{KeySpec: types.KeySpecHmac256}, "UnsupportedOperationException"},
		{"unknown key spec", awskms.CreateKeyInput{KeySpec: "AES_999"}, "ValidationException"},
		{"sign usage", awskms.CreateKeyInput{KeyUsage: types.KeyUsageTypeSignVerify}, "UnsupportedOperationException"},
		{"unknown usage", awskms.CreateKeyInput{KeyUsage: "RANDOM"}, "ValidationException"},
		{"external origin", awskms.CreateKeyInput{Origin: types.OriginTypeExternal}, "UnsupportedOperationException"},
		{"multi-Region", awskms.CreateKeyInput{MultiRegion: aws.Bool(true)}, "UnsupportedOperationException"},
		{"policy not JSON", awskms.CreateKeyInput{Policy: aws.String("{")}, "MalformedPolicyDocumentException"},
		{"policy without Statement", awskms.CreateKeyInput{Policy: aws.String(`{"Version":"2012-10-17"}`)}, "MalformedPolicyDocumentException"},
		{"policy too large", awskms.CreateKeyInput{Policy: aws.String(`{"Statement":[],"x":"` + strings.Repeat("a", 33000) + `"}`)}, "LimitExceededException"},
		{"reserved tag", awskms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String("aws:x"), TagValue: aws.String("v")}}}, "TagException"},
		{"description too long", awskms.CreateKeyInput{Description: aws.String(strings.Repeat("d", 8193))}, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.A.CreateKey(context.Background(), &tt.in)
			wantCode(t, err, tt.want)
		})
	}
}

func TestDescribeKeyReferences(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, arn := createKey(t, e.A, "described")
	if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/terraform"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ref, want string
	}{
		{"key id", id, ""},
		{"key ARN", arn, ""},
		{"alias name", "alias/terraform", ""},
		{"alias ARN", "arn:aws:kms:" + region + ":" + accountA + ":alias/terraform", ""},
		{"malformed id", "fake-key-id", "NotFoundException"},
		{"unknown id", "0b8f5c4e-9b7a-4c3d-8e2f-1a2b3c4d5e6f", "NotFoundException"},
		{"unknown multi-Region id", "mrk-0123456789abcdef0123456789abcdef", "NotFoundException"},
		{"unknown alias", "alias/nope", "NotFoundException"},
		{"ARN of another region", "arn:aws:kms:eu-west-1:" + accountA + ":key/" + id, "NotFoundException"},
		{"not a KMS ARN", "arn:aws:s3:::bucket", "NotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(tt.ref)})
			wantCode(t, err, tt.want)
			if err == nil && aws.ToString(out.KeyMetadata.KeyId) != id {
				t.Errorf("KeyId = %q, want %q", aws.ToString(out.KeyMetadata.KeyId), id)
			}
		})
	}
}

func TestListKeysPaging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	want := map[string]bool{}
	for range 5 {
		id, _ := createKey(t, e.A, "")
		want[id] = true
	}
	createKey(t, e.B, "another account's key")
	got := map[string]bool{}
	var marker *string
	for pages := 0; ; pages++ {
		out, err := e.A.ListKeys(ctx, &awskms.ListKeysInput{Limit: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Keys) > 2 {
			t.Fatalf("page of %d keys, limit 2", len(out.Keys))
		}
		for _, k := range out.Keys {
			if got[aws.ToString(k.KeyId)] {
				t.Errorf("key %s listed twice", aws.ToString(k.KeyId))
			}
			got[aws.ToString(k.KeyId)] = true
			if aws.ToString(k.KeyArn) != "arn:aws:kms:"+region+":"+accountA+":key/"+aws.ToString(k.KeyId) {
				t.Errorf("KeyArn = %q", aws.ToString(k.KeyArn))
			}
		}
		if !out.Truncated {
			if out.NextMarker != nil {
				t.Errorf("NextMarker %q on the last page", aws.ToString(out.NextMarker))
			}
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		marker = out.NextMarker
	}
	if len(got) != len(want) {
		t.Errorf("listed %d keys, want %d", len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Errorf("key %s not listed", id)
		}
	}
	_, err := e.A.ListKeys(ctx, &awskms.ListKeysInput{Limit: aws.Int32(1001)})
	wantCode(t, err, "ValidationException")
	_, err = e.A.ListKeys(ctx, &awskms.ListKeysInput{Marker: aws.String("junk")})
	wantCode(t, err, "InvalidMarkerException")
}

func TestDisableEnableKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := createKey(t, e.A, "")
	enc, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("state")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.A.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	desc, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if desc.KeyMetadata.Enabled || desc.KeyMetadata.KeyState != types.KeyStateDisabled {
		t.Errorf("after DisableKey: Enabled %v, KeyState %s", desc.KeyMetadata.Enabled, desc.KeyMetadata.KeyState)
	}
	uses := useCases(id, enc.CiphertextBlob)
	for _, u := range uses {
		t.Run("disabled/"+u.name, func(t *testing.T) { wantCode(t, u.call(e.A), "DisabledException") })
	}
	// Metadata operations work on a disabled key.
	if _, err := e.A.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(id)}); err != nil {
		t.Errorf("GetKeyPolicy on a disabled key: %v", err)
	}
	if _, err := e.A.DisableKey(ctx, &awskms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Errorf("DisableKey twice: %v", err)
	}
	if _, err := e.A.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	for _, u := range uses {
		t.Run("enabled/"+u.name, func(t *testing.T) { wantCode(t, u.call(e.A), "") })
	}
}

// useCase is one use of a key that only an enabled key allows.
type useCase struct {
	name string
	call func(c *awskms.Client) error
}

func useCases(id string, blob []byte) []useCase {
	ctx := context.Background()
	return []useCase{
		{"Encrypt", func(c *awskms.Client) error {
			_, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("x")})
			return err
		}},
		{"Decrypt", func(c *awskms.Client) error {
			_, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: blob})
			return err
		}},
		{"GenerateDataKey", func(c *awskms.Client) error {
			_, err := c.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: aws.String(id), KeySpec: types.DataKeySpecAes256})
			return err
		}},
		{"GenerateDataKeyWithoutPlaintext", func(c *awskms.Client) error {
			_, err := c.GenerateDataKeyWithoutPlaintext(ctx, &awskms.GenerateDataKeyWithoutPlaintextInput{KeyId: aws.String(id), NumberOfBytes: aws.Int32(16)})
			return err
		}},
		{"ReEncrypt", func(c *awskms.Client) error {
			_, err := c.ReEncrypt(ctx, &awskms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: aws.String(id)})
			return err
		}},
		{"RotateKeyOnDemand", func(c *awskms.Client) error {
			_, err := c.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
			return err
		}},
		{"EnableKeyRotation", func(c *awskms.Client) error {
			_, err := c.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: aws.String(id)})
			return err
		}},
	}
}

func TestScheduleAndCancelKeyDeletion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, arn := createKey(t, e.A, "")
	if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/doomed"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	enc, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("state")})
	if err != nil {
		t.Fatal(err)
	}
	for _, days := range []int32{6, 31} {
		_, err := e.A.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(days)})
		wantCode(t, err, "ValidationException")
	}
	sched, err := e.A.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToTime(sched.DeletionDate).UTC(), e.clock.Now().AddDate(0, 0, 30); !got.Equal(want) {
		t.Errorf("DeletionDate = %v, want %v (default window 30 days)", got, want)
	}
	if aws.ToString(sched.KeyId) != arn || sched.KeyState != types.KeyStatePendingDeletion || aws.ToInt32(sched.PendingWindowInDays) != 30 {
		t.Errorf("ScheduleKeyDeletion = %+v", sched)
	}
	desc, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if m := desc.KeyMetadata; m.KeyState != types.KeyStatePendingDeletion || m.Enabled || m.DeletionDate == nil || aws.ToInt32(m.PendingDeletionWindowInDays) != 30 {
		t.Errorf("pending deletion metadata: state %s enabled %v deletion %v window %v", m.KeyState, m.Enabled, m.DeletionDate, m.PendingDeletionWindowInDays)
	}
	for _, u := range useCases(id, enc.CiphertextBlob) {
		t.Run("pending/"+u.name, func(t *testing.T) { wantCode(t, u.call(e.A), "KMSInvalidStateException") })
	}
	refused := map[string]func() error{
		"EnableKey": func() error {
			_, err := e.A.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: aws.String(id)})
			return err
		},
		"ScheduleKeyDeletion": func() error {
			_, err := e.A.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(id)})
			return err
		},
		"CreateAlias": func() error {
			_, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/late"), TargetKeyId: aws.String(id)})
			return err
		},
		"PutKeyPolicy": func() error {
			_, err := e.A.PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: aws.String(id), Policy: aws.String(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"` + accountA + `"},"Action":"kms:*","Resource":"*"}]}`)})
			return err
		},
	}
	for name, call := range refused {
		t.Run("pending/"+name, func(t *testing.T) { wantCode(t, call(), "KMSInvalidStateException") })
	}
	cancel, err := e.A.CancelKeyDeletion(ctx, &awskms.CancelKeyDeletionInput{KeyId: aws.String("alias/doomed")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cancel.KeyId) != arn {
		t.Errorf("CancelKeyDeletion KeyId = %q, want the key ARN", aws.ToString(cancel.KeyId))
	}
	desc, err = e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if m := desc.KeyMetadata; m.KeyState != types.KeyStateDisabled || m.DeletionDate != nil {
		t.Errorf("after cancel: state %s, deletion date %v; want Disabled and none", m.KeyState, m.DeletionDate)
	}
	_, err = e.A.CancelKeyDeletion(ctx, &awskms.CancelKeyDeletionInput{KeyId: aws.String(id)})
	wantCode(t, err, "KMSInvalidStateException")
	if _, err := e.A.EnableKey(ctx, &awskms.EnableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Errorf("Decrypt after cancel and enable: %v", err)
	}
}

// TestKeyDeletionComesDue checks that a key is gone once its deletion date passes, and that
// Tick removes it with its aliases.
func TestKeyDeletionComesDue(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := createKey(t, e.A, "")
	keep, _ := createKey(t, e.A, "")
	for name, target := range map[string]string{"alias/doomed": id, "alias/kept": keep} {
		if _, err := e.A.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: aws.String(target)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.A.ScheduleKeyDeletion(ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(7*24*time.Hour - time.Second)
	if _, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatalf("a second before the deletion date: %v", err)
	}
	e.clock.Advance(time.Second)
	_, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
	wantCode(t, err, "NotFoundException")
	rotated, deleted, err := e.svc.Tick(ctx)
	if err != nil || rotated != 0 || deleted != 1 {
		t.Fatalf("Tick = %d rotated, %d deleted, %v; want 0, 1, nil", rotated, deleted, err)
	}
	aliases, err := e.A.ListAliases(ctx, &awskms.ListAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(aliases.Aliases) != 1 || aws.ToString(aliases.Aliases[0].AliasName) != "alias/kept" {
		t.Errorf("aliases after deletion = %+v, want only alias/kept", aliases.Aliases)
	}
	keys, err := e.A.ListKeys(ctx, &awskms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 1 || aws.ToString(keys.Keys[0].KeyId) != keep {
		t.Errorf("keys after deletion = %+v, want only %s", keys.Keys, keep)
	}
	if _, deleted, _ := e.svc.Tick(ctx); deleted != 0 {
		t.Errorf("second Tick deleted %d keys", deleted)
	}
}

func TestUpdateKeyDescription(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := createKey(t, e.A, "old")
	if _, err := e.A.UpdateKeyDescription(ctx, &awskms.UpdateKeyDescriptionInput{KeyId: aws.String(id), Description: aws.String("new")}); err != nil {
		t.Fatal(err)
	}
	desc, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(desc.KeyMetadata.Description); got != "new" {
		t.Errorf("Description = %q, want new", got)
	}
}

func TestKeyPolicy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := createKey(t, e.A, "")
	got, err := e.A.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + accountA + `:root"},"Action":"kms:*","Resource":"*"}]}`
	if aws.ToString(got.Policy) != want || aws.ToString(got.PolicyName) != "default" {
		t.Errorf("default policy = %q (%q), want %q", aws.ToString(got.Policy), aws.ToString(got.PolicyName), want)
	}
	custom := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + accountA + `:user/alice"},"Action":"kms:Decrypt","Resource":"*"},` +
		`{"Effect":"Allow","Principal":{"AWS":"` + accountA + `"},"Action":"kms:*","Resource":"*"}]}`
	aliceOnly := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + accountA + `:user/alice"},"Action":"kms:Decrypt","Resource":"*"}}`
	tests := []struct {
		name, policyName, policy, want string
	}{
		{"single statement", "default", aliceOnly, "MalformedPolicyDocumentException"}, // would lock the caller out
		{"statement list", "default", custom, ""},
		{"no policy name", "", custom, ""},
		{"not JSON", "default", `{"Statement":`, "MalformedPolicyDocumentException"},
		{"no Statement", "default", `{"Version":"2012-10-17"}`, "MalformedPolicyDocumentException"},
		{"empty Statement list", "default", `{"Statement":[]}`, "MalformedPolicyDocumentException"},
		{"other policy name", "other", custom, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &awskms.PutKeyPolicyInput{KeyId: aws.String(id), Policy: aws.String(tt.policy)}
			if tt.policyName != "" {
				in.PolicyName = aws.String(tt.policyName)
			}
			_, err := e.A.PutKeyPolicy(ctx, in)
			wantCode(t, err, tt.want)
		})
	}
	got, err = e.A.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Policy) != custom {
		t.Errorf("stored policy = %q, want it verbatim", aws.ToString(got.Policy))
	}
	_, err = e.A.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("other")})
	wantCode(t, err, "NotFoundException")
	names, err := e.A.ListKeyPolicies(ctx, &awskms.ListKeyPoliciesInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if len(names.PolicyNames) != 1 || names.PolicyNames[0] != "default" {
		t.Errorf("ListKeyPolicies = %v", names.PolicyNames)
	}
	// A policy given at creation is stored as given.
	created, err := e.A.CreateKey(ctx, &awskms.CreateKeyInput{Policy: aws.String(custom)})
	if err != nil {
		t.Fatal(err)
	}
	got, err = e.A.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: created.KeyMetadata.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Policy) != custom {
		t.Errorf("policy from CreateKey = %q", aws.ToString(got.Policy))
	}
	// CreateKey applies the same lockout check.
	_, err = e.A.CreateKey(ctx, &awskms.CreateKeyInput{Policy: aws.String(aliceOnly)})
	wantCode(t, err, "MalformedPolicyDocumentException")
	// Bypassing the check takes the caller at its word: the key is then out of its reach.
	if _, err := e.A.PutKeyPolicy(ctx, &awskms.PutKeyPolicyInput{KeyId: aws.String(id), Policy: aws.String(aliceOnly),
		BypassPolicyLockoutSafetyCheck: true}); err != nil {
		t.Fatal(err)
	}
	_, err = e.A.GetKeyPolicy(ctx, &awskms.GetKeyPolicyInput{KeyId: aws.String(id)})
	wantCode(t, err, "AccessDeniedException")
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.A.CreateKey(ctx, &awskms.CreateKeyInput{Tags: []types.Tag{
		{TagKey: aws.String("env"), TagValue: aws.String("prod")},
		{TagKey: aws.String("team"), TagValue: aws.String("infra")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.KeyMetadata.KeyId)
	tag := func(k, v string) types.Tag { return types.Tag{TagKey: aws.String(k), TagValue: aws.String(v)} }
	if _, err := e.A.TagResource(ctx, &awskms.TagResourceInput{KeyId: aws.String(id), Tags: []types.Tag{tag("env", "staging"), tag("owner", "bob")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.A.UntagResource(ctx, &awskms.UntagResourceInput{KeyId: aws.String(id), TagKeys: []string{"team", "absent"}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	var marker *string
	for {
		page, err := e.A.ListResourceTags(ctx, &awskms.ListResourceTagsInput{KeyId: aws.String(id), Limit: aws.Int32(1), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, t := range page.Tags {
			got = append(got, aws.ToString(t.TagKey)+"="+aws.ToString(t.TagValue))
		}
		if !page.Truncated {
			break
		}
		marker = page.NextMarker
	}
	if want := "env=staging,owner=bob"; strings.Join(got, ",") != want {
		t.Errorf("tags = %v, want %s", got, want)
	}
	many := make([]types.Tag, 0, 51)
	for i := range 51 {
		many = append(many, tag("k"+string(rune('A'+i%26))+string(rune('a'+i/26)), "v"))
	}
	tests := []struct {
		name string
		tags []types.Tag
		want string
	}{
		{"reserved prefix", []types.Tag{tag("AWS:owner", "x")}, "TagException"},
		{"duplicate keys", []types.Tag{tag("a", "1"), tag("a", "2")}, "TagException"},
		{"too many", many, "TagException"},
		{"key too long", []types.Tag{tag(strings.Repeat("k", 129), "v")}, "ValidationException"},
		{"value too long", []types.Tag{tag("k", strings.Repeat("v", 257))}, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.A.TagResource(ctx, &awskms.TagResourceInput{KeyId: aws.String(id), Tags: tt.tags})
			wantCode(t, err, tt.want)
		})
	}
}
