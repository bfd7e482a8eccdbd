package iam

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
)

const (
	// maxPolicyVersions is how many versions a managed policy keeps.
	maxPolicyVersions = 5
	// maxManagedPolicy is IAM's PolicySize quota, counted without whitespace.
	maxManagedPolicy = 6144
	// maxAttached is how many managed policies a user, group or role may have attached.
	maxAttached = 10
)

// Policy is IAM's Policy: a managed policy.
type Policy struct {
	PolicyName                    string    `xml:"PolicyName"`
	PolicyID                      string    `xml:"PolicyId"`
	Arn                           string    `xml:"Arn"`
	Path                          string    `xml:"Path"`
	DefaultVersionID              string    `xml:"DefaultVersionId"`
	AttachmentCount               int       `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int       `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool      `xml:"IsAttachable"`
	Description                   string    `xml:"Description,omitempty"`
	CreateDate                    time.Time `xml:"CreateDate"`
	UpdateDate                    time.Time `xml:"UpdateDate"`
	Tags                          List[Tag] `xml:"Tags,omitempty"`
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	Document         Document  `xml:"Document,omitempty"`
	VersionID        string    `xml:"VersionId"`
	IsDefaultVersion bool      `xml:"IsDefaultVersion"`
	CreateDate       time.Time `xml:"CreateDate"`
}

// AttachedPolicy names a managed policy attached to an entity.
type AttachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

// managedPolicy is a resolved managed policy ARN.
type managedPolicy struct {
	rec *policyRecord
	arn string
	aws bool // an AWS managed policy: read-only
}

func (m *managedPolicy) wire(attachments int, withTags bool) Policy {
	p := Policy{PolicyName: m.rec.Name, PolicyID: m.rec.ID, Arn: m.arn, Path: m.rec.Path, DefaultVersionID: m.rec.Default,
		AttachmentCount: attachments, IsAttachable: true, Description: m.rec.Description,
		CreateDate: m.rec.Created, UpdateDate: m.rec.Updated}
	if withTags {
		p.Tags = m.rec.Tags
	}
	return p
}

func (v *versionRecord) wire(def string, withDoc bool) PolicyVersion {
	out := PolicyVersion{VersionID: v.ID, IsDefaultVersion: v.ID == def, CreateDate: v.Created}
	if withDoc {
		out.Document = Document(v.Document)
	}
	return out
}

// resolvePolicy finds the managed policy arn as the account acct sees it: an AWS managed
// policy, or one of acct's own. Anything else does not exist for acct.
func resolvePolicy(tx storage.Tx, acct, arn string) (*managedPolicy, error) {
	a, ok := parseARN(arn)
	if !ok || a.Kind != "policy" {
		return nil, errInvalidARN(arn)
	}
	switch a.Account {
	case "aws":
		if rec := awsPolicies[a.Name]; rec != nil && a.Path == rec.Path {
			return &managedPolicy{rec: rec, arn: arn, aws: true}, nil
		}
	case acct:
		var rec policyRecord
		found, err := get(tx, entityKey(acct, kindPolicy, a.Name), &rec)
		if err != nil {
			return nil, err
		}
		if found && rec.Path == a.Path && rec.Name == a.Name {
			return &managedPolicy{rec: &rec, arn: arn}, nil
		}
	}
	return nil, errNoSuchPolicy(arn)
}

// authorizePolicy authorizes iam:<op> on the managed policy arn, with its tags when it is one
// of the account's own. An ARN that names nothing is authorized as given; the operation then
// answers NoSuchEntity.
func (s *Service) authorizePolicy(ctx context.Context, p *identity.Principal, op, arn string, extra map[string][]string) error {
	var tags []Tag
	err := s.store.View(ctx, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, p.AccountID, arn)
		if err == nil && !m.aws {
			tags = m.rec.Tags
		}
		if isClassified(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return s.authorize(ctx, p, op, arn, merge(resourceTagKeys(tags), extra))
}

// refuseAWSManaged is IAM's answer to a change of an AWS managed policy: the policy belongs to
// AWS, not to the caller's account.
func refuseAWSManaged(p *identity.Principal, op, arn string) error {
	return &policy.DeniedError{PrincipalARN: p.ARN, Action: "iam:" + op, Resource: arn, Reason: policy.NoResourceAllow}
}

// attachmentCounts counts the attachments of every managed policy in acct, by ARN.
func attachmentCounts(tx storage.Tx, acct string) (map[string]int, error) {
	counts := map[string]int{}
	prefix := entityPrefix(acct, kindAttach)
	err := storage.ScanPrefix(tx, []byte(prefix), func(k, _ []byte) error {
		arn, _, _ := strings.Cut(strings.TrimPrefix(string(k), prefix), "#")
		counts[arn]++
		return nil
	})
	return counts, err
}

func attachmentCount(tx storage.Tx, acct, arn string) (int, error) {
	n := 0
	err := storage.ScanPrefix(tx, []byte(attachPrefix(acct, arn)), func(_, _ []byte) error {
		n++
		return nil
	})
	return n, err
}

func checkManagedDocument(text string) error {
	if policySize(text) > maxManagedPolicy {
		return errQuota("PolicySize", maxManagedPolicy)
	}
	_, err := parseDocument(text, policy.IdentityKind)
	return err
}

// CreatePolicyInput is CreatePolicy's request.
type CreatePolicyInput struct {
	PolicyName     string `iam:"PolicyName,policyName,required"`
	Path           string `iam:"Path,policyPath"`
	PolicyDocument string `iam:"PolicyDocument,policyDocument,required"`
	Description    string `iam:"Description,policyDescription"`
	Tags           []Tag  `iam:"Tags,tags"`
}

// PolicyOutput is the response of CreatePolicy and GetPolicy.
type PolicyOutput struct {
	Policy Policy `xml:"Policy"`
}

// CreatePolicy creates a customer managed policy; its document is version v1, the default.
func (s *Service) CreatePolicy(ctx context.Context, in *CreatePolicyInput) (*PolicyOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	path := defaultPath(in.Path)
	arn := policyARN(p.AccountID, path, in.PolicyName)
	if err := s.authorize(ctx, p, "CreatePolicy", arn, requestTagKeys(nil, in.Tags)); err != nil {
		return nil, err
	}
	if err := checkNewTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkManagedDocument(in.PolicyDocument); err != nil {
		return nil, err
	}
	id, err := s.newID("ANPA")
	if err != nil {
		return nil, err
	}
	now := s.timestamp()
	rec := &policyRecord{Name: in.PolicyName, Path: path, ID: id, Description: in.Description, Created: now, Updated: now,
		Default: "v1", NextVersion: 2, Tags: in.Tags,
		Versions: []versionRecord{{ID: "v1", Document: in.PolicyDocument, Created: now}}}
	err = s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		var have policyRecord
		if found, err := get(tx, entityKey(p.AccountID, kindPolicy, rec.Name), &have); err != nil {
			return err
		} else if found {
			return errAlreadyExists("A policy called %s already exists. Duplicate names are not allowed.", have.Name)
		}
		return putJSON(tx, entityKey(p.AccountID, kindPolicy, rec.Name), rec)
	})
	if err != nil {
		return nil, err
	}
	m := managedPolicy{rec: rec, arn: arn}
	return &PolicyOutput{Policy: m.wire(0, true)}, nil
}

// PolicyARNInput is the request of GetPolicy, DeletePolicy and ListPolicyTags-like calls that
// name one managed policy.
type PolicyARNInput struct {
	PolicyArn string `iam:"PolicyArn,arn,required"`
}

// GetPolicy describes a managed policy (not its document: see GetPolicyVersion).
func (s *Service) GetPolicy(ctx context.Context, in *PolicyARNInput) (*PolicyOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizePolicy(ctx, p, "GetPolicy", in.PolicyArn, nil); err != nil {
		return nil, err
	}
	var out *PolicyOutput
	err = s.store.View(ctx, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, p.AccountID, in.PolicyArn)
		if err != nil {
			return err
		}
		n, err := attachmentCount(tx, p.AccountID, m.arn)
		if err != nil {
			return err
		}
		out = &PolicyOutput{Policy: m.wire(n, true)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListPoliciesInput is ListPolicies' request.
type ListPoliciesInput struct {
	Scope             string `iam:"Scope,policyScope"`
	OnlyAttached      bool   `iam:"OnlyAttached"`
	PathPrefix        string `iam:"PathPrefix,policyPath"`
	PolicyUsageFilter string `iam:"PolicyUsageFilter,policyUsage"`
	Marker            string `iam:"Marker,marker"`
	MaxItems          *int32 `iam:"MaxItems,maxItems"`
}

// ListPoliciesOutput is ListPolicies' response.
type ListPoliciesOutput struct {
	Policies    List[Policy] `xml:"Policies"`
	IsTruncated bool         `xml:"IsTruncated"`
	Marker      string       `xml:"Marker,omitempty"`
}

// ListPolicies lists managed policies: the AWS managed ones (Scope AWS), the account's own
// (Local), or both (All, the default), AWS's first, each by name.
func (s *Service) ListPolicies(ctx context.Context, in *ListPoliciesInput) (*ListPoliciesOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "ListPolicies", "*", nil); err != nil {
		return nil, err
	}
	var all []Policy
	err = s.store.View(ctx, func(tx storage.Tx) error {
		counts, err := attachmentCounts(tx, p.AccountID)
		if err != nil {
			return err
		}
		add := func(m *managedPolicy) {
			n := counts[m.arn]
			if (in.OnlyAttached && n == 0) || !strings.HasPrefix(m.rec.Path, in.PathPrefix) {
				return
			}
			// Stateward has no permissions boundaries: a filter for them matches nothing.
			if in.PolicyUsageFilter == "PermissionsBoundary" {
				return
			}
			all = append(all, m.wire(n, false))
		}
		if in.Scope != "Local" {
			for _, name := range awsPolicyNames {
				add(&managedPolicy{rec: awsPolicies[name], arn: awsPolicyARN(name), aws: true})
			}
		}
		if in.Scope == "AWS" {
			return nil
		}
		return scanJSON(tx, entityPrefix(p.AccountID, kindPolicy), nil, func(_ []byte, rec *policyRecord) error {
			add(&managedPolicy{rec: rec, arn: policyARN(p.AccountID, rec.Path, rec.Name)})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	page, next, err := pageSlice(all, in.Marker, maxItems(in.MaxItems))
	if err != nil {
		return nil, err
	}
	return &ListPoliciesOutput{Policies: append(List[Policy]{}, page...), IsTruncated: next != "", Marker: next}, nil
}

// DeletePolicy deletes a customer managed policy that is attached to nothing and has no
// version but its default.
func (s *Service) DeletePolicy(ctx context.Context, in *PolicyARNInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizePolicy(ctx, p, "DeletePolicy", in.PolicyArn, nil); err != nil {
		return nil, err
	}
	return empty(s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, p.AccountID, in.PolicyArn)
		if err != nil {
			return err
		}
		if m.aws {
			return refuseAWSManaged(p, "DeletePolicy", m.arn)
		}
		if n, err := attachmentCount(tx, p.AccountID, m.arn); err != nil {
			return err
		} else if n > 0 {
			return errDeleteConflict("Cannot delete a policy attached to entities.")
		}
		if len(m.rec.Versions) > 1 {
			return errDeleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		return tx.Delete(entityKey(p.AccountID, kindPolicy, m.rec.Name))
	}))
}

// CreatePolicyVersionInput is CreatePolicyVersion's request.
type CreatePolicyVersionInput struct {
	PolicyArn      string `iam:"PolicyArn,arn,required"`
	PolicyDocument string `iam:"PolicyDocument,policyDocument,required"`
	SetAsDefault   bool   `iam:"SetAsDefault"`
}

// PolicyVersionOutput is the response of CreatePolicyVersion and GetPolicyVersion.
type PolicyVersionOutput struct {
	PolicyVersion PolicyVersion `xml:"PolicyVersion"`
}

// CreatePolicyVersion adds a version to a customer managed policy, the default one if
// SetAsDefault. A policy keeps at most five versions.
func (s *Service) CreatePolicyVersion(ctx context.Context, in *CreatePolicyVersionInput) (*PolicyVersionOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizePolicy(ctx, p, "CreatePolicyVersion", in.PolicyArn, nil); err != nil {
		return nil, err
	}
	if err := checkManagedDocument(in.PolicyDocument); err != nil {
		return nil, err
	}
	var out *PolicyVersionOutput
	now := s.timestamp()
	err = s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, p.AccountID, in.PolicyArn)
		if err != nil {
			return err
		}
		if m.aws {
			return refuseAWSManaged(p, "CreatePolicyVersion", m.arn)
		}
		rec := m.rec
		if len(rec.Versions) >= maxPolicyVersions {
			return errLimit("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		v := versionRecord{ID: "v" + strconv.Itoa(rec.NextVersion), Document: in.PolicyDocument, Created: now}
		rec.NextVersion++
		rec.Versions = append(rec.Versions, v)
		if in.SetAsDefault {
			rec.Default = v.ID
		}
		rec.Updated = now
		out = &PolicyVersionOutput{PolicyVersion: v.wire(rec.Default, false)}
		return putJSON(tx, entityKey(p.AccountID, kindPolicy, rec.Name), rec)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PolicyVersionInput is the request of GetPolicyVersion, DeletePolicyVersion and
// SetDefaultPolicyVersion.
type PolicyVersionInput struct {
	PolicyArn string `iam:"PolicyArn,arn,required"`
	VersionID string `iam:"VersionId,versionId,required"`
}

func errNoSuchVersion(arn, id string) error {
	return errNoSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, id)
}

// GetPolicyVersion returns one version of a managed policy, with its document.
func (s *Service) GetPolicyVersion(ctx context.Context, in *PolicyVersionInput) (*PolicyVersionOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizePolicy(ctx, p, "GetPolicyVersion", in.PolicyArn, nil); err != nil {
		return nil, err
	}
	var out *PolicyVersionOutput
	err = s.store.View(ctx, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, p.AccountID, in.PolicyArn)
		if err != nil {
			return err
		}
		v := m.rec.version(in.VersionID)
		if v == nil {
			return errNoSuchVersion(m.arn, in.VersionID)
		}
		out = &PolicyVersionOutput{PolicyVersion: v.wire(m.rec.Default, true)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListPolicyVersionsInput is ListPolicyVersions' request.
type ListPolicyVersionsInput struct {
	PolicyArn string `iam:"PolicyArn,arn,required"`
	Marker    string `iam:"Marker,marker"`
	MaxItems  *int32 `iam:"MaxItems,maxItems"`
}

// ListPolicyVersionsOutput is ListPolicyVersions' response.
type ListPolicyVersionsOutput struct {
	Versions    List[PolicyVersion] `xml:"Versions"`
	IsTruncated bool                `xml:"IsTruncated"`
	Marker      string              `xml:"Marker,omitempty"`
}

// ListPolicyVersions lists a managed policy's versions, newest first, without documents.
func (s *Service) ListPolicyVersions(ctx context.Context, in *ListPolicyVersionsInput) (*ListPolicyVersionsOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizePolicy(ctx, p, "ListPolicyVersions", in.PolicyArn, nil); err != nil {
		return nil, err
	}
	var all []PolicyVersion
	err = s.store.View(ctx, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, p.AccountID, in.PolicyArn)
		if err != nil {
			return err
		}
		for i := len(m.rec.Versions) - 1; i >= 0; i-- {
			all = append(all, m.rec.Versions[i].wire(m.rec.Default, false))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next, err := pageSlice(all, in.Marker, maxItems(in.MaxItems))
	if err != nil {
		return nil, err
	}
	return &ListPolicyVersionsOutput{Versions: append(List[PolicyVersion]{}, page...), IsTruncated: next != "", Marker: next}, nil
}

// DeletePolicyVersion deletes a version that is not the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, in *PolicyVersionInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizePolicy(ctx, p, "DeletePolicyVersion", in.PolicyArn, nil); err != nil {
		return nil, err
	}
	return empty(s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, p.AccountID, in.PolicyArn)
		if err != nil {
			return err
		}
		if m.aws {
			return refuseAWSManaged(p, "DeletePolicyVersion", m.arn)
		}
		rec := m.rec
		if rec.version(in.VersionID) == nil {
			return errNoSuchVersion(m.arn, in.VersionID)
		}
		if in.VersionID == rec.Default {
			return errDeleteConflict("Cannot delete the default version of a policy.")
		}
		rec.Versions = slices.DeleteFunc(rec.Versions, func(v versionRecord) bool { return v.ID == in.VersionID })
		return putJSON(tx, entityKey(p.AccountID, kindPolicy, rec.Name), rec)
	}))
}

// SetDefaultPolicyVersion makes a version the one in effect.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, in *PolicyVersionInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizePolicy(ctx, p, "SetDefaultPolicyVersion", in.PolicyArn, nil); err != nil {
		return nil, err
	}
	now := s.timestamp()
	return empty(s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, p.AccountID, in.PolicyArn)
		if err != nil {
			return err
		}
		if m.aws {
			return refuseAWSManaged(p, "SetDefaultPolicyVersion", m.arn)
		}
		rec := m.rec
		if rec.version(in.VersionID) == nil {
			return errNoSuchVersion(m.arn, in.VersionID)
		}
		rec.Default, rec.Updated = in.VersionID, now
		return putJSON(tx, entityKey(p.AccountID, kindPolicy, rec.Name), rec)
	}))
}

// TagPolicyInput is TagPolicy's request.
type TagPolicyInput struct {
	PolicyArn string `iam:"PolicyArn,arn,required"`
	Tags      []Tag  `iam:"Tags,tags,required"`
}

// TagPolicy adds tags to a customer managed policy.
func (s *Service) TagPolicy(ctx context.Context, in *TagPolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizePolicy(ctx, p, "TagPolicy", in.PolicyArn, requestTagKeys(nil, in.Tags)); err != nil {
		return nil, err
	}
	if err := checkNewTags(in.Tags); err != nil {
		return nil, err
	}
	return empty(s.updatePolicy(ctx, p, "TagPolicy", in.PolicyArn, func(rec *policyRecord) (err error) {
		rec.Tags, err = mergeTags(rec.Tags, in.Tags)
		return err
	}))
}

// UntagPolicyInput is UntagPolicy's request.
type UntagPolicyInput struct {
	PolicyArn string   `iam:"PolicyArn,arn,required"`
	TagKeys   []string `iam:"TagKeys,tagKeys,required"`
}

// UntagPolicy removes tags from a customer managed policy.
func (s *Service) UntagPolicy(ctx context.Context, in *UntagPolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizePolicy(ctx, p, "UntagPolicy", in.PolicyArn, withKey(nil, "aws:TagKeys", in.TagKeys...)); err != nil {
		return nil, err
	}
	return empty(s.updatePolicy(ctx, p, "UntagPolicy", in.PolicyArn, func(rec *policyRecord) error {
		rec.Tags = removeTags(rec.Tags, in.TagKeys)
		return nil
	}))
}

func (s *Service) updatePolicy(ctx context.Context, p *identity.Principal, op, arn string, fn func(*policyRecord) error) error {
	return s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, p.AccountID, arn)
		if err != nil {
			return err
		}
		if m.aws {
			return refuseAWSManaged(p, op, m.arn)
		}
		if err := fn(m.rec); err != nil {
			return err
		}
		return putJSON(tx, entityKey(p.AccountID, kindPolicy, m.rec.Name), m.rec)
	})
}

// ListPolicyTagsInput is ListPolicyTags' request.
type ListPolicyTagsInput struct {
	PolicyArn string `iam:"PolicyArn,arn,required"`
	Marker    string `iam:"Marker,marker"`
	MaxItems  *int32 `iam:"MaxItems,maxItems"`
}

// ListPolicyTags lists a managed policy's tags.
func (s *Service) ListPolicyTags(ctx context.Context, in *ListPolicyTagsInput) (*ListTagsOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizePolicy(ctx, p, "ListPolicyTags", in.PolicyArn, nil); err != nil {
		return nil, err
	}
	var tags []Tag
	err = s.store.View(ctx, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, p.AccountID, in.PolicyArn)
		if err != nil {
			return err
		}
		tags = m.rec.Tags
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pageTags(tags, in.Marker, in.MaxItems)
}

// Attachments.

var attachQuota = map[string]string{kindUser: "PoliciesPerUser", kindGroup: "PoliciesPerGroup", kindRole: "PoliciesPerRole"}

// attach attaches the managed policy arn to an entity; attaching it again changes nothing.
func (s *Service) attach(ctx context.Context, p *identity.Principal, kind, op, name, arn string) error {
	if err := s.authorizeEntity(ctx, p, kind, op, name, withKey(nil, "iam:PolicyARN", arn)); err != nil {
		return err
	}
	acct := p.AccountID
	return s.write(ctx, acct, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, acct, arn)
		if err != nil {
			return err
		}
		e, err := loadEntity(tx, acct, kind, name)
		if err != nil {
			return err
		}
		if slices.Contains(*e.attached, m.arn) {
			return nil
		}
		if len(*e.attached) >= maxAttached {
			return errQuota(attachQuota[kind], maxAttached)
		}
		*e.attached = append(*e.attached, m.arn)
		if err := putJSON(tx, attachKey(acct, m.arn, kind, e.name), attachment{Kind: kind, Name: e.name, ID: e.id, Path: e.path}); err != nil {
			return err
		}
		return e.save()
	})
}

func (s *Service) detach(ctx context.Context, p *identity.Principal, kind, op, name, arn string) error {
	if err := s.authorizeEntity(ctx, p, kind, op, name, withKey(nil, "iam:PolicyARN", arn)); err != nil {
		return err
	}
	acct := p.AccountID
	return s.write(ctx, acct, func(tx storage.Tx) error {
		if _, ok := parseARN(arn); !ok {
			return errInvalidARN(arn)
		}
		e, err := loadEntity(tx, acct, kind, name)
		if err != nil {
			return err
		}
		i := slices.Index(*e.attached, arn)
		if i < 0 {
			return errNoSuchEntity("Policy %s was not found.", arn)
		}
		*e.attached = slices.Delete(*e.attached, i, i+1)
		if err := tx.Delete(attachKey(acct, arn, kind, e.name)); err != nil {
			return err
		}
		return e.save()
	})
}

func (s *Service) listAttached(ctx context.Context, p *identity.Principal, kind, op, name, pathPrefix, marker string, max *int32) (*ListAttachedPoliciesOutput, error) {
	if err := s.authorizeEntity(ctx, p, kind, op, name, nil); err != nil {
		return nil, err
	}
	var all []AttachedPolicy
	err := s.store.View(ctx, func(tx storage.Tx) error {
		e, err := loadEntity(tx, p.AccountID, kind, name)
		if err != nil {
			return err
		}
		for _, arn := range *e.attached {
			a, _ := parseARN(arn)
			if strings.HasPrefix(a.Path, pathPrefix) {
				all = append(all, AttachedPolicy{PolicyName: a.Name, PolicyArn: arn})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, next, err := pageSlice(all, marker, maxItems(max))
	if err != nil {
		return nil, err
	}
	return &ListAttachedPoliciesOutput{AttachedPolicies: append(List[AttachedPolicy]{}, page...), IsTruncated: next != "", Marker: next}, nil
}

// ListAttachedPoliciesOutput is the response of ListAttached{User,Group,Role}Policies.
type ListAttachedPoliciesOutput struct {
	AttachedPolicies List[AttachedPolicy] `xml:"AttachedPolicies"`
	IsTruncated      bool                 `xml:"IsTruncated"`
	Marker           string               `xml:"Marker,omitempty"`
}

// AttachUserPolicyInput is the request of AttachUserPolicy and DetachUserPolicy.
type AttachUserPolicyInput struct {
	UserName  string `iam:"UserName,userName,required"`
	PolicyArn string `iam:"PolicyArn,arn,required"`
}

// AttachUserPolicy attaches a managed policy to a user.
func (s *Service) AttachUserPolicy(ctx context.Context, in *AttachUserPolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.attach(ctx, p, kindUser, "AttachUserPolicy", in.UserName, in.PolicyArn))
}

// DetachUserPolicy detaches a managed policy from a user.
func (s *Service) DetachUserPolicy(ctx context.Context, in *AttachUserPolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.detach(ctx, p, kindUser, "DetachUserPolicy", in.UserName, in.PolicyArn))
}

// ListAttachedUserPoliciesInput is ListAttachedUserPolicies' request.
type ListAttachedUserPoliciesInput struct {
	UserName   string `iam:"UserName,userName,required"`
	PathPrefix string `iam:"PathPrefix,policyPath"`
	Marker     string `iam:"Marker,marker"`
	MaxItems   *int32 `iam:"MaxItems,maxItems"`
}

// ListAttachedUserPolicies lists the managed policies attached to a user.
func (s *Service) ListAttachedUserPolicies(ctx context.Context, in *ListAttachedUserPoliciesInput) (*ListAttachedPoliciesOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.listAttached(ctx, p, kindUser, "ListAttachedUserPolicies", in.UserName, in.PathPrefix, in.Marker, in.MaxItems)
}

// AttachGroupPolicyInput is the request of AttachGroupPolicy and DetachGroupPolicy.
type AttachGroupPolicyInput struct {
	GroupName string `iam:"GroupName,groupName,required"`
	PolicyArn string `iam:"PolicyArn,arn,required"`
}

// AttachGroupPolicy attaches a managed policy to a group.
func (s *Service) AttachGroupPolicy(ctx context.Context, in *AttachGroupPolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.attach(ctx, p, kindGroup, "AttachGroupPolicy", in.GroupName, in.PolicyArn))
}

// DetachGroupPolicy detaches a managed policy from a group.
func (s *Service) DetachGroupPolicy(ctx context.Context, in *AttachGroupPolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.detach(ctx, p, kindGroup, "DetachGroupPolicy", in.GroupName, in.PolicyArn))
}

// ListAttachedGroupPoliciesInput is ListAttachedGroupPolicies' request.
type ListAttachedGroupPoliciesInput struct {
	GroupName  string `iam:"GroupName,groupName,required"`
	PathPrefix string `iam:"PathPrefix,policyPath"`
	Marker     string `iam:"Marker,marker"`
	MaxItems   *int32 `iam:"MaxItems,maxItems"`
}

// ListAttachedGroupPolicies lists the managed policies attached to a group.
func (s *Service) ListAttachedGroupPolicies(ctx context.Context, in *ListAttachedGroupPoliciesInput) (*ListAttachedPoliciesOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.listAttached(ctx, p, kindGroup, "ListAttachedGroupPolicies", in.GroupName, in.PathPrefix, in.Marker, in.MaxItems)
}

// AttachRolePolicyInput is the request of AttachRolePolicy and DetachRolePolicy.
type AttachRolePolicyInput struct {
	RoleName  string `iam:"RoleName,roleName,required"`
	PolicyArn string `iam:"PolicyArn,arn,required"`
}

// AttachRolePolicy attaches a managed policy to a role.
func (s *Service) AttachRolePolicy(ctx context.Context, in *AttachRolePolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.attach(ctx, p, kindRole, "AttachRolePolicy", in.RoleName, in.PolicyArn))
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Service) DetachRolePolicy(ctx context.Context, in *AttachRolePolicyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return empty(s.detach(ctx, p, kindRole, "DetachRolePolicy", in.RoleName, in.PolicyArn))
}

// ListAttachedRolePoliciesInput is ListAttachedRolePolicies' request.
type ListAttachedRolePoliciesInput struct {
	RoleName   string `iam:"RoleName,roleName,required"`
	PathPrefix string `iam:"PathPrefix,policyPath"`
	Marker     string `iam:"Marker,marker"`
	MaxItems   *int32 `iam:"MaxItems,maxItems"`
}

// ListAttachedRolePolicies lists the managed policies attached to a role.
func (s *Service) ListAttachedRolePolicies(ctx context.Context, in *ListAttachedRolePoliciesInput) (*ListAttachedPoliciesOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	return s.listAttached(ctx, p, kindRole, "ListAttachedRolePolicies", in.RoleName, in.PathPrefix, in.Marker, in.MaxItems)
}

// ListEntitiesForPolicyInput is ListEntitiesForPolicy's request.
type ListEntitiesForPolicyInput struct {
	PolicyArn         string `iam:"PolicyArn,arn,required"`
	EntityFilter      string `iam:"EntityFilter,entityType"`
	PathPrefix        string `iam:"PathPrefix,path"`
	PolicyUsageFilter string `iam:"PolicyUsageFilter,policyUsage"`
	Marker            string `iam:"Marker,marker"`
	MaxItems          *int32 `iam:"MaxItems,maxItems"`
}

// PolicyGroup, PolicyUser and PolicyRole name an entity a managed policy is attached to.
type (
	PolicyGroup struct {
		GroupName string `xml:"GroupName"`
		GroupID   string `xml:"GroupId"`
	}
	PolicyUser struct {
		UserName string `xml:"UserName"`
		UserID   string `xml:"UserId"`
	}
	PolicyRole struct {
		RoleName string `xml:"RoleName"`
		RoleID   string `xml:"RoleId"`
	}
)

// ListEntitiesForPolicyOutput is ListEntitiesForPolicy's response.
type ListEntitiesForPolicyOutput struct {
	PolicyGroups List[PolicyGroup] `xml:"PolicyGroups"`
	PolicyUsers  List[PolicyUser]  `xml:"PolicyUsers"`
	PolicyRoles  List[PolicyRole]  `xml:"PolicyRoles"`
	IsTruncated  bool              `xml:"IsTruncated"`
	Marker       string            `xml:"Marker,omitempty"`
}

// ListEntitiesForPolicy lists the users, groups and roles a managed policy is attached to.
func (s *Service) ListEntitiesForPolicy(ctx context.Context, in *ListEntitiesForPolicyInput) (*ListEntitiesForPolicyOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizePolicy(ctx, p, "ListEntitiesForPolicy", in.PolicyArn, nil); err != nil {
		return nil, err
	}
	kinds := map[string]string{"User": kindUser, "Group": kindGroup, "Role": kindRole}
	out := &ListEntitiesForPolicyOutput{PolicyGroups: List[PolicyGroup]{}, PolicyUsers: List[PolicyUser]{}, PolicyRoles: List[PolicyRole]{}}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		m, err := resolvePolicy(tx, p.AccountID, in.PolicyArn)
		if err != nil {
			return err
		}
		keep := func(a *attachment) bool {
			if in.PolicyUsageFilter == "PermissionsBoundary" {
				return false
			}
			if in.EntityFilter != "" && kinds[in.EntityFilter] != a.Kind {
				return false
			}
			return strings.HasPrefix(a.Path, in.PathPrefix)
		}
		list, next, err := scanPage(tx, attachPrefix(p.AccountID, m.arn), in.Marker, maxItems(in.MaxItems), keep)
		for _, a := range list {
			switch a.Kind {
			case kindUser:
				out.PolicyUsers = append(out.PolicyUsers, PolicyUser{UserName: a.Name, UserID: a.ID})
			case kindGroup:
				out.PolicyGroups = append(out.PolicyGroups, PolicyGroup{GroupName: a.Name, GroupID: a.ID})
			case kindRole:
				out.PolicyRoles = append(out.PolicyRoles, PolicyRole{RoleName: a.Name, RoleID: a.ID})
			}
		}
		out.Marker, out.IsTruncated = next, next != ""
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
