package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// SegmentOverhead is how many bytes SealSegment adds to each segment: the GCM tag.
const SegmentOverhead = 16

// streamInfo separates segment keys from any other use of a data key in HKDF.
const streamInfo = "stateward stream segment key v1\x00"

// Stream encrypts a body as a sequence of segments with the STREAM construction
// (Hoang, Reyhanitabar, Rogaway, Vizár, "Online Authenticated-Encryption and its
// Nonce-Reuse Misuse-Resistance", 2015), as Tink and age do: each segment is sealed with
// AES-256-GCM under a nonce made of its index and a last-segment flag, so a segment that is
// reordered, dropped or appended, or a body cut short at a segment boundary, fails to open.
// A Stream is safe for concurrent use; segments may be sealed and opened in any order.
type Stream struct {
	aead cipher.AEAD
}

// NewStream returns the stream for one body. key (KeySize bytes, not retained) is the body's
// own data key and aad names the body, such as its object version. The segment key is
// derived from both with HKDF-SHA256, which binds every segment to that body: a segment
// copied into another body fails to open even if the two shared a data key.
func NewStream(key, aad []byte) (*Stream, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("keyring: stream key is %d bytes, want %d", len(key), KeySize)
	}
	segKey, err := hkdf.Key(sha256.New, key, nil, streamInfo+string(aad), KeySize)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	defer Zero(segKey)
	block, err := aes.NewCipher(segKey)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return &Stream{aead: aead}, nil
}

// SealSegment appends to dst the sealed segment number index of the body, with last set for
// the final segment only (which may be empty), and returns the result. As with
// cipher.AEAD, dst may be plaintext[:0] to encrypt in place, and must not otherwise overlap it.
func (s *Stream) SealSegment(dst, plaintext []byte, index uint64, last bool) []byte {
	nonce := segmentNonce(index, last)
	return s.aead.Seal(dst, nonce[:], plaintext, nil)
}

// OpenSegment appends to dst the plaintext of a segment from SealSegment with the same index
// and last flag, and returns the result. Errors wrap ErrDecrypt.
func (s *Stream) OpenSegment(dst, ciphertext []byte, index uint64, last bool) ([]byte, error) {
	nonce := segmentNonce(index, last)
	out, err := s.aead.Open(dst, nonce[:], ciphertext, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: segment %d (last=%t) failed authentication", ErrDecrypt, index, last)
	}
	return out, nil
}

// segmentNonce is age's layout: an 11-byte big-endian counter, then 1 for the last segment.
// The segment key is unique to one body, so the nonce needs no random part.
func segmentNonce(index uint64, last bool) [12]byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[3:11], index)
	if last {
		n[11] = 1
	}
	return n
}
