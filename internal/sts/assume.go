package sts

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// Session lengths STS allows.
const (
	minDuration          = 900 * time.Second
	defaultRoleDuration  = time.Hour
	chainedMaxDuration   = time.Hour // a role session assuming a role
	defaultTokenDuration = 12 * time.Hour
	maxTokenDuration     = 36 * time.Hour
	rootTokenDuration    = time.Hour // GetSessionToken by an account's root user
)

// Tag is a session tag.
type Tag struct {
	Key, Value string
}

// AssumeRoleInput is AssumeRole's request.
type AssumeRoleInput struct {
	RoleArn           string
	RoleSessionName   string
	PolicyArns        []string
	Policy            string
	DurationSeconds   *int
	Tags              []Tag
	TransitiveTagKeys []string
	ExternalId        string
	SerialNumber      string
	TokenCode         string
	SourceIdentity    string
}

// Credentials are the temporary credentials of a response.
type Credentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

func credentialsOf(c *identity.Credentials) Credentials {
	return Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey.Reveal(),
		SessionToken: c.SessionToken.Reveal(), Expiration: c.Expiration.UTC().Format(time.RFC3339)}
}

// AssumeRoleOutput is AssumeRole's response.
type AssumeRoleOutput struct {
	Credentials     Credentials `xml:"Credentials"`
	AssumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	} `xml:"AssumedRoleUser"`
	PackedPolicySize int    `xml:"PackedPolicySize"`
	SourceIdentity   string `xml:"SourceIdentity,omitempty"`
}

var (
	sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDRe  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	serialRe      = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
	tokenCodeRe   = regexp.MustCompile(`^\d{6}$`)
)

func validation(member, value, constraint string) error {
	return awserr.Newf(awserr.ValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

func required(member string) error {
	return awserr.Newf(awserr.ValidationError, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// errMFA is STS's answer to a wrong, reused or unassigned MFA code.
func errMFA(cause error) error {
	return awserr.Wrap(awserr.AccessDenied, "MultiFactorAuthentication failed with invalid MFA one time pass code. ", cause)
}

// checkMFA checks the request's MFA code, if it gives one, and returns when.
func (s *Service) checkMFA(ctx context.Context, p *identity.Principal, serial, code string) (time.Time, error) {
	switch {
	case serial == "" && code == "":
		return time.Time{}, nil
	case serial == "":
		return time.Time{}, required("serialNumber")
	case code == "":
		return time.Time{}, required("tokenCode")
	case !serialRe.MatchString(serial):
		return time.Time{}, validation("serialNumber", serial, `Member must satisfy regular expression pattern: [\w+=/:,.@-]*`)
	case !tokenCodeRe.MatchString(code):
		return time.Time{}, validation("tokenCode", code, `Member must satisfy regular expression pattern: [\d]*`)
	}
	at, err := s.ids.CheckMFACode(ctx, p.AccountID, serial, code)
	if err != nil {
		var e *awserr.Error
		if errors.As(err, &e) {
			return time.Time{}, errMFA(err)
		}
		return time.Time{}, err
	}
	return at, nil
}

// duration reads DurationSeconds within [900 s, max].
func duration(in *int, def, max time.Duration, tooLong string) (time.Duration, error) {
	if in == nil {
		return min(def, max), nil
	}
	d := time.Duration(*in) * time.Second
	if d < minDuration {
		return 0, validation("durationSeconds", strconv.Itoa(*in), "Member must have value greater than or equal to 900")
	}
	if d > max {
		return 0, awserr.New(awserr.ValidationError, tooLong)
	}
	return d, nil
}

// AssumeRole issues credentials of a role's session, if the role's trust policy (and, for a
// role of another account, the caller's own policies) allow the caller sts:AssumeRole with
// this request's external id, session name, MFA, tags and source identity.
func (s *Service) AssumeRole(ctx context.Context, in *AssumeRoleInput) (*AssumeRoleOutput, error) {
	switch {
	case in.RoleArn == "":
		return nil, required("roleArn")
	case in.RoleSessionName == "":
		return nil, required("roleSessionName")
	case len(in.RoleArn) < 20 || len(in.RoleArn) > 2048:
		return nil, validation("roleArn", in.RoleArn, "Member must have length between 20 and 2048")
	case !sessionNameRe.MatchString(in.RoleSessionName):
		return nil, validation("roleSessionName", in.RoleSessionName, `Member must satisfy regular expression pattern: [\w+=,.@-]*`)
	case in.ExternalId != "" && (len(in.ExternalId) < 2 || len(in.ExternalId) > 1224 || !externalIDRe.MatchString(in.ExternalId)):
		return nil, validation("externalId", in.ExternalId, `Member must satisfy regular expression pattern: [\w+=,.@:\/-]*`)
	case in.SourceIdentity != "" && !sessionNameRe.MatchString(in.SourceIdentity):
		return nil, validation("sourceIdentity", in.SourceIdentity, `Member must satisfy regular expression pattern: [\w+=,.@-]*`)
	case len(in.Tags) > 50:
		return nil, validation("tags", strconv.Itoa(len(in.Tags)), "Member must have length less than or equal to 50")
	}
	p := caller(ctx)
	mfaAt, err := s.checkMFA(ctx, p, in.SerialNumber, in.TokenCode)
	if err != nil {
		return nil, err
	}
	role, err := s.ids.RoleByARN(ctx, in.RoleArn)
	if err != nil {
		return nil, err
	}
	keys := map[string][]string{"sts:RoleSessionName": {in.RoleSessionName}}
	if in.ExternalId != "" {
		keys["sts:ExternalId"] = []string{in.ExternalId}
	}
	sourceIdentity := in.SourceIdentity
	if p.Session != nil && p.Session.SourceIdentity != "" {
		// Once set, a source identity follows every session chained from it.
		if sourceIdentity != "" && sourceIdentity != p.Session.SourceIdentity {
			return nil, awserr.New(awserr.AccessDenied, "The source identity of a session cannot be changed when it assumes another role.")
		}
		sourceIdentity = p.Session.SourceIdentity
	}
	if sourceIdentity != "" {
		keys["sts:SourceIdentity"] = []string{sourceIdentity}
	}
	tags := map[string]string{}
	var tagKeys []string
	for _, t := range in.Tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 || strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, validation("tags", t.Key, "Member must be a tag key of 1 to 128 characters, not starting with aws:, and a value of at most 256")
		}
		tags[t.Key] = t.Value
		tagKeys = append(tagKeys, t.Key)
		keys["aws:RequestTag/"+t.Key] = []string{t.Value}
	}
	if len(tagKeys) > 0 {
		keys["aws:TagKeys"] = tagKeys
	}
	if len(in.TransitiveTagKeys) > 0 {
		keys["sts:TransitiveTagKeys"] = in.TransitiveTagKeys
	}
	if !mfaAt.IsZero() {
		// The code checked for this request counts as MFA for this decision.
		keys["aws:MultiFactorAuthPresent"] = []string{"true"}
		keys["aws:MultiFactorAuthAge"] = []string{"0"}
	} else if p.Session != nil {
		mfaAt = p.Session.MFAAt
	}
	req := &policy.Request{Action: "sts:AssumeRole", Resource: in.RoleArn, ResourcePolicyRequired: true, Keys: keys}
	if role != nil {
		req.Resource, req.ResourceAccount = role.ARN, role.AccountID
		trust, err := policy.ParseCached(role.TrustPolicy, policy.TrustKind)
		if err != nil {
			return nil, fmt.Errorf("sts: trust policy of %s: %w", role.ARN, err)
		}
		req.ResourcePolicy = trust
	} else if a := strings.Split(in.RoleArn, ":"); len(a) > 4 {
		req.ResourceAccount = a[4]
	}
	if err := s.authz.Authorize(ctx, req); err != nil {
		return nil, err
	}
	// Passing session tags, or setting a source identity, are permissions of their own that
	// the trust policy must also grant, as on AWS.
	for _, extra := range []struct {
		action string
		needed bool
	}{{"sts:TagSession", len(in.Tags) > 0 || len(in.TransitiveTagKeys) > 0}, {"sts:SetSourceIdentity", in.SourceIdentity != ""}} {
		if !extra.needed {
			continue
		}
		r := *req
		r.Action = extra.action
		if err := s.authz.Authorize(ctx, &r); err != nil {
			return nil, err
		}
	}
	if role == nil {
		return nil, fmt.Errorf("sts: the authorizer allowed assuming %s, which does not exist", in.RoleArn)
	}
	// Tags from a chained session's transitive keys carry on.
	transitive := in.TransitiveTagKeys
	if p.Session != nil && p.Type == identity.AssumedRole {
		for k, v := range p.Tags {
			if _, set := tags[k]; !set {
				tags[k] = v
			}
		}
	}
	max, tooLong := role.MaxSessionDuration, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
	if p.Type == identity.AssumedRole {
		max, tooLong = chainedMaxDuration, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
	}
	d, err := duration(in.DurationSeconds, defaultRoleDuration, max, tooLong)
	if err != nil {
		return nil, err
	}
	spec := &identity.SessionSpec{AccountID: role.AccountID, Role: role, Parent: p, Name: in.RoleSessionName, Duration: d,
		MFAAt: mfaAt, MFASerial: in.SerialNumber, SourceIdentity: sourceIdentity, Tags: tags, TransitiveTagKeys: transitive,
		Policy: in.Policy, PolicyARNs: in.PolicyArns}
	if len(tags) == 0 {
		spec.Tags = nil
	}
	creds, err := s.ids.CreateSession(ctx, spec)
	if err != nil {
		return nil, err
	}
	out := &AssumeRoleOutput{Credentials: credentialsOf(creds), SourceIdentity: sourceIdentity}
	out.AssumedRoleUser.AssumedRoleID = role.ID + ":" + in.RoleSessionName
	out.AssumedRoleUser.Arn = "arn:aws:sts::" + role.AccountID + ":assumed-role/" + role.Name + "/" + in.RoleSessionName
	// As a percentage of the session policy limit (2048), as STS reports it.
	out.PackedPolicySize = (len(in.Policy) + 20*len(in.PolicyArns)) * 100 / 2048
	return out, nil
}

// GetSessionTokenInput is GetSessionToken's request.
type GetSessionTokenInput struct {
	DurationSeconds *int
	SerialNumber    string
	TokenCode       string
}

// GetSessionTokenOutput is GetSessionToken's response.
type GetSessionTokenOutput struct {
	Credentials Credentials `xml:"Credentials"`
}

// GetSessionToken issues temporary credentials of the calling user (or root user), with MFA
// when the request gives a code: the session carries aws:MultiFactorAuthPresent into every
// decision after. Only long-term credentials may ask.
func (s *Service) GetSessionToken(ctx context.Context, in *GetSessionTokenInput) (*GetSessionTokenOutput, error) {
	// No policy is needed to ask (as on AWS); the engine still refuses a missing caller.
	if err := s.authz.Authorize(ctx, &policy.Request{Action: "sts:GetSessionToken", Resource: "*"}); err != nil {
		return nil, err
	}
	p := caller(ctx)
	if p.Session != nil {
		return nil, awserr.New(awserr.AccessDenied, "Cannot call GetSessionToken with session credentials")
	}
	def, max := defaultTokenDuration, maxTokenDuration
	if p.IsRoot() {
		def, max = rootTokenDuration, rootTokenDuration
	}
	if in.DurationSeconds != nil && time.Duration(*in.DurationSeconds)*time.Second > maxTokenDuration {
		return nil, validation("durationSeconds", strconv.Itoa(*in.DurationSeconds), "Member must have value less than or equal to 129600")
	}
	d, err := duration(in.DurationSeconds, def, max, "The requested DurationSeconds exceeds the 1 hour session limit for the root user.")
	if err != nil {
		return nil, err
	}
	mfaAt, err := s.checkMFA(ctx, p, in.SerialNumber, in.TokenCode)
	if err != nil {
		return nil, err
	}
	creds, err := s.ids.CreateSession(ctx, &identity.SessionSpec{AccountID: p.AccountID, Parent: p, Duration: d,
		MFAAt: mfaAt, MFASerial: in.SerialNumber})
	if err != nil {
		return nil, err
	}
	return &GetSessionTokenOutput{Credentials: credentialsOf(creds)}, nil
}
