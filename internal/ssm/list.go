package ssm

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/storage"
)

// wireFilter is the API's ParameterStringFilter.
type wireFilter struct {
	Key    *string  `json:"Key"`
	Option *string  `json:"Option"`
	Values []string `json:"Values"`
}

// legacyFilter is the API's deprecated ParametersFilter (DescribeParameters' Filters).
type legacyFilter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

// match is one filter of a listing: key is Name, Type, KeyId, Tier, DataType, Label or
// tag:<key>; option Equals, BeginsWith or Contains. A parameter matches when any value does.
type match struct {
	key, option string
	values      []string
}

// test reports whether p matches.
func (m *match) test(p *parameterRecord) bool {
	if tk, ok := strings.CutPrefix(m.key, "tag:"); ok {
		i := slices.IndexFunc(p.Tags, func(t tag) bool { return t.Key == tk })
		if i < 0 {
			return false
		}
		return len(m.values) == 0 || m.testValue(p.Tags[i].Value)
	}
	switch m.key {
	case "Name":
		return m.testValue(p.Name)
	case "Type":
		return m.testValue(p.Type)
	case "KeyId":
		return p.Type == typeSecureString && m.testValue(p.KeyID)
	case "Tier":
		return m.testValue(p.Tier)
	case "DataType":
		return m.testValue(p.DataType)
	case "Label":
		return m.labeled(p) != 0
	}
	return false
}

func (m *match) testValue(s string) bool {
	for _, v := range m.values {
		switch m.option {
		case "BeginsWith":
			if strings.HasPrefix(s, v) {
				return true
			}
		case "Contains":
			if strings.Contains(s, v) {
				return true
			}
		default:
			if s == v {
				return true
			}
		}
	}
	return false
}

// labeled is the version of p that a Label filter selects: the one the first of its values
// labels that p has, or 0.
func (m *match) labeled(p *parameterRecord) int64 {
	for _, v := range m.values {
		if n, ok := p.Labels[v]; ok {
			return n
		}
	}
	return 0
}

// scope is where a listing scans: the names under a prefix, all of them or only those one
// level below it.
type listScope struct {
	prefix   string
	oneLevel bool
}

var filterKeyPattern = regexp.MustCompile(`^(tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType)$`)

// parseFilters validates ParameterFilters. byPath selects GetParametersByPath's rules (keys
// Type, KeyId and Label) over DescribeParameters' (every key but Label; Path sets the scope).
func parseFilters(in []wireFilter, byPath bool) ([]*match, *listScope, error) {
	var out []*match
	var scope *listScope
	seen := map[string]bool{}
	for i, f := range in {
		member := "parameterFilters." + strconv.Itoa(i+1) + ".member"
		if f.Key == nil {
			return nil, nil, errRequired(member + ".key")
		}
		key := *f.Key
		if len(key) < 1 || len(key) > 132 {
			return nil, nil, errLength(member+".key", key, 1, 132)
		}
		if !filterKeyPattern.MatchString(key) {
			return nil, nil, errValidation("1 validation error detected: Value '%s' at '%s.key' failed to satisfy constraint: Member must satisfy regular expression pattern: tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType", key, member)
		}
		if seen[key] {
			return nil, nil, errValidation("The following filter is duplicated in the request: %s. A request can contain only one occurrence of a specific filter.", key)
		}
		seen[key] = true
		isTag := strings.HasPrefix(key, "tag:")
		switch {
		case byPath && key != "Type" && key != "KeyId" && key != "Label":
			return nil, nil, awserr.Newf(CodeInvalidFilterKey, "The following filter key is not valid: %s. Valid filter keys include: [Type, KeyId, Label].", key)
		case !byPath && key == "Label":
			return nil, nil, awserr.Newf(CodeInvalidFilterKey, "The following filter key is not valid: %s. Valid filter keys include: [Path, Name, Type, KeyId, Tier, DataType, tag].", key)
		}
		option := "Equals"
		if key == "Path" {
			option = "OneLevel"
		}
		if f.Option != nil {
			option = *f.Option
		}
		var valid []string
		switch {
		case key == "Path":
			valid = []string{"Recursive", "OneLevel"}
		case key == "Label":
			valid = []string{"Equals"}
		case key == "Name":
			valid = []string{"Equals", "BeginsWith", "Contains"}
		default:
			valid = []string{"Equals", "BeginsWith"}
		}
		if !slices.Contains(valid, option) {
			return nil, nil, awserr.Newf(CodeInvalidFilterOption, "The filter option %q is not valid for key %s. Valid options are: [%s].", option, key, strings.Join(valid, ", "))
		}
		if len(f.Values) > 50 {
			return nil, nil, errValidation("1 validation error detected: Value at '%s.values' failed to satisfy constraint: Member must have length less than or equal to 50", member)
		}
		if len(f.Values) == 0 && !isTag {
			return nil, nil, awserr.Newf(CodeInvalidFilterValue, "The filter %s needs at least one value.", key)
		}
		for _, v := range f.Values {
			if v == "" || len(v) > 1024 {
				return nil, nil, errLength(member+".values", v, 1, 1024)
			}
			switch key {
			case "Type":
				if !slices.Contains(parameterTypes, v) {
					return nil, nil, awserr.Newf(CodeInvalidFilterValue, "The following filter value is not valid: %s. Valid values include: [%s].", v, strings.Join(parameterTypes, ", "))
				}
			case "Tier":
				if v != tierStandard && v != tierAdvanced {
					return nil, nil, awserr.Newf(CodeInvalidFilterValue, "The following filter value is not valid: %s. Valid values include: [Standard, Advanced].", v)
				}
			}
		}
		if key == "Path" {
			if len(f.Values) != 1 {
				return nil, nil, awserr.New(CodeInvalidFilterValue, "The Path filter takes exactly one value.")
			}
			_, prefix, err := parsePath(f.Values[0])
			if err != nil {
				var e *awserr.Error
				if errors.As(err, &e) && e.Code == CodeValidation {
					return nil, nil, awserr.New(CodeInvalidFilterValue, e.Message)
				}
				return nil, nil, err
			}
			scope = &listScope{prefix: prefix, oneLevel: option == "OneLevel"}
			continue
		}
		out = append(out, &match{key: key, option: option, values: f.Values})
	}
	return out, scope, nil
}

// parseLegacyFilters turns DescribeParameters' deprecated Filters into matches: Name is a
// prefix match (as chamber v2 uses it), Type and KeyId exact.
func parseLegacyFilters(in []legacyFilter) ([]*match, error) {
	var out []*match
	for i, f := range in {
		member := "filters." + strconv.Itoa(i+1) + ".member"
		keys := []string{"Name", "Type", "KeyId"}
		if !slices.Contains(keys, f.Key) {
			return nil, errEnum(member+".key", f.Key, keys)
		}
		if len(f.Values) < 1 || len(f.Values) > 50 {
			return nil, errValidation("1 validation error detected: Value at '%s.values' failed to satisfy constraint: Member must have length between 1 and 50", member)
		}
		option := "Equals"
		if f.Key == "Name" {
			option = "BeginsWith"
		}
		out = append(out, &match{key: f.Key, option: option, values: f.Values})
	}
	return out, nil
}

// maxResults reads a MaxResults member: def when absent, else between 1 and max.
func maxResults(v *int, def, max int) (int, error) {
	if v == nil {
		return def, nil
	}
	if *v < 1 || *v > max {
		return 0, errValidation("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d and greater than or equal to 1", *v, max)
	}
	return *v, nil
}

// A listing's NextToken is the name of the last parameter it returned, in base64.
func nextToken(name string) string { return base64.RawURLEncoding.EncodeToString([]byte(name)) }

// pageStart is where a listing of the record-key range under prefix resumes after token.
func pageStart(prefix []byte, account, region string, token *string) ([]byte, error) {
	if token == nil || *token == "" {
		return prefix, nil
	}
	name, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil || len(name) == 0 || bytes.IndexByte(name, 0) >= 0 {
		return nil, errInvalidNextToken()
	}
	start := append(paramKey(account, region, string(name)), 0)
	if bytes.Compare(start, prefix) < 0 {
		return prefix, nil
	}
	return start, nil
}

// scanParams calls fn for each parameter of account under sc (whose record keys all start
// with prefix), from start, in name order. With sc.oneLevel, names deeper than one level
// below the prefix are skipped a whole sub-path at a time. fn returns storage.ErrStop to end.
func scanParams(tx storage.Tx, prefix, start []byte, oneLevel bool, fn func(p *parameterRecord) error) error {
	end := storage.PrefixEnd(prefix)
	for {
		var jump []byte
		err := tx.Scan(start, end, func(k, v []byte) error {
			if oneLevel {
				if i := bytes.IndexByte(k[len(prefix):], '/'); i >= 0 {
					// Resume after every name under this sub-path.
					jump = storage.PrefixEnd(k[:len(prefix)+i+1])
					return storage.ErrStop
				}
			}
			var p parameterRecord
			if err := storage.DecodeJSON(k, v, &p); err != nil {
				return err
			}
			return fn(&p)
		})
		if err != nil || jump == nil {
			return err
		}
		start = jump
	}
}

type describeParametersInput struct {
	Filters          []legacyFilter `json:"Filters"`
	ParameterFilters []wireFilter   `json:"ParameterFilters"`
	MaxResults       *int           `json:"MaxResults"`
	NextToken        *string        `json:"NextToken"`
	Shared           *bool          `json:"Shared"`
}

type describeParametersOutput struct {
	Parameters []wireMetadata `json:"Parameters"`
	NextToken  string         `json:"NextToken,omitempty"`
}

// describeParameters lists the metadata of the caller's parameters that match the filters, by
// name, in pages of MaxResults (10 unless told, at most 50). A Path filter, or a single Name
// filter by prefix, bounds the range scanned. NextToken is set only when more parameters
// match.
func (s *Service) describeParameters(ctx context.Context, in *describeParametersInput) (*describeParametersOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return nil, errValidation("You can use either Filters or ParameterFilters in a single request.")
	}
	matches, sc, err := parseFilters(in.ParameterFilters, false)
	if err != nil {
		return nil, err
	}
	legacy, err := parseLegacyFilters(in.Filters)
	if err != nil {
		return nil, err
	}
	matches = append(matches, legacy...)
	limit, err := maxResults(in.MaxResults, 10, 50)
	if err != nil {
		return nil, err
	}
	account := p.AccountID
	if sc == nil {
		sc = &listScope{}
		for _, m := range matches {
			if m.key == "Name" && m.option != "Contains" && len(m.values) == 1 {
				sc.prefix = m.values[0]
			}
		}
	}
	prefix := paramsOf(account, s.region, sc.prefix)
	start, err := pageStart(prefix, account, s.region, in.NextToken)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, "DescribeParameters", "*", account, nil, nil); err != nil {
		return nil, err
	}
	out := &describeParametersOutput{Parameters: []wireMetadata{}}
	if in.Shared != nil && *in.Shared {
		return out, nil // nothing is shared with anyone on this server
	}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		out.Parameters, out.NextToken = out.Parameters[:0], ""
		return scanParams(tx, prefix, start, sc.oneLevel, func(rec *parameterRecord) error {
			for _, m := range matches {
				if !m.test(rec) {
					return nil
				}
			}
			if len(out.Parameters) == limit {
				out.NextToken = nextToken(out.Parameters[limit-1].Name)
				return storage.ErrStop
			}
			out.Parameters = append(out.Parameters, metadataOf(s.parameterARN(account, rec.Name), rec))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type getParametersByPathInput struct {
	Path             *string      `json:"Path"`
	Recursive        *bool        `json:"Recursive"`
	ParameterFilters []wireFilter `json:"ParameterFilters"`
	WithDecryption   *bool        `json:"WithDecryption"`
	MaxResults       *int         `json:"MaxResults"`
	NextToken        *string      `json:"NextToken"`
}

type getParametersByPathOutput struct {
	Parameters []*wireParameter `json:"Parameters"`
	NextToken  string           `json:"NextToken,omitempty"`
}

// getParametersByPath returns the parameters one level below Path (or all below it, with
// Recursive), by name, with their values, in pages of MaxResults (at most 10). Path may end
// in a slash or not. The caller must be allowed ssm:GetParametersByPath on the path itself
// (its ARN keeps a trailing slash the request gives), which covers everything below it, as
// on AWS, and kms:Decrypt on the key of every SecureString it decrypts. A Label filter
// returns the version of each parameter that carries the label, and skips the others.
func (s *Service) getParametersByPath(ctx context.Context, in *getParametersByPathInput) (*getParametersByPathOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := requiredName(in.Path, "path")
	if err != nil {
		return nil, err
	}
	_, namePrefix, err := parsePath(raw)
	if err != nil {
		return nil, err
	}
	matches, _, err := parseFilters(in.ParameterFilters, true)
	if err != nil {
		return nil, err
	}
	limit, err := maxResults(in.MaxResults, 10, 10)
	if err != nil {
		return nil, err
	}
	account := p.AccountID
	prefix := paramsOf(account, s.region, namePrefix)
	start, err := pageStart(prefix, account, s.region, in.NextToken)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, "GetParametersByPath", s.parameterARN(account, raw), account, nil, nil); err != nil {
		return nil, err
	}
	var label *match
	for _, m := range matches {
		if m.key == "Label" {
			label = m
		}
	}
	var founds []*found
	next := ""
	err = s.store.View(ctx, func(tx storage.Tx) error {
		founds, next = founds[:0], ""
		recursive := in.Recursive != nil && *in.Recursive
		return scanParams(tx, prefix, start, !recursive, func(rec *parameterRecord) error {
			for _, m := range matches {
				if !m.test(rec) {
					return nil
				}
			}
			if len(founds) == limit {
				next = nextToken(founds[limit-1].param.Name)
				return storage.ErrStop
			}
			v := rec.Version
			if label != nil {
				v = label.labeled(rec)
			}
			ver, err := getVersion(tx, account, s.region, rec.Name, v)
			if err != nil || ver == nil {
				return err
			}
			founds = append(founds, &found{ref: &reference{account: account, names: []string{rec.Name}}, param: rec, ver: ver})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	out := &getParametersByPathOutput{Parameters: []*wireParameter{}, NextToken: next}
	decrypt := in.WithDecryption != nil && *in.WithDecryption
	for _, f := range founds {
		w, err := s.parameterOf(ctx, f, decrypt)
		if err != nil {
			return nil, err
		}
		out.Parameters = append(out.Parameters, w)
	}
	return out, nil
}
