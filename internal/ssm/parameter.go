package ssm

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/storage"
)

const (
	maxStandardValue = 4096
	maxAdvancedValue = 8192
	maxDescription   = 1024
	maxPattern       = 1024
	maxKeyID         = 256
	maxDataType      = 128
	maxNames         = 10 // GetParameters, DeleteParameters
)

var keyIDPattern = regexp.MustCompile(`^([a-zA-Z0-9:/_-]+)$`)

type putParameterInput struct {
	Name           *string   `json:"Name"`
	Description    *string   `json:"Description"`
	Value          *string   `json:"Value"`
	Type           string    `json:"Type"`
	KeyID          *string   `json:"KeyId"`
	Overwrite      *bool     `json:"Overwrite"`
	AllowedPattern *string   `json:"AllowedPattern"`
	Tags           []wireTag `json:"Tags"`
	Tier           string    `json:"Tier"`
	Policies       *string   `json:"Policies"`
	DataType       *string   `json:"DataType"`
}

type putParameterOutput struct {
	Version int64  `json:"Version"`
	Tier    string `json:"Tier"`
}

// check validates the members of a PutParameter request that do not depend on the parameter
// as it stands.
func (in *putParameterInput) check() error {
	switch {
	case in.Value == nil:
		return errRequired("value")
	case *in.Value == "":
		return errValidation("1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case strings.Contains(*in.Value, "{{") && strings.Contains(*in.Value, "}}"):
		return errValidation("Parameter value can't nest another parameter. Do not use \"{{}}\" in the value.")
	case in.Type != "" && !slices.Contains(parameterTypes, in.Type):
		return errEnum("type", in.Type, parameterTypes)
	case in.Tier != "" && !slices.Contains(parameterTiers, in.Tier):
		return errEnum("tier", in.Tier, parameterTiers)
	case in.Description != nil && len(*in.Description) > maxDescription:
		return errLength("description", *in.Description, 0, maxDescription)
	case in.AllowedPattern != nil && len(*in.AllowedPattern) > maxPattern:
		return errLength("allowedPattern", *in.AllowedPattern, 0, maxPattern)
	case in.DataType != nil && len(*in.DataType) > maxDataType:
		return errLength("dataType", *in.DataType, 0, maxDataType)
	case in.Policies != nil:
		return errValidation("Parameter policies (expiration and notification) are not supported by this server.")
	case in.Overwrite != nil && *in.Overwrite && len(in.Tags) > 0:
		return errValidation("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	if in.KeyID != nil {
		if k := *in.KeyID; k == "" || len(k) > maxKeyID {
			return errLength("keyId", k, 1, maxKeyID)
		} else if !keyIDPattern.MatchString(k) {
			return errValidation("1 validation error detected: Value '%s' at 'keyId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-zA-Z0-9:/_-]+)$", k)
		}
	}
	return nil
}

// nextMeta is the metadata of the version a PutParameter request makes of cur (nil for a new
// parameter), checked against the new value: what the request leaves out carries over from
// cur. Its time, author and number are left to the commit, and so is an Intelligent-Tiering
// tier, which the account's counts decide.
func (in *putParameterInput) nextMeta(name string, cur *parameterRecord) (versionMeta, error) {
	var m versionMeta
	if cur != nil {
		m = cur.versionMeta
	}
	switch {
	case in.Type != "":
		if cur != nil && cur.Type != in.Type && strings.HasPrefix(name, "/") {
			return m, awserr.Newf(CodeHierarchyTypeMismatch, "The parameter type can't be changed for a parameter in a hierarchy: %s is a %s parameter.", name, cur.Type)
		}
		m.Type = in.Type
	case cur == nil:
		return m, errValidation("A parameter type is required when you create a parameter.")
	}
	switch {
	case m.Type != typeSecureString && in.KeyID != nil:
		return m, errValidation("KeyId is only valid for SecureString parameters; %s is a %s parameter.", name, m.Type)
	case m.Type != typeSecureString:
		m.KeyID = ""
	case in.KeyID != nil:
		m.KeyID = *in.KeyID
	case cur == nil || cur.Type != typeSecureString:
		m.KeyID = defaultKeyAlias
	}
	if in.Description != nil {
		m.Description = *in.Description
	}
	if in.AllowedPattern != nil {
		m.AllowedPattern = *in.AllowedPattern
	}
	if in.DataType != nil {
		m.DataType = *in.DataType
	}
	if m.DataType == "" {
		m.DataType = dataTypeText
	}
	value := *in.Value
	switch m.DataType {
	case dataTypeText, dataTypeIntegration:
	case dataTypeImage:
		if m.Type != typeString || !amiID.MatchString(value) {
			return m, errValidation("Parameters of data type aws:ec2:image are String parameters whose value is an AMI ID such as ami-12345abcdeEXAMPLE.")
		}
	default:
		return m, errValidation("The following data type is not supported: %s (Data type names are all lowercase.)", m.DataType)
	}
	if m.AllowedPattern != "" {
		re, err := regexp.Compile(m.AllowedPattern)
		if err != nil {
			return m, awserr.Wrap(CodeInvalidAllowedPattern, "The request does not meet the regular expression requirement: "+m.AllowedPattern, err)
		}
		if !re.MatchString(value) {
			return m, awserr.Newf(CodePatternMismatch, "Parameter value, cannot be validated against allowedPattern: %s", m.AllowedPattern)
		}
	}
	// The tier asked for, before limits decide an Intelligent-Tiering one: a parameter keeps
	// its tier unless told, and never goes back from Advanced.
	tier := in.Tier
	if tier == "" {
		tier = tierStandard
		if cur != nil {
			tier = cur.Tier
		}
	}
	if tier == tierIntelligent && (len(value) > maxStandardValue || cur != nil && cur.Tier == tierAdvanced) {
		tier = tierAdvanced
	}
	switch {
	case tier == tierStandard && cur != nil && cur.Tier == tierAdvanced:
		return m, errValidation("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.")
	case tier == tierStandard && len(value) > maxStandardValue:
		return m, errValidation("Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.")
	case len(value) > maxAdvancedValue:
		return m, errValidation("Advanced tier parameters support a maximum parameter value of 8192 characters.")
	}
	m.Tier = tier
	return m, nil
}

var amiID = regexp.MustCompile(`^ami-[0-9a-zA-Z]{8,17}$`)

// errConcurrent makes putParameter start over: the parameter's type or key changed since it
// was read, so its value was encrypted for the wrong one.
var errConcurrent = errors.New("ssm: parameter changed concurrently")

func (s *Service) putParameter(ctx context.Context, in *putParameterInput) (*putParameterOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name, err := requiredName(in.Name, "name")
	if err != nil {
		return nil, err
	}
	if err := s.checkNewName(p.AccountID, name); err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	account, arn := p.AccountID, s.parameterARN(p.AccountID, name)
	for attempt := 0; ; attempt++ {
		cur, err := s.head(ctx, account, name)
		if err != nil {
			return nil, err
		}
		if attempt == 0 {
			if err := s.authorize(ctx, "PutParameter", arn, account, cur, tagConditions(tags)); err != nil {
				return nil, err
			}
		}
		meta, err := in.nextMeta(name, cur)
		if err == nil && cur != nil && !in.overwrite() {
			err = errExists()
		}
		if err != nil {
			return nil, err
		}
		// The value is encrypted before the transaction: KMS is not called holding it.
		var env []byte
		if meta.Type == typeSecureString {
			if env, err = s.sealValue(ctx, account, meta.KeyID, arn, *in.Value); err != nil {
				return nil, err
			}
		}
		out, err := s.commitPut(ctx, in, account, name, p.ARN, meta, env, tags)
		if errors.Is(err, errConcurrent) && attempt < 5 {
			continue
		}
		if errors.Is(err, errConcurrent) {
			return nil, awserr.New("TooManyUpdates", "There are concurrent updates for a resource that supports one update at a time.")
		}
		return out, err
	}
}

func (in *putParameterInput) overwrite() bool { return in.Overwrite != nil && *in.Overwrite }

func errExists() error {
	return awserr.New(CodeParameterAlreadyExists, "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
}

// commitPut writes the next version of a parameter in one transaction: the version record,
// the parameter, the oldest version dropped past 100, and the account's counts by tier. The
// version's metadata is derived from the parameter as it stands in the transaction; sealed is
// what putParameter derived before, whose type and key env was encrypted for (errConcurrent
// if they no longer hold).
func (s *Service) commitPut(ctx context.Context, in *putParameterInput, account, name, author string, sealed versionMeta, env []byte, tags []tag) (*putParameterOutput, error) {
	var out putParameterOutput
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		rec, err := getParam(tx, account, s.region, name)
		if err != nil {
			return err
		}
		if rec != nil && !in.overwrite() {
			return errExists()
		}
		m, err := in.nextMeta(name, rec)
		if err != nil {
			return err
		}
		if m.Type != sealed.Type || m.KeyID != sealed.KeyID {
			return errConcurrent
		}
		m.Modified, m.ModifiedBy = s.now().UTC(), author
		c, err := getCounts(tx, account, s.region)
		if err != nil {
			return err
		}
		if rec == nil {
			rec = &parameterRecord{Name: name, Tags: tags, Oldest: 1}
			if m.Tier == tierIntelligent {
				m.Tier = tierStandard
				if c.Standard >= s.maxStandard {
					m.Tier = tierAdvanced
				}
			}
			if err := s.checkCount(c, m.Tier); err != nil {
				return err
			}
			c.add(m.Tier, 1)
		} else {
			if m.Tier == tierIntelligent {
				m.Tier = rec.Tier
			}
			if m.Tier != rec.Tier { // Standard to Advanced
				if err := s.checkCount(c, m.Tier); err != nil {
					return err
				}
				c.add(rec.Tier, -1)
				c.add(m.Tier, 1)
			}
		}
		m.Version = rec.Version + 1
		if m.Version-rec.Oldest+1 > maxVersions {
			if labels := rec.labelsOf(rec.Oldest); len(labels) > 0 {
				return awserr.Newf(CodeMaxVersionLimitExceeded, "You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.", name, rec.Oldest)
			}
			if err := tx.Delete(versionKey(account, s.region, name, rec.Oldest)); err != nil {
				return err
			}
			rec.Oldest++
		}
		rec.versionMeta = m
		v := &versionRecord{versionMeta: m, Envelope: env}
		if m.Type != typeSecureString {
			v.Value = secret(*in.Value)
		}
		if err := storage.PutJSON(tx, versionKey(account, s.region, name, m.Version), v); err != nil {
			return err
		}
		if err := storage.PutJSON(tx, paramKey(account, s.region, name), rec); err != nil {
			return err
		}
		out = putParameterOutput{Version: m.Version, Tier: m.Tier}
		return storage.PutJSON(tx, countKey(account, s.region), c)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// checkCount refuses a parameter of tier the account has no room for.
func (s *Service) checkCount(c *counts, tier string) error {
	if tier == tierAdvanced && c.Advanced >= s.maxAdvanced || tier != tierAdvanced && c.Standard >= s.maxStandard {
		return awserr.New(CodeParameterLimitExceeded, "You have exceeded the number of parameters for this AWS account. Delete one or more parameters and try again.")
	}
	return nil
}

// head reads a parameter's record, or nil when there is none.
func (s *Service) head(ctx context.Context, account, name string) (*parameterRecord, error) {
	var p *parameterRecord
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		p, err = getParam(tx, account, s.region, name)
		return err
	})
	return p, err
}

// found is what a reference names: the parameter (nil when there is none) and the version
// its selector names (nil when there is no such version).
type found struct {
	ref   *reference
	param *parameterRecord
	ver   *versionRecord
}

// lookup reads what r names, in one read transaction.
func (s *Service) lookup(tx storage.Tx, r *reference) (*found, error) {
	f := &found{ref: r}
	for _, name := range r.names {
		p, err := getParam(tx, r.account, s.region, name)
		if err != nil {
			return nil, err
		}
		if p != nil {
			f.param = p
			break
		}
	}
	if f.param == nil {
		return f, nil
	}
	v := f.param.Version
	if r.selector != "" {
		v = selectorVersion(r.selector)
		if v == 0 {
			v = f.param.Labels[r.selector]
		}
	}
	if v < f.param.Oldest || v > f.param.Version {
		return f, nil
	}
	var err error
	f.ver, err = getVersion(tx, r.account, s.region, f.param.Name, v)
	return f, err
}

// arn is the ARN of what f names.
func (s *Service) arnOf(f *found) string {
	name := f.ref.name()
	if f.param != nil {
		name = f.param.Name
	}
	return s.parameterARN(f.ref.account, name)
}

// missing is the error for a reference to no parameter, or to no such version of one.
func (f *found) missing() error {
	switch {
	case f.param == nil:
		return errParameterNotFound(f.ref.name())
	case selectorVersion(f.ref.selector) > 0:
		return errVersionNotFound(f.param.Name, f.ref.selector)
	default:
		return errLabelNotFound(f.param.Name, f.ref.selector)
	}
}

// parameterOf is the API's Parameter for a version found, its value as the caller may see it.
func (s *Service) parameterOf(ctx context.Context, f *found, decrypt bool) (*wireParameter, error) {
	arn := s.arnOf(f)
	value, err := s.valueOf(ctx, f.ref.account, arn, f.ver, decrypt)
	if err != nil {
		return nil, err
	}
	out := &wireParameter{Name: f.param.Name, Type: f.ver.Type, Value: value, Version: f.ver.Version,
		LastModifiedDate: epoch(f.ver.Modified), ARN: arn, DataType: f.ver.DataType}
	if f.ref.selector != "" {
		out.Selector = ":" + f.ref.selector
	}
	return out, nil
}

type getParameterInput struct {
	Name           *string `json:"Name"`
	WithDecryption *bool   `json:"WithDecryption"`
}

type getParameterOutput struct {
	Parameter *wireParameter `json:"Parameter"`
}

func (s *Service) getParameter(ctx context.Context, in *getParameterInput) (*getParameterOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := requiredName(in.Name, "name")
	if err != nil {
		return nil, err
	}
	r, err := s.parseReference(raw, p.AccountID, true)
	if err != nil {
		return nil, err
	}
	var f *found
	if err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		f, err = s.lookup(tx, r)
		return err
	}); err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, "GetParameter", s.arnOf(f), r.account, f.param, nil); err != nil {
		return nil, err
	}
	if f.ver == nil {
		return nil, f.missing()
	}
	out, err := s.parameterOf(ctx, f, in.WithDecryption != nil && *in.WithDecryption)
	if err != nil {
		return nil, err
	}
	return &getParameterOutput{Parameter: out}, nil
}

type getParametersInput struct {
	Names          []string `json:"Names"`
	WithDecryption *bool    `json:"WithDecryption"`
}

type getParametersOutput struct {
	Parameters        []*wireParameter `json:"Parameters"`
	InvalidParameters []string         `json:"InvalidParameters"`
}

// checkNames validates a list of 1 to 10 names (GetParameters, DeleteParameters).
func checkNames(names []string) error {
	if names == nil {
		return errRequired("names")
	}
	if len(names) < 1 || len(names) > maxNames {
		return errValidation("1 validation error detected: Value '[%s]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1", strings.Join(names, ", "))
	}
	return nil
}

// getParameters reads up to ten parameters. Names that are malformed or name no parameter
// (or no such version) come back in InvalidParameters, with HTTP 200; the caller must be
// allowed ssm:GetParameters on every parameter named, and kms:Decrypt on the key of each
// SecureString it decrypts.
func (s *Service) getParameters(ctx context.Context, in *getParametersInput) (*getParametersOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkNames(in.Names); err != nil {
		return nil, err
	}
	out := &getParametersOutput{Parameters: []*wireParameter{}, InvalidParameters: []string{}}
	var refs []*reference
	seen := map[string]bool{}
	for _, raw := range in.Names {
		if seen[raw] {
			continue
		}
		seen[raw] = true
		r, err := s.parseReference(strings.TrimSpace(raw), p.AccountID, true)
		if err != nil {
			out.InvalidParameters = append(out.InvalidParameters, raw)
			continue
		}
		r.raw = raw
		refs = append(refs, r)
	}
	var founds []*found
	err = s.store.View(ctx, func(tx storage.Tx) error {
		founds = founds[:0]
		for _, r := range refs {
			f, err := s.lookup(tx, r)
			if err != nil {
				return err
			}
			founds = append(founds, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, f := range founds {
		if err := s.authorize(ctx, "GetParameters", s.arnOf(f), f.ref.account, f.param, nil); err != nil {
			return nil, err
		}
	}
	decrypt := in.WithDecryption != nil && *in.WithDecryption
	for _, f := range founds {
		if f.ver == nil {
			out.InvalidParameters = append(out.InvalidParameters, f.ref.raw)
			continue
		}
		w, err := s.parameterOf(ctx, f, decrypt)
		if err != nil {
			return nil, err
		}
		out.Parameters = append(out.Parameters, w)
	}
	slices.SortFunc(out.Parameters, func(a, b *wireParameter) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

type deleteParameterInput struct {
	Name *string `json:"Name"`
}

func (s *Service) deleteParameter(ctx context.Context, in *deleteParameterInput) (*emptyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name, err := requiredName(in.Name, "name")
	if err != nil {
		return nil, err
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	account := p.AccountID
	cur, err := s.head(ctx, account, name)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, "DeleteParameter", s.parameterARN(account, name), account, cur, nil); err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		cur, err := getParam(tx, account, s.region, name)
		if err != nil {
			return err
		}
		if cur == nil {
			return errParameterNotFound(name)
		}
		return deleteParam(tx, account, s.region, cur)
	})
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type deleteParametersInput struct {
	Names []string `json:"Names"`
}

type deleteParametersOutput struct {
	DeletedParameters []string `json:"DeletedParameters"`
	InvalidParameters []string `json:"InvalidParameters"`
}

// deleteParameters deletes up to ten parameters in one transaction; names that are malformed
// or name no parameter come back in InvalidParameters. The caller must be allowed
// ssm:DeleteParameters on every parameter named.
func (s *Service) deleteParameters(ctx context.Context, in *deleteParametersInput) (*deleteParametersOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkNames(in.Names); err != nil {
		return nil, err
	}
	account := p.AccountID
	out := &deleteParametersOutput{DeletedParameters: []string{}, InvalidParameters: []string{}}
	var names []string
	for _, raw := range in.Names {
		name := strings.TrimSpace(raw)
		if checkName(name) != nil {
			out.InvalidParameters = append(out.InvalidParameters, raw)
		} else if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	heads := make([]*parameterRecord, len(names))
	err = s.store.View(ctx, func(tx storage.Tx) error {
		for i, name := range names {
			var err error
			if heads[i], err = getParam(tx, account, s.region, name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, name := range names {
		if err := s.authorize(ctx, "DeleteParameters", s.parameterARN(account, name), account, heads[i], nil); err != nil {
			return nil, err
		}
	}
	var deleted, missing []string
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		deleted, missing = nil, nil
		for _, name := range names {
			cur, err := getParam(tx, account, s.region, name)
			if err != nil {
				return err
			}
			if cur == nil {
				missing = append(missing, name)
				continue
			}
			if err := deleteParam(tx, account, s.region, cur); err != nil {
				return err
			}
			deleted = append(deleted, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.DeletedParameters = append(out.DeletedParameters, deleted...)
	out.InvalidParameters = append(out.InvalidParameters, missing...)
	return out, nil
}
