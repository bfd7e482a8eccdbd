package kms

import (
	"github.com/stateward/stateward/internal/awserr"
)

// The error codes KMS clients switch on. They are all HTTP 400 except KMSInternalException,
// which awserr does not need to know: unknown codes default to 400.
const (
	CodeNotFound             = "NotFoundException"
	CodeDisabled             = "DisabledException"
	CodeInvalidState         = "KMSInvalidStateException"
	CodeInvalidCiphertext    = "InvalidCiphertextException"
	CodeIncorrectKey         = "IncorrectKeyException"
	CodeAlreadyExists        = "AlreadyExistsException"
	CodeValidation           = "ValidationException"
	CodeInvalidAliasName     = "InvalidAliasNameException"
	CodeNotAuthorized        = "NotAuthorizedException"
	CodeUnsupportedOperation = "UnsupportedOperationException"
	CodeLimitExceeded        = "LimitExceededException"
	CodeInvalidKeyUsage      = "InvalidKeyUsageException"
	CodeInvalidMarker        = "InvalidMarkerException"
	CodeMalformedPolicy      = "MalformedPolicyDocumentException"
	CodeTag                  = "TagException"
	CodeAccessDenied         = "AccessDeniedException"
	CodeDryRun               = "DryRunOperationException"
)

func errKeyNotFound(arn string) error {
	return awserr.Newf(CodeNotFound, "Key '%s' does not exist", arn)
}

func errAliasNotFound(arn string) error {
	return awserr.Newf(CodeNotFound, "Alias %s is not found.", arn)
}

func errInvalidKeyID(id string) error {
	return awserr.Newf(CodeNotFound, "Invalid keyId '%s'", id)
}

func errDisabled(arn string) error { return awserr.Newf(CodeDisabled, "%s is disabled.", arn) }

func errPendingDeletion(arn string) error {
	return awserr.Newf(CodeInvalidState, "%s is pending deletion.", arn)
}

// errInvalidCiphertext carries no message, as KMS sends none: the client learns nothing
// about which check failed.
func errInvalidCiphertext(cause error) error {
	return awserr.Wrap(CodeInvalidCiphertext, "", cause)
}

func errIncorrectKey() error {
	return awserr.New(CodeIncorrectKey, "The key ID in the request does not identify a CMK that can perform this operation.")
}

func errAWSManaged(arn string) error {
	return awserr.Newf(CodeUnsupportedOperation, "%s is an AWS managed key; only AWS can change it.", arn)
}

func errValidation(format string, args ...any) error {
	return awserr.Newf(CodeValidation, format, args...)
}

// errRequired is the validation error for a missing required member, e.g. "keyId".
func errRequired(member string) error {
	return errValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func errLength(member string, min, max int) error {
	return errValidation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length between %d and %d", member, min, max)
}
