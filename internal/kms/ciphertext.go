package kms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Ciphertext blob format, version 1 (all integers big-endian):
//
//	version      1 byte, 1
//	arn length   2 bytes
//	key ARN      the key that encrypted, e.g. arn:aws:kms:us-east-1:111122223333:key/<uuid>
//	material     4 bytes, the key's material version
//	nonce        12 bytes
//	ciphertext   AES-256-GCM under that material version, 16-byte tag last
//
// The GCM additional data is a label, every header byte before the nonce (so the key ARN and
// material version) and the canonical encryption context. A blob that was altered, that is
// opened with another context, or whose header was pointed at another key fails to open.
const (
	blobVersion  = 1
	nonceSize    = 12
	tagSize      = 16
	blobAADLabel = "stateward kms ciphertext v1\x00"
	// maxCiphertext is KMS's limit on CiphertextBlob.
	maxCiphertext = 6144
)

var errMalformedBlob = errors.New("kms: malformed ciphertext blob")

// blob is a parsed ciphertext blob. Its slices alias the input.
type blob struct {
	arn     string
	account string
	region  string
	keyID   string
	version uint32
	header  []byte // everything before the nonce
	nonce   []byte
	sealed  []byte
}

// parseBlob splits b into its parts; it checks structure only, not authenticity.
func parseBlob(b []byte) (*blob, error) {
	if len(b) < 3 || b[0] != blobVersion {
		return nil, errMalformedBlob
	}
	n := int(binary.BigEndian.Uint16(b[1:3]))
	hdrLen := 3 + n + 4
	if len(b) < hdrLen+nonceSize+tagSize {
		return nil, errMalformedBlob
	}
	bl := &blob{
		arn:     string(b[3 : 3+n]),
		version: binary.BigEndian.Uint32(b[3+n : hdrLen]),
		header:  b[:hdrLen],
		nonce:   b[hdrLen : hdrLen+nonceSize],
		sealed:  b[hdrLen+nonceSize:],
	}
	// arn:aws:kms:<region>:<account>:key/<id>
	parts := strings.SplitN(bl.arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kms" || !isAccountID(parts[4]) ||
		!strings.HasPrefix(parts[5], "key/") || !validKeyID(parts[5][4:]) {
		return nil, errMalformedBlob
	}
	bl.region, bl.account, bl.keyID = parts[3], parts[4], parts[5][4:]
	return bl, nil
}

// sealBlob encrypts plaintext under material (version of the key arn), bound to encCtx.
func sealBlob(random io.Reader, material []byte, arn string, version uint32, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	aead, err := newAEAD(material)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 3+len(arn)+4+nonceSize+len(plaintext)+tagSize)
	out = append(out, blobVersion)
	out = binary.BigEndian.AppendUint16(out, uint16(len(arn)))
	out = append(out, arn...)
	out = binary.BigEndian.AppendUint32(out, version)
	hdrLen := len(out)
	out = out[:hdrLen+nonceSize]
	if _, err := io.ReadFull(random, out[hdrLen:]); err != nil {
		return nil, fmt.Errorf("kms: nonce: %w", err)
	}
	return aead.Seal(out, out[hdrLen:], plaintext, blobAAD(out[:hdrLen], encCtx)), nil
}

// openBlob decrypts b with the material of its key version, bound to encCtx.
func openBlob(material []byte, b *blob, encCtx map[string]string) ([]byte, error) {
	aead, err := newAEAD(material)
	if err != nil {
		return nil, err
	}
	plaintext, err := aead.Open(nil, b.nonce, b.sealed, blobAAD(b.header, encCtx))
	if err != nil {
		return nil, fmt.Errorf("kms: ciphertext does not authenticate under %s version %d with this context", b.arn, b.version)
	}
	return plaintext, nil
}

func newAEAD(material []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(material)
	if err != nil {
		return nil, fmt.Errorf("kms: %w", err)
	}
	return cipher.NewGCM(block)
}

func blobAAD(header []byte, encCtx map[string]string) []byte {
	aad := append([]byte(blobAADLabel), header...)
	return appendCanonicalContext(aad, encCtx)
}

// appendCanonicalContext appends the encryption context as its key=value pairs sorted by key,
// each string length-prefixed, so no two different contexts encode alike (a "=" or a
// separator inside a key or value cannot shift a pair boundary).
func appendCanonicalContext(b []byte, encCtx map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(encCtx)))
	for _, k := range slices.Sorted(maps.Keys(encCtx)) {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(encCtx[k])))
		b = append(b, encCtx[k]...)
	}
	return b
}

// materialID names one material version of a key as KMS's KeyMaterialId does: 64 hex
// digits. It is derived from public values and says nothing about the material.
func materialID(arn string, version uint32) string {
	h := sha256.New()
	fmt.Fprintf(h, "stateward kms key material id\x00%s\x00%d", arn, version)
	return hex.EncodeToString(h.Sum(nil))
}
