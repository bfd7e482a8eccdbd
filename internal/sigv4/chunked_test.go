package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stateward/stateward/internal/checksum"
)

// The example of the AWS documentation ("Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks" and its trailing-header sequel).
const (
	docSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docDate   = "20130524T000000Z"
	docScope  = "20130524/us-east-1/s3/aws4_request"
	docSeed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
)

var docData = bytes.Repeat([]byte{'a'}, 66560)

// chainSigner signs chunks and trailers as the AWS documentation describes; it shares no
// code with the decoder it tests.
type chainSigner struct {
	key  []byte
	prev string
}

func newChainSigner(seed string) *chainSigner {
	k := []byte("AWS4" + docSecret)
	for _, s := range []string{"20130524", "us-east-1", "s3", "aws4_request"} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(s))
		k = m.Sum(nil)
	}
	return &chainSigner{key: k, prev: seed}
}

func (s *chainSigner) sign(kind, hashes string) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%s\n%s\n%s\n%s\n%s", kind, docDate, docScope, s.prev, hashes)
	s.prev = hex.EncodeToString(m.Sum(nil))
	return s.prev
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// encode returns data as an aws-chunked body in the given payload mode, cut into chunks of
// chunkSize, ending with trailer ("name:value") when it is not empty. s signs the signed modes.
func encode(mode string, data []byte, chunkSize int, s *chainSigner, trailer string) []byte {
	var b bytes.Buffer
	for {
		chunk := data[:min(chunkSize, len(data))]
		data = data[len(chunk):]
		fmt.Fprintf(&b, "%x", len(chunk))
		if mode != streamingUnsignedTrailer {
			fmt.Fprintf(&b, ";chunk-signature=%s", s.sign("AWS4-HMAC-SHA256-PAYLOAD", sha256Hex(nil)+"\n"+sha256Hex(chunk)))
		}
		b.WriteString("\r\n")
		if len(chunk) == 0 {
			break
		}
		b.Write(chunk)
		b.WriteString("\r\n")
	}
	var canonical string // what the trailer signature covers
	if trailer != "" {
		b.WriteString(trailer + "\r\n")
		canonical = trailer + "\n"
	}
	if mode == streamingPayloadTrailer {
		fmt.Fprintf(&b, "x-amz-trailer-signature:%s\r\n", s.sign("AWS4-HMAC-SHA256-TRAILER", sha256Hex([]byte(canonical))))
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// TestDocumentationExamples verifies the AWS documentation's requests end to end: the seed
// signature from the headers, then every chunk, trailer and trailer signature. The encoder
// must reproduce the documented chunk signatures exactly.
func TestDocumentationExamples(t *testing.T) {
	tests := []struct {
		name    string
		headers string
		seed    string
		trailer string
		sigs    []string // chunk signatures, then the trailer signature
	}{
		{
			name: "signed chunks",
			headers: "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=" + docSeed + "\r\n" +
				"X-Amz-Content-Sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\r\n",
			seed: docSeed,
			sigs: []string{
				"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
				"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
				"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
			},
		},
		{
			name: "signed chunks and trailer",
			headers: "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e\r\n" +
				"X-Amz-Content-Sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER\r\n" +
				"X-Amz-Trailer: x-amz-checksum-crc32c\r\n",
			seed:    "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
			trailer: "x-amz-checksum-crc32c:sOO8/Q==",
			sigs: []string{
				"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
				"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
				"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
				"d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode := streamingPayload
			if tt.trailer != "" {
				mode = streamingPayloadTrailer
			}
			body := encode(mode, docData, 64<<10, newChainSigner(tt.seed), tt.trailer)
			for _, sig := range tt.sigs {
				if !bytes.Contains(body, []byte(sig)) {
					t.Fatalf("encoder did not produce the documented signature %s", sig)
				}
			}
			if tt.trailer == "" && len(body) != 66824 {
				t.Fatalf("encoded %d bytes, the documentation's Content-Length is 66824", len(body))
			}

			// Reading one byte at a time from the wire moves every boundary across bufio's buffer.
			for _, wire := range []func(io.Reader) io.Reader{nil, iotest.OneByteReader, iotest.HalfReader} {
				raw := "PUT /examplebucket/chunkObject.txt HTTP/1.1\r\nHost: s3.amazonaws.com\r\n" +
					"X-Amz-Date: 20130524T000000Z\r\nX-Amz-Storage-Class: REDUCED_REDUNDANCY\r\n" +
					"Content-Encoding: aws-chunked\r\nX-Amz-Decoded-Content-Length: 66560\r\n" +
					fmt.Sprintf("Content-Length: %d\r\n", len(body)) + tt.headers + "\r\n" + string(body)
				r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
				if err != nil {
					t.Fatal(err)
				}
				if wire != nil {
					r.Body = io.NopCloser(wire(r.Body))
				}
				res, err := Verify(r, time.Date(2013, 5, 24, 0, 5, 0, 0, time.UTC), func(string) (string, error) { return docSecret, nil })
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				rc, n, err := res.Body(r)
				if err != nil {
					t.Fatalf("Body: %v", err)
				}
				got, err := io.ReadAll(rc)
				if err != nil {
					t.Fatalf("reading body: %v", err)
				}
				if n != 66560 || !bytes.Equal(got, docData) {
					t.Fatalf("decoded %d bytes (declared %d), want the 66560 documented ones", len(got), n)
				}
				if name, value, _ := strings.Cut(tt.trailer, ":"); tt.trailer != "" && res.TrailerChecksums()[name] != value {
					t.Errorf("TrailerChecksums() = %v, want %s", res.TrailerChecksums(), tt.trailer)
				}
			}
		})
	}
}

// chunkResult is a verified request in the documentation's scope, for decoding test bodies.
func chunkResult(mode string) *Result {
	return &Result{
		Credential:  Credential{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Region: "us-east-1", Service: "s3"},
		Date:        time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC),
		PayloadHash: mode,
		scope:       docScope,
		key:         signingKey(docSecret, "20130524", "us-east-1", "s3"),
		signature:   docSeed,
	}
}

func decode(res *Result, body []byte, header map[string]string) ([]byte, error) {
	r := httptest.NewRequest(http.MethodPut, "/bucket/key", bytes.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	rc, _, err := res.Body(r)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestChunkedReader(t *testing.T) {
	data := make([]byte, 100<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	crc := checksum.CRC32C.New()
	crc.Write(data)
	trailer := "x-amz-checksum-crc32c:" + checksum.Encode(crc.Sum(nil))
	wrongTrailer := "x-amz-checksum-crc32c:AAAAAA=="
	const chunk = 64 << 10

	signed := func() []byte { return encode(streamingPayload, data, chunk, newChainSigner(docSeed), "") }
	signedTrailer := func(tr string) []byte {
		return encode(streamingPayloadTrailer, data, chunk, newChainSigner(docSeed), tr)
	}
	unsigned := func(tr string) []byte { return encode(streamingUnsignedTrailer, data, chunk, nil, tr) }
	replace := func(b []byte, old, new string) []byte {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("test body lacks %q", old)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
	// minio-go ends the checksum line with "\n" and puts a blank line before the signature.
	minioStyle := func() []byte {
		b := signedTrailer(trailer)
		return replace(b, trailer+"\r\n", trailer+"\n\r\n")
	}
	wantLen := fmt.Sprint(len(data))
	declared := map[string]string{"X-Amz-Decoded-Content-Length": wantLen}
	withTrailer := map[string]string{"X-Amz-Decoded-Content-Length": wantLen, "X-Amz-Trailer": "x-amz-checksum-crc32c"}

	tests := []struct {
		name   string
		mode   string
		body   []byte
		header map[string]string
		want   error // nil: decodes to data
	}{
		{"signed", streamingPayload, signed(), declared, nil},
		{"signed trailer", streamingPayloadTrailer, signedTrailer(trailer), withTrailer, nil},
		{"signed trailer mode, no trailer", streamingPayloadTrailer, signedTrailer(""), declared, nil},
		{"signed trailer minio-go layout", streamingPayloadTrailer, minioStyle(), withTrailer, nil},
		{"unsigned trailer", streamingUnsignedTrailer, unsigned(trailer), withTrailer, nil},
		{"unsigned without trailer", streamingUnsignedTrailer, unsigned(""), declared, nil},
		{"no declared length", streamingUnsignedTrailer, unsigned(""), nil, nil},

		{"empty body", streamingPayload, nil, declared, ErrIncompleteBody},
		{"truncated in chunk data", streamingPayload, signed()[:1000], declared, ErrIncompleteBody},
		{"truncated before final chunk", streamingPayload, signed()[:len(signed())-len("0;chunk-signature=")-64-4], declared, ErrIncompleteBody},
		{"truncated in trailers", streamingUnsignedTrailer, unsigned(trailer)[:len(unsigned(trailer))-2], withTrailer, ErrIncompleteBody},
		{"missing trailer", streamingUnsignedTrailer, unsigned(""), withTrailer, ErrIncompleteBody},
		{"missing trailer signature", streamingPayloadTrailer, encode(streamingPayload, data, chunk, newChainSigner(docSeed), trailer), withTrailer, ErrIncompleteBody},

		{"wrong chunk signature", streamingPayload, replace(signed(), ";chunk-signature=", ";chunk-signature=0"), declared, ErrSignatureMismatch},
		{"wrong seed", streamingPayload, encode(streamingPayload, data, chunk, newChainSigner(strings.Repeat("0", 64)), ""), declared, ErrSignatureMismatch},
		{"tampered data", streamingPayload, replace(signed(), "\r\n\x00\x07\x0e", "\r\n\x00\x07\x0f"), declared, ErrSignatureMismatch},
		{"tampered signed trailer", streamingPayloadTrailer, replace(signedTrailer(trailer), trailer, wrongTrailer), withTrailer, ErrSignatureMismatch},
		{"unsigned chunks in signed mode", streamingPayload, unsigned(""), declared, ErrMalformedChunk},

		{"wrong checksum, signed trailer", streamingPayloadTrailer, signedTrailer(wrongTrailer), withTrailer, ErrChecksumMismatch},
		{"wrong checksum, unsigned trailer", streamingUnsignedTrailer, unsigned(wrongTrailer), withTrailer, ErrChecksumMismatch},

		{"declared length too long", streamingPayload, signed(), map[string]string{"X-Amz-Decoded-Content-Length": fmt.Sprint(len(data) + 1)}, ErrIncompleteBody},
		{"declared length too short", streamingPayload, signed(), map[string]string{"X-Amz-Decoded-Content-Length": fmt.Sprint(len(data) - 1)}, ErrMalformedChunk},
		{"invalid declared length", streamingPayload, signed(), map[string]string{"X-Amz-Decoded-Content-Length": "-1"}, ErrMalformedChunk},
		{"chunk longer than its size", streamingUnsignedTrailer, replace(unsigned(""), "10000\r\n", "fff0\r\n"), nil, ErrMalformedChunk},
		{"invalid chunk size", streamingUnsignedTrailer, replace(unsigned(""), "10000\r\n", "-10000\r\n"), nil, ErrMalformedChunk},
		{"chunk header too long", streamingUnsignedTrailer, replace(unsigned(""), "10000\r\n", "10000;"+strings.Repeat("x", maxLine)+"\r\n"), nil, ErrMalformedChunk},
		{"undeclared trailer", streamingUnsignedTrailer, unsigned("x-amz-checksum-sha1:Kq5sNclPz7QV2+lfQIuc6R7oRu0="), withTrailer, ErrMalformedChunk},
		{"trailer without x-amz-trailer", streamingUnsignedTrailer, unsigned(trailer), declared, ErrMalformedChunk},
		{"unsupported x-amz-trailer", streamingUnsignedTrailer, unsigned(""), map[string]string{"X-Amz-Trailer": "x-amz-checksum-md5"}, ErrMalformedChunk},
		{"trailer in a mode without trailers", streamingPayload, signed(), withTrailer, ErrMalformedChunk},
		{"endless blank trailer lines", streamingUnsignedTrailer, append(unsigned("")[:len(unsigned(""))-2], strings.Repeat("\r\n", maxTrailerLines+1)...), withTrailer, ErrMalformedChunk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := chunkResult(tt.mode)
			got, err := decode(res, tt.body, tt.header)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				if res.TrailerChecksums() != nil {
					t.Errorf("trailers surfaced for a failed body: %v", res.TrailerChecksums())
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("decoded %d bytes, want the %d sent", len(got), len(data))
			}
			if name, _, _ := strings.Cut(trailer, ":"); tt.header["X-Amz-Trailer"] != "" && res.TrailerChecksums()[name] == "" {
				t.Errorf("TrailerChecksums() = %v, want %s", res.TrailerChecksums(), name)
			}
		})
	}
}

func FuzzChunkedReader(f *testing.F) {
	small := []byte("hello, chunked world")
	modes := []string{streamingUnsignedTrailer, streamingPayload, streamingPayloadTrailer}
	for i, mode := range modes {
		for _, tr := range []string{"", "x-amz-checksum-crc32c:AAAAAA=="} {
			var s *chainSigner
			if mode != streamingUnsignedTrailer {
				s = newChainSigner(docSeed)
			}
			b := encode(mode, small, 7, s, tr)
			f.Add(b, uint8(i), int64(len(small)), tr != "")
			f.Add(b[:len(b)/2], uint8(i), int64(-1), tr != "")
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, mode uint8, declared int64, withTrailer bool) {
		res := chunkResult(modes[int(mode)%len(modes)])
		header := map[string]string{}
		if declared >= 0 {
			header["X-Amz-Decoded-Content-Length"] = fmt.Sprint(declared)
		}
		if withTrailer && res.PayloadHash != streamingPayload {
			header["X-Amz-Trailer"] = "x-amz-checksum-crc32c"
		}
		got, err := decode(res, body, header)
		if err != nil {
			return
		}
		if declared >= 0 && int64(len(got)) != declared {
			t.Fatalf("decoded %d bytes, declared %d", len(got), declared)
		}
		if header["X-Amz-Trailer"] != "" && res.TrailerChecksums() == nil {
			t.Fatal("body accepted without its declared trailer")
		}
	})
}
