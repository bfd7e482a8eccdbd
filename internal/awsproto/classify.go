package awsproto

import (
	"errors"
	"io"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/sigv4"
)

// Classify turns an error into the AWS error a client of protocol p expects: an *awserr.Error
// as it is, a policy denial as the protocol words it, a signature failure as the service
// names it; anything else is an InternalError, its cause kept for the log. It is the one
// place errors meet a wire format.
func Classify(err error, p Protocol) *awserr.Error {
	var e *awserr.Error
	if errors.As(err, &e) {
		return e
	}
	s3 := p == RESTXML
	json := p == JSON10 || p == JSON11
	// A policy denial, from whichever service decided it: S3 and the Query services answer
	// AccessDenied (403), the JSON services AccessDeniedException.
	var denied *policy.DeniedError
	if errors.As(err, &denied) {
		if json {
			return awserr.Wrap("AccessDeniedException", denied.Message(), err)
		}
		return awserr.Wrap(awserr.AccessDenied, denied.Message(), err)
	}
	pick := func(s3Code, queryCode, jsonCode string) string {
		switch {
		case s3:
			return s3Code
		case json:
			return jsonCode
		}
		return queryCode
	}
	// Statuses come from awserr's table: 403 for the S3 and Query codes, 400 for the JSON
	// protocols' own exception names.
	var code, msg string
	switch {
	case errors.Is(err, sigv4.ErrMalformed):
		code, msg = pick(awserr.AuthorizationHeaderMalformed, awserr.IncompleteSignature, awserr.IncompleteSignature),
			"The authorization header is malformed."
	case errors.Is(err, sigv4.ErrExpiredToken):
		code, msg = pick("ExpiredToken", "ExpiredToken", "ExpiredTokenException"), "The security token included in the request is expired"
	case errors.Is(err, sigv4.ErrInvalidToken):
		code, msg = pick(awserr.InvalidToken, awserr.InvalidClientTokenID, "UnrecognizedClientException"),
			"The security token included in the request is invalid."
	case errors.Is(err, sigv4.ErrUnknownAccessKey):
		code, msg = pick(awserr.InvalidAccessKeyID, awserr.InvalidClientTokenID, "UnrecognizedClientException"),
			"The AWS Access Key Id you provided does not exist in our records."
	case errors.Is(err, sigv4.ErrSignatureMismatch):
		code, msg = pick(awserr.SignatureDoesNotMatch, awserr.SignatureDoesNotMatch, "InvalidSignatureException"),
			"The request signature we calculated does not match the signature you provided. Check your key and signing method."
	case errors.Is(err, sigv4.ErrRequestTimeTooSkewed):
		code, msg = pick(awserr.RequestTimeTooSkewed, awserr.SignatureDoesNotMatch, "InvalidSignatureException"),
			"The difference between the request time and the server's time is too large."
	case errors.Is(err, sigv4.ErrExpired):
		code, msg = awserr.AccessDenied, "Request has expired"
	case errors.Is(err, sigv4.ErrBodyTooLarge):
		code, msg = awserr.RequestEntityTooLarge, "Request body too large."
	case errors.Is(err, sigv4.ErrContentSHA256Mismatch):
		code, msg = awserr.XAmzContentSHA256Mismatch, "The provided 'x-amz-content-sha256' header does not match what was computed."
	case errors.Is(err, sigv4.ErrChecksumMismatch):
		// S3 answers a wrong trailing checksum as it answers a wrong checksum header.
		code, msg = awserr.BadDigest, "The checksum you specified in the trailer did not match the calculated checksum."
	case errors.Is(err, sigv4.ErrIncompleteBody), errors.Is(err, io.ErrUnexpectedEOF):
		code, msg = awserr.IncompleteBody, "The request body terminated unexpectedly."
	case errors.Is(err, sigv4.ErrMalformedChunk):
		code, msg = awserr.InvalidRequest, "The aws-chunked request body is malformed."
	default:
		return awserr.As(err)
	}
	return awserr.Wrap(code, msg, err)
}
