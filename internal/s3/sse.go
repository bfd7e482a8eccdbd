package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/keyring"
)

// sseRequest is the server-side encryption a request asks for.
type sseRequest struct {
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
func parseSSE(h http.Header, prefix string) (sseRequest, error) {
	var req sseRequest
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
func (s *Service) resolveSSE(b *bucketRecord, req sseRequest) (sse, error) {
	if req.CustomerKey != nil {
		return sse{Algorithm: "AES256", CustomerMD5: req.CustomerMD5}, nil
	}
	alg, kmsKey := req.Algorithm, req.KMSKeyID
	if alg == "" && b.Encryption != nil {
		alg, kmsKey = b.Encryption.Algorithm, b.Encryption.KMSMasterKeyID
	}
	if alg == "aws:kms" {
		// KMS keys arrive with the KMS API; until then refuse rather than mislabel.
		_ = kmsKey
		return sse{}, awserr.New(awserr.NotImplemented, "SSE-KMS is not available on this server yet.")
	}
	return sse{Algorithm: "AES256"}, nil
}

var dataKeyAAD = []byte("s3 data key")

// sealDataKey wraps a version's data key: under the customer's key for SSE-C, else under the
// server's key wrapper.
func (s *Service) sealDataKey(req sseRequest, dataKey []byte) ([]byte, error) {
	if req.CustomerKey != nil {
		kr, err := keyring.FromKey(req.CustomerKey)
		if err != nil {
			return nil, err
		}
		return kr.Seal(dataKey, dataKeyAAD), nil
	}
	return s.keys.Seal(dataKey, dataKeyAAD), nil
}

// openDataKey unwraps v's data key; an SSE-C version needs the same customer key.
func (s *Service) openDataKey(v *version, req sseRequest) ([]byte, error) {
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
