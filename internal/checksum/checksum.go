// Package checksum implements the S3 object checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256)
// and the MD5 behind Content-MD5 and ETags. On the wire a checksum is the base64 of the
// big-endian digest, carried in an x-amz-checksum-<algorithm> header or trailer.
package checksum

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"
)

// Algorithm is an S3 checksum algorithm, named as in x-amz-checksum-algorithm.
type Algorithm string

// The algorithms S3 accepts.
const (
	CRC32     Algorithm = "CRC32"
	CRC32C    Algorithm = "CRC32C"
	CRC64NVME Algorithm = "CRC64NVME"
	SHA1      Algorithm = "SHA1"
	SHA256    Algorithm = "SHA256"
)

const headerPrefix = "x-amz-checksum-"

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	// hash/crc64 wants the polynomial bit-reversed: 0xad93d23594c93659 reversed.
	nvme = crc64.MakeTable(0x9a6c9329ac4bc9b5)
)

// Parse returns the algorithm named by name, ignoring case; ok is false for unknown names.
func Parse(name string) (a Algorithm, ok bool) {
	switch a := Algorithm(strings.ToUpper(name)); a {
	case CRC32, CRC32C, CRC64NVME, SHA1, SHA256:
		return a, true
	}
	return "", false
}

// FromHeader returns the algorithm whose header (x-amz-checksum-crc32, …) is name, ignoring
// case; ok is false for any other name.
func FromHeader(name string) (a Algorithm, ok bool) {
	if len(name) <= len(headerPrefix) || !strings.EqualFold(name[:len(headerPrefix)], headerPrefix) {
		return "", false
	}
	return Parse(name[len(headerPrefix):])
}

// Header returns the lowercase header (and trailer) name that carries a's value.
func (a Algorithm) Header() string { return headerPrefix + strings.ToLower(string(a)) }

// New returns a new hash computing a. It panics if a is not one of the constants: algorithms
// from the wire come through Parse or FromHeader.
func (a Algorithm) New() hash.Hash {
	switch a {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(castagnoli)
	case CRC64NVME:
		return crc64.New(nvme)
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	}
	panic(fmt.Sprintf("checksum: unknown algorithm %q", string(a)))
}

// Encode returns the wire form of a digest: standard base64 with padding.
func Encode(sum []byte) string { return base64.StdEncoding.EncodeToString(sum) }

// MultiHasher computes MD5 and any number of checksums in one pass over a body: write the
// body to it (for instance through io.TeeReader), then read the sums. It is not safe for
// concurrent use.
type MultiHasher struct {
	md5  hash.Hash
	sums map[Algorithm]hash.Hash
}

// NewMultiHasher returns a MultiHasher computing MD5 and algs.
func NewMultiHasher(algs ...Algorithm) *MultiHasher {
	m := &MultiHasher{md5: md5.New(), sums: make(map[Algorithm]hash.Hash, len(algs))}
	for _, a := range algs {
		m.sums[a] = a.New()
	}
	return m
}

// Write feeds p to every hash; it never fails.
func (m *MultiHasher) Write(p []byte) (int, error) {
	m.md5.Write(p)
	for _, h := range m.sums {
		h.Write(p)
	}
	return len(p), nil
}

// MD5 returns the MD5 digest of what was written: hex for an ETag, base64 for Content-MD5.
func (m *MultiHasher) MD5() []byte { return m.md5.Sum(nil) }

// Sum returns the encoded checksum a of what was written, or "" if a was not requested.
func (m *MultiHasher) Sum(a Algorithm) string {
	h, ok := m.sums[a]
	if !ok {
		return ""
	}
	return Encode(h.Sum(nil))
}

// Verify compares the checksums written so far with want, a map from algorithm to the
// encoded value the client sent. It returns a *MismatchError for the first difference; an
// algorithm that was not requested from NewMultiHasher never matches.
func (m *MultiHasher) Verify(want map[Algorithm]string) error {
	for a, w := range want {
		if got := m.Sum(a); got != w {
			return &MismatchError{Algorithm: a, Got: got, Want: w}
		}
	}
	return nil
}

// MismatchError reports a checksum that differs from the one the client sent; S3 answers
// BadDigest.
type MismatchError struct {
	Algorithm Algorithm
	Got, Want string // encoded; Got is computed from the body
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("checksum: %s mismatch: computed %s, client sent %s", e.Algorithm, e.Got, e.Want)
}
