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

// viaService is an AWS service that uses KMS keys on its callers' behalf: the requests it
// makes carry kms:ViaService <name>.<region>.amazonaws.com, and its AWS managed key, the
// default for callers who name none, is created on first use under alias/aws/<name>.
type viaService struct {
	name        string // endpoint prefix: "s3", "ssm"
	alias       string
	description string
	policy      func(account, region string) string // the managed key's key policy
}

var (
	viaS3 = &viaService{name: "s3", alias: managedS3Alias,
		description: "Default key that protects my S3 objects when no other key is defined", policy: managedS3Policy}
	viaSSM = &viaService{name: "ssm", alias: managedSSMAlias,
		description: "Default key that protects my SSM parameters when no other key is defined", policy: managedSSMPolicy}
)

// managedByAlias returns the service whose AWS managed key alias is name, or nil.
func managedByAlias(name string) *viaService {
	for _, v := range []*viaService{viaS3, viaSSM} {
		if v.alias == name {
			return v
		}
	}
	return nil
}

// managedS3Policy is the key policy AWS gives alias/aws/s3: use through S3 by the account's
// principals, and read-only metadata access for the account.
func managedS3Policy(account, region string) string {
	return `{"Version":"2012-10-17","Id":"auto-s3-2","Statement":[{"Sid":"Allow access through S3 for all principals in the account that are authorized to use S3","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.` +
		region + `.amazonaws.com","kms:CallerAccount":"` + account + `"}}},{"Sid":"Allow direct access to key metadata to the account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` +
		account + `:root"},"Action":["kms:Describe*","kms:Get*","kms:List*"],"Resource":"*"}]}`
}

// managedSSMPolicy is the key policy AWS gives alias/aws/ssm: use through Systems Manager by
// the account's principals, and read-only metadata access for the account.
func managedSSMPolicy(account, region string) string {
	return `{"Version":"2012-10-17","Id":"auto-ssm-1","Statement":[{"Sid":"Allow access through Systems Manager for all principals in the account that are authorized to use Systems Manager","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:CreateGrant","kms:DescribeKey"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"ssm.` +
		region + `.amazonaws.com","kms:CallerAccount":"` + account + `"}}},{"Sid":"Allow direct access to key metadata to the account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` +
		account + `:root"},"Action":["kms:Describe*","kms:Get*","kms:List*","kms:RevokeGrant"],"Resource":"*"}]}`
}

// ensureManagedKey returns account's AWS managed key of service v, creating key and alias if
// they do not exist. Concurrent first uses create one key: the check and the writes share a
// transaction, and a loser finds the winner's alias and keeps that key.
func (s *Service) ensureManagedKey(ctx context.Context, account string, v *viaService) (*keyRecord, error) {
	ref := keyRef{account: account, region: s.region, alias: v.alias}
	now := s.now()
	rec := &keyRecord{Account: account, Description: v.description, Manager: managerAWS,
		Policy: v.policy(account, s.region), Rotation: true, RotationPeriod: defaultRotationPeriod}
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
		return storage.PutJSON(tx, aliasRecordKey(account, s.region, v.alias),
			&aliasRecord{Name: v.alias, Target: (*k).ID, Created: (*k).Created, Updated: (*k).Created})
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// conditions mark a request service v makes on a caller's behalf, as KMS's kms:ViaService
// does, with encCtx's condition keys.
func (s *Service) conditions(v *viaService, encCtx map[string]string) (map[string][]string, error) {
	return contextConditions(encCtx, map[string][]string{"kms:ViaService": {v.name + "." + s.region + ".amazonaws.com"}})
}

// ResolveForS3 returns the ARN of the key an S3 request or bucket configuration names for
// SSE-KMS, for the caller in ctx, which must be authorized for kms:DescribeKey on it. keyRef
// is a key id, key ARN, alias name or alias ARN, resolved in accountID unless it is an ARN; an
// empty keyRef means accountID's AWS managed key alias/aws/s3, created on first use. The key
// may be in any state. Errors are *awserr.Error with KMS codes (NotFoundException,
// AccessDeniedException, ValidationException, …) that S3 reports as "KMS.<code>".
func (s *Service) ResolveForS3(ctx context.Context, accountID, keyRef string) (keyARN string, err error) {
	k, err := s.forService(ctx, viaS3, accountID, keyRef, "DescribeKey", nil)
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
	k, err := s.forService(ctx, viaS3, accountID, keyRef, "GenerateDataKey", encCtx)
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
	return s.decryptVia(ctx, viaS3, accountID, blob, encCtx)
}

// EncryptForSSM encrypts plaintext (a SecureString parameter's data key) for Systems Manager
// under the key keyRef names: a key id, key ARN, alias name or alias ARN, resolved in
// accountID unless it is an ARN, or when empty accountID's AWS managed key alias/aws/ssm,
// created on first use. The caller in ctx must be authorized for kms:Encrypt on that key with
// kms:ViaService ssm.<region>.amazonaws.com, as SSM's own calls to KMS are. The blob is bound
// to encCtx. Errors are *awserr.Error with KMS codes: NotFoundException for a missing key or
// alias, DisabledException, KMSInvalidStateException (pending deletion), or a policy denial.
func (s *Service) EncryptForSSM(ctx context.Context, accountID, keyRef string, plaintext []byte, encCtx map[string]string) (blob []byte, keyARN string, err error) {
	k, err := s.forService(ctx, viaSSM, accountID, keyRef, "Encrypt", encCtx)
	if err != nil {
		return nil, "", err
	}
	blob, _, err = s.encrypt(ctx, k, plaintext, encCtx)
	if err != nil {
		return nil, "", err
	}
	return blob, k.arn(), nil
}

// DecryptForSSM opens a blob from EncryptForSSM with the same encCtx for the caller in ctx,
// which must be authorized for kms:Decrypt, through Systems Manager, on the key the blob
// names. It returns the plaintext, which the caller zeroes, and the key's ARN. Errors are as
// for EncryptForSSM, plus InvalidCiphertextException for a blob that was altered or is opened
// with another context.
func (s *Service) DecryptForSSM(ctx context.Context, accountID string, blob []byte, encCtx map[string]string) (plaintext keyring.Key, keyARN string, err error) {
	return s.decryptVia(ctx, viaSSM, accountID, blob, encCtx)
}

// decryptVia opens blob for the caller in ctx through service v; accountID, the account v acts
// for, is for the log only.
func (s *Service) decryptVia(ctx context.Context, v *viaService, accountID string, blob []byte, encCtx map[string]string) (keyring.Key, string, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, "", err
	}
	conds, err := s.conditions(v, encCtx)
	if err != nil {
		return nil, "", err
	}
	plaintext, k, _, err := s.decrypt(ctx, p, blob, encCtx, "", "", "Decrypt", conds)
	if err != nil {
		s.log.Debug("kms decrypt refused", "via", v.name, "account", accountID, "err", err)
		return nil, "", err
	}
	return plaintext, k.arn(), nil
}

// forService resolves keyRef (v's managed key when empty) in accountID and authorizes op for
// the caller in ctx through service v.
func (s *Service) forService(ctx context.Context, v *viaService, accountID, raw, op string, encCtx map[string]string) (*keyRecord, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if raw == "" {
		raw = v.alias
	}
	ref, err := s.parseKeyRef(raw, "keyId", accountID)
	if err != nil {
		return nil, err
	}
	conds, err := s.conditions(v, encCtx)
	if err != nil {
		return nil, err
	}
	return s.resolveRef(ctx, p, ref, op, conds, accountID)
}
