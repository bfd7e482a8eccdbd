package checksum

import (
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestAlgorithms(t *testing.T) {
	// check: the published check values of each CRC for "123456789" (and the plain digests);
	// hello: the values aws-sdk-go-v2's own checksum tests expect for "hello world".
	tests := []struct {
		alg          Algorithm
		header       string
		check, hello string
	}{
		{CRC32, "x-amz-checksum-crc32", "cbf43926", "DUoRhQ=="},
		{CRC32C, "x-amz-checksum-crc32c", "e3069283", "yZRlqg=="},
		{CRC64NVME, "x-amz-checksum-crc64nvme", "ae8b14860a799888", "jSnVw/bqjr4="},
		{SHA1, "x-amz-checksum-sha1", "f7c3bc1d808e04732adf679965ccc34ca7ae3441", "Kq5sNclPz7QV2+lfQIuc6R7oRu0="},
		{SHA256, "x-amz-checksum-sha256", "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225", "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="},
	}
	for _, tt := range tests {
		t.Run(string(tt.alg), func(t *testing.T) {
			h := tt.alg.New()
			io.WriteString(h, "123456789")
			if got := hex.EncodeToString(h.Sum(nil)); got != tt.check {
				t.Errorf("check value = %s, want %s", got, tt.check)
			}
			h = tt.alg.New()
			io.WriteString(h, "hello world")
			if got := Encode(h.Sum(nil)); got != tt.hello {
				t.Errorf(`"hello world" = %s, want %s`, got, tt.hello)
			}
			if got := tt.alg.Header(); got != tt.header {
				t.Errorf("Header() = %s, want %s", got, tt.header)
			}
			if a, ok := FromHeader(strings.ToUpper(tt.header)); !ok || a != tt.alg {
				t.Errorf("FromHeader(%s) = %s, %v", tt.header, a, ok)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		want Algorithm
		ok   bool
	}{
		{"CRC32", CRC32, true},
		{"crc32c", CRC32C, true},
		{"Crc64Nvme", CRC64NVME, true},
		{"sha1", SHA1, true},
		{"sHA256", SHA256, true},
		{"MD5", "", false},
		{"SHA512", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got, ok := Parse(tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFromHeader(t *testing.T) {
	tests := []struct {
		name string
		want Algorithm
		ok   bool
	}{
		{"x-amz-checksum-crc32", CRC32, true},
		{"X-Amz-Checksum-Sha256", SHA256, true},
		{"x-amz-checksum-", "", false},
		{"x-amz-checksum-md5", "", false},
		{"x-amz-checksum-algorithm", "", false},
		{"x-amz-checksum-mode", "", false},
		{"crc32", "", false},
	}
	for _, tt := range tests {
		if got, ok := FromHeader(tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("FromHeader(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNewUnknownPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New on an unknown algorithm did not panic")
		}
	}()
	Algorithm("MD5").New()
}

func TestMultiHasher(t *testing.T) {
	m := NewMultiHasher(CRC32, SHA256)
	// Two writes: the sums must cover the whole stream, not the last write.
	io.WriteString(m, "hello ")
	io.WriteString(m, "world")
	if got, want := hex.EncodeToString(m.MD5()), "5eb63bbbe01eeed093cb22bb8f5acdc3"; got != want {
		t.Errorf("MD5 = %s, want %s", got, want)
	}
	if got := m.Sum(CRC32); got != "DUoRhQ==" {
		t.Errorf("Sum(CRC32) = %s", got)
	}
	if got := m.Sum(SHA1); got != "" {
		t.Errorf("Sum of an algorithm not requested = %q, want empty", got)
	}

	tests := []struct {
		name string
		want map[Algorithm]string
		bad  Algorithm // "" when Verify must succeed
	}{
		{"none", nil, ""},
		{"match", map[Algorithm]string{CRC32: "DUoRhQ==", SHA256: "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="}, ""},
		{"mismatch", map[Algorithm]string{CRC32: "AAAAAA=="}, CRC32},
		{"not requested", map[Algorithm]string{CRC32C: "yZRlqg=="}, CRC32C},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Verify(tt.want)
			var mm *MismatchError
			switch {
			case tt.bad == "" && err != nil:
				t.Errorf("Verify = %v, want nil", err)
			case tt.bad != "" && (!errors.As(err, &mm) || mm.Algorithm != tt.bad):
				t.Errorf("Verify = %v, want a mismatch on %s", err, tt.bad)
			}
		})
	}
}
