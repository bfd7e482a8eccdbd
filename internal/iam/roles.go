package iam

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
)

const (
	defaultMaxSession = 3600
	// maxTrustPolicy is IAM's ACLSizePerRole quota, counted without whitespace.
	maxTrustPolicy = 2048
)

// Role is IAM's Role.
type Role struct {
	Path                     string        `xml:"Path"`
	RoleName                 string        `xml:"RoleName"`
	RoleID                   string        `xml:"RoleId"`
	Arn                      string        `xml:"Arn"`
	CreateDate               time.Time     `xml:"CreateDate"`
	AssumeRolePolicyDocument Document      `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string        `xml:"Description,omitempty"`
	MaxSessionDuration       int           `xml:"MaxSessionDuration,omitempty"`
	Tags                     List[Tag]     `xml:"Tags,omitempty"`
	RoleLastUsed             *RoleLastUsed `xml:"RoleLastUsed"`
}

// RoleLastUsed is when and where a role was last assumed; empty when it never was.
type RoleLastUsed struct {
	LastUsedDate *time.Time `xml:"LastUsedDate,omitempty"`
	Region       string     `xml:"Region,omitempty"`
}

// wire is the role as GetRole shows it; ListRoles leaves out tags and last use, as IAM does.
func (r *roleRecord) wire(acct string, full bool) Role {
	out := Role{Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: roleARN(acct, r.Path, r.Name), CreateDate: r.Created,
		AssumeRolePolicyDocument: Document(r.Trust), Description: r.Description, MaxSessionDuration: r.MaxSessionDuration}
	if full {
		out.Tags = r.Tags
		out.RoleLastUsed = &RoleLastUsed{}
		if !r.LastUsed.IsZero() {
			t := r.LastUsed
			out.RoleLastUsed = &RoleLastUsed{LastUsedDate: &t, Region: r.LastUsedRegion}
		}
	}
	return out
}

func readRole(tx storage.Tx, acct, name string) (*roleRecord, error) {
	var r roleRecord
	found, err := get(tx, entityKey(acct, kindRole, name), &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNoSuchRole(name)
	}
	return &r, nil
}

func putRole(tx storage.Tx, acct string, r *roleRecord) error {
	return putJSON(tx, entityKey(acct, kindRole, r.Name), r)
}

// parseDocument parses text as a policy of kind k; a refusal is MalformedPolicyDocument with
// the parser's words.
func parseDocument(text string, k policy.Kind) (*policy.Document, error) {
	d, err := policy.Parse(text, k)
	var se *policy.SyntaxError
	if errors.As(err, &se) {
		return nil, errMalformed(se.Msg)
	}
	return d, err
}

// policySize is a document's size as IAM counts it against its quotas: whitespace is free.
func policySize(text string) int {
	n := 0
	for _, r := range text {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func checkTrustPolicy(text string) error {
	if policySize(text) > maxTrustPolicy {
		return errQuota("ACLSizePerRole", maxTrustPolicy)
	}
	_, err := parseDocument(text, policy.TrustKind)
	return err
}

// CreateRoleInput is CreateRole's request.
type CreateRoleInput struct {
	Path                     string `iam:"Path,path"`
	RoleName                 string `iam:"RoleName,roleName,required"`
	AssumeRolePolicyDocument string `iam:"AssumeRolePolicyDocument,policyDocument,required"`
	Description              string `iam:"Description,roleDescription"`
	MaxSessionDuration       *int32 `iam:"MaxSessionDuration,sessionDur"`
	PermissionsBoundary      string `iam:"PermissionsBoundary,arn"`
	Tags                     []Tag  `iam:"Tags,tags"`
}

// CreateRoleOutput is CreateRole's response.
type CreateRoleOutput struct {
	Role Role `xml:"Role"`
}

// CreateRole creates a role with a trust policy saying who may assume it.
func (s *Service) CreateRole(ctx context.Context, in *CreateRoleInput) (*CreateRoleOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	path := defaultPath(in.Path)
	if err := s.authorize(ctx, p, "CreateRole", roleARN(p.AccountID, path, in.RoleName), requestTagKeys(nil, in.Tags)); err != nil {
		return nil, err
	}
	if err := noBoundary(in.PermissionsBoundary); err != nil {
		return nil, err
	}
	if err := checkNewTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkTrustPolicy(in.AssumeRolePolicyDocument); err != nil {
		return nil, err
	}
	r, err := s.newRole(in.RoleName, path, in.AssumeRolePolicyDocument)
	if err != nil {
		return nil, err
	}
	r.Description, r.Tags = in.Description, in.Tags
	if in.MaxSessionDuration != nil {
		r.MaxSessionDuration = int(*in.MaxSessionDuration)
	}
	err = s.write(ctx, p.AccountID, func(tx storage.Tx) error { return insertRole(tx, p.AccountID, r) })
	if err != nil {
		return nil, err
	}
	out := &CreateRoleOutput{Role: r.wire(p.AccountID, false)}
	out.Role.Tags = r.Tags
	return out, nil
}

func (s *Service) newRole(name, path, trust string) (*roleRecord, error) {
	id, err := s.newID("AROA")
	if err != nil {
		return nil, err
	}
	return &roleRecord{Name: name, Path: path, ID: id, Created: s.timestamp(), Trust: trust, MaxSessionDuration: defaultMaxSession}, nil
}

// insertRole stores a new role, refusing a name the account already uses.
func insertRole(tx storage.Tx, acct string, r *roleRecord) error {
	var have roleRecord
	if found, err := get(tx, entityKey(acct, kindRole, r.Name), &have); err != nil {
		return err
	} else if found {
		return errAlreadyExists("Role with name %s already exists.", have.Name)
	}
	return putRole(tx, acct, r)
}

// GetRoleInput is GetRole's request.
type GetRoleInput struct {
	RoleName string `iam:"RoleName,roleName,required"`
}

// GetRoleOutput is GetRole's response.
type GetRoleOutput struct {
	Role Role `xml:"Role"`
}

// GetRole describes a role, its trust policy, tags and last use.
func (s *Service) GetRole(ctx context.Context, in *GetRoleInput) (*GetRoleOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeRole(ctx, p, "GetRole", in.RoleName, nil); err != nil {
		return nil, err
	}
	var r *roleRecord
	err = s.store.View(ctx, func(tx storage.Tx) (err error) {
		r, err = readRole(tx, p.AccountID, in.RoleName)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &GetRoleOutput{Role: r.wire(p.AccountID, true)}, nil
}

// ListRolesInput is ListRoles' request.
type ListRolesInput struct {
	PathPrefix string `iam:"PathPrefix,pathPrefix"`
	Marker     string `iam:"Marker,marker"`
	MaxItems   *int32 `iam:"MaxItems,maxItems"`
}

// ListRolesOutput is ListRoles' response.
type ListRolesOutput struct {
	Roles       List[Role] `xml:"Roles"`
	IsTruncated bool       `xml:"IsTruncated"`
	Marker      string     `xml:"Marker,omitempty"`
}

// ListRoles lists the account's roles whose path starts with PathPrefix, by name.
func (s *Service) ListRoles(ctx context.Context, in *ListRolesInput) (*ListRolesOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "ListRoles", "*", nil); err != nil {
		return nil, err
	}
	out := &ListRolesOutput{Roles: List[Role]{}}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		roles, next, err := scanPage(tx, entityPrefix(p.AccountID, kindRole), in.Marker, maxItems(in.MaxItems),
			func(r *roleRecord) bool { return strings.HasPrefix(r.Path, in.PathPrefix) })
		for _, r := range roles {
			out.Roles = append(out.Roles, r.wire(p.AccountID, false))
		}
		out.Marker, out.IsTruncated = next, next != ""
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateRoleInput is UpdateRole's request; absent members are left as they are.
type UpdateRoleInput struct {
	RoleName           string  `iam:"RoleName,roleName,required"`
	Description        *string `iam:"Description,roleDescription"`
	MaxSessionDuration *int32  `iam:"MaxSessionDuration,sessionDur"`
}

// UpdateRoleOutput is UpdateRole's response: an empty result element, which IAM sends and the
// SDK expects.
type UpdateRoleOutput struct{}

// UpdateRole changes a role's description or maximum session duration.
func (s *Service) UpdateRole(ctx context.Context, in *UpdateRoleInput) (*UpdateRoleOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeRole(ctx, p, "UpdateRole", in.RoleName, nil); err != nil {
		return nil, err
	}
	_, err = s.updateRole(ctx, p.AccountID, in.RoleName, func(r *roleRecord) error {
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSessionDuration = int(*in.MaxSessionDuration)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &UpdateRoleOutput{}, nil
}

func (s *Service) updateRole(ctx context.Context, acct, name string, fn func(*roleRecord) error) (*roleRecord, error) {
	var out *roleRecord
	err := s.write(ctx, acct, func(tx storage.Tx) error {
		r, err := readRole(tx, acct, name)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		out = r
		return putRole(tx, acct, r)
	})
	return out, err
}

// UpdateRoleDescriptionInput is UpdateRoleDescription's request.
type UpdateRoleDescriptionInput struct {
	RoleName    string `iam:"RoleName,roleName,required"`
	Description string `iam:"Description,roleDescription"`
}

// UpdateRoleDescriptionOutput is UpdateRoleDescription's response.
type UpdateRoleDescriptionOutput struct {
	Role Role `xml:"Role"`
}

// UpdateRoleDescription sets a role's description and returns the role.
func (s *Service) UpdateRoleDescription(ctx context.Context, in *UpdateRoleDescriptionInput) (*UpdateRoleDescriptionOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeRole(ctx, p, "UpdateRoleDescription", in.RoleName, nil); err != nil {
		return nil, err
	}
	r, err := s.updateRole(ctx, p.AccountID, in.RoleName, func(r *roleRecord) error {
		r.Description = in.Description
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &UpdateRoleDescriptionOutput{Role: r.wire(p.AccountID, true)}, nil
}

// UpdateAssumeRolePolicyInput is UpdateAssumeRolePolicy's request.
type UpdateAssumeRolePolicyInput struct {
	RoleName       string `iam:"RoleName,roleName,required"`
	PolicyDocument string `iam:"PolicyDocument,policyDocument,required"`
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, in *UpdateAssumeRolePolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeRole(ctx, p, "UpdateAssumeRolePolicy", in.RoleName, nil); err != nil {
		return nil, err
	}
	if err := checkTrustPolicy(in.PolicyDocument); err != nil {
		return nil, err
	}
	_, err = s.updateRole(ctx, p.AccountID, in.RoleName, func(r *roleRecord) error {
		r.Trust = in.PolicyDocument
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// DeleteRoleInput is DeleteRole's request.
type DeleteRoleInput struct {
	RoleName string `iam:"RoleName,roleName,required"`
}

// DeleteRole deletes a role with no inline or attached policies.
func (s *Service) DeleteRole(ctx context.Context, in *DeleteRoleInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeRole(ctx, p, "DeleteRole", in.RoleName, nil); err != nil {
		return nil, err
	}
	err = s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		r, err := readRole(tx, p.AccountID, in.RoleName)
		if err != nil {
			return err
		}
		switch {
		case len(r.Inline) > 0:
			return errDeleteConflict("Cannot delete entity, must delete policies first.")
		case len(r.Attached) > 0:
			return errDeleteConflict("Cannot delete entity, must detach all policies first.")
		}
		return tx.Delete(entityKey(p.AccountID, kindRole, r.Name))
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// TagRoleInput is TagRole's request.
type TagRoleInput struct {
	RoleName string `iam:"RoleName,roleName,required"`
	Tags     []Tag  `iam:"Tags,tags,required"`
}

// TagRole adds tags to a role, replacing the values of keys it has.
func (s *Service) TagRole(ctx context.Context, in *TagRoleInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeRole(ctx, p, "TagRole", in.RoleName, requestTagKeys(nil, in.Tags)); err != nil {
		return nil, err
	}
	if err := checkNewTags(in.Tags); err != nil {
		return nil, err
	}
	_, err = s.updateRole(ctx, p.AccountID, in.RoleName, func(r *roleRecord) (err error) {
		r.Tags, err = mergeTags(r.Tags, in.Tags)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// UntagRoleInput is UntagRole's request.
type UntagRoleInput struct {
	RoleName string   `iam:"RoleName,roleName,required"`
	TagKeys  []string `iam:"TagKeys,tagKeys,required"`
}

// UntagRole removes tags from a role.
func (s *Service) UntagRole(ctx context.Context, in *UntagRoleInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeRole(ctx, p, "UntagRole", in.RoleName, withKey(nil, "aws:TagKeys", in.TagKeys...)); err != nil {
		return nil, err
	}
	_, err = s.updateRole(ctx, p.AccountID, in.RoleName, func(r *roleRecord) error {
		r.Tags = removeTags(r.Tags, in.TagKeys)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// ListRoleTagsInput is ListRoleTags' request.
type ListRoleTagsInput struct {
	RoleName string `iam:"RoleName,roleName,required"`
	Marker   string `iam:"Marker,marker"`
	MaxItems *int32 `iam:"MaxItems,maxItems"`
}

// ListRoleTags lists a role's tags.
func (s *Service) ListRoleTags(ctx context.Context, in *ListRoleTagsInput) (*ListTagsOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeRole(ctx, p, "ListRoleTags", in.RoleName, nil); err != nil {
		return nil, err
	}
	var r *roleRecord
	err = s.store.View(ctx, func(tx storage.Tx) (err error) {
		r, err = readRole(tx, p.AccountID, in.RoleName)
		return err
	})
	if err != nil {
		return nil, err
	}
	return pageTags(r.Tags, in.Marker, in.MaxItems)
}
