package s3

import (
	"io"
	"strings"
	"testing"

	"github.com/stateward/stateward/internal/awserr"
)

func TestCapped(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		limit   int64
		wantErr string
	}{
		{"shorter", "abc", 5, ""},
		{"exact", "abcde", 5, ""},
		{"one over", "abcdef", 5, awserr.EntityTooLarge},
		{"far over", strings.Repeat("x", 1<<20), 1000, awserr.EntityTooLarge},
		{"empty at zero", "", 0, ""},
		{"one byte at zero", "x", 0, awserr.EntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(capped(strings.NewReader(tt.body), tt.limit))
			if tt.wantErr == "" {
				if err != nil || string(got) != tt.body {
					t.Fatalf("read %d bytes, %v; want the whole body", len(got), err)
				}
				return
			}
			if !isCode(err, tt.wantErr) {
				t.Fatalf("err = %v, want %s", err, tt.wantErr)
			}
		})
	}
}

func TestCheckCopySize(t *testing.T) {
	for _, tt := range []struct {
		n  int64
		ok bool
	}{{0, true}, {5 << 30, true}, {5<<30 + 1, false}, {1 << 40, false}} {
		err := checkCopySize(tt.n)
		if tt.ok != (err == nil) || (err != nil && (!isCode(err, awserr.InvalidRequest) || !strings.Contains(err.Error(), "5368709120"))) {
			t.Errorf("checkCopySize(%d) = %v", tt.n, err)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		header           string
		size             int64
		start, end       int64
		partial, invalid bool
	}{
		{"", 10, 0, 10, false, false},
		{"bytes=0-4", 10, 0, 5, true, false},
		{"bytes=5-", 10, 5, 10, true, false},
		{"bytes=-3", 10, 7, 10, true, false},
		{"bytes=-30", 10, 0, 10, true, false},
		{"bytes=8-100", 10, 8, 10, true, false},
		{"bytes=10-", 10, 0, 0, false, true},
		{"bytes=0-", 0, 0, 0, false, true},
		{"bytes=-0", 10, 0, 0, false, true},
		{"bytes=0-1,3-4", 10, 0, 10, false, false}, // several ranges: ignored, as S3 does
		{"bytes=4-2", 10, 0, 10, false, false},     // malformed: ignored
		{"items=0-1", 10, 0, 10, false, false},
	}
	for _, tt := range tests {
		start, end, partial, err := parseRange(tt.header, tt.size)
		if tt.invalid {
			if !isCode(err, awserr.InvalidRange) {
				t.Errorf("parseRange(%q, %d) err = %v, want InvalidRange", tt.header, tt.size, err)
			}
			continue
		}
		if err != nil || start != tt.start || end != tt.end || partial != tt.partial {
			t.Errorf("parseRange(%q, %d) = %d, %d, %v, %v; want %d, %d, %v", tt.header, tt.size, start, end, partial, err, tt.start, tt.end, tt.partial)
		}
	}
}
