package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/keyring"
)

// SSERequest is the server-side encryption a request asks for.
type SSERequest struct {
	Algorithm   string // x-amz-server-side-encryption: AES256 or aws:kms
	KMSKeyID    string
	CustomerKey []byte // SSE-C key, 32 bytes; never stored
	CustomerMD5 string // base64 MD5 of CustomerKey
}

const (
	hdrSSE            = "X-Amz-Server-Side-Encryption"
	hdrSSEKMSKey      = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"
	hdrSSECAlgorithm  = "X-Amz-Server-Side-Encryption-Customer-Algorithm"
	hdrSSECKey        = "X-Amz-Server-Side-Encryption-Customer-Key"
	hdrSSECKeyMD5     = "X-Amz-Server-Side-Encryption-Customer-Key-Md5"
	hdrCopySSECPrefix = "X-Amz-Copy-Source-"
)

// parseSSE reads the encryption headers of a write (prefix "") or of a copy source
// (prefix "X-Amz-Copy-Source-", SSE-C only).
func parseSSE(h http.Header, prefix string) (SSERequest, error) {
	var req SSERequest
	if prefix == "" {
		req.Algorithm = h.Get(hdrSSE)
		req.KMSKeyID = h.Get(hdrSSEKMSKey)
		switch req.Algorithm {
		case "", "AES256", "aws:kms":
		default:
			return req, awserr.New(awserr.InvalidArgument, "The encryption method specified is not supported").With("ArgumentName", hdrSSE)
		}
		if req.KMSKeyID != "" && req.Algorithm != "aws:kms" {
			return req, awserr.New(awserr.InvalidArgument, "Server Side Encryption with KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
		}
	}
	// The copy-source variants drop the "x-amz-" of the plain names:
	// x-amz-copy-source-server-side-encryption-customer-key, not x-amz-copy-source-x-amz-….
	name := func(header string) string {
		if prefix == "" {
			return header
		}
		return prefix + strings.TrimPrefix(header, "X-Amz-")
	}
	alg, key, sum := h.Get(name(hdrSSECAlgorithm)), h.Get(name(hdrSSECKey)), h.Get(name(hdrSSECKeyMD5))
	if alg == "" && key == "" && sum == "" {
		return req, nil
	}
	if req.Algorithm != "" {
		return req, awserr.New(awserr.InvalidArgument, "Server Side Encryption with Customer provided key is incompatible with the encryption method specified")
	}
	if alg != "AES256" {
		return req, awserr.New(awserr.InvalidEncryptionAlgorithmError, "The encryption request you specified is not valid. The valid value is AES256.")
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != 32 {
		return req, awserr.New(awserr.InvalidArgument, "The secret key was invalid for the specified algorithm.")
	}
	got := md5.Sum(raw)
	if base64.StdEncoding.EncodeToString(got[:]) != sum {
		return req, awserr.New(awserr.InvalidArgument, "The calculated MD5 hash of the key did not match the hash that was provided.")
	}
	req.CustomerKey, req.CustomerMD5 = raw, sum
	return req, nil
}

// resolveSSE decides how a new version is encrypted: the request's choice, else the bucket's
// default. Every version is encrypted at rest whatever is chosen; SSE-S3 is the floor.
func (s *Service) resolveSSE(b *Bucket, req SSERequest) (sse, error) {
	if req.CustomerKey != nil {
		return sse{Algorithm: "AES256", CustomerMD5: req.CustomerMD5}, nil
	}
	alg, kmsKey := req.Algorithm, req.KMSKeyID
	if alg == "" && b.Encryption != nil {
		alg, kmsKey = b.Encryption.Algorithm, b.Encryption.KMSMasterKeyID
	}
	if alg == "aws:kms" {
		if s.kms == nil {
			return sse{}, awserr.New(awserr.NotImplemented, "SSE-KMS is not available on this server.")
		}
		// KMSKeyID holds the reference as given until newDataKey resolves it to an ARN.
		return sse{Algorithm: "aws:kms", KMSKeyID: kmsKey}, nil
	}
	return sse{Algorithm: "AES256"}, nil
}

// KMS supplies and unwraps the data keys of SSE-KMS versions; see package kms.
type KMS interface {
	// GenerateDataKeyFor returns a fresh data key, its ciphertext under keyRef (the account's
	// aws/s3 key when empty) bound to encCtx, and the key's ARN.
	GenerateDataKeyFor(ctx context.Context, accountID, keyRef string, encCtx map[string]string) (keyring.Key, []byte, string, error)
	// DecryptFor unwraps a data key GenerateDataKeyFor made.
	DecryptFor(ctx context.Context, accountID string, blob []byte, encCtx map[string]string) (keyring.Key, string, error)
}

// kmsContext is the encryption context an object's data key is bound to, as S3 sets it.
func kmsContext(bucket, key string) map[string]string {
	return map[string]string{"aws:s3:arn": "arn:aws:s3:::" + bucket + "/" + key}
}

// kmsError reports a KMS failure as S3 does: its code prefixed with "KMS.".
func kmsError(err error) error {
	var e *awserr.Error
	if !errors.As(err, &e) {
		return err
	}
	if e.Code == "AccessDeniedException" {
		return awserr.Wrap(awserr.AccessDenied, "Access Denied", err)
	}
	return &awserr.Error{Code: "KMS." + e.Code, Message: e.Message, Status: http.StatusBadRequest, Cause: err}
}

var dataKeyAAD = []byte("s3 data key")

// newDataKey makes the data key of a new version of bucket/key encrypted as e, and wraps it:
// under the customer's key for SSE-C, by KMS for SSE-KMS (setting e.KMSKeyID to the key's
// ARN), else under the server's key wrapper. The caller zeroes the plaintext.
func (s *Service) newDataKey(ctx context.Context, e *sse, req SSERequest, owner, bucket, key string) (plain, wrapped []byte, err error) {
	if e.Algorithm == "aws:kms" {
		plain, wrapped, arn, err := s.kms.GenerateDataKeyFor(ctx, owner, e.KMSKeyID, kmsContext(bucket, key))
		if err != nil {
			return nil, nil, kmsError(err)
		}
		e.KMSKeyID = arn
		return plain, wrapped, nil
	}
	if plain, err = keyring.NewDataKey(); err != nil {
		return nil, nil, err
	}
	if req.CustomerKey != nil {
		kr, err := keyring.FromKey(req.CustomerKey)
		if err != nil {
			return nil, nil, err
		}
		return plain, kr.Seal(plain, dataKeyAAD), nil
	}
	return plain, s.keys.Seal(plain, dataKeyAAD), nil
}

// openDataKey unwraps the data key of v, a version in bucket; an SSE-C version needs the same
// customer key, an SSE-KMS one a usable KMS key.
func (s *Service) openDataKey(ctx context.Context, bucket string, v *ObjectVersion, req SSERequest) ([]byte, error) {
	if v.SSE.Algorithm == "aws:kms" {
		if s.kms == nil {
			return nil, awserr.New(awserr.NotImplemented, "SSE-KMS is not available on this server.")
		}
		plain, _, err := s.kms.DecryptFor(ctx, v.Owner, v.Body.DataKey, kmsContext(bucket, v.Key))
		if err != nil {
			return nil, kmsError(err)
		}
		return plain, nil
	}
	if v.SSE.CustomerMD5 == "" {
		return s.keys.Open(v.Body.DataKey, dataKeyAAD)
	}
	if req.CustomerKey == nil {
		return nil, awserr.New(awserr.InvalidRequest, "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	}
	if !bytes.Equal([]byte(req.CustomerMD5), []byte(v.SSE.CustomerMD5)) {
		return nil, awserr.New(awserr.AccessDenied, "Access Denied")
	}
	kr, err := keyring.FromKey(req.CustomerKey)
	if err != nil {
		return nil, err
	}
	key, err := kr.Open(v.Body.DataKey, dataKeyAAD)
	if err != nil {
		return nil, awserr.Wrap(awserr.AccessDenied, "Access Denied", err)
	}
	return key, nil
}

// setSSEHeaders reports v's encryption as S3 does on GET, HEAD and PUT responses.
func setSSEHeaders(h http.Header, e sse) {
	if e.CustomerMD5 != "" {
		h.Set(hdrSSECAlgorithm, "AES256")
		h.Set(hdrSSECKeyMD5, e.CustomerMD5)
		return
	}
	if e.Algorithm != "" {
		h.Set(hdrSSE, e.Algorithm)
	}
	if e.KMSKeyID != "" {
		h.Set(hdrSSEKMSKey, e.KMSKeyID)
	}
}
