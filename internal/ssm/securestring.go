package ssm

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/keyring"
)

// A SecureString value is stored as an envelope:
//
//	1 | len(wrapped key), 2 bytes BE | wrapped key (a KMS ciphertext blob) | sealed value
//
// The data key is fresh for every version and encrypted by KMS under the parameter's key with
// the encryption context {"PARAMETER_ARN": <arn>}; the value is sealed with AES-256-GCM under
// the data key, bound to the same ARN. Without decryption, callers get the envelope in base64.
const envelopeFormat = 1

var valueAAD = []byte("stateward ssm parameter value\x00")

func encryptionContext(arn string) map[string]string {
	return map[string]string{"PARAMETER_ARN": arn}
}

// sealValue encrypts value for the parameter arn of account under the key keyRef names.
// Errors from KMS are reported as SSM reports them (see kmsError).
func (s *Service) sealValue(ctx context.Context, account, keyRef, arn string, value string) ([]byte, error) {
	if s.kms == nil {
		return nil, awserr.New(CodeUnsupportedParameterType, "SecureString parameters are not available on this server.")
	}
	dk := make(keyring.Key, keyring.KeySize)
	if _, err := io.ReadFull(s.rand, dk); err != nil {
		return nil, fmt.Errorf("ssm: data key: %w", err)
	}
	defer keyring.Zero(dk)
	wrapped, _, err := s.kms.EncryptForSSM(ctx, account, keyRef, dk, encryptionContext(arn))
	if err != nil {
		return nil, kmsError(err)
	}
	kr, err := keyring.FromKey(dk)
	if err != nil {
		return nil, err
	}
	sealed := kr.Seal([]byte(value), append(valueAAD[:len(valueAAD):len(valueAAD)], arn...))
	env := make([]byte, 0, 3+len(wrapped)+len(sealed))
	env = append(env, envelopeFormat)
	env = binary.BigEndian.AppendUint16(env, uint16(len(wrapped)))
	env = append(env, wrapped...)
	return append(env, sealed...), nil
}

// openValue decrypts an envelope of the parameter arn of account for the caller in ctx, who
// must be allowed kms:Decrypt on its key.
func (s *Service) openValue(ctx context.Context, account, arn string, env []byte) (secret, error) {
	if s.kms == nil {
		return "", awserr.New(CodeUnsupportedParameterType, "SecureString parameters are not available on this server.")
	}
	if len(env) < 3 || env[0] != envelopeFormat {
		return "", errors.New("ssm: malformed SecureString envelope")
	}
	n := int(binary.BigEndian.Uint16(env[1:3]))
	if len(env) < 3+n {
		return "", errors.New("ssm: truncated SecureString envelope")
	}
	wrapped, sealed := env[3:3+n], env[3+n:]
	dk, _, err := s.kms.DecryptForSSM(ctx, account, wrapped, encryptionContext(arn))
	if err != nil {
		return "", kmsError(err)
	}
	defer keyring.Zero(dk)
	kr, err := keyring.FromKey(dk)
	if err != nil {
		return "", err
	}
	plain, err := kr.Open(sealed, append(valueAAD[:len(valueAAD):len(valueAAD)], arn...))
	if err != nil {
		return "", fmt.Errorf("ssm: open value of %s: %w", arn, err)
	}
	return secret(plain), nil
}

// valueOf is the value of version v of the parameter arn as the caller sees it: a
// SecureString's plaintext with decrypt, its envelope in base64 without, any other value as
// it is.
func (s *Service) valueOf(ctx context.Context, account, arn string, v *versionRecord, decrypt bool) (string, error) {
	if v.Type != typeSecureString {
		return string(v.Value), nil
	}
	if !decrypt {
		return base64.StdEncoding.EncodeToString(v.Envelope), nil
	}
	plain, err := s.openValue(ctx, account, arn, v.Envelope)
	return string(plain), err
}
