package organizations

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/stateward/stateward/internal/storage"
)

// CreateOrganizationInput is the request of CreateOrganization.
type CreateOrganizationInput struct {
	FeatureSet string `json:"FeatureSet"` // ALL (the default) or CONSOLIDATED_BILLING
}

// OrganizationOutput is the response of CreateOrganization and DescribeOrganization.
type OrganizationOutput struct {
	Organization *Organization `json:"Organization"`
}

// CreateOrganization makes the caller's account the management account of a new
// organization with one root. Errors: AlreadyInOrganizationException when the account is in
// an organization already.
func (s *Service) CreateOrganization(ctx context.Context, in *CreateOrganizationInput) (*OrganizationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkEnum("FeatureSet", in.FeatureSet, featureAll, featureConsolidate); err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, "CreateOrganization", "*", p.AccountID, nil); err != nil {
		return nil, err
	}
	// Ids are drawn before the transaction, which may run more than once.
	id, err := s.randomID("o-", lowerAlnum, 10)
	if err != nil {
		return nil, err
	}
	root, err := s.randomID("r-", lowerAlnum, 4)
	if err != nil {
		return nil, err
	}
	o := &organization{ID: id, Management: p.AccountID, FeatureSet: cmp.Or(in.FeatureSet, featureAll),
		Root: root, Created: s.now().UTC()}
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		cur, err := orgOf(tx, p.AccountID)
		if err != nil {
			return err
		}
		if cur != nil {
			return errAlreadyInOrganization()
		}
		switch _, err := tx.Get(organizationKey(id)); {
		case err == nil:
			// One chance in 36^10 per existing organization; the caller may simply retry.
			return fmt.Errorf("organizations: organization id %s drawn twice", id)
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		if err := storage.PutJSON(tx, organizationKey(id), o); err != nil {
			return err
		}
		// The account that creates an organization is recorded as invited, as AWS lists it.
		return putMember(tx, id, &member{Account: p.AccountID, Joined: o.Created, Method: joinedInvited})
	})
	if err != nil {
		return nil, err
	}
	return &OrganizationOutput{Organization: organizationOf(o)}, nil
}

// DescribeOrganizationInput is the (empty) request of DescribeOrganization.
type DescribeOrganizationInput struct{}

// DescribeOrganization returns the organization of the caller's account, which may be any
// account in it. Errors: AWSOrganizationsNotInUseException outside an organization.
func (s *Service) DescribeOrganization(ctx context.Context, _ *DescribeOrganizationInput) (*OrganizationOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.standing(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	// Every account of an organization may read it, so this is a question about the caller's
	// own account, answered by its own policies, not a request to the management account.
	if err := s.authorize(ctx, "DescribeOrganization", "*", p.AccountID, nil); err != nil {
		return nil, err
	}
	if v.org == nil {
		return nil, errNotInUse()
	}
	return &OrganizationOutput{Organization: organizationOf(v.org)}, nil
}

// ListRootsInput is the request of ListRoots.
type ListRootsInput struct {
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

// ListRootsOutput is the response of ListRoots.
type ListRootsOutput struct {
	Roots     []Root `json:"Roots"`
	NextToken string `json:"NextToken,omitempty"`
}

// ListRoots returns the organization's one root.
func (s *Service) ListRoots(ctx context.Context, in *ListRootsInput) (*ListRootsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := pageLimit(in.MaxResults); err != nil {
		return nil, err
	}
	start, err := pageStart("ListRoots", in.NextToken, patRootID)
	if err != nil {
		return nil, err
	}
	o, err := s.authorizeManagement(ctx, p, "ListRoots", anyResource, nil)
	if err != nil {
		return nil, err
	}
	out := &ListRootsOutput{Roots: []Root{}}
	// A page holds at least one root, so no token is ever issued; one is honoured all the same.
	if start <= o.Root {
		out.Roots = append(out.Roots, Root{ID: o.Root, Arn: o.rootARN(o.Root), Name: "Root",
			PolicyTypes: policyTypes(o.FeatureSet)})
	}
	return out, nil
}
