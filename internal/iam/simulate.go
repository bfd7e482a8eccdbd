package iam

import (
	"context"
	"encoding/base64"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
)

// The policy simulator answers each action and resource with policy.Evaluate, the function the
// authorizer itself decides with, so a simulation and an enforced decision cannot disagree.

// ContextEntry is a condition key value for a simulation.
type ContextEntry struct {
	ContextKeyName   string   `iam:"ContextKeyName,contextKey"`
	ContextKeyValues []string `iam:"ContextKeyValues,contextValues"`
	ContextKeyType   string   `iam:"ContextKeyType,contextType"`
}

// simulation is what both simulate calls share.
type simulation struct {
	PolicyInputList                    []string
	PermissionsBoundaryPolicyInputList []string
	ActionNames                        []string
	ResourceArns                       []string
	ResourcePolicy                     string
	ResourceOwner                      string
	CallerArn                          string
	ContextEntries                     []ContextEntry
	ResourceHandlingOption             string
	MaxItems                           *int32
	Marker                             string
}

// SimulatePrincipalPolicyInput is SimulatePrincipalPolicy's request.
type SimulatePrincipalPolicyInput struct {
	PolicySourceArn                    string         `iam:"PolicySourceArn,arn,required"`
	PolicyInputList                    []string       `iam:"PolicyInputList,documents"`
	PermissionsBoundaryPolicyInputList []string       `iam:"PermissionsBoundaryPolicyInputList,documents"`
	ActionNames                        []string       `iam:"ActionNames,actionNames,required"`
	ResourceArns                       []string       `iam:"ResourceArns,resources"`
	ResourcePolicy                     string         `iam:"ResourcePolicy,policyDocument"`
	ResourceOwner                      string         `iam:"ResourceOwner,resourceName"`
	CallerArn                          string         `iam:"CallerArn,resourceName"`
	ContextEntries                     []ContextEntry `iam:"ContextEntries"`
	ResourceHandlingOption             string         `iam:"ResourceHandlingOption,resourceOpt"`
	MaxItems                           *int32         `iam:"MaxItems,maxItems"`
	Marker                             string         `iam:"Marker,marker"`
}

// SimulateCustomPolicyInput is SimulateCustomPolicy's request.
type SimulateCustomPolicyInput struct {
	PolicyInputList                    []string       `iam:"PolicyInputList,documents,required"`
	PermissionsBoundaryPolicyInputList []string       `iam:"PermissionsBoundaryPolicyInputList,documents"`
	ActionNames                        []string       `iam:"ActionNames,actionNames,required"`
	ResourceArns                       []string       `iam:"ResourceArns,resources"`
	ResourcePolicy                     string         `iam:"ResourcePolicy,policyDocument"`
	ResourceOwner                      string         `iam:"ResourceOwner,resourceName"`
	CallerArn                          string         `iam:"CallerArn,resourceName"`
	ContextEntries                     []ContextEntry `iam:"ContextEntries"`
	ResourceHandlingOption             string         `iam:"ResourceHandlingOption,resourceOpt"`
	MaxItems                           *int32         `iam:"MaxItems,maxItems"`
	Marker                             string         `iam:"Marker,marker"`
}

// MatchedStatement names a policy whose statement took part in a simulated decision.
type MatchedStatement struct {
	SourcePolicyID   string `xml:"SourcePolicyId"`
	SourcePolicyType string `xml:"SourcePolicyType"`
}

// EvaluationResult is the simulated decision for one action on one resource.
type EvaluationResult struct {
	EvalActionName       string                 `xml:"EvalActionName"`
	EvalResourceName     string                 `xml:"EvalResourceName"`
	EvalDecision         string                 `xml:"EvalDecision"`
	MatchedStatements    List[MatchedStatement] `xml:"MatchedStatements"`
	MissingContextValues List[string]           `xml:"MissingContextValues"`
}

// SimulatePolicyOutput is the response of both simulate calls.
type SimulatePolicyOutput struct {
	EvaluationResults List[EvaluationResult] `xml:"EvaluationResults"`
	IsTruncated       bool                   `xml:"IsTruncated"`
	Marker            string                 `xml:"Marker,omitempty"`
}

// SimulatePrincipalPolicy simulates a user's, group's or role's policies (plus any given in
// PolicyInputList) for each action on each resource ("*" when none is given). The simulated
// caller is the source user, or for a group a user in it, or for a role a session of it; a
// CallerArn (an IAM user of the account) replaces it as the caller.
func (s *Service) SimulatePrincipalPolicy(ctx context.Context, in *SimulatePrincipalPolicyInput) (*SimulatePolicyOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "SimulatePrincipalPolicy", in.PolicySourceArn, nil); err != nil {
		return nil, err
	}
	src, ok := parseARN(in.PolicySourceArn)
	if !ok || (src.Kind != "user" && src.Kind != "group" && src.Kind != "role") {
		return nil, errInvalidARN(in.PolicySourceArn)
	}
	acct := p.AccountID
	var sim *identity.Principal
	pp := &policy.PrincipalPolicies{}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		if src.Account != acct {
			return errNoSuchEntity("The entity %s cannot be found.", in.PolicySourceArn)
		}
		switch src.Kind {
		case "user":
			u, err := readUser(tx, acct, src.Name)
			if err != nil {
				return err
			}
			if u.Path != src.Path {
				return errNoSuchUser(src.Name)
			}
			sim = &identity.Principal{Type: identity.User, AccountID: acct, ARN: userARN(acct, u.Path, u.Name), UserID: u.ID, Name: u.Name, Tags: tagMap(u.Tags)}
			return s.userSources(tx, acct, u, pp)
		case "group":
			g, err := readGroup(tx, acct, src.Name)
			if err != nil {
				return err
			}
			if g.Path != src.Path {
				return errNoSuchGroup(src.Name)
			}
			sim = &identity.Principal{Type: identity.User, AccountID: acct, ARN: groupARN(acct, g.Path, g.Name), UserID: g.ID, Name: g.Name}
			return s.entitySources(tx, acct, kindGroup, g.Inline, g.Attached, pp)
		}
		r, err := readRole(tx, acct, src.Name)
		if err != nil {
			return err
		}
		if r.Path != src.Path {
			return errNoSuchRole(src.Name)
		}
		arn := roleARN(acct, r.Path, r.Name)
		sim = &identity.Principal{Type: identity.AssumedRole, AccountID: acct, RoleARN: arn,
			ARN: "arn:aws:sts::" + acct + ":assumed-role/" + r.Name + "/simulation", UserID: r.ID + ":simulation", Name: r.Name, Tags: tagMap(r.Tags)}
		return s.entitySources(tx, acct, kindRole, r.Inline, r.Attached, pp)
	})
	if err != nil {
		return nil, err
	}
	return s.simulate(ctx, p, sim, pp, simulation{in.PolicyInputList, in.PermissionsBoundaryPolicyInputList, in.ActionNames,
		in.ResourceArns, in.ResourcePolicy, in.ResourceOwner, in.CallerArn, in.ContextEntries, in.ResourceHandlingOption,
		in.MaxItems, in.Marker})
}

// SimulateCustomPolicy simulates the policies in PolicyInputList alone for each action on each
// resource. The simulated caller is CallerArn (an IAM user of the account), or else a user
// named SimulatedCaller in the caller's account that has no other policies.
func (s *Service) SimulateCustomPolicy(ctx context.Context, in *SimulateCustomPolicyInput) (*SimulatePolicyOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "SimulateCustomPolicy", "*", nil); err != nil {
		return nil, err
	}
	sim := &identity.Principal{Type: identity.User, AccountID: p.AccountID, ARN: userARN(p.AccountID, "/", "SimulatedCaller"),
		UserID: "AIDASIMULATEDCALLERXX", Name: "SimulatedCaller"}
	return s.simulate(ctx, p, sim, &policy.PrincipalPolicies{}, simulation{in.PolicyInputList, in.PermissionsBoundaryPolicyInputList,
		in.ActionNames, in.ResourceArns, in.ResourcePolicy, in.ResourceOwner, in.CallerArn, in.ContextEntries,
		in.ResourceHandlingOption, in.MaxItems, in.Marker})
}

func (s *Service) simulate(ctx context.Context, p *identity.Principal, sim *identity.Principal, pp *policy.PrincipalPolicies, in simulation) (*SimulatePolicyOutput, error) {
	if len(in.PermissionsBoundaryPolicyInputList) > 0 {
		return nil, errInvalidInput("Permissions boundaries are not supported by this server.")
	}
	for i, text := range in.PolicyInputList {
		d, err := parseDocument(text, policy.IdentityKind)
		if err != nil {
			return nil, err
		}
		pp.Identity = append(pp.Identity, policy.Source{ID: "PolicyInputList." + strconv.Itoa(i+1), Type: "none", Doc: d})
	}
	var resourceDoc *policy.Document
	if in.ResourcePolicy != "" {
		d, err := parseDocument(in.ResourcePolicy, policy.ResourceKind)
		if err != nil {
			return nil, err
		}
		resourceDoc = d
	}
	owner := p.AccountID
	if in.ResourceOwner != "" {
		acct, ok := strings.CutPrefix(in.ResourceOwner, "arn:aws:iam::")
		acct, root := strings.CutSuffix(acct, ":root")
		if !ok || !root || !accountIDPattern.MatchString(acct) {
			return nil, errInvalidInput("ResourceOwner must be an account ARN such as arn:aws:iam::123456789012:root.")
		}
		owner = acct
	}
	if in.CallerArn != "" {
		c, ok := parseARN(in.CallerArn)
		if !ok || c.Kind != "user" || c.Account != p.AccountID {
			return nil, errInvalidInput("CallerArn must be the ARN of an IAM user of this account.")
		}
		var u *userRecord
		err := s.store.View(ctx, func(tx storage.Tx) (err error) {
			u, err = readUser(tx, c.Account, c.Name)
			return err
		})
		if err != nil {
			return nil, err
		}
		sim = &identity.Principal{Type: identity.User, AccountID: c.Account, ARN: userARN(c.Account, u.Path, u.Name), UserID: u.ID, Name: u.Name, Tags: tagMap(u.Tags)}
	}
	keys, err := contextKeys(in.ContextEntries)
	if err != nil {
		return nil, err
	}
	resources := in.ResourceArns
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	caller := &identity.Request{Principal: sim, Time: s.now(), SecureTransport: true, Region: s.region}
	if r := identity.RequestFrom(ctx); r != nil {
		caller.SourceIP, caller.SecureTransport, caller.Region, caller.UserAgent = r.SourceIP, r.SecureTransport, r.Region, r.UserAgent
	}
	var results []EvaluationResult
	for _, action := range in.ActionNames {
		for _, res := range resources {
			req := &policy.Request{Caller: caller, Action: action, Resource: res, ResourceAccount: owner, ResourcePolicy: resourceDoc, Keys: keys}
			r := policy.Evaluate(req, pp)
			er := EvaluationResult{EvalActionName: action, EvalResourceName: res, EvalDecision: string(r.Decision),
				MatchedStatements: List[MatchedStatement]{}, MissingContextValues: append(List[string]{}, r.Missing...)}
			for _, m := range r.Matched {
				ms := MatchedStatement{SourcePolicyID: m.Source.ID, SourcePolicyType: m.Source.Type}
				if resourceDoc != nil && m.Source.Doc == resourceDoc {
					ms = MatchedStatement{SourcePolicyID: "ResourcePolicy", SourcePolicyType: "resource"}
				}
				if ms.SourcePolicyType == "" {
					ms.SourcePolicyType = "none"
				}
				er.MatchedStatements = append(er.MatchedStatements, ms)
			}
			results = append(results, er)
		}
	}
	page, next, err := pageSlice(results, in.Marker, maxItems(in.MaxItems))
	if err != nil {
		return nil, err
	}
	return &SimulatePolicyOutput{EvaluationResults: append(List[EvaluationResult]{}, page...), IsTruncated: next != "", Marker: next}, nil
}

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// contextKeys turns simulation context entries into condition key values, checking that each
// value reads as its declared type. Single-valued types take one value.
func contextKeys(entries []ContextEntry) (map[string][]string, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	keys := make(map[string][]string, len(entries))
	for _, e := range entries {
		if e.ContextKeyName == "" || e.ContextKeyType == "" {
			return nil, errInvalidInput("A context entry needs ContextKeyName and ContextKeyType.")
		}
		base, list := strings.CutSuffix(e.ContextKeyType, "List")
		if !list && len(e.ContextKeyValues) != 1 {
			return nil, errInvalidInput("Context key %s of type %s takes exactly one value.", e.ContextKeyName, e.ContextKeyType)
		}
		for _, v := range e.ContextKeyValues {
			if !validContextValue(base, v) {
				return nil, errInvalidInput("Invalid value %s for context key %s of type %s.", v, e.ContextKeyName, e.ContextKeyType)
			}
		}
		keys[e.ContextKeyName] = append([]string(nil), e.ContextKeyValues...)
	}
	return keys, nil
}

func validContextValue(typ, v string) bool {
	switch typ {
	case "numeric":
		_, err := strconv.ParseFloat(v, 64)
		return err == nil
	case "boolean":
		_, err := strconv.ParseBool(v)
		return err == nil
	case "ip":
		if _, err := netip.ParsePrefix(v); err == nil {
			return true
		}
		_, err := netip.ParseAddr(v)
		return err == nil
	case "binary":
		_, err := base64.StdEncoding.DecodeString(v)
		return err == nil
	case "date":
		if _, err := time.Parse(time.RFC3339, v); err == nil {
			return true
		}
		_, err := strconv.ParseInt(v, 10, 64) // epoch seconds
		return err == nil
	}
	return true // string
}
