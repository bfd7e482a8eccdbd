// Package sigv4 verifies AWS Signature Version 4 on incoming requests: the Authorization
// header, presigned URLs, and the aws-chunked bodies S3 clients stream (signed or unsigned
// chunks, with or without a trailing checksum). It knows no identities: the caller supplies
// the secret for an access key id, and maps the sentinel errors to AWS error codes.
package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The errors Verify and the body readers return, wrapped with detail; test with errors.Is.
var (
	ErrMissingAuth      = errors.New("sigv4: request is not signed") // anonymous request
	ErrMalformed        = errors.New("sigv4: malformed authorization")
	ErrUnknownAccessKey = errors.New("sigv4: unknown access key id") // wrap it in lookup errors
	// ErrInvalidToken and ErrExpiredToken are for lookups to wrap: a session token that does
	// not belong to the access key (or a token with a long-term key), and one whose session
	// has ended or was revoked.
	ErrInvalidToken          = errors.New("sigv4: invalid security token")
	ErrExpiredToken          = errors.New("sigv4: security token expired")
	ErrSignatureMismatch     = errors.New("sigv4: signature does not match")
	ErrRequestTimeTooSkewed  = errors.New("sigv4: request time too skewed")
	ErrExpired               = errors.New("sigv4: request has expired")
	ErrBodyTooLarge          = errors.New("sigv4: body too large to hash")
	ErrContentSHA256Mismatch = errors.New("sigv4: body does not match x-amz-content-sha256")
	ErrChecksumMismatch      = errors.New("sigv4: body does not match its trailing checksum")
	ErrIncompleteBody        = errors.New("sigv4: body ended early")
	ErrMalformedChunk        = errors.New("sigv4: malformed aws-chunked body")
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	timeFormat = "20060102T150405Z"
	dateFormat = "20060102"
	maxSkew    = 15 * time.Minute
	maxExpires = 7 * 24 * 60 * 60 // seconds

	// MaxBody caps the bodies Verify reads into memory to hash them: those of non-S3
	// services, which do not send x-amz-content-sha256.
	MaxBody = 16 << 20
)

// Payload hash values other than a hex SHA-256 (x-amz-content-sha256).
const (
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingPayload         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingPayloadTrailer  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
)

// Credential is the access key and scope a request was signed with.
type Credential struct {
	AccessKeyID string
	Region      string // any region is accepted
	Service     string // s3, dynamodb, sts, iam, kms, ssm, …
}

// Result describes a request whose signature verified.
type Result struct {
	Credential
	Date          time.Time // X-Amz-Date
	SignedHeaders []string  // as the signature lists them
	SessionToken  string    // X-Amz-Security-Token, not validated here
	Presigned     bool
	// PayloadHash is the payload hash the signature covers: x-amz-content-sha256 verbatim
	// (a hex digest, UNSIGNED-PAYLOAD or a STREAMING-… mode), or the hex SHA-256 Verify
	// computed for a request without that header.
	PayloadHash string

	scope      string // date/region/service/aws4_request
	key        []byte // signing key, for chunk signatures
	signature  string // seeds the chunk signature chain
	bodyHashed bool   // Verify read the body and checked PayloadHash itself
	trailers   map[string]string
}

// Claim is what a request says about its signature, parsed but not verified.
type Claim struct {
	Credential
	scopeDate     string // YYYYMMDD
	signedHeaders string // as sent, ';'-separated
	signature     string
	amzDate       string
	presigned     bool
	expires       int // seconds, presigned only
	sessionToken  string
	payloadHash   string // "" when the request does not say
}

// Verify checks the SigV4 signature of r as of now. lookup returns the secret key of an
// access key id; an error it returns is passed on wrapped, so a lookup that wraps
// ErrUnknownAccessKey yields an error that is ErrUnknownAccessKey. Other errors are
// ErrMissingAuth, ErrMalformed, ErrRequestTimeTooSkewed, ErrExpired, ErrBodyTooLarge and
// ErrSignatureMismatch, or a failure to read the body.
//
// For a request without x-amz-content-sha256 to a service other than s3, Verify reads the
// body (at most MaxBody bytes) to hash it and replaces r.Body with the bytes it read.
// Otherwise it does not read the body: Result.Body decodes and checks it.
func Verify(r *http.Request, now time.Time, lookup func(accessKeyID string) (secret string, err error)) (*Result, error) {
	a, err := Parse(r)
	if err != nil {
		return nil, err
	}
	return a.Verify(r, now, lookup)
}

// SessionToken is the request's X-Amz-Security-Token (header or presigned query), not
// validated here: the key lookup decides whether it belongs to the access key.
func (a *Claim) SessionToken() string { return a.sessionToken }

// Verify is the package's Verify for a request already parsed into a.
func (a *Claim) Verify(r *http.Request, now time.Time, lookup func(accessKeyID string) (secret string, err error)) (*Result, error) {
	date, err := time.Parse(timeFormat, a.amzDate)
	if err != nil {
		return nil, errorf(ErrMalformed, "missing or invalid X-Amz-Date %q", a.amzDate)
	}
	if date.Format(dateFormat) != a.scopeDate {
		return nil, errorf(ErrMalformed, "credential date %s is not the date of the request time %s", a.scopeDate, a.amzDate)
	}
	if a.presigned {
		if now.After(date.Add(time.Duration(a.expires) * time.Second)) {
			return nil, errorf(ErrExpired, "signed at %s for %d seconds", a.amzDate, a.expires)
		}
		if date.Sub(now) > maxSkew {
			return nil, errorf(ErrRequestTimeTooSkewed, "presigned for %s, not valid yet", a.amzDate)
		}
	} else if d := now.Sub(date); d > maxSkew || d < -maxSkew {
		return nil, errorf(ErrRequestTimeTooSkewed, "request time %s, server time %s", a.amzDate, now.UTC().Format(timeFormat))
	}

	secret, err := lookup(a.AccessKeyID)
	if err != nil {
		return nil, fmt.Errorf("sigv4: looking up access key %s: %w", a.AccessKeyID, err)
	}

	res := &Result{
		Credential:    a.Credential,
		Date:          date,
		SignedHeaders: strings.Split(a.signedHeaders, ";"),
		SessionToken:  a.sessionToken,
		Presigned:     a.presigned,
		PayloadHash:   a.payloadHash,
		scope:         a.scopeDate + "/" + a.Region + "/" + a.Service + "/aws4_request",
	}
	// Unsigned Host would let a signature be replayed against another endpoint; AWS refuses it.
	if !slices.Contains(res.SignedHeaders, "host") {
		return nil, errorf(ErrMalformed, "host must be a signed header")
	}
	switch {
	case res.PayloadHash != "" && a.Service != "s3":
		// Unsigned and streaming payloads are S3's alone: every other service's signature
		// must cover its body, so the body is hashed and must match what was signed.
		sum, err := hashBody(r)
		if err != nil {
			return nil, err
		}
		if res.PayloadHash != sum {
			if !isDigest(res.PayloadHash) {
				return nil, errorf(ErrMalformed, "x-amz-content-sha256 %q: service %s needs the body's SHA-256", res.PayloadHash, a.Service)
			}
			return nil, errorf(ErrContentSHA256Mismatch, "body SHA-256 is %s", sum)
		}
		res.bodyHashed = true
	case res.PayloadHash != "":
		if !validPayloadHash(res.PayloadHash) {
			return nil, errorf(ErrMalformed, "invalid x-amz-content-sha256 %q", res.PayloadHash)
		}
	case a.Service != "s3":
		// Only S3 sends x-amz-content-sha256; other services sign a hash of the body.
		if res.PayloadHash, err = hashBody(r); err != nil {
			return nil, err
		}
		res.bodyHashed = true
	case a.presigned:
		res.PayloadHash = unsignedPayload
	default:
		return nil, errorf(ErrMalformed, "missing x-amz-content-sha256")
	}

	creq, err := canonicalRequest(r, res.SignedHeaders, res.PayloadHash, a.presigned)
	if err != nil {
		return nil, err
	}
	creqSum := sha256.Sum256([]byte(creq))
	stringToSign := algorithm + "\n" + a.amzDate + "\n" + res.scope + "\n" + hex.EncodeToString(creqSum[:])
	res.key = signingKey(secret, a.scopeDate, a.Region, a.Service)
	res.signature = hex.EncodeToString(hmacSHA256(res.key, stringToSign))
	if !hmac.Equal([]byte(res.signature), []byte(a.signature)) {
		return nil, errorf(ErrSignatureMismatch, "access key %s, string to sign %q", a.AccessKeyID, stringToSign)
	}
	return res, nil
}

// TrailerChecksums returns the trailing headers of an aws-chunked body, by lowercase name
// (x-amz-checksum-crc32: base64 value), once the reader from Body has returned io.EOF: by
// then the checksum has been verified against the decoded bytes. It is nil before that and
// for bodies without trailers.
func (res *Result) TrailerChecksums() map[string]string { return res.trailers }

// Parse returns what a request claims, without verifying anything, so that a gateway can
// route on the scope's service before it verifies the claim. It returns ErrMissingAuth for
// an unsigned request and ErrMalformed for one it cannot parse.
func Parse(r *http.Request) (*Claim, error) {
	h := r.Header.Get("Authorization")
	q := r.URL.Query()
	switch {
	case h != "" && q.Has("X-Amz-Algorithm"):
		return nil, errorf(ErrMalformed, "both an Authorization header and a presigned query")
	case h != "":
		return parseHeader(r, h)
	case q.Has("X-Amz-Algorithm"):
		return parseQuery(q)
	}
	return nil, ErrMissingAuth
}

// parseHeader parses "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…"; the
// separators may lack the space.
func parseHeader(r *http.Request, h string) (*Claim, error) {
	alg, fields, _ := strings.Cut(h, " ")
	if alg != algorithm {
		return nil, errorf(ErrMalformed, "unsupported authorization type %q", alg)
	}
	a := &Claim{
		amzDate:      r.Header.Get("X-Amz-Date"),
		sessionToken: r.Header.Get("X-Amz-Security-Token"),
		payloadHash:  r.Header.Get("X-Amz-Content-Sha256"),
	}
	var cred string
	for f := range strings.SplitSeq(fields, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			a.signedHeaders = v
		case "Signature":
			a.signature = v
		}
	}
	if cred == "" || a.signedHeaders == "" || a.signature == "" {
		return nil, errorf(ErrMalformed, "authorization header needs Credential, SignedHeaders and Signature")
	}
	return a, a.parseScope(cred)
}

func parseQuery(q url.Values) (*Claim, error) {
	if alg := q.Get("X-Amz-Algorithm"); alg != algorithm {
		return nil, errorf(ErrMalformed, "unsupported X-Amz-Algorithm %q", alg)
	}
	a := &Claim{
		presigned:     true,
		signedHeaders: q.Get("X-Amz-SignedHeaders"),
		signature:     q.Get("X-Amz-Signature"),
		amzDate:       q.Get("X-Amz-Date"),
		sessionToken:  q.Get("X-Amz-Security-Token"),
		payloadHash:   q.Get("X-Amz-Content-Sha256"),
	}
	exp, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || exp < 0 || exp > maxExpires {
		return nil, errorf(ErrMalformed, "X-Amz-Expires must be 0 to %d seconds", maxExpires)
	}
	a.expires = exp
	if a.signedHeaders == "" || a.signature == "" {
		return nil, errorf(ErrMalformed, "presigned query needs X-Amz-SignedHeaders and X-Amz-Signature")
	}
	return a, a.parseScope(q.Get("X-Amz-Credential"))
}

// parseScope parses AKID/YYYYMMDD/REGION/SERVICE/aws4_request.
func (a *Claim) parseScope(cred string) error {
	p := strings.Split(cred, "/")
	if len(p) != 5 || p[0] == "" || p[2] == "" || p[3] == "" || p[4] != "aws4_request" {
		return errorf(ErrMalformed, "credential %q is not AKID/date/region/service/aws4_request", cred)
	}
	if _, err := time.Parse(dateFormat, p[1]); err != nil {
		return errorf(ErrMalformed, "credential date %q is not YYYYMMDD", p[1])
	}
	a.AccessKeyID, a.scopeDate, a.Region, a.Service = p[0], p[1], p[2], p[3]
	return nil
}

// isDigest reports whether p is a hex SHA-256 digest.
func isDigest(p string) bool {
	b, err := hex.DecodeString(p)
	return err == nil && len(b) == sha256.Size
}

func validPayloadHash(p string) bool {
	switch p {
	case unsignedPayload, streamingUnsignedTrailer, streamingPayload, streamingPayloadTrailer:
		return true
	}
	return isDigest(p)
}

// hashBody reads the body into memory, puts it back as r.Body and returns its hex SHA-256.
func hashBody(r *http.Request) (string, error) {
	if r.ContentLength > MaxBody {
		return "", errorf(ErrBodyTooLarge, "%d bytes, at most %d", r.ContentLength, MaxBody)
	}
	var b []byte
	if r.Body != nil {
		var err error
		b, err = io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		r.Body.Close()
		if err != nil {
			return "", fmt.Errorf("sigv4: reading body: %w", err)
		}
		if len(b) > MaxBody {
			return "", errorf(ErrBodyTooLarge, "more than %d bytes", MaxBody)
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// errorf wraps a sentinel with detail for the log.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
