package organizations

import (
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Patterns of the model's string shapes. The model leaves some unanchored (Email,
// CreateAccountName, RoleName) and writes others as alternations whose anchors bind to one
// side only (ChildId, ParentId); all are matched whole here, which is what each one means.
var (
	patAccountID   = regexp.MustCompile(`^\d{12}$`)
	patRequestID   = regexp.MustCompile(`^car-[a-z0-9]{8,32}$`)
	patRootID      = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	patOUID        = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	patEmail       = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	patAccountName = regexp.MustCompile(`^[\x{20}-\x{7E}]+$`)
	patRoleName    = regexp.MustCompile(`^[\w+=,.@-]+$`)
	patTag         = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// field is one string member's constraints.
type field struct {
	name     string // as the model names the member, e.g. "AccountId"
	required bool
	min, max int // lengths in characters; max 0 means none
	pattern  *regexp.Regexp
}

// check validates v against f.
func (f field) check(v string) error {
	if v == "" {
		if f.required {
			return errInvalidInput(reasonInputRequired, f.name)
		}
		if f.min == 0 {
			return nil
		}
	}
	n := utf8.RuneCountInString(v)
	switch {
	case n < f.min:
		return errInvalidInput(reasonMinLength, f.name)
	case f.max > 0 && n > f.max:
		return errInvalidInput(reasonMaxLength, f.name)
	case f.pattern != nil && !f.pattern.MatchString(v):
		return errInvalidInput(reasonInvalidPattern, f.name)
	}
	return nil
}

// checkEnum validates an optional enumerated member.
func checkEnum(name, v string, values ...string) error {
	if v != "" && !slices.Contains(values, v) {
		return errInvalidInput(reasonInvalidEnum, name)
	}
	return nil
}

// Page sizes: MaxResults is 1–20 for every list operation; 20 when the caller gives none.
const (
	minResults = 1
	maxResults = 20
)

// pageLimit is the page size a request asks for.
func pageLimit(max *int32) (int, error) {
	switch {
	case max == nil:
		return maxResults, nil
	case *max < minResults:
		return 0, errInvalidInput(reasonMinValue, "MaxResults")
	case *max > maxResults:
		return 0, errInvalidInput(reasonMaxValue, "MaxResults")
	}
	return int(*max), nil
}

// A NextToken names the operation that issued it and the id the next page starts at, so a
// token is refused by any other operation and a tampered one is refused rather than
// scanning from an arbitrary key.
func nextToken(op, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(op + ":" + id))
}

// pageStart returns the id a NextToken says the page starts at; "" for the first page.
func pageStart(op string, token *string, valid *regexp.Regexp) (string, error) {
	if token == nil || *token == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil {
		return "", errInvalidInput(reasonInvalidNextToken, "NextToken")
	}
	id, ok := strings.CutPrefix(string(raw), op+":")
	if !ok || !valid.MatchString(id) {
		return "", errInvalidInput(reasonInvalidNextToken, "NextToken")
	}
	return id, nil
}
