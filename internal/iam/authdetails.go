package iam

import (
	"context"
	"slices"
	"time"

	"github.com/stateward/stateward/internal/storage"
)

// GetAccountAuthorizationDetailsInput is GetAccountAuthorizationDetails' request.
type GetAccountAuthorizationDetailsInput struct {
	Filter   []string `iam:"Filter,entityTypes"`
	MaxItems *int32   `iam:"MaxItems,maxItems"`
	Marker   string   `iam:"Marker,marker"`
}

// PolicyDetail is an inline policy with its document.
type PolicyDetail struct {
	PolicyName     string   `xml:"PolicyName"`
	PolicyDocument Document `xml:"PolicyDocument"`
}

// UserDetail is a user with its policies, groups and tags.
type UserDetail struct {
	Path                    string               `xml:"Path"`
	UserName                string               `xml:"UserName"`
	UserID                  string               `xml:"UserId"`
	Arn                     string               `xml:"Arn"`
	CreateDate              time.Time            `xml:"CreateDate"`
	UserPolicyList          List[PolicyDetail]   `xml:"UserPolicyList"`
	GroupList               List[string]         `xml:"GroupList"`
	AttachedManagedPolicies List[AttachedPolicy] `xml:"AttachedManagedPolicies"`
	Tags                    List[Tag]            `xml:"Tags"`
}

// GroupDetail is a group with its policies.
type GroupDetail struct {
	Path                    string               `xml:"Path"`
	GroupName               string               `xml:"GroupName"`
	GroupID                 string               `xml:"GroupId"`
	Arn                     string               `xml:"Arn"`
	CreateDate              time.Time            `xml:"CreateDate"`
	GroupPolicyList         List[PolicyDetail]   `xml:"GroupPolicyList"`
	AttachedManagedPolicies List[AttachedPolicy] `xml:"AttachedManagedPolicies"`
}

// RoleDetail is a role with its trust policy, policies, tags and last use. Stateward has no
// instance profiles: the list is always empty.
type RoleDetail struct {
	Path                     string               `xml:"Path"`
	RoleName                 string               `xml:"RoleName"`
	RoleID                   string               `xml:"RoleId"`
	Arn                      string               `xml:"Arn"`
	CreateDate               time.Time            `xml:"CreateDate"`
	AssumeRolePolicyDocument Document             `xml:"AssumeRolePolicyDocument"`
	InstanceProfileList      List[struct{}]       `xml:"InstanceProfileList"`
	RolePolicyList           List[PolicyDetail]   `xml:"RolePolicyList"`
	AttachedManagedPolicies  List[AttachedPolicy] `xml:"AttachedManagedPolicies"`
	Tags                     List[Tag]            `xml:"Tags"`
	RoleLastUsed             RoleLastUsed         `xml:"RoleLastUsed"`
}

// ManagedPolicyDetail is a managed policy with all its versions' documents.
type ManagedPolicyDetail struct {
	PolicyName                    string              `xml:"PolicyName"`
	PolicyID                      string              `xml:"PolicyId"`
	Arn                           string              `xml:"Arn"`
	Path                          string              `xml:"Path"`
	DefaultVersionID              string              `xml:"DefaultVersionId"`
	AttachmentCount               int                 `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int                 `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool                `xml:"IsAttachable"`
	Description                   string              `xml:"Description,omitempty"`
	CreateDate                    time.Time           `xml:"CreateDate"`
	UpdateDate                    time.Time           `xml:"UpdateDate"`
	PolicyVersionList             List[PolicyVersion] `xml:"PolicyVersionList"`
}

// GetAccountAuthorizationDetailsOutput is GetAccountAuthorizationDetails' response.
type GetAccountAuthorizationDetailsOutput struct {
	UserDetailList  List[UserDetail]          `xml:"UserDetailList"`
	GroupDetailList List[GroupDetail]         `xml:"GroupDetailList"`
	RoleDetailList  List[RoleDetail]          `xml:"RoleDetailList"`
	Policies        List[ManagedPolicyDetail] `xml:"Policies"`
	IsTruncated     bool                      `xml:"IsTruncated"`
	Marker          string                    `xml:"Marker,omitempty"`
}

func policyDetails(list []inlinePolicy) List[PolicyDetail] {
	out := List[PolicyDetail]{}
	for _, ip := range list {
		out = append(out, PolicyDetail{PolicyName: ip.Name, PolicyDocument: Document(ip.Document)})
	}
	return out
}

func attachedList(arns []string) List[AttachedPolicy] {
	out := List[AttachedPolicy]{}
	for _, arn := range arns {
		a, _ := parseARN(arn)
		out = append(out, AttachedPolicy{PolicyName: a.Name, PolicyArn: arn})
	}
	return out
}

// GetAccountAuthorizationDetails describes the account's users, groups, roles and managed
// policies (the account's own, and the AWS managed ones attached to something), with their
// relationships and documents: users, then groups, roles and policies, each by name, paged
// together.
func (s *Service) GetAccountAuthorizationDetails(ctx context.Context, in *GetAccountAuthorizationDetailsInput) (*GetAccountAuthorizationDetailsOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "GetAccountAuthorizationDetails", "*", nil); err != nil {
		return nil, err
	}
	want := func(t string) bool { return len(in.Filter) == 0 || slices.Contains(in.Filter, t) }
	acct := p.AccountID
	var items []any
	err = s.store.View(ctx, func(tx storage.Tx) error {
		if want("User") {
			err := scanJSON(tx, entityPrefix(acct, kindUser), nil, func(_ []byte, u *userRecord) error {
				items = append(items, UserDetail{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: userARN(acct, u.Path, u.Name),
					CreateDate: u.Created, UserPolicyList: policyDetails(u.Inline), GroupList: append(List[string]{}, u.Groups...),
					AttachedManagedPolicies: attachedList(u.Attached), Tags: append(List[Tag]{}, u.Tags...)})
				return nil
			})
			if err != nil {
				return err
			}
		}
		if want("Group") {
			err := scanJSON(tx, entityPrefix(acct, kindGroup), nil, func(_ []byte, g *groupRecord) error {
				items = append(items, GroupDetail{Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: groupARN(acct, g.Path, g.Name),
					CreateDate: g.Created, GroupPolicyList: policyDetails(g.Inline), AttachedManagedPolicies: attachedList(g.Attached)})
				return nil
			})
			if err != nil {
				return err
			}
		}
		if want("Role") {
			err := scanJSON(tx, entityPrefix(acct, kindRole), nil, func(_ []byte, r *roleRecord) error {
				w := r.wire(acct, true)
				items = append(items, RoleDetail{Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: w.Arn, CreateDate: r.Created,
					AssumeRolePolicyDocument: Document(r.Trust), InstanceProfileList: List[struct{}]{}, RolePolicyList: policyDetails(r.Inline),
					AttachedManagedPolicies: attachedList(r.Attached), Tags: append(List[Tag]{}, r.Tags...), RoleLastUsed: *w.RoleLastUsed})
				return nil
			})
			if err != nil {
				return err
			}
		}
		counts, err := attachmentCounts(tx, acct)
		if err != nil {
			return err
		}
		detail := func(m *managedPolicy) ManagedPolicyDetail {
			d := ManagedPolicyDetail{PolicyName: m.rec.Name, PolicyID: m.rec.ID, Arn: m.arn, Path: m.rec.Path,
				DefaultVersionID: m.rec.Default, AttachmentCount: counts[m.arn], IsAttachable: true, Description: m.rec.Description,
				CreateDate: m.rec.Created, UpdateDate: m.rec.Updated, PolicyVersionList: List[PolicyVersion]{}}
			for i := range m.rec.Versions {
				d.PolicyVersionList = append(d.PolicyVersionList, m.rec.Versions[i].wire(m.rec.Default, true))
			}
			return d
		}
		if want("AWSManagedPolicy") {
			for _, name := range awsPolicyNames {
				if arn := awsPolicyARN(name); counts[arn] > 0 {
					items = append(items, detail(&managedPolicy{rec: awsPolicies[name], arn: arn, aws: true}))
				}
			}
		}
		if want("LocalManagedPolicy") {
			return scanJSON(tx, entityPrefix(acct, kindPolicy), nil, func(_ []byte, rec *policyRecord) error {
				items = append(items, detail(&managedPolicy{rec: rec, arn: policyARN(acct, rec.Path, rec.Name)}))
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next, err := pageSlice(items, in.Marker, maxItems(in.MaxItems))
	if err != nil {
		return nil, err
	}
	out := &GetAccountAuthorizationDetailsOutput{UserDetailList: List[UserDetail]{}, GroupDetailList: List[GroupDetail]{},
		RoleDetailList: List[RoleDetail]{}, Policies: List[ManagedPolicyDetail]{}, IsTruncated: next != "", Marker: next}
	for _, it := range page {
		switch v := it.(type) {
		case UserDetail:
			out.UserDetailList = append(out.UserDetailList, v)
		case GroupDetail:
			out.GroupDetailList = append(out.GroupDetailList, v)
		case RoleDetail:
			out.RoleDetailList = append(out.RoleDetailList, v)
		case ManagedPolicyDetail:
			out.Policies = append(out.Policies, v)
		}
	}
	return out, nil
}
