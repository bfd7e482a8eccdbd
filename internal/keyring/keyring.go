// Package keyring holds stateward's secrets and the authenticated encryption built on them: the
// master key that seals every stored value to its record (Seal, Open), per-version data keys,
// and STREAM encryption of object bodies in segments (Stream). It imports only the standard
// library, so what protects data at rest can be audited on its own.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	// KeySize is the size of every key here: AES-256.
	KeySize = 32

	// Overhead is how many bytes Seal adds to a plaintext: format version (1), key term (4),
	// nonce (12) and GCM tag (16).
	Overhead = headerSize + 12 + 16

	formatVersion = 1
	headerSize    = 1 + 4
	// currentTerm numbers the master key. Rotation will add terms, with new values sealed
	// under the newest and older ones still opened by theirs; there is only one term so far.
	currentTerm = 1
)

// ErrDecrypt is wrapped by every error from Open and Stream.OpenSegment: the ciphertext is
// malformed, sealed under a key this keyring lacks, or was altered or moved.
var ErrDecrypt = errors.New("keyring: cannot decrypt")

// Keyring seals and opens stored values under the master key. It is safe for concurrent use.
type Keyring struct {
	term uint32
	aead cipher.AEAD
}

// FromKey returns a keyring whose master key is key, which must be KeySize bytes. It does not
// retain key; the caller should Zero it once done.
func FromKey(key []byte) (*Keyring, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("keyring: master key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	// A random 96-bit nonce per value keeps Seal free of state; the term leaves room to
	// rotate to a new key long before the random-nonce limit of 2^32 values per key.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return &Keyring{term: currentTerm, aead: aead}, nil
}

// Seal encrypts and authenticates plaintext, bound to aad (the record key), so that the
// result opens only with the same aad. The result is Overhead bytes longer than plaintext.
func (k *Keyring) Seal(plaintext, aad []byte) []byte {
	out := make([]byte, headerSize, Overhead+len(plaintext))
	out[0] = formatVersion
	binary.BigEndian.PutUint32(out[1:], k.term)
	return k.aead.Seal(out, nil, plaintext, additionalData(out, aad))
}

// Open decrypts a value from Seal that was sealed with the same aad. Errors wrap ErrDecrypt.
func (k *Keyring) Open(ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes is too short to be sealed", ErrDecrypt, len(ciphertext))
	}
	if v := ciphertext[0]; v != formatVersion {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrDecrypt, v)
	}
	if term := binary.BigEndian.Uint32(ciphertext[1:headerSize]); term != k.term {
		return nil, fmt.Errorf("%w: sealed under master key term %d, which this keyring does not hold", ErrDecrypt, term)
	}
	plaintext, err := k.aead.Open(nil, nil, ciphertext[headerSize:], additionalData(ciphertext, aad))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (wrong key, or the value was altered or moved)", ErrDecrypt)
	}
	return plaintext, nil
}

// additionalData authenticates the header along with aad. It copies, because GCM forbids
// additional data that overlaps the output.
func additionalData(sealed, aad []byte) []byte {
	return append(sealed[:headerSize:headerSize], aad...)
}
