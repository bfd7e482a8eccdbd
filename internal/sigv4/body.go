package sigv4

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/checksum"
)

// Body returns the payload of r, the request res verified, and its length (-1 if unknown).
// Call it at most once. The reader checks the payload as it streams and reports a failure
// instead of io.EOF, so a caller that commits only after reading io.EOF never commits a body
// that failed; the bytes it delivered before the error must be discarded:
//
//   - a hex payload hash: ErrContentSHA256Mismatch at the end if the body differs;
//   - UNSIGNED-PAYLOAD, or a body Verify already hashed: the body as is;
//   - aws-chunked (STREAMING-…): the decoded bytes. Every chunk signature is checked at its
//     chunk's end (ErrSignatureMismatch), the framing (ErrMalformedChunk, ErrIncompleteBody),
//     the length against x-amz-decoded-content-length, and the trailing checksum named by
//     x-amz-trailer (ErrChecksumMismatch), whose value TrailerChecksums then returns.
//
// Closing the reader closes r.Body.
func (res *Result) Body(r *http.Request) (io.ReadCloser, int64, error) {
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	switch p := res.PayloadHash; {
	case res.bodyHashed, p == unsignedPayload:
		return body, r.ContentLength, nil
	case strings.HasPrefix(p, "STREAMING-"):
		return res.chunked(r, body)
	default:
		want, _ := hex.DecodeString(p) // Verify checked it is hex
		return &hashReader{ReadCloser: body, h: sha256.New(), want: want}, r.ContentLength, nil
	}
}

// hashReader returns ErrContentSHA256Mismatch instead of io.EOF if the body's SHA-256 is not want.
type hashReader struct {
	io.ReadCloser
	h    hash.Hash
	want []byte
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.ReadCloser.Read(p)
	h.h.Write(p[:n])
	if err == io.EOF {
		if sum := h.h.Sum(nil); !bytes.Equal(sum, h.want) {
			err = errorf(ErrContentSHA256Mismatch, "body SHA-256 is %x", sum)
		}
	}
	return n, err
}

// chunked sets up the aws-chunked decoder for r's body.
func (res *Result) chunked(r *http.Request, body io.ReadCloser) (io.ReadCloser, int64, error) {
	c := &chunkedReader{br: bufio.NewReaderSize(body, maxLine), body: body, res: res, want: -1, data: sha256.New()}
	if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return nil, 0, errorf(ErrMalformedChunk, "invalid x-amz-decoded-content-length %q", v)
		}
		c.want = n
	}
	if v := r.Header.Get("X-Amz-Trailer"); v != "" {
		alg, ok := checksum.FromHeader(strings.TrimSpace(v))
		if !ok || !strings.HasSuffix(res.PayloadHash, "-TRAILER") {
			return nil, 0, errorf(ErrMalformedChunk, "unsupported x-amz-trailer %q with %s", v, res.PayloadHash)
		}
		c.trailer, c.sum = alg.Header(), alg.New()
	}
	if res.PayloadHash != streamingUnsignedTrailer {
		c.key, c.prev = res.key, res.signature
		c.stsScope = res.Date.Format(timeFormat) + "\n" + res.scope + "\n"
		c.signedTrailer = res.PayloadHash == streamingPayloadTrailer
	}
	return c, c.want, nil
}
