package keyring

import (
	"bytes"
	"errors"
	"testing"
)

func testStream(t testing.TB, key, aad string) *Stream {
	t.Helper()
	s, err := NewStream(bytes.Repeat([]byte(key), KeySize/len(key)), []byte(aad))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sealBody splits body into segments of size n (the last may be shorter or empty).
func sealBody(s *Stream, body []byte, n int) [][]byte {
	var segs [][]byte
	for i := uint64(0); ; i++ {
		chunk := body[:min(n, len(body))]
		body = body[len(chunk):]
		last := len(body) == 0
		segs = append(segs, s.SealSegment(nil, chunk, i, last))
		if last {
			return segs
		}
	}
}

func openBody(s *Stream, segs [][]byte) ([]byte, error) {
	var body []byte
	for i, seg := range segs {
		var err error
		if body, err = s.OpenSegment(body, seg, uint64(i), i == len(segs)-1); err != nil {
			return nil, err
		}
	}
	return body, nil
}

func TestNewStreamKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := NewStream(make([]byte, n), nil); err == nil {
			t.Errorf("NewStream(%d-byte key) succeeded; want an error", n)
		}
	}
}

func TestStreamRoundTrip(t *testing.T) {
	s := testStream(t, "k", "bucket/key#v1")
	tests := []struct {
		name    string
		size    int
		segment int
	}{
		{"empty body", 0, 16},
		{"one short segment", 5, 16},
		{"exact segments", 64, 16},
		{"partial last", 70, 16},
		{"large", 1<<20 + 3, 64 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := make([]byte, tt.size)
			for i := range body {
				body[i] = byte(i)
			}
			segs := sealBody(s, body, tt.segment)
			for i, seg := range segs[:len(segs)-1] {
				if len(seg) != tt.segment+SegmentOverhead {
					t.Errorf("segment %d is %d bytes, want %d", i, len(seg), tt.segment+SegmentOverhead)
				}
			}
			got, err := openBody(s, segs)
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("round trip: %d bytes, %v; want %d bytes back", len(got), err, len(body))
			}
		})
	}
}

func TestStreamInPlace(t *testing.T) {
	s := testStream(t, "k", "v")
	buf := make([]byte, 10, 10+SegmentOverhead)
	copy(buf, "0123456789")
	sealed := s.SealSegment(buf[:0], buf, 0, true)
	opened, err := s.OpenSegment(sealed[:0], sealed, 0, true)
	if err != nil || string(opened) != "0123456789" {
		t.Errorf("in place: %q, %v", opened, err)
	}
}

func TestStreamRejects(t *testing.T) {
	s := testStream(t, "k", "bucket/key#v1")
	segs := sealBody(s, []byte("aaaabbbbcccc"), 4) // three segments, the last is "cccc"
	flipped := bytes.Clone(segs[1])
	flipped[2] ^= 1
	tests := []struct {
		name  string
		s     *Stream
		segs  [][]byte
		index uint64
		last  bool
		open  int // which of segs to open
	}{
		{"reordered", s, segs, 0, false, 1},
		{"reordered last", s, segs, 1, false, 2},
		{"non-last opened as last (truncation)", s, segs, 1, true, 1},
		{"last opened as non-last (extension)", s, segs, 2, false, 2},
		{"flipped bit", s, [][]byte{flipped}, 1, false, 0},
		{"cut tag", s, [][]byte{segs[1][:len(segs[1])-1]}, 1, false, 0},
		{"other aad", testStream(t, "k", "bucket/key#v2"), segs, 0, false, 0},
		{"other key", testStream(t, "j", "bucket/key#v1"), segs, 0, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.OpenSegment(nil, tt.segs[tt.open], tt.index, tt.last)
			if !errors.Is(err, ErrDecrypt) || got != nil {
				t.Errorf("OpenSegment = %q, %v; want nil, ErrDecrypt", got, err)
			}
		})
	}
	// A body with its last segment dropped must fail as a whole.
	if _, err := openBody(s, segs[:2]); !errors.Is(err, ErrDecrypt) {
		t.Errorf("truncated body: err = %v, want ErrDecrypt", err)
	}
	// Swapping whole segments in a body must fail as a whole.
	if _, err := openBody(s, [][]byte{segs[1], segs[0], segs[2]}); !errors.Is(err, ErrDecrypt) {
		t.Errorf("reordered body: err = %v, want ErrDecrypt", err)
	}
}

func BenchmarkSealSegment(b *testing.B) {
	s := testStream(b, "k", "bucket/key#v1")
	plaintext := make([]byte, 1<<20)
	dst := make([]byte, 0, len(plaintext)+SegmentOverhead)
	b.SetBytes(int64(len(plaintext)))
	for b.Loop() {
		s.SealSegment(dst, plaintext, 7, false)
	}
}
