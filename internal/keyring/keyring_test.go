package keyring

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func testKeyring(t testing.TB, fill byte) *Keyring {
	t.Helper()
	kr, err := FromKey(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestFromKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := FromKey(make([]byte, n)); err == nil {
			t.Errorf("FromKey(%d bytes) succeeded; want an error", n)
		}
	}
}

func TestSealOpen(t *testing.T) {
	kr := testKeyring(t, 1)
	tests := []struct {
		name           string
		plaintext, aad []byte
	}{
		{"empty", nil, []byte("k")},
		{"empty aad", []byte("value"), nil},
		{"small", []byte("hello"), []byte("objects/b/k")},
		{"binary aad", []byte{0, 1, 2}, []byte{0x00, 0xff}},
		{"large", bytes.Repeat([]byte("x"), 1<<20), []byte("big")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed := kr.Seal(tt.plaintext, tt.aad)
			if got, want := len(sealed), len(tt.plaintext)+Overhead; got != want {
				t.Errorf("len(Seal) = %d, want %d", got, want)
			}
			if again := kr.Seal(tt.plaintext, tt.aad); bytes.Equal(sealed, again) {
				t.Error("Seal is deterministic; want a fresh nonce each time")
			}
			got, err := kr.Open(sealed, tt.aad)
			if err != nil || !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open = %q, %v; want the plaintext", got, err)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	kr := testKeyring(t, 1)
	aad := []byte("objects/b/k")
	sealed := kr.Seal([]byte("secret value"), aad)
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(sealed)) }
	tests := []struct {
		name       string
		kr         *Keyring
		ciphertext []byte
		aad        []byte
		wantMsg    string
	}{
		{"other aad", kr, sealed, []byte("objects/b/other"), "authentication"},
		{"aad prefix", kr, sealed, aad[:len(aad)-1], "authentication"},
		{"other key", testKeyring(t, 2), sealed, aad, "authentication"},
		{"flipped version", kr, edit(func(b []byte) []byte { b[0] ^= 1; return b }), aad, "version"},
		{"other term", kr, edit(func(b []byte) []byte { b[4] = 2; return b }), aad, "term 2"},
		{"flipped nonce", kr, edit(func(b []byte) []byte { b[headerSize] ^= 1; return b }), aad, "authentication"},
		{"flipped body", kr, edit(func(b []byte) []byte { b[headerSize+12] ^= 0x80; return b }), aad, "authentication"},
		{"flipped tag", kr, edit(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), aad, "authentication"},
		{"truncated", kr, sealed[:len(sealed)-1], aad, "authentication"},
		{"too short", kr, sealed[:Overhead-1], aad, "too short"},
		{"empty", kr, nil, aad, "too short"},
		{"appended", kr, append(bytes.Clone(sealed), 0), aad, "authentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.kr.Open(tt.ciphertext, tt.aad)
			if !errors.Is(err, ErrDecrypt) || got != nil {
				t.Fatalf("Open = %q, %v; want nil, ErrDecrypt", got, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

func BenchmarkSeal(b *testing.B) {
	kr := testKeyring(b, 1)
	plaintext := make([]byte, 1<<20)
	aad := []byte("objects/bucket/key")
	b.SetBytes(int64(len(plaintext)))
	for b.Loop() {
		kr.Seal(plaintext, aad)
	}
}

func BenchmarkOpen(b *testing.B) {
	kr := testKeyring(b, 1)
	aad := []byte("objects/bucket/key")
	sealed := kr.Seal(make([]byte, 1<<20), aad)
	b.SetBytes(1 << 20)
	for b.Loop() {
		if _, err := kr.Open(sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}
