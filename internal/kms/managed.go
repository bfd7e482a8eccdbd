package kms

import (
	"context"
	"errors"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/storage"
)

// errUseExisting tells createKeyRecord to keep the key its check found instead of a new one.
var errUseExisting = errors.New("kms: use existing key")

const managedS3Description = "Default key that protects my S3 objects when no other key is defined"

// managedS3Policy is the key policy AWS gives alias/aws/s3: use through S3 by the account's
// principals, and read-only metadata access for the account.
func managedS3Policy(account, region string) string {
	return `{"Version":"2012-10-17","Id":"auto-s3-2","Statement":[{"Sid":"Allow access through S3 for all principals in the account that are authorized to use S3","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.` +
		region + `.amazonaws.com","kms:CallerAccount":"` + account + `"}}},{"Sid":"Allow direct access to key metadata to the account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` +
		account + `:root"},"Action":["kms:Describe*","kms:Get*","kms:List*"],"Resource":"*"}]}`
}

// ensureManagedKey returns account's alias/aws/s3 key, creating key and alias if they do not
// exist. Concurrent first uses create one key: the check and the writes share a transaction,
// and a loser finds the winner's alias and keeps that key.
func (s *Service) ensureManagedKey(ctx context.Context, account string) (*keyRecord, error) {
	ref := keyRef{account: account, region: s.region, alias: managedS3Alias}
	now := s.now()
	rec := &keyRecord{Account: account, Description: managedS3Description, Manager: managerAWS,
		Policy: managedS3Policy(account, s.region), Rotation: true, RotationPeriod: defaultRotationPeriod}
	k, err := s.createKeyRecord(ctx, rec, func(tx storage.Tx, k **keyRecord) error {
		existing, err := lookup(tx, ref, now)
		var e *awserr.Error
		switch {
		case err == nil:
			*k = existing
			return errUseExisting
		case !errors.As(err, &e) || e.Code != CodeNotFound:
			return err
		}
		return storage.PutJSON(tx, aliasRecordKey(account, s.region, managedS3Alias),
			&aliasRecord{Name: managedS3Alias, Target: (*k).ID, Created: (*k).Created, Updated: (*k).Created})
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// s3Conditions mark a request S3 makes on a caller's behalf, as KMS's kms:ViaService does.
func (s *Service) s3Conditions(encCtx map[string]string) (map[string][]string, error) {
	return contextConditions(encCtx, map[string][]string{"kms:ViaService": {"s3." + s.region + ".amazonaws.com"}})
}

// ResolveForS3 returns the ARN of the key an S3 request or bucket configuration names for
// SSE-KMS, for the caller in ctx, which must be authorized for kms:DescribeKey on it. keyRef
// is a key id, key ARN, alias name or alias ARN, resolved in accountID unless it is an ARN; an
// empty keyRef means accountID's AWS managed key alias/aws/s3, created on first use. The key
// may be in any state. Errors are *awserr.Error with KMS codes (NotFoundException,
// AccessDeniedException, ValidationException, …) that S3 reports as "KMS.<code>".
func (s *Service) ResolveForS3(ctx context.Context, accountID, keyRef string) (keyARN string, err error) {
	k, err := s.forS3(ctx, accountID, keyRef, "DescribeKey", nil)
	if err != nil {
		return "", err
	}
	return k.arn(), nil
}

// GenerateDataKeyFor returns a new 256-bit data key for an S3 object version: its plaintext,
// which the caller zeroes after use, and its ciphertext blob under the key keyRef names (as
// for ResolveForS3), bound to encCtx, plus that key's ARN. The caller in ctx must be
// authorized for kms:GenerateDataKey. A disabled key is DisabledException, a key pending
// deletion KMSInvalidStateException, a missing one NotFoundException.
func (s *Service) GenerateDataKeyFor(ctx context.Context, accountID, keyRef string, encCtx map[string]string) (plaintext keyring.Key, ciphertextBlob []byte, keyARN string, err error) {
	k, err := s.forS3(ctx, accountID, keyRef, "GenerateDataKey", encCtx)
	if err != nil {
		return nil, nil, "", err
	}
	plaintext, ciphertextBlob, _, err = s.newDataKey(ctx, k, keyring.KeySize, encCtx)
	if err != nil {
		return nil, nil, "", err
	}
	return plaintext, ciphertextBlob, k.arn(), nil
}

// DecryptFor opens a data key blob from GenerateDataKeyFor (or any Encrypt or GenerateDataKey
// blob) with the same encCtx, for the caller in ctx, which must be authorized for kms:Decrypt
// on the key the blob names; the blob, not accountID (the account S3 acts for, used for
// logging), decides the key. It returns the plaintext, which the caller zeroes, and the key's
// ARN. Errors are as for GenerateDataKeyFor, plus InvalidCiphertextException for a blob that
// was altered or is opened with another context.
func (s *Service) DecryptFor(ctx context.Context, accountID string, blob []byte, encCtx map[string]string) (plaintext keyring.Key, keyARN string, err error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, "", err
	}
	conds, err := s.s3Conditions(encCtx)
	if err != nil {
		return nil, "", err
	}
	plaintext, k, _, err := s.decrypt(ctx, p, blob, encCtx, "", "", "Decrypt", conds)
	if err != nil {
		s.log.Debug("kms decrypt for s3 refused", "account", accountID, "err", err)
		return nil, "", err
	}
	return plaintext, k.arn(), nil
}

// forS3 resolves keyRef for S3 in accountID and authorizes op for the caller in ctx.
func (s *Service) forS3(ctx context.Context, accountID, raw, op string, encCtx map[string]string) (*keyRecord, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if raw == "" {
		raw = managedS3Alias
	}
	ref, err := s.parseKeyRef(raw, "keyId", accountID)
	if err != nil {
		return nil, err
	}
	conds, err := s.s3Conditions(encCtx)
	if err != nil {
		return nil, err
	}
	return s.resolveRef(ctx, p, ref, op, conds, accountID)
}
