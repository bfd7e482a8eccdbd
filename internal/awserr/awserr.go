// Package awserr classifies failures as the AWS error codes clients switch on. An *Error holds
// the code, the HTTP status and the message shown to the client; the cause, if any, is kept
// for the log only. Rendering to a wire format happens in one place per protocol (awsproto).
package awserr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a classified AWS error.
type Error struct {
	Code    string // AWS error code, e.g. "NoSuchKey"
	Message string // shown to the client; never carries secrets
	Status  int    // HTTP status
	// Extra are protocol-specific fields shown to the client, e.g. S3's <Key> or <BucketName>.
	Extra map[string]string
	// Header are response headers sent with the error, e.g. Content-Range on a 416.
	Header http.Header
	// Cause is detail for the log, never shown to the client.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// With returns a copy of e carrying an extra client-visible field.
func (e *Error) With(name, value string) *Error {
	c := *e
	c.Extra = make(map[string]string, len(e.Extra)+1)
	for k, v := range e.Extra {
		c.Extra[k] = v
	}
	c.Extra[name] = value
	return &c
}

// WithHeader returns a copy of e that sends an extra response header.
func (e *Error) WithHeader(name, value string) *Error {
	c := *e
	c.Header = e.Header.Clone()
	if c.Header == nil {
		c.Header = http.Header{}
	}
	c.Header.Set(name, value)
	return &c
}

// New returns an error with code, the status the table gives it (400 when unknown) and msg.
func New(code, msg string) *Error {
	status, ok := statuses[code]
	if !ok {
		status = http.StatusBadRequest
	}
	return &Error{Code: code, Message: msg, Status: status}
}

// Newf is New with a formatted message.
func Newf(code, format string, args ...any) *Error {
	return New(code, fmt.Sprintf(format, args...))
}

// Wrap classifies cause as code with a client message, keeping cause for the log.
func Wrap(code, msg string, cause error) *Error {
	e := New(code, msg)
	e.Cause = cause
	return e
}

// As returns err as an *Error. Unclassified errors become InternalError, with err kept as the
// cause for the log and a generic message for the client.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(InternalError, "We encountered an internal error. Please try again.", err)
}

// Codes used across front-ends. Service-specific codes may be used as plain strings too; the
// table below gives their status.
const (
	InternalError                                  = "InternalError"
	AccessDenied                                   = "AccessDenied"
	InvalidAccessKeyID                             = "InvalidAccessKeyId"
	SignatureDoesNotMatch                          = "SignatureDoesNotMatch"
	RequestTimeTooSkewed                           = "RequestTimeTooSkewed"
	AuthorizationHeaderMalformed                   = "AuthorizationHeaderMalformed"
	MissingSecurityHeader                          = "MissingSecurityHeader"
	ExpiredToken                                   = "ExpiredToken"
	InvalidToken                                   = "InvalidToken"
	MalformedXML                                   = "MalformedXML"
	InvalidURI                                     = "InvalidURI"
	InvalidArgument                                = "InvalidArgument"
	InvalidRequest                                 = "InvalidRequest"
	InvalidBucketName                              = "InvalidBucketName"
	NoSuchBucket                                   = "NoSuchBucket"
	NoSuchKey                                      = "NoSuchKey"
	NoSuchVersion                                  = "NoSuchVersion"
	NoSuchUpload                                   = "NoSuchUpload"
	BucketAlreadyOwnedByYou                        = "BucketAlreadyOwnedByYou"
	BucketAlreadyExists                            = "BucketAlreadyExists"
	BucketNotEmpty                                 = "BucketNotEmpty"
	PreconditionFailed                             = "PreconditionFailed"
	InvalidRange                                   = "InvalidRange"
	BadDigest                                      = "BadDigest"
	InvalidDigest                                  = "InvalidDigest"
	XAmzContentSHA256Mismatch                      = "XAmzContentSHA256Mismatch"
	IncompleteBody                                 = "IncompleteBody"
	EntityTooLarge                                 = "EntityTooLarge"
	EntityTooSmall                                 = "EntityTooSmall"
	KeyTooLongError                                = "KeyTooLongError"
	MethodNotAllowed                               = "MethodNotAllowed"
	NotImplemented                                 = "NotImplemented"
	InvalidPart                                    = "InvalidPart"
	InvalidPartOrder                               = "InvalidPartOrder"
	NoSuchBucketPolicy                             = "NoSuchBucketPolicy"
	MalformedPolicy                                = "MalformedPolicy"
	ServerSideEncryptionConfigurationNotFoundError = "ServerSideEncryptionConfigurationNotFoundError"
	NoSuchPublicAccessBlockConfiguration           = "NoSuchPublicAccessBlockConfiguration"
	MissingContentLength                           = "MissingContentLength"
	RequestTimeout                                 = "RequestTimeout"
	InvalidLocationConstraint                      = "InvalidLocationConstraint"
	InvalidTag                                     = "InvalidTag"
	BadRequest                                     = "BadRequest"
	RequestEntityTooLarge                          = "RequestEntityTooLarge"
	IllegalVersioningConfigurationException        = "IllegalVersioningConfigurationException"
	InvalidEncryptionAlgorithmError                = "InvalidEncryptionAlgorithmError"
	// Query and JSON protocol codes.
	InvalidClientTokenID       = "InvalidClientTokenId"
	IncompleteSignature        = "IncompleteSignature"
	MissingAuthenticationToken = "MissingAuthenticationToken"
	InvalidAction              = "InvalidAction"
	ValidationError            = "ValidationError"
	SerializationException     = "SerializationException"
	UnknownOperationException  = "UnknownOperationException"
)

var statuses = map[string]int{
	InternalError:              http.StatusInternalServerError,
	NotImplemented:             http.StatusNotImplemented,
	AccessDenied:               http.StatusForbidden,
	InvalidAccessKeyID:         http.StatusForbidden,
	SignatureDoesNotMatch:      http.StatusForbidden,
	RequestTimeTooSkewed:       http.StatusForbidden,
	InvalidClientTokenID:       http.StatusForbidden,
	MissingAuthenticationToken: http.StatusForbidden,
	ExpiredToken:               http.StatusBadRequest,
	NoSuchBucket:               http.StatusNotFound,
	NoSuchKey:                  http.StatusNotFound,
	NoSuchVersion:              http.StatusNotFound,
	NoSuchUpload:               http.StatusNotFound,
	NoSuchBucketPolicy:         http.StatusNotFound,
	ServerSideEncryptionConfigurationNotFoundError: http.StatusNotFound,
	NoSuchPublicAccessBlockConfiguration:           http.StatusNotFound,
	BucketAlreadyOwnedByYou:                        http.StatusConflict,
	BucketAlreadyExists:                            http.StatusConflict,
	BucketNotEmpty:                                 http.StatusConflict,
	PreconditionFailed:                             http.StatusPreconditionFailed,
	RequestEntityTooLarge:                          http.StatusRequestEntityTooLarge,
	InvalidRange:                                   http.StatusRequestedRangeNotSatisfiable,
	MethodNotAllowed:                               http.StatusMethodNotAllowed,
	MissingContentLength:                           http.StatusLengthRequired,
}
