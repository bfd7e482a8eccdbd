package kms_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestRotationOnDemand(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, arn := createKey(t, e.A, "")
	encrypt := func() ([]byte, string) {
		t.Helper()
		out, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("state v"), EncryptionContext: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.A.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return out.CiphertextBlob, aws.ToString(d.KeyMetadata.CurrentKeyMaterialId)
	}
	before, material1 := encrypt()
	rot, err := e.A.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(rot.KeyId) != arn {
		t.Errorf("RotateKeyOnDemand KeyId = %q, want %q", aws.ToString(rot.KeyId), arn)
	}
	after, material2 := encrypt()
	if material1 == material2 {
		t.Fatal("CurrentKeyMaterialId did not change on rotation")
	}
	for name, c := range map[string]struct {
		blob     []byte
		material string
	}{"before rotation": {before, material1}, "after rotation": {after, material2}} {
		dec, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: c.blob, EncryptionContext: map[string]string{"k": "v"}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(dec.Plaintext) != "state v" || aws.ToString(dec.KeyMaterialId) != c.material {
			t.Errorf("%s: %q with material %s, want material %s", name, dec.Plaintext, aws.ToString(dec.KeyMaterialId), c.material)
		}
	}
	list, err := e.A.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Rotations) != 1 || list.Rotations[0].RotationType != types.RotationTypeOnDemand ||
		aws.ToString(list.Rotations[0].KeyMaterialId) != material2 || list.Rotations[0].KeyMaterialState != types.KeyMaterialStateCurrent ||
		list.Rotations[0].RotationDate == nil {
		t.Errorf("ListKeyRotations = %+v", list.Rotations)
	}
	all, err := e.A.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: aws.String(id), IncludeKeyMaterial: types.IncludeKeyMaterialAllKeyMaterial})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Rotations) != 2 || all.Rotations[0].KeyMaterialState != types.KeyMaterialStateNonCurrent {
		t.Errorf("ListKeyRotations(ALL_KEY_MATERIAL) = %+v", all.Rotations)
	}
	// KMS allows ten on-demand rotations per key.
	for i := 2; i <= 10; i++ {
		if _, err := e.A.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(id)}); err != nil {
			t.Fatalf("rotation %d: %v", i, err)
		}
	}
	_, err = e.A.RotateKeyOnDemand(ctx, &awskms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
	wantCode(t, err, "LimitExceededException")
	if _, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: before, EncryptionContext: map[string]string{"k": "v"}}); err != nil {
		t.Errorf("first ciphertext after 10 rotations: %v", err)
	}
	page, err := e.A.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: aws.String(id), Limit: aws.Int32(4)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Rotations) != 4 || !page.Truncated || page.NextMarker == nil {
		t.Errorf("first page of rotations: %d entries, truncated %v", len(page.Rotations), page.Truncated)
	}
}

func TestAutomaticRotation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, arn := createKey(t, e.A, "")
	status, err := e.A.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if status.KeyRotationEnabled || aws.ToString(status.KeyId) != arn {
		t.Errorf("new key rotation status = %+v", status)
	}
	for _, days := range []int32{89, 2561} {
		_, err := e.A.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(days)})
		wantCode(t, err, "ValidationException")
	}
	if _, err := e.A.EnableKeyRotation(ctx, &awskms.EnableKeyRotationInput{KeyId: aws.String(id), RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	status, err = e.A.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if !status.KeyRotationEnabled || aws.ToInt32(status.RotationPeriodInDays) != 90 ||
		!aws.ToTime(status.NextRotationDate).Equal(e.clock.Now().AddDate(0, 0, 90)) {
		t.Errorf("rotation status = enabled %v, period %v, next %v", status.KeyRotationEnabled, aws.ToInt32(status.RotationPeriodInDays), aws.ToTime(status.NextRotationDate))
	}
	old, err := e.A.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: []byte("old")})
	if err != nil {
		t.Fatal(err)
	}
	if rotated, _, err := e.svc.Tick(ctx); err != nil || rotated != 0 {
		t.Fatalf("Tick before due = %d, %v", rotated, err)
	}
	e.clock.Advance(90 * 24 * time.Hour)
	if rotated, _, err := e.svc.Tick(ctx); err != nil || rotated != 1 {
		t.Fatalf("Tick when due = %d, %v; want 1 rotation", rotated, err)
	}
	if rotated, _, _ := e.svc.Tick(ctx); rotated != 0 {
		t.Errorf("second Tick rotated again")
	}
	list, err := e.A.ListKeyRotations(ctx, &awskms.ListKeyRotationsInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Rotations) != 1 || list.Rotations[0].RotationType != types.RotationTypeAutomatic {
		t.Errorf("rotations = %+v, want one AUTOMATIC", list.Rotations)
	}
	status, err = e.A.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if want := e.clock.Now().AddDate(0, 0, 90); !aws.ToTime(status.NextRotationDate).Equal(want) {
		t.Errorf("next rotation = %v, want %v", aws.ToTime(status.NextRotationDate), want)
	}
	if dec, err := e.A.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: old.CiphertextBlob}); err != nil || string(dec.Plaintext) != "old" {
		t.Errorf("pre-rotation ciphertext: %v", err)
	}
	if _, err := e.A.DisableKeyRotation(ctx, &awskms.DisableKeyRotationInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	status, err = e.A.GetKeyRotationStatus(ctx, &awskms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if status.KeyRotationEnabled || status.NextRotationDate != nil {
		t.Errorf("after DisableKeyRotation: %+v", status)
	}
	e.clock.Advance(365 * 24 * time.Hour)
	if rotated, _, _ := e.svc.Tick(ctx); rotated != 0 {
		t.Errorf("Tick rotated a key whose rotation is off")
	}
}
