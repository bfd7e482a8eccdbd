package ssm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
)

// The error codes SSM clients switch on, as the SSM API model names them. All are HTTP 400
// (awserr's default for codes it does not list).
const (
	CodeParameterNotFound        = "ParameterNotFound"
	CodeParameterAlreadyExists   = "ParameterAlreadyExists"
	CodeParameterVersionNotFound = "ParameterVersionNotFound"
	CodeParameterLimitExceeded   = "ParameterLimitExceeded"
	CodeMaxVersionLimitExceeded  = "ParameterMaxVersionLimitExceeded"
	CodeLabelLimitExceeded       = "ParameterVersionLabelLimitExceeded"
	CodeInvalidKeyID             = "InvalidKeyId"
	CodeValidation               = "ValidationException"
	CodeInvalidResourceID        = "InvalidResourceId"
	CodeInvalidResourceType      = "InvalidResourceType"
	CodeInvalidFilterKey         = "InvalidFilterKey"
	CodeInvalidFilterOption      = "InvalidFilterOption"
	CodeInvalidFilterValue       = "InvalidFilterValue"
	CodeInvalidNextToken         = "InvalidNextToken"
	CodePatternMismatch          = "ParameterPatternMismatchException"
	CodeInvalidAllowedPattern    = "InvalidAllowedPatternException"
	CodeHierarchyLevelLimit      = "HierarchyLevelLimitExceededException"
	CodeHierarchyTypeMismatch    = "HierarchyTypeMismatchException"
	CodeTooManyTags              = "TooManyTagsError"
	CodeUnsupportedParameterType = "UnsupportedParameterType"
)

func errValidation(format string, args ...any) error {
	return awserr.Newf(CodeValidation, format, args...)
}

// errRequired is the validation error for a missing required member, e.g. "name".
func errRequired(member string) error {
	return errValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func errLength(member, value string, min, max int) error {
	return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between %d and %d", value, member, min, max)
}

func errEnum(member, value string, set []string) error {
	return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", value, member, strings.Join(set, ", "))
}

func errParameterNotFound(name string) error {
	return awserr.Newf(CodeParameterNotFound, "Parameter %s not found.", name)
}

func errVersionNotFound(name, selector string) error {
	return awserr.Newf(CodeParameterVersionNotFound, "Systems Manager could not find version %s of %s. Verify the version and try again.", selector, name)
}

func errLabelNotFound(name, label string) error {
	return awserr.Newf(CodeParameterVersionNotFound, "Systems Manager could not find a version of %s labeled %s. Verify the label and try again.", name, label)
}

func errInvalidNextToken() error {
	return awserr.New(CodeInvalidNextToken, "The nextToken is not valid.")
}

// kmsError reports a failure of KMS as SSM does: a policy denial passes through (the gateway
// renders it as AccessDeniedException, naming the KMS action and key), and KMS's own errors
// (a missing, disabled or pending-deletion key, …) become InvalidKeyId carrying KMS's message
// and code, in the form SSM passes them on.
func kmsError(err error) error {
	var e *awserr.Error
	if !errors.As(err, &e) || e.Status >= 500 {
		return err
	}
	msg := fmt.Sprintf("%s (Service: AWSKMS; Status Code: %d; Error Code: %s)", e.Message, e.Status, e.Code)
	return awserr.Wrap(CodeInvalidKeyID, strings.TrimSpace(msg), err)
}
