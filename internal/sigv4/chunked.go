package sigv4

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/checksum"
)

const (
	// maxLine caps chunk headers and trailer lines; a signed chunk header is under 100 bytes.
	maxLine = 4096
	// maxTrailerLines caps the trailer section: a checksum, its signature and blank lines.
	maxTrailerLines = 8

	emptySHA256       = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	trailerSignature  = "x-amz-trailer-signature"
	chunkSignatureExt = "chunk-signature="
)

// chunkedReader decodes an aws-chunked body:
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n   … repeated, then a zero-size chunk,
//	name:value\r\n                                 trailers, if any
//	x-amz-trailer-signature:sig\r\n                signed trailers only
//	\r\n
//
// It streams chunk data through, holding at most one line in memory. Signed chunks form a
// chain seeded with the request signature: each chunk's signature covers its data and the
// previous signature, so neither chunks nor their order can be altered.
type chunkedReader struct {
	br   *bufio.Reader
	body io.Closer
	res  *Result // receives the trailers

	// Chunk signatures; key is nil for unsigned chunks.
	key           []byte
	stsScope      string // "<amz-date>\n<scope>\n" of each string to sign
	prev          string // previous signature in the chain
	signedTrailer bool   // an x-amz-trailer-signature line ends the trailers

	trailer string    // the trailer x-amz-trailer declares, "" for none
	sum     hash.Hash // checksum of the decoded bytes the trailer carries

	want     int64 // x-amz-decoded-content-length, -1 if not sent
	n        int64 // decoded bytes so far
	left     int64 // bytes left in the current chunk
	open     bool  // a chunk with data was started and not yet finished
	chunkSig string
	data     hash.Hash // SHA-256 of the current chunk's data, for signed chunks
	err      error     // sticky; io.EOF once the whole body verified
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.left == 0 {
		if c.err = c.next(); c.err != nil {
			return 0, c.err
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.n += int64(n)
	if c.key != nil {
		c.data.Write(p[:n])
	}
	if c.sum != nil {
		c.sum.Write(p[:n])
	}
	if err != nil {
		c.err = incomplete(err)
	}
	return n, c.err
}

func (c *chunkedReader) Close() error { return c.body.Close() }

// next finishes the current chunk and starts the next one. After the final chunk it reads
// the trailers and returns io.EOF if everything verified.
func (c *chunkedReader) next() error {
	if c.open {
		if line, err := c.line(); err != nil {
			return err
		} else if line != "" {
			return errorf(ErrMalformedChunk, "chunk data longer than its size")
		}
		if err := c.endChunk(); err != nil {
			return err
		}
	}
	line, err := c.line()
	if err != nil {
		return err
	}
	hexSize, ext, _ := strings.Cut(line, ";")
	size, err := strconv.ParseUint(hexSize, 16, 63)
	if err != nil {
		return errorf(ErrMalformedChunk, "invalid chunk size %q", hexSize)
	}
	if c.key != nil {
		var ok bool
		if c.chunkSig, ok = strings.CutPrefix(ext, chunkSignatureExt); !ok {
			return errorf(ErrMalformedChunk, "chunk without %s", chunkSignatureExt)
		}
	}
	if c.want >= 0 && int64(size) > c.want-c.n {
		return errorf(ErrMalformedChunk, "chunks exceed x-amz-decoded-content-length %d", c.want)
	}
	c.left, c.open = int64(size), size > 0
	if c.open {
		return nil
	}
	// The final, empty chunk is signed too.
	if err := c.endChunk(); err != nil {
		return err
	}
	if c.want >= 0 && c.n != c.want {
		return errorf(ErrIncompleteBody, "decoded %d bytes, x-amz-decoded-content-length is %d", c.n, c.want)
	}
	return c.trailers()
}

// endChunk verifies the signature of the chunk just read.
func (c *chunkedReader) endChunk() error {
	if c.key == nil {
		return nil
	}
	err := c.verify("AWS4-HMAC-SHA256-PAYLOAD", emptySHA256+"\n"+hex.EncodeToString(c.data.Sum(nil)), c.chunkSig)
	c.data.Reset()
	return err
}

// verify checks sig against the next link of the signature chain.
func (c *chunkedReader) verify(kind, hashes, sig string) error {
	want := hex.EncodeToString(hmacSHA256(c.key, kind+"\n"+c.stsScope+c.prev+"\n"+hashes))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return errorf(ErrSignatureMismatch, "%s signature after %d bytes", kind, c.n)
	}
	c.prev = want
	return nil
}

// trailers reads the trailer section, verifies its signature and the checksum it carries,
// and returns io.EOF when all is well.
func (c *chunkedReader) trailers() error {
	var value, sig string
	for range maxTrailerLines {
		line, err := c.line()
		if err != nil {
			return err
		}
		if line == "" {
			if (c.trailer == "" || value != "") && (!c.signedTrailer || sig != "") {
				return c.finish(value, sig)
			}
			continue // minio-go sends a blank line before the trailer signature
		}
		name, v, ok := strings.Cut(line, ":")
		name, v = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(v)
		switch {
		case !ok || sig != "":
			return errorf(ErrMalformedChunk, "unexpected trailer line %q", line)
		case name == c.trailer && value == "" && v != "":
			value = v
		case name == trailerSignature && c.signedTrailer:
			sig = v
		default:
			return errorf(ErrMalformedChunk, "unexpected trailer %q", name)
		}
	}
	return errorf(ErrMalformedChunk, "more than %d trailer lines", maxTrailerLines)
}

func (c *chunkedReader) finish(value, sig string) error {
	if c.signedTrailer {
		var canonical string // the signature covers the trailer as "name:value\n"
		if c.trailer != "" {
			canonical = c.trailer + ":" + value + "\n"
		}
		sum := sha256.Sum256([]byte(canonical))
		if err := c.verify("AWS4-HMAC-SHA256-TRAILER", hex.EncodeToString(sum[:]), sig); err != nil {
			return err
		}
	}
	if c.trailer != "" {
		if got := checksum.Encode(c.sum.Sum(nil)); got != value {
			return errorf(ErrChecksumMismatch, "%s is %s, trailer says %s", c.trailer, got, value)
		}
		c.res.trailers = map[string]string{c.trailer: value}
	}
	return io.EOF
}

// line reads a line of at most maxLine bytes, without its "\r\n" (or bare "\n").
func (c *chunkedReader) line() (string, error) {
	b, err := c.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", errorf(ErrMalformedChunk, "line longer than %d bytes", maxLine)
	case err != nil:
		return "", incomplete(err)
	}
	b = b[:len(b)-1]
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return string(b), nil
}

// incomplete classifies a read error: the body ending early is the client's fault.
func incomplete(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf(ErrIncompleteBody, "aws-chunked body truncated")
	}
	return err
}
