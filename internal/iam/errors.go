package iam

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/policy"
)

// IAM's error codes and the statuses its model gives them. awserr's table does not know them,
// so each error is built with its status here.
const (
	CodeNoSuchEntity              = "NoSuchEntity"
	CodeEntityAlreadyExists       = "EntityAlreadyExists"
	CodeDeleteConflict            = "DeleteConflict"
	CodeLimitExceeded             = "LimitExceeded"
	CodeInvalidInput              = "InvalidInput"
	CodeMalformedPolicyDocument   = "MalformedPolicyDocument"
	CodeInvalidAuthenticationCode = "InvalidAuthenticationCode"
	CodePasswordPolicyViolation   = "PasswordPolicyViolation"
	CodePolicyNotAttachable       = "PolicyNotAttachable"
)

var codeStatus = map[string]int{
	CodeNoSuchEntity:              http.StatusNotFound,
	CodeEntityAlreadyExists:       http.StatusConflict,
	CodeDeleteConflict:            http.StatusConflict,
	CodeLimitExceeded:             http.StatusConflict,
	CodeInvalidInput:              http.StatusBadRequest,
	CodeMalformedPolicyDocument:   http.StatusBadRequest,
	CodeInvalidAuthenticationCode: http.StatusForbidden,
	CodePasswordPolicyViolation:   http.StatusBadRequest,
	CodePolicyNotAttachable:       http.StatusBadRequest,
}

// iamError returns the IAM error code with its status and a formatted message.
func iamError(code, format string, args ...any) *awserr.Error {
	e := awserr.Newf(code, format, args...)
	if st, ok := codeStatus[code]; ok {
		e.Status = st
	}
	return e
}

func errNoSuchEntity(format string, args ...any) error {
	return iamError(CodeNoSuchEntity, format, args...)
}

func errNoSuchUser(name string) error {
	return errNoSuchEntity("The user with name %s cannot be found.", name)
}

func errNoSuchGroup(name string) error {
	return errNoSuchEntity("The group with name %s cannot be found.", name)
}

func errNoSuchRole(name string) error {
	return errNoSuchEntity("The role with name %s cannot be found.", name)
}

func errNoSuchPolicy(arn string) error {
	return errNoSuchEntity("Policy %s does not exist or is not attachable.", arn)
}

func errAlreadyExists(format string, args ...any) error {
	return iamError(CodeEntityAlreadyExists, format, args...)
}

func errDeleteConflict(format string, args ...any) error {
	return iamError(CodeDeleteConflict, format, args...)
}

func errLimit(format string, args ...any) error {
	return iamError(CodeLimitExceeded, format, args...)
}

// errQuota is IAM's wording for a count quota, e.g. AccessKeysPerUser.
func errQuota(quota string, n int) error {
	return errLimit("Cannot exceed quota for %s: %d", quota, n)
}

func errInvalidInput(format string, args ...any) error {
	return iamError(CodeInvalidInput, format, args...)
}

func errValidation(format string, args ...any) error {
	return awserr.Newf(awserr.ValidationError, format, args...)
}

func errMalformed(msg string) error {
	return iamError(CodeMalformedPolicyDocument, "%s", msg)
}

func errInvalidCode() *awserr.Error {
	return iamError(CodeInvalidAuthenticationCode, "Authentication code for device is not valid.")
}

// errMissingAuth denies a call without a caller as the policy engine would; the gateway
// refuses unauthenticated requests before they get here.
func errMissingAuth() error { return &policy.DeniedError{Reason: policy.Unauthenticated} }

func errPasswordPolicy(format string, args ...any) error {
	return iamError(CodePasswordPolicyViolation, format, args...)
}

// errInvalidARN is IAM's answer to an ARN it cannot read.
func errInvalidARN(arn string) error {
	return errInvalidInput("ARN %s is not valid.", arn)
}

// errorf is fmt.Errorf under the package's prefix, for failures that are not the client's.
func errorf(format string, args ...any) error { return fmt.Errorf("iam: "+format, args...) }

// isClassified tells whether err is already an AWS error for the client, such as
// NoSuchEntity, rather than a failure.
func isClassified(err error) bool {
	var e *awserr.Error
	return errors.As(err, &e)
}
