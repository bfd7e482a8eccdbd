package organizations

import (
	"context"

	"github.com/stateward/stateward/internal/storage"
)

// The tree of an organization here is its root with every account directly under it: there
// are no organizational units. OU ids are still accepted where the model allows them, and
// are simply never found.

const (
	typeRoot    = "ROOT"
	typeOU      = "ORGANIZATIONAL_UNIT"
	typeAccount = "ACCOUNT"
)

// ListParentsInput is the request of ListParents.
type ListParentsInput struct {
	ChildID    string  `json:"ChildId"` // an account id or an OU id
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

// ListParentsOutput is the response of ListParents.
type ListParentsOutput struct {
	Parents   []Parent `json:"Parents"`
	NextToken string   `json:"NextToken,omitempty"`
}

// ListParents returns the parent of an account of the organization: its root. Errors:
// ChildNotFoundException for an account not in the organization, or any OU.
func (s *Service) ListParents(ctx context.Context, in *ListParentsInput) (*ListParentsOutput, error) {
	const op = "ListParents"
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := (field{name: "ChildId", required: true, max: 100}).check(in.ChildID); err != nil {
		return nil, err
	}
	isAccount := patAccountID.MatchString(in.ChildID)
	if !isAccount && !patOUID.MatchString(in.ChildID) {
		return nil, errInvalidInput(reasonInvalidPattern, "ChildId")
	}
	if _, err := pageLimit(in.MaxResults); err != nil {
		return nil, err
	}
	start, err := pageStart(op, in.NextToken, patRootID)
	if err != nil {
		return nil, err
	}
	o, err := s.authorizeManagement(ctx, p, op, func(o *organization) string {
		if isAccount {
			return o.accountARN(in.ChildID)
		}
		return o.ouARN(in.ChildID)
	}, nil)
	if err != nil {
		return nil, err
	}
	if !isAccount {
		return nil, errChildNotFound()
	}
	var m *member
	err = s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		m, err = getMember(tx, o.ID, in.ChildID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errChildNotFound()
	}
	out := &ListParentsOutput{Parents: []Parent{}}
	// Every page holds the one parent, so no token is issued; one is honoured all the same.
	if start <= o.Root {
		out.Parents = append(out.Parents, Parent{ID: o.Root, Type: typeRoot})
	}
	return out, nil
}

// ListChildrenInput is the request of ListChildren.
type ListChildrenInput struct {
	ParentID   string  `json:"ParentId"`  // a root id or an OU id
	ChildType  string  `json:"ChildType"` // ACCOUNT or ORGANIZATIONAL_UNIT
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

// ListChildrenOutput is the response of ListChildren.
type ListChildrenOutput struct {
	Children  []Child `json:"Children"`
	NextToken string  `json:"NextToken,omitempty"`
}

// ListChildren pages through the accounts under the root, by account id, or lists its OUs,
// of which there are none. Errors: ParentNotFoundException for any other parent.
func (s *Service) ListChildren(ctx context.Context, in *ListChildrenInput) (*ListChildrenOutput, error) {
	const op = "ListChildren"
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := (field{name: "ParentId", required: true, max: 100}).check(in.ParentID); err != nil {
		return nil, err
	}
	isRoot := patRootID.MatchString(in.ParentID)
	if !isRoot && !patOUID.MatchString(in.ParentID) {
		return nil, errInvalidInput(reasonInvalidPattern, "ParentId")
	}
	if in.ChildType == "" {
		return nil, errInvalidInput(reasonInputRequired, "ChildType")
	}
	if err := checkEnum("ChildType", in.ChildType, typeAccount, typeOU); err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.MaxResults)
	if err != nil {
		return nil, err
	}
	tokenID := patAccountID
	if in.ChildType == typeOU {
		tokenID = patOUID
	}
	start, err := pageStart(op, in.NextToken, tokenID)
	if err != nil {
		return nil, err
	}
	o, err := s.authorizeManagement(ctx, p, op, func(o *organization) string {
		if isRoot {
			return o.rootARN(in.ParentID)
		}
		return o.ouARN(in.ParentID)
	}, nil)
	if err != nil {
		return nil, err
	}
	if in.ParentID != o.Root {
		return nil, errParentNotFound()
	}
	out := &ListChildrenOutput{Children: []Child{}}
	if in.ChildType == typeOU {
		return out, nil
	}
	members, next, err := s.members(ctx, o, start, limit)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		out.Children = append(out.Children, Child{ID: m.Account, Type: typeAccount})
	}
	if next != "" {
		out.NextToken = nextToken(op, next)
	}
	return out, nil
}
