package kms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/storage"
)

const (
	maxPlaintext     = 4096
	maxDataKeyBytes  = 1024
	maxContextLength = 8192
)

var encryptionAlgorithms = []string{"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"}

// checkAlgorithm accepts an absent algorithm or SYMMETRIC_DEFAULT, the only one a symmetric
// key supports.
func checkAlgorithm(member, alg string) error {
	if alg == "" || alg == algSymmetricDefault {
		return nil
	}
	if !slices.Contains(encryptionAlgorithms, alg) {
		return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]", alg, member)
	}
	return awserr.Newf(CodeInvalidKeyUsage, "Algorithm %s is incompatible with key spec SYMMETRIC_DEFAULT.", alg)
}

// contextConditions are the encryption context condition keys of a cryptographic request.
func contextConditions(encCtx map[string]string, extra map[string][]string) (map[string][]string, error) {
	size := 0
	for k, v := range encCtx {
		size += len(k) + len(v)
	}
	if size > maxContextLength {
		return nil, errValidation("The encryption context is %d bytes; the limit is %d.", size, maxContextLength)
	}
	c := maps.Clone(extra)
	if c == nil {
		c = map[string][]string{}
	}
	if len(encCtx) > 0 {
		c["kms:EncryptionContextKeys"] = slices.Sorted(maps.Keys(encCtx))
	}
	for k, v := range encCtx {
		c["kms:EncryptionContext:"+k] = []string{v}
	}
	return c, nil
}

func errDryRun() error {
	return awserr.New(CodeDryRun, "The request would have succeeded, but the DryRun option is set.")
}

// material returns the material of one version of k, opened from the master keyring. The
// caller zeroes it.
func (s *Service) material(ctx context.Context, k *keyRecord, version uint32) (keyring.Key, error) {
	rk := materialKey(k.Account, k.Region, k.ID, version)
	var sealed []byte
	err := s.store.View(ctx, func(tx storage.Tx) error {
		v, err := tx.Get(rk)
		sealed = bytes.Clone(v)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errKeyNotFound(k.arn())
	}
	if err != nil {
		return nil, err
	}
	m, err := s.kr.Open(sealed, rk)
	if err != nil {
		return nil, err
	}
	return keyring.Key(m), nil
}

// encrypt seals plaintext under the current material of k, which must be enabled.
func (s *Service) encrypt(ctx context.Context, k *keyRecord, plaintext []byte, encCtx map[string]string) ([]byte, uint32, error) {
	if err := checkUsable(k); err != nil {
		return nil, 0, err
	}
	version := k.current()
	m, err := s.material(ctx, k, version)
	if err != nil {
		return nil, 0, err
	}
	defer keyring.Zero(m)
	b, err := sealBlob(s.rand, m, k.arn(), version, plaintext, encCtx)
	return b, version, err
}

// decrypt opens a ciphertext blob for the caller p, authorizing op on the key the blob names.
// If keyID is set it must name that same key (IncorrectKeyException otherwise).
func (s *Service) decrypt(ctx context.Context, p *identity.Principal, raw []byte, encCtx map[string]string, keyID, keyIDMember, op string, conds map[string][]string) (keyring.Key, *keyRecord, uint32, error) {
	if len(raw) == 0 || len(raw) > maxCiphertext {
		return nil, nil, 0, errLength("ciphertextBlob", 1, maxCiphertext)
	}
	b, err := parseBlob(raw)
	if err != nil {
		return nil, nil, 0, errInvalidCiphertext(err)
	}
	if b.region != s.region {
		return nil, nil, 0, errInvalidCiphertext(errors.New("kms: ciphertext from another region"))
	}
	k, err := s.resolveRef(ctx, p, keyRef{account: b.account, region: b.region, id: b.keyID}, op, conds, p.AccountID)
	if err != nil {
		return nil, nil, 0, err
	}
	if keyID != "" {
		ref, err := s.parseKeyRef(keyID, keyIDMember, p.AccountID)
		if err != nil {
			return nil, nil, 0, err
		}
		named, err := s.find(ctx, ref, ref.account == p.AccountID)
		if err != nil {
			return nil, nil, 0, err
		}
		if named.Account != k.Account || named.ID != k.ID {
			return nil, nil, 0, errIncorrectKey()
		}
	}
	if err := checkUsable(k); err != nil {
		return nil, nil, 0, err
	}
	if !k.hasVersion(b.version) {
		return nil, nil, 0, errInvalidCiphertext(errors.New("kms: unknown key material version"))
	}
	m, err := s.material(ctx, k, b.version)
	if err != nil {
		return nil, nil, 0, err
	}
	defer keyring.Zero(m)
	plaintext, err := openBlob(m, b, encCtx)
	if err != nil {
		return nil, nil, 0, errInvalidCiphertext(err)
	}
	return keyring.Key(plaintext), k, b.version, nil
}

// newDataKey draws n random bytes and encrypts them under k (encrypt refuses a key that is
// not enabled).
func (s *Service) newDataKey(ctx context.Context, k *keyRecord, n int, encCtx map[string]string) (keyring.Key, []byte, uint32, error) {
	plaintext := make(keyring.Key, n)
	if _, err := io.ReadFull(s.rand, plaintext); err != nil {
		return nil, nil, 0, err
	}
	blob, version, err := s.encrypt(ctx, k, plaintext, encCtx)
	if err != nil {
		keyring.Zero(plaintext)
		return nil, nil, 0, err
	}
	return plaintext, blob, version, nil
}

type encryptInput struct {
	KeyID               string            `json:"KeyId"`
	Plaintext           []byte            `json:"Plaintext"`
	EncryptionContext   map[string]string `json:"EncryptionContext"`
	GrantTokens         []string          `json:"GrantTokens"`
	EncryptionAlgorithm string            `json:"EncryptionAlgorithm"`
	DryRun              bool              `json:"DryRun"`
}

type encryptOutput struct {
	CiphertextBlob      []byte `json:"CiphertextBlob"`
	KeyID               string `json:"KeyId"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm"`
}

func (s *Service) encryptOp(ctx context.Context, in *encryptInput) (*encryptOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if len(in.Plaintext) == 0 {
		return nil, errValidation("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(in.Plaintext) > maxPlaintext {
		return nil, errValidation("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096")
	}
	if err := checkAlgorithm("encryptionAlgorithm", in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	conds, err := contextConditions(in.EncryptionContext, nil)
	if err != nil {
		return nil, err
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", "Encrypt", conds)
	if err != nil {
		return nil, err
	}
	if err := checkUsable(k); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	blob, _, err := s.encrypt(ctx, k, in.Plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return &encryptOutput{CiphertextBlob: blob, KeyID: k.arn(), EncryptionAlgorithm: algSymmetricDefault}, nil
}

type decryptInput struct {
	CiphertextBlob      []byte            `json:"CiphertextBlob"`
	EncryptionContext   map[string]string `json:"EncryptionContext"`
	GrantTokens         []string          `json:"GrantTokens"`
	KeyID               string            `json:"KeyId"`
	EncryptionAlgorithm string            `json:"EncryptionAlgorithm"`
	Recipient           json.RawMessage   `json:"Recipient"`
	DryRun              bool              `json:"DryRun"`
}

type decryptOutput struct {
	KeyID               string      `json:"KeyId"`
	Plaintext           keyring.Key `json:"Plaintext"`
	EncryptionAlgorithm string      `json:"EncryptionAlgorithm"`
	KeyMaterialID       string      `json:"KeyMaterialId"`
}

func (o *decryptOutput) zero() { keyring.Zero(o.Plaintext) }

func (s *Service) decryptOp(ctx context.Context, in *decryptInput) (*decryptOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if len(in.Recipient) > 0 {
		return nil, awserr.New(CodeUnsupportedOperation, "Recipient (Nitro Enclaves attestation) is not supported by this server.")
	}
	if err := checkAlgorithm("encryptionAlgorithm", in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	conds, err := contextConditions(in.EncryptionContext, nil)
	if err != nil {
		return nil, err
	}
	if in.DryRun {
		plaintext, _, _, err := s.decrypt(ctx, p, in.CiphertextBlob, in.EncryptionContext, in.KeyID, "keyId", "Decrypt", conds)
		keyring.Zero(plaintext)
		if err != nil {
			return nil, err
		}
		return nil, errDryRun()
	}
	plaintext, k, version, err := s.decrypt(ctx, p, in.CiphertextBlob, in.EncryptionContext, in.KeyID, "keyId", "Decrypt", conds)
	if err != nil {
		return nil, err
	}
	return &decryptOutput{KeyID: k.arn(), Plaintext: plaintext, EncryptionAlgorithm: algSymmetricDefault,
		KeyMaterialID: materialID(k.arn(), version)}, nil
}

type generateDataKeyInput struct {
	KeyID             string            `json:"KeyId"`
	EncryptionContext map[string]string `json:"EncryptionContext"`
	NumberOfBytes     *int              `json:"NumberOfBytes"`
	KeySpec           string            `json:"KeySpec"`
	GrantTokens       []string          `json:"GrantTokens"`
	Recipient         json.RawMessage   `json:"Recipient"`
	DryRun            bool              `json:"DryRun"`
}

// size is the data key length the request asks for: KeySpec AES_256 or AES_128, or
// NumberOfBytes, exactly one of them.
func (in *generateDataKeyInput) size() (int, error) {
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != nil:
		return 0, errValidation("KeySpec and NumberOfBytes are mutually exclusive; specify one of them.")
	case in.KeySpec == "AES_256":
		return 32, nil
	case in.KeySpec == "AES_128":
		return 16, nil
	case in.KeySpec != "":
		return 0, errValidation("1 validation error detected: Value '%s' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]", in.KeySpec)
	case in.NumberOfBytes == nil:
		return 0, errValidation("Please specify either number of bytes or key spec.")
	case *in.NumberOfBytes < 1:
		return 0, errValidation("1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.NumberOfBytes)
	case *in.NumberOfBytes > maxDataKeyBytes:
		return 0, errValidation("1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024", *in.NumberOfBytes)
	}
	return *in.NumberOfBytes, nil
}

type generateDataKeyOutput struct {
	CiphertextBlob []byte      `json:"CiphertextBlob"`
	Plaintext      keyring.Key `json:"Plaintext,omitempty"`
	KeyID          string      `json:"KeyId"`
	KeyMaterialID  string      `json:"KeyMaterialId"`
}

func (o *generateDataKeyOutput) zero() { keyring.Zero(o.Plaintext) }

func (s *Service) generateDataKey(ctx context.Context, in *generateDataKeyInput) (*generateDataKeyOutput, error) {
	return s.generateDataKeyOp(ctx, in, "GenerateDataKey")
}

func (s *Service) generateDataKeyWithoutPlaintext(ctx context.Context, in *generateDataKeyInput) (*generateDataKeyOutput, error) {
	out, err := s.generateDataKeyOp(ctx, in, "GenerateDataKeyWithoutPlaintext")
	if out != nil {
		out.zero()
		out.Plaintext = nil
	}
	return out, err
}

func (s *Service) generateDataKeyOp(ctx context.Context, in *generateDataKeyInput, op string) (*generateDataKeyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if len(in.Recipient) > 0 {
		return nil, awserr.New(CodeUnsupportedOperation, "Recipient (Nitro Enclaves attestation) is not supported by this server.")
	}
	n, err := in.size()
	if err != nil {
		return nil, err
	}
	conds, err := contextConditions(in.EncryptionContext, nil)
	if err != nil {
		return nil, err
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", op, conds)
	if err != nil {
		return nil, err
	}
	if err := checkUsable(k); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	plaintext, blob, version, err := s.newDataKey(ctx, k, n, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return &generateDataKeyOutput{CiphertextBlob: blob, Plaintext: plaintext, KeyID: k.arn(),
		KeyMaterialID: materialID(k.arn(), version)}, nil
}

type reEncryptInput struct {
	CiphertextBlob                 []byte            `json:"CiphertextBlob"`
	SourceEncryptionContext        map[string]string `json:"SourceEncryptionContext"`
	SourceKeyID                    string            `json:"SourceKeyId"`
	DestinationKeyID               string            `json:"DestinationKeyId"`
	DestinationEncryptionContext   map[string]string `json:"DestinationEncryptionContext"`
	SourceEncryptionAlgorithm      string            `json:"SourceEncryptionAlgorithm"`
	DestinationEncryptionAlgorithm string            `json:"DestinationEncryptionAlgorithm"`
	GrantTokens                    []string          `json:"GrantTokens"`
	DryRun                         bool              `json:"DryRun"`
}

type reEncryptOutput struct {
	CiphertextBlob                 []byte `json:"CiphertextBlob"`
	SourceKeyID                    string `json:"SourceKeyId"`
	KeyID                          string `json:"KeyId"`
	SourceEncryptionAlgorithm      string `json:"SourceEncryptionAlgorithm"`
	DestinationEncryptionAlgorithm string `json:"DestinationEncryptionAlgorithm"`
	SourceKeyMaterialID            string `json:"SourceKeyMaterialId"`
	DestinationKeyMaterialID       string `json:"DestinationKeyMaterialId"`
}

// reEncrypt decrypts under the source key and encrypts under the destination key without the
// plaintext leaving the server. As in KMS it needs kms:ReEncryptFrom on the source key and
// kms:ReEncryptTo on the destination key.
func (s *Service) reEncrypt(ctx context.Context, in *reEncryptInput) (*reEncryptOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if in.DestinationKeyID == "" {
		return nil, errRequired("destinationKeyId")
	}
	if err := checkAlgorithm("sourceEncryptionAlgorithm", in.SourceEncryptionAlgorithm); err != nil {
		return nil, err
	}
	if err := checkAlgorithm("destinationEncryptionAlgorithm", in.DestinationEncryptionAlgorithm); err != nil {
		return nil, err
	}
	srcConds, err := contextConditions(in.SourceEncryptionContext, nil)
	if err != nil {
		return nil, err
	}
	dstConds, err := contextConditions(in.DestinationEncryptionContext, nil)
	if err != nil {
		return nil, err
	}
	dst, err := s.resolve(ctx, p, in.DestinationKeyID, "destinationKeyId", "ReEncryptTo", dstConds)
	if err != nil {
		return nil, err
	}
	plaintext, src, srcVersion, err := s.decrypt(ctx, p, in.CiphertextBlob, in.SourceEncryptionContext,
		in.SourceKeyID, "sourceKeyId", "ReEncryptFrom", srcConds)
	if err != nil {
		return nil, err
	}
	defer keyring.Zero(plaintext)
	if err := checkUsable(dst); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, errDryRun()
	}
	blob, dstVersion, err := s.encrypt(ctx, dst, plaintext, in.DestinationEncryptionContext)
	if err != nil {
		return nil, err
	}
	return &reEncryptOutput{CiphertextBlob: blob, SourceKeyID: src.arn(), KeyID: dst.arn(),
		SourceEncryptionAlgorithm: algSymmetricDefault, DestinationEncryptionAlgorithm: algSymmetricDefault,
		SourceKeyMaterialID: materialID(src.arn(), srcVersion), DestinationKeyMaterialID: materialID(dst.arn(), dstVersion)}, nil
}

type generateRandomInput struct {
	NumberOfBytes    *int            `json:"NumberOfBytes"`
	CustomKeyStoreID string          `json:"CustomKeyStoreId"`
	Recipient        json.RawMessage `json:"Recipient"`
}

type generateRandomOutput struct {
	Plaintext keyring.Key `json:"Plaintext"`
}

func (o *generateRandomOutput) zero() { keyring.Zero(o.Plaintext) }

func (s *Service) generateRandom(ctx context.Context, in *generateRandomInput) (*generateRandomOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case in.NumberOfBytes == nil:
		return nil, errValidation("NumberOfBytes is required.")
	case *in.NumberOfBytes < 1:
		return nil, errValidation("1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.NumberOfBytes)
	case *in.NumberOfBytes > maxDataKeyBytes:
		return nil, errValidation("1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024", *in.NumberOfBytes)
	case in.CustomKeyStoreID != "" || len(in.Recipient) > 0:
		return nil, awserr.New(CodeUnsupportedOperation, "Custom key stores and Recipient are not supported by this server.")
	}
	if err := s.authorize(ctx, p, "GenerateRandom", "*", p.AccountID, nil); err != nil {
		return nil, err
	}
	out := &generateRandomOutput{Plaintext: make(keyring.Key, *in.NumberOfBytes)}
	if _, err := io.ReadFull(s.rand, out.Plaintext); err != nil {
		return nil, err
	}
	return out, nil
}
