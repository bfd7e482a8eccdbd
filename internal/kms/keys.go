package kms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/storage"
)

const (
	maxDescription = 8192
	maxPolicy      = 32768
	defaultPolicy  = "default"
)

// Enumerations KMS validates. Members that stateward knows but does not implement are
// UnsupportedOperationException; anything else is ValidationException, as for a bad enum.
var (
	keyUsages = []string{"ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"}
	keySpecs  = []string{"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384",
		"ECC_NIST_P521", "ECC_SECG_P256K1", "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384",
		"HMAC_512", "SM2", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87"}
	origins = []string{"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"}
)

func checkEnum(member, value, supported string, all []string) error {
	if value == "" || value == supported {
		return nil
	}
	if !slices.Contains(all, value) {
		return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
			value, member, strings.Join(all, ", "))
	}
	return awserr.Newf(CodeUnsupportedOperation, "%s %s is not supported by this server; only %s is.", member, value, supported)
}

type createKeyInput struct {
	Description                    *string   `json:"Description"`
	Policy                         *string   `json:"Policy"`
	Tags                           []wireTag `json:"Tags"`
	KeyUsage                       string    `json:"KeyUsage"`
	KeySpec                        string    `json:"KeySpec"`
	CustomerMasterKeySpec          string    `json:"CustomerMasterKeySpec"`
	Origin                         string    `json:"Origin"`
	MultiRegion                    bool      `json:"MultiRegion"`
	CustomKeyStoreID               string    `json:"CustomKeyStoreId"`
	XksKeyID                       string    `json:"XksKeyId"`
	BypassPolicyLockoutSafetyCheck bool      `json:"BypassPolicyLockoutSafetyCheck"`
}

type keyMetadataOutput struct {
	KeyMetadata *keyMetadata `json:"KeyMetadata"`
}

func (s *Service) createKey(ctx context.Context, in *createKeyInput) (*keyMetadataOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	desc := ""
	if in.Description != nil {
		desc = *in.Description
	}
	if len(desc) > maxDescription {
		return nil, errLength("description", 0, maxDescription)
	}
	for _, c := range []struct {
		member, value, supported string
		all                      []string
	}{
		{"keyUsage", in.KeyUsage, keyUsageEncryptDecrypt, keyUsages},
		{"keySpec", in.KeySpec, specSymmetricDefault, keySpecs},
		{"customerMasterKeySpec", in.CustomerMasterKeySpec, specSymmetricDefault, keySpecs},
		{"origin", in.Origin, originAWSKMS, origins},
	} {
		if err := checkEnum(c.member, c.value, c.supported, c.all); err != nil {
			return nil, err
		}
	}
	switch {
	case in.MultiRegion:
		return nil, awserr.New(CodeUnsupportedOperation, "Multi-Region keys are not supported by this server.")
	case in.CustomKeyStoreID != "" || in.XksKeyID != "":
		return nil, awserr.New(CodeUnsupportedOperation, "Custom key stores are not supported by this server.")
	}
	pol := defaultKeyPolicy(p.AccountID)
	if in.Policy != nil {
		if err := validatePolicy(*in.Policy); err != nil {
			return nil, err
		}
		pol = *in.Policy
	}
	tags, err := mergeTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "CreateKey", "*", "", nil); err != nil {
		return nil, err
	}
	if in.Policy != nil && !in.BypassPolicyLockoutSafetyCheck {
		if err := s.checkLockout(ctx, p, keyARN(s.region, p.AccountID, "*"), p.AccountID, pol); err != nil {
			return nil, err
		}
	}
	k, err := s.createKeyRecord(ctx, &keyRecord{Account: p.AccountID, Description: desc,
		Manager: managerCustomer, Policy: pol, Tags: tags}, nil)
	if err != nil {
		return nil, err
	}
	return &keyMetadataOutput{KeyMetadata: metadataOf(k)}, nil
}

// createKeyRecord completes k (id, region, state, first material version) and stores it.
// The id and material are drawn before the transaction, which may run more than once. If
// inTx is set it runs first in the same transaction with the new record: it may fail the
// transaction, or set *k to an existing key and return errUseExisting to write nothing and
// return that key instead.
func (s *Service) createKeyRecord(ctx context.Context, k *keyRecord, inTx func(tx storage.Tx, k **keyRecord) error) (*keyRecord, error) {
	id, err := s.newKeyID()
	if err != nil {
		return nil, err
	}
	material, err := s.newMaterial()
	if err != nil {
		return nil, err
	}
	defer keyring.Zero(material)
	now := s.now().UTC()
	var out *keyRecord
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		rec := *k
		rec.ID, rec.Region, rec.Created, rec.State = id, s.region, now, stateEnabled
		rec.Versions = []materialVersion{{N: 1, Created: now}}
		if rec.Rotation {
			rec.NextRotation = now.AddDate(0, 0, rec.RotationPeriod)
		}
		out = &rec
		if inTx != nil {
			if err := inTx(tx, &out); errors.Is(err, errUseExisting) {
				return nil
			} else if err != nil {
				return err
			}
		}
		if old, err := getKey(tx, rec.Account, rec.Region, rec.ID); err != nil {
			return err
		} else if old != nil {
			return fmt.Errorf("kms: key id %s already taken", rec.ID)
		}
		if err := s.putMaterial(tx, &rec, 1, material); err != nil {
			return err
		}
		return putKey(tx, &rec)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type keyIDInput struct {
	KeyID       string   `json:"KeyId"`
	GrantTokens []string `json:"GrantTokens"`
}

func (s *Service) describeKey(ctx context.Context, in *keyIDInput) (*keyMetadataOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", "DescribeKey", nil)
	if err != nil {
		return nil, err
	}
	return &keyMetadataOutput{KeyMetadata: metadataOf(k)}, nil
}

type listInput struct {
	KeyID  string `json:"KeyId"`
	Limit  *int   `json:"Limit"`
	Marker string `json:"Marker"`
}

// limit validates a page size: 1–1000, def when absent.
func (in *listInput) limit(def int) (int, error) {
	if in.Limit == nil {
		return def, nil
	}
	if n := *in.Limit; n < 1 || n > 1000 {
		return 0, errValidation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000", n)
	}
	return *in.Limit, nil
}

type keyListEntry struct {
	KeyID  string `json:"KeyId"`
	KeyArn string `json:"KeyArn"`
}

type listKeysOutput struct {
	Keys       []keyListEntry `json:"Keys"`
	NextMarker string         `json:"NextMarker,omitempty"`
	Truncated  bool           `json:"Truncated"`
}

// listKeys pages through the caller's keys in this region by key id; Marker is the id of the
// first key of the next page.
func (s *Service) listKeys(ctx context.Context, in *listInput) (*listKeysOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	limit, err := in.limit(100)
	if err != nil {
		return nil, err
	}
	if in.Marker != "" && !validKeyID(in.Marker) {
		return nil, awserr.New(CodeInvalidMarker, "The marker is not valid.")
	}
	if err := s.authorize(ctx, p, "ListKeys", "*", p.AccountID, nil); err != nil {
		return nil, err
	}
	now := s.now()
	out := &listKeysOutput{Keys: []keyListEntry{}}
	prefix := keysOf(p.AccountID, s.region)
	err = s.store.View(ctx, func(tx storage.Tx) error {
		out.Keys, out.NextMarker, out.Truncated = out.Keys[:0], "", false
		return tx.Scan(append(prefix, in.Marker...), storage.PrefixEnd(prefix), func(key, v []byte) error {
			var k keyRecord
			if err := storage.DecodeJSON(key, v, &k); err != nil {
				return err
			}
			if k.deleted(now) {
				return nil
			}
			if len(out.Keys) == limit {
				out.NextMarker, out.Truncated = k.ID, true
				return storage.ErrStop
			}
			out.Keys = append(out.Keys, keyListEntry{KeyID: k.ID, KeyArn: k.arn()})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) enableKey(ctx context.Context, in *keyIDInput) (*emptyOutput, error) {
	return s.setEnabled(ctx, in.KeyID, "EnableKey", stateEnabled)
}

func (s *Service) disableKey(ctx context.Context, in *keyIDInput) (*emptyOutput, error) {
	return s.setEnabled(ctx, in.KeyID, "DisableKey", stateDisabled)
}

func (s *Service) setEnabled(ctx context.Context, raw, op, state string) (*emptyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.resolve(ctx, p, raw, "keyId", op, nil)
	if err != nil {
		return nil, err
	}
	_, err = s.updateKey(ctx, k, func(_ storage.Tx, k *keyRecord) error {
		if err := checkEditable(k); err != nil {
			return err
		}
		k.State = state
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type updateKeyDescriptionInput struct {
	KeyID       string  `json:"KeyId"`
	Description *string `json:"Description"`
}

func (s *Service) updateKeyDescription(ctx context.Context, in *updateKeyDescriptionInput) (*emptyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if in.Description == nil {
		return nil, errRequired("description")
	}
	if len(*in.Description) > maxDescription {
		return nil, errLength("description", 0, maxDescription)
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", "UpdateKeyDescription", nil)
	if err != nil {
		return nil, err
	}
	_, err = s.updateKey(ctx, k, func(_ storage.Tx, k *keyRecord) error {
		if err := checkEditable(k); err != nil {
			return err
		}
		k.Description = *in.Description
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type scheduleKeyDeletionInput struct {
	KeyID               string `json:"KeyId"`
	PendingWindowInDays *int   `json:"PendingWindowInDays"`
}

type scheduleKeyDeletionOutput struct {
	KeyID               string `json:"KeyId"`
	DeletionDate        *epoch `json:"DeletionDate"`
	KeyState            string `json:"KeyState"`
	PendingWindowInDays int    `json:"PendingWindowInDays"`
}

func (s *Service) scheduleKeyDeletion(ctx context.Context, in *scheduleKeyDeletionInput) (*scheduleKeyDeletionOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	days := 30
	if in.PendingWindowInDays != nil {
		days = *in.PendingWindowInDays
	}
	if days < 7 || days > 30 {
		return nil, errValidation("1 validation error detected: Value '%d' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between 7 and 30", days)
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", "ScheduleKeyDeletion", nil)
	if err != nil {
		return nil, err
	}
	when := s.now().UTC().AddDate(0, 0, days)
	k, err = s.updateKey(ctx, k, func(_ storage.Tx, k *keyRecord) error {
		if err := checkEditable(k); err != nil {
			return err
		}
		k.State, k.DeletionDate, k.PendingWindow = statePendingDeletion, when, days
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &scheduleKeyDeletionOutput{KeyID: k.arn(), DeletionDate: epochPtr(k.DeletionDate),
		KeyState: k.State, PendingWindowInDays: k.PendingWindow}, nil
}

type keyIDOutput struct {
	KeyID string `json:"KeyId"`
}

// cancelKeyDeletion leaves the key disabled, as KMS does, so that nothing starts using it
// again by accident.
func (s *Service) cancelKeyDeletion(ctx context.Context, in *keyIDInput) (*keyIDOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", "CancelKeyDeletion", nil)
	if err != nil {
		return nil, err
	}
	k, err = s.updateKey(ctx, k, func(_ storage.Tx, k *keyRecord) error {
		if k.State != statePendingDeletion {
			return awserr.Newf(CodeInvalidState, "%s is not pending deletion.", k.arn())
		}
		k.State, k.DeletionDate, k.PendingWindow = stateDisabled, time.Time{}, 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &keyIDOutput{KeyID: k.arn()}, nil
}
