package ssm

import (
	"errors"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
)

const (
	maxNameLength = 2048 // the model's limit on a Name member
	// maxARNLength bounds a new parameter's ARN, its name included, as AWS documents.
	maxARNLength  = 1011
	maxLevels     = 15
	maxSelector   = 128
	maxLabel      = 100
	maxLabelsEach = 10 // labels per version
)

// errBadName is AWS's message for a parameter name it refuses.
const errBadName = `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`

// errBadPath is AWS's message for a path (GetParametersByPath, a Path filter) it refuses.
const errBadPath = `The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/". It can't be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.`

// requiredName returns a required name member with the surrounding spaces SSM removes.
func requiredName(raw *string, member string) (string, error) {
	if raw == nil {
		return "", errRequired(member)
	}
	name := strings.TrimSpace(*raw)
	if name == "" || len(name) > maxNameLength {
		return "", errLength(member, name, 1, maxNameLength)
	}
	return name, nil
}

func nameChar(c rune) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
}

// checkName checks the shape of a parameter name: letters, digits and ._- in sub-paths that
// a leading slash and single slashes divide, at most 15 levels deep.
func checkName(name string) error {
	if name == "" || len(name) > maxNameLength {
		return errLength("name", name, 1, maxNameLength)
	}
	rest := name
	if name[0] == '/' {
		rest = name[1:]
	} else if strings.Contains(name, "/") {
		return errValidation("Parameter name must be a fully qualified name: a name with sub-paths begins with a forward slash (/).")
	}
	levels := strings.Split(rest, "/")
	for _, seg := range levels {
		if seg == "" {
			return errValidation(errBadName)
		}
		for _, c := range seg {
			if !nameChar(c) {
				return errValidation(errBadName)
			}
		}
	}
	if len(levels) > maxLevels {
		return awserr.New(CodeHierarchyLevelLimit, "A hierarchy can have a maximum of 15 levels.")
	}
	return nil
}

// checkNewName checks a name for PutParameter: a valid name, not under the reserved aws and
// ssm prefixes, whose ARN fits AWS's limit.
func (s *Service) checkNewName(account, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	first := strings.ToLower(trimSlash(name))
	if strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		return errValidation(errBadName)
	}
	if n := len(s.parameterARN(account, name)); n > maxARNLength {
		return errValidation("Parameter name: can't be longer than %d characters, the ARN of the parameter (%d characters here) included.", maxARNLength, n)
	}
	return nil
}

// reference is a parameter a read names: by name or by ARN, with an optional selector (a
// version number or a label after a colon).
type reference struct {
	raw     string // as given, for InvalidParameters
	account string
	// names are the parameters the reference may mean, tried in order: one, or for an ARN
	// whose name has no sub-path both "x" and "/x", which share that ARN.
	names    []string
	selector string // without its colon; "" for the latest version
}

// name is the reference's name as the caller will see it in answers.
func (r *reference) name() string { return r.names[0] }

// parseReference parses a Name member of GetParameter, GetParameters or GetParameterHistory
// (withSelector false) for the caller's account.
func (s *Service) parseReference(raw, account string, withSelector bool) (*reference, error) {
	r := &reference{raw: raw, account: account}
	name, byARN := raw, false
	if strings.HasPrefix(raw, "arn:") {
		// arn:aws:ssm:<region>:<account>:parameter/<name>[:<selector>]
		parts := strings.SplitN(raw, ":", 7)
		if len(parts) < 6 || parts[1] != "aws" || parts[2] != "ssm" || parts[3] != s.region || !isAccountID(parts[4]) ||
			!strings.HasPrefix(parts[5], "parameter/") {
			return nil, errValidation("%s is not a valid parameter ARN for this region.", raw)
		}
		r.account, byARN = parts[4], true
		name = strings.TrimPrefix(parts[5], "parameter/")
		if len(parts) == 7 {
			name += ":" + parts[6]
		}
	}
	base, sel, hasSel := strings.Cut(name, ":")
	if hasSel {
		if !withSelector {
			return nil, errValidation(errBadName)
		}
		if sel == "" || len(sel) > maxSelector {
			return nil, errValidation("Invalid label or version selector %q: a selector is a version number or a label of 1 to %d characters.", sel, maxSelector)
		}
		r.selector = sel
	}
	switch {
	case byARN && strings.Contains(base, "/"):
		base = "/" + base
	case byARN:
		r.names = []string{"/" + base} // tried after base itself
	}
	if err := checkName(base); err != nil {
		return nil, err
	}
	r.names = append([]string{base}, r.names...)
	return r, nil
}

// selectorVersion returns the version a numeric selector names, or 0 for a label.
func selectorVersion(sel string) int64 {
	var n int64
	for _, c := range sel {
		if c < '0' || c > '9' || n > 1e15 {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parsePath checks a hierarchy path (GetParametersByPath's Path, a Path filter's value) and
// returns it without a trailing slash ("/" for the root), plus the prefix every name under it
// starts with.
func parsePath(raw string) (path, prefix string, err error) {
	p := strings.TrimSpace(raw)
	if p == "" || p[0] != '/' {
		return "", "", errValidation(errBadPath)
	}
	if p == "/" {
		return "/", "/", nil
	}
	p = strings.TrimSuffix(p, "/")
	if err := checkName(p); err != nil {
		var e *awserr.Error
		if errors.As(err, &e) && e.Code == CodeHierarchyLevelLimit {
			return "", "", err
		}
		return "", "", errValidation(errBadPath)
	}
	return p, p + "/", nil
}

// checkLabel reports whether a label is acceptable: 1 to 100 letters, digits and ._-, not
// starting with a digit (it would read as a version) or with aws or ssm.
func checkLabel(l string) bool {
	if l == "" || len(l) > maxLabel || ('0' <= l[0] && l[0] <= '9') {
		return false
	}
	low := strings.ToLower(l)
	if strings.HasPrefix(low, "aws") || strings.HasPrefix(low, "ssm") {
		return false
	}
	for _, c := range l {
		if !nameChar(c) {
			return false
		}
	}
	return true
}
