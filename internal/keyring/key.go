package keyring

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[redacted]"

// Key is secret key material. It prints as "[redacted]" with every fmt verb and in log/slog,
// so a key cannot leak through a log line or an error by accident; Zero it after use.
type Key []byte

// String returns "[redacted]".
func (Key) String() string { return redacted }

// Format writes "[redacted]" for every verb, including %x and %d, which would otherwise
// print the bytes.
func (Key) Format(f fmt.State, verb rune) { io.WriteString(f, redacted) }

// LogValue implements slog.LogValuer.
func (Key) LogValue() slog.Value { return slog.StringValue(redacted) }

// NewDataKey returns a fresh random KeySize-byte key, such as the data key of one object
// version.
func NewDataKey() (Key, error) {
	k := make(Key, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return k, nil
}

// Zero overwrites b with zeros, so that a secret does not outlive its use in memory.
func Zero(b []byte) { clear(b) }
