package iam

import (
	"context"
	"slices"
	"strings"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
)

// Inline policy size quotas, in characters without whitespace, for all of an entity's inline
// policies together, as IAM counts them: 2,048 for a user, 5,120 for a group, 10,240 for a role.
var inlineQuota = map[string]int{kindUser: 2048, kindGroup: 5120, kindRole: 10240}

// entity is a user, group or role as the policy operations see it: its policies, and how to
// store it back.
type entity struct {
	kind, name, path, id string
	inline               *[]inlinePolicy
	attached             *[]string
	save                 func() error
}

// loadEntity reads the user, group or role name of acct, or returns NoSuchEntity.
func loadEntity(tx storage.Tx, acct, kind, name string) (*entity, error) {
	switch kind {
	case kindUser:
		u, err := readUser(tx, acct, name)
		if err != nil {
			return nil, err
		}
		return &entity{kind, u.Name, u.Path, u.ID, &u.Inline, &u.Attached, func() error { return putUser(tx, acct, u) }}, nil
	case kindGroup:
		g, err := readGroup(tx, acct, name)
		if err != nil {
			return nil, err
		}
		return &entity{kind, g.Name, g.Path, g.ID, &g.Inline, &g.Attached, func() error { return putGroup(tx, acct, g) }}, nil
	}
	r, err := readRole(tx, acct, name)
	if err != nil {
		return nil, err
	}
	return &entity{kind, r.Name, r.Path, r.ID, &r.Inline, &r.Attached, func() error { return putRole(tx, acct, r) }}, nil
}

// authorizeEntity authorizes iam:<op> on the user, group or role name.
func (s *Service) authorizeEntity(ctx context.Context, p *identity.Principal, kind, op, name string, extra map[string][]string) error {
	switch kind {
	case kindUser:
		return s.authorizeUser(ctx, p, op, name, extra)
	case kindGroup:
		return s.authorizeGroup(ctx, p, op, name, extra)
	}
	return s.authorizeRole(ctx, p, op, name, extra)
}

func findInline(list []inlinePolicy, name string) int {
	return slices.IndexFunc(list, func(ip inlinePolicy) bool { return strings.EqualFold(ip.Name, name) })
}

func errNoSuchInline(kind, name string) error {
	return errNoSuchEntity("The %s policy with name %s cannot be found.", kind, name)
}

// putInline stores an inline policy on an entity, replacing one of the same name.
func (s *Service) putInline(ctx context.Context, p *identity.Principal, kind, op, entityName, policyName, doc string) error {
	if err := s.authorizeEntity(ctx, p, kind, op, entityName, nil); err != nil {
		return err
	}
	if _, err := parseDocument(doc, policy.IdentityKind); err != nil {
		return err
	}
	return s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		e, err := loadEntity(tx, p.AccountID, kind, entityName)
		if err != nil {
			return err
		}
		list := slices.Clone(*e.inline)
		if i := findInline(list, policyName); i >= 0 {
			list = slices.Delete(list, i, i+1)
		}
		list = append(list, inlinePolicy{Name: policyName, Document: doc})
		size := 0
		for _, ip := range list {
			size += policySize(ip.Document)
		}
		if quota := inlineQuota[kind]; size > quota {
			return errLimit("Maximum policy size of %d bytes exceeded for %s %s", quota, kind, e.name)
		}
		slices.SortFunc(list, func(a, b inlinePolicy) int { return strings.Compare(a.Name, b.Name) })
		*e.inline = list
		return e.save()
	})
}

func (s *Service) getInline(ctx context.Context, p *identity.Principal, kind, op, entityName, policyName string) (string, inlinePolicy, error) {
	if err := s.authorizeEntity(ctx, p, kind, op, entityName, nil); err != nil {
		return "", inlinePolicy{}, err
	}
	var name string
	var ip inlinePolicy
	err := s.store.View(ctx, func(tx storage.Tx) error {
		e, err := loadEntity(tx, p.AccountID, kind, entityName)
		if err != nil {
			return err
		}
		i := findInline(*e.inline, policyName)
		if i < 0 {
			return errNoSuchInline(kind, policyName)
		}
		name, ip = e.name, (*e.inline)[i]
		return nil
	})
	return name, ip, err
}

func (s *Service) listInline(ctx context.Context, p *identity.Principal, kind, op, entityName, marker string, max *int32) (*ListPolicyNamesOutput, error) {
	if err := s.authorizeEntity(ctx, p, kind, op, entityName, nil); err != nil {
		return nil, err
	}
	var names []string
	err := s.store.View(ctx, func(tx storage.Tx) error {
		e, err := loadEntity(tx, p.AccountID, kind, entityName)
		if err != nil {
			return err
		}
		for _, ip := range *e.inline {
			names = append(names, ip.Name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next, err := pageSlice(names, marker, maxItems(max))
	if err != nil {
		return nil, err
	}
	return &ListPolicyNamesOutput{PolicyNames: append(List[string]{}, page...), IsTruncated: next != "", Marker: next}, nil
}

func (s *Service) deleteInline(ctx context.Context, p *identity.Principal, kind, op, entityName, policyName string) error {
	if err := s.authorizeEntity(ctx, p, kind, op, entityName, nil); err != nil {
		return err
	}
	return s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		e, err := loadEntity(tx, p.AccountID, kind, entityName)
		if err != nil {
			return err
		}
		i := findInline(*e.inline, policyName)
		if i < 0 {
			return errNoSuchInline(kind, policyName)
		}
		*e.inline = slices.Delete(*e.inline, i, i+1)
		return e.save()
	})
}

// ListPolicyNamesOutput is the response of ListUserPolicies, ListGroupPolicies and
// ListRolePolicies.
type ListPolicyNamesOutput struct {
	PolicyNames List[string] `xml:"PolicyNames"`
	IsTruncated bool         `xml:"IsTruncated"`
	Marker      string       `xml:"Marker,omitempty"`
}

// PutUserPolicyInput is PutUserPolicy's request.
type PutUserPolicyInput struct {
	UserName       string `iam:"UserName,existingUserName,required"`
	PolicyName     string `iam:"PolicyName,policyName,required"`
	PolicyDocument string `iam:"PolicyDocument,policyDocument,required"`
}

// PutUserPolicy adds or replaces an inline policy of a user.
func (s *Service) PutUserPolicy(ctx context.Context, in *PutUserPolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.putInline(ctx, p, kindUser, "PutUserPolicy", in.UserName, in.PolicyName, in.PolicyDocument))
}

// UserPolicyInput is the request of GetUserPolicy and DeleteUserPolicy.
type UserPolicyInput struct {
	UserName   string `iam:"UserName,existingUserName,required"`
	PolicyName string `iam:"PolicyName,policyName,required"`
}

// GetUserPolicyOutput is GetUserPolicy's response.
type GetUserPolicyOutput struct {
	UserName       string   `xml:"UserName"`
	PolicyName     string   `xml:"PolicyName"`
	PolicyDocument Document `xml:"PolicyDocument"`
}

// GetUserPolicy returns an inline policy of a user.
func (s *Service) GetUserPolicy(ctx context.Context, in *UserPolicyInput) (*GetUserPolicyOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	name, ip, err := s.getInline(ctx, p, kindUser, "GetUserPolicy", in.UserName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &GetUserPolicyOutput{UserName: name, PolicyName: ip.Name, PolicyDocument: Document(ip.Document)}, nil
}

// DeleteUserPolicy deletes an inline policy of a user.
func (s *Service) DeleteUserPolicy(ctx context.Context, in *UserPolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.deleteInline(ctx, p, kindUser, "DeleteUserPolicy", in.UserName, in.PolicyName))
}

// ListUserPoliciesInput is ListUserPolicies' request.
type ListUserPoliciesInput struct {
	UserName string `iam:"UserName,existingUserName,required"`
	Marker   string `iam:"Marker,marker"`
	MaxItems *int32 `iam:"MaxItems,maxItems"`
}

// ListUserPolicies lists the names of a user's inline policies.
func (s *Service) ListUserPolicies(ctx context.Context, in *ListUserPoliciesInput) (*ListPolicyNamesOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.listInline(ctx, p, kindUser, "ListUserPolicies", in.UserName, in.Marker, in.MaxItems)
}

// PutGroupPolicyInput is PutGroupPolicy's request.
type PutGroupPolicyInput struct {
	GroupName      string `iam:"GroupName,groupName,required"`
	PolicyName     string `iam:"PolicyName,policyName,required"`
	PolicyDocument string `iam:"PolicyDocument,policyDocument,required"`
}

// PutGroupPolicy adds or replaces an inline policy of a group.
func (s *Service) PutGroupPolicy(ctx context.Context, in *PutGroupPolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.putInline(ctx, p, kindGroup, "PutGroupPolicy", in.GroupName, in.PolicyName, in.PolicyDocument))
}

// GroupPolicyInput is the request of GetGroupPolicy and DeleteGroupPolicy.
type GroupPolicyInput struct {
	GroupName  string `iam:"GroupName,groupName,required"`
	PolicyName string `iam:"PolicyName,policyName,required"`
}

// GetGroupPolicyOutput is GetGroupPolicy's response.
type GetGroupPolicyOutput struct {
	GroupName      string   `xml:"GroupName"`
	PolicyName     string   `xml:"PolicyName"`
	PolicyDocument Document `xml:"PolicyDocument"`
}

// GetGroupPolicy returns an inline policy of a group.
func (s *Service) GetGroupPolicy(ctx context.Context, in *GroupPolicyInput) (*GetGroupPolicyOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	name, ip, err := s.getInline(ctx, p, kindGroup, "GetGroupPolicy", in.GroupName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &GetGroupPolicyOutput{GroupName: name, PolicyName: ip.Name, PolicyDocument: Document(ip.Document)}, nil
}

// DeleteGroupPolicy deletes an inline policy of a group.
func (s *Service) DeleteGroupPolicy(ctx context.Context, in *GroupPolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.deleteInline(ctx, p, kindGroup, "DeleteGroupPolicy", in.GroupName, in.PolicyName))
}

// ListGroupPoliciesInput is ListGroupPolicies' request.
type ListGroupPoliciesInput struct {
	GroupName string `iam:"GroupName,groupName,required"`
	Marker    string `iam:"Marker,marker"`
	MaxItems  *int32 `iam:"MaxItems,maxItems"`
}

// ListGroupPolicies lists the names of a group's inline policies.
func (s *Service) ListGroupPolicies(ctx context.Context, in *ListGroupPoliciesInput) (*ListPolicyNamesOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.listInline(ctx, p, kindGroup, "ListGroupPolicies", in.GroupName, in.Marker, in.MaxItems)
}

// PutRolePolicyInput is PutRolePolicy's request.
type PutRolePolicyInput struct {
	RoleName       string `iam:"RoleName,roleName,required"`
	PolicyName     string `iam:"PolicyName,policyName,required"`
	PolicyDocument string `iam:"PolicyDocument,policyDocument,required"`
}

// PutRolePolicy adds or replaces an inline policy of a role.
func (s *Service) PutRolePolicy(ctx context.Context, in *PutRolePolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.putInline(ctx, p, kindRole, "PutRolePolicy", in.RoleName, in.PolicyName, in.PolicyDocument))
}

// RolePolicyInput is the request of GetRolePolicy and DeleteRolePolicy.
type RolePolicyInput struct {
	RoleName   string `iam:"RoleName,roleName,required"`
	PolicyName string `iam:"PolicyName,policyName,required"`
}

// GetRolePolicyOutput is GetRolePolicy's response.
type GetRolePolicyOutput struct {
	RoleName       string   `xml:"RoleName"`
	PolicyName     string   `xml:"PolicyName"`
	PolicyDocument Document `xml:"PolicyDocument"`
}

// GetRolePolicy returns an inline policy of a role.
func (s *Service) GetRolePolicy(ctx context.Context, in *RolePolicyInput) (*GetRolePolicyOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	name, ip, err := s.getInline(ctx, p, kindRole, "GetRolePolicy", in.RoleName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &GetRolePolicyOutput{RoleName: name, PolicyName: ip.Name, PolicyDocument: Document(ip.Document)}, nil
}

// DeleteRolePolicy deletes an inline policy of a role.
func (s *Service) DeleteRolePolicy(ctx context.Context, in *RolePolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.deleteInline(ctx, p, kindRole, "DeleteRolePolicy", in.RoleName, in.PolicyName))
}

// ListRolePoliciesInput is ListRolePolicies' request.
type ListRolePoliciesInput struct {
	RoleName string `iam:"RoleName,roleName,required"`
	Marker   string `iam:"Marker,marker"`
	MaxItems *int32 `iam:"MaxItems,maxItems"`
}

// ListRolePolicies lists the names of a role's inline policies.
func (s *Service) ListRolePolicies(ctx context.Context, in *ListRolePoliciesInput) (*ListPolicyNamesOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.listInline(ctx, p, kindRole, "ListRolePolicies", in.RoleName, in.Marker, in.MaxItems)
}
