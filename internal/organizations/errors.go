package organizations

import (
	"fmt"

	"github.com/stateward/stateward/internal/awserr"
)

// The error codes Organizations clients switch on; all are HTTP 400, awserr's default for
// codes it does not list.
const (
	CodeNotInUse              = "AWSOrganizationsNotInUseException"
	CodeAccessDenied          = "AccessDeniedException"
	CodeAlreadyInOrganization = "AlreadyInOrganizationException"
	CodeInvalidInput          = "InvalidInputException"
	CodeAccountNotFound       = "AccountNotFoundException"
	CodeCreateAccountNotFound = "CreateAccountStatusNotFoundException"
	CodeChildNotFound         = "ChildNotFoundException"
	CodeParentNotFound        = "ParentNotFoundException"
)

func errNotInUse() error {
	return awserr.New(CodeNotInUse, "Your account is not a member of an organization.")
}

// errNotManagement is Organizations' own refusal of a member account, which it words apart
// from IAM's denials.
func errNotManagement() error {
	return awserr.New(CodeAccessDenied, "You don't have permissions to access this resource.")
}

func errAlreadyInOrganization() error {
	return awserr.New(CodeAlreadyInOrganization, "The AWS account is already a member of an organization.")
}

func errAccountNotFound() error {
	return awserr.New(CodeAccountNotFound, "You specified an account that doesn't exist.")
}

func errCreateAccountStatusNotFound() error {
	return awserr.New(CodeCreateAccountNotFound, "We can't find an create account request with the CreateAccountRequestId that you specified.")
}

func errChildNotFound() error {
	return awserr.New(CodeChildNotFound, "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
}

func errParentNotFound() error {
	return awserr.New(CodeParentNotFound, "We can't find a root or OU with the ParentId that you specified.")
}

// Reasons of InvalidInputException, from the model's InvalidInputExceptionReason.
const (
	reasonInputRequired     = "INPUT_REQUIRED"
	reasonInvalidPattern    = "INVALID_PATTERN"
	reasonInvalidEnum       = "INVALID_ENUM"
	reasonInvalidListMember = "INVALID_LIST_MEMBER"
	reasonMaxLength         = "MAX_LENGTH_EXCEEDED"
	reasonMinLength         = "MIN_LENGTH_EXCEEDED"
	reasonMaxValue          = "MAX_VALUE_EXCEEDED"
	reasonMinValue          = "MIN_VALUE_EXCEEDED"
	reasonInvalidNextToken  = "INVALID_NEXT_TOKEN"
	reasonInvalidRoleName   = "INVALID_ROLE_NAME"
	reasonDuplicateTagKey   = "DUPLICATE_TAG_KEY"
	reasonSystemTags        = "INVALID_SYSTEM_TAGS_PARAMETER"
)

// reasonText is how Organizations words each reason.
var reasonText = map[string]string{
	reasonInputRequired:     "You must include a value for all required parameters.",
	reasonInvalidPattern:    "You provided a value that does not match the required pattern.",
	reasonInvalidEnum:       "You specified an invalid value.",
	reasonInvalidListMember: "You provided a list to a parameter that contains at least one invalid value.",
	reasonMaxLength:         "You provided a string parameter that is longer than allowed.",
	reasonMinLength:         "You provided a string parameter that is shorter than allowed.",
	reasonMaxValue:          "You provided a numeric parameter that has a larger value than allowed.",
	reasonMinValue:          "You provided a numeric parameter that has a smaller value than allowed.",
	reasonInvalidNextToken:  "You specified an invalid value for the nextToken parameter.",
	reasonInvalidRoleName:   "You provided a role name that isn't valid. A role name can't begin with the reserved prefix 'AWSServiceRoleFor'.",
	reasonDuplicateTagKey:   "Tag keys must be unique among the tags attached to the same entity.",
	reasonSystemTags:        "You specified a tag key that is a system tag. You can't add, edit, or delete system tag keys because they're reserved for AWS use.",
}

// errInvalidInput is InvalidInputException with the model's Reason member, naming the
// request member at fault after AWS's text so a user can find it.
func errInvalidInput(reason, member string) error {
	msg := reasonText[reason]
	if member != "" {
		msg = fmt.Sprintf("%s (%s)", msg, member)
	}
	return awserr.New(CodeInvalidInput, msg).With("Reason", reason)
}
