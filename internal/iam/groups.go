package iam

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/storage"
)

// maxGroupsPerUser is IAM's GroupsPerUser quota.
const maxGroupsPerUser = 10

// Group is IAM's Group.
type Group struct {
	Path       string    `xml:"Path"`
	GroupName  string    `xml:"GroupName"`
	GroupID    string    `xml:"GroupId"`
	Arn        string    `xml:"Arn"`
	CreateDate time.Time `xml:"CreateDate"`
}

func (g *groupRecord) wire(acct string) Group {
	return Group{Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: groupARN(acct, g.Path, g.Name), CreateDate: g.Created}
}

func readGroup(tx storage.Tx, acct, name string) (*groupRecord, error) {
	var g groupRecord
	found, err := get(tx, entityKey(acct, kindGroup, name), &g)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNoSuchGroup(name)
	}
	return &g, nil
}

func putGroup(tx storage.Tx, acct string, g *groupRecord) error {
	return putJSON(tx, entityKey(acct, kindGroup, g.Name), g)
}

// CreateGroupInput is CreateGroup's request.
type CreateGroupInput struct {
	Path      string `iam:"Path,path"`
	GroupName string `iam:"GroupName,groupName,required"`
}

// CreateGroupOutput is CreateGroup's response.
type CreateGroupOutput struct {
	Group Group `xml:"Group"`
}

// CreateGroup creates a group.
func (s *Service) CreateGroup(ctx context.Context, in *CreateGroupInput) (*CreateGroupOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	path := defaultPath(in.Path)
	if err := s.authorize(ctx, p, "CreateGroup", groupARN(p.AccountID, path, in.GroupName), nil); err != nil {
		return nil, err
	}
	id, err := s.newID("AGPA")
	if err != nil {
		return nil, err
	}
	g := &groupRecord{Name: in.GroupName, Path: path, ID: id, Created: s.timestamp()}
	err = s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		var have groupRecord
		if found, err := get(tx, entityKey(p.AccountID, kindGroup, g.Name), &have); err != nil {
			return err
		} else if found {
			return errAlreadyExists("Group with name %s already exists.", have.Name)
		}
		return putGroup(tx, p.AccountID, g)
	})
	if err != nil {
		return nil, err
	}
	return &CreateGroupOutput{Group: g.wire(p.AccountID)}, nil
}

// GetGroupInput is GetGroup's request.
type GetGroupInput struct {
	GroupName string `iam:"GroupName,groupName,required"`
	Marker    string `iam:"Marker,marker"`
	MaxItems  *int32 `iam:"MaxItems,maxItems"`
}

// GetGroupOutput is GetGroup's response: the group and a page of its users.
type GetGroupOutput struct {
	Group       Group      `xml:"Group"`
	Users       List[User] `xml:"Users"`
	IsTruncated bool       `xml:"IsTruncated"`
	Marker      string     `xml:"Marker,omitempty"`
}

// GetGroup describes a group and lists its users by name.
func (s *Service) GetGroup(ctx context.Context, in *GetGroupInput) (*GetGroupOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeGroup(ctx, p, "GetGroup", in.GroupName, nil); err != nil {
		return nil, err
	}
	out := &GetGroupOutput{Users: List[User]{}}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		g, err := readGroup(tx, p.AccountID, in.GroupName)
		if err != nil {
			return err
		}
		out.Group = g.wire(p.AccountID)
		members := slices.Clone(g.Members)
		slices.SortFunc(members, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		page, next, err := pageSlice(members, in.Marker, maxItems(in.MaxItems))
		if err != nil {
			return err
		}
		for _, name := range page {
			u, err := readUser(tx, p.AccountID, name)
			if err != nil {
				return err
			}
			out.Users = append(out.Users, u.wire(p.AccountID, false))
		}
		out.Marker, out.IsTruncated = next, next != ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListGroupsInput is ListGroups' request.
type ListGroupsInput struct {
	PathPrefix string `iam:"PathPrefix,pathPrefix"`
	Marker     string `iam:"Marker,marker"`
	MaxItems   *int32 `iam:"MaxItems,maxItems"`
}

// ListGroupsOutput is the response of ListGroups and ListGroupsForUser.
type ListGroupsOutput struct {
	Groups      List[Group] `xml:"Groups"`
	IsTruncated bool        `xml:"IsTruncated"`
	Marker      string      `xml:"Marker,omitempty"`
}

// ListGroups lists the account's groups whose path starts with PathPrefix, by name.
func (s *Service) ListGroups(ctx context.Context, in *ListGroupsInput) (*ListGroupsOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "ListGroups", "*", nil); err != nil {
		return nil, err
	}
	out := &ListGroupsOutput{Groups: List[Group]{}}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		groups, next, err := scanPage(tx, entityPrefix(p.AccountID, kindGroup), in.Marker, maxItems(in.MaxItems),
			func(g *groupRecord) bool { return strings.HasPrefix(g.Path, in.PathPrefix) })
		for _, g := range groups {
			out.Groups = append(out.Groups, g.wire(p.AccountID))
		}
		out.Marker, out.IsTruncated = next, next != ""
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateGroupInput is UpdateGroup's request.
type UpdateGroupInput struct {
	GroupName    string `iam:"GroupName,groupName,required"`
	NewPath      string `iam:"NewPath,path"`
	NewGroupName string `iam:"NewGroupName,groupName"`
}

// UpdateGroup renames a group or moves it to another path; its members and policy
// attachments follow it.
func (s *Service) UpdateGroup(ctx context.Context, in *UpdateGroupInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeGroup(ctx, p, "UpdateGroup", in.GroupName, nil); err != nil {
		return nil, err
	}
	acct := p.AccountID
	err = s.write(ctx, acct, func(tx storage.Tx) error {
		g, err := readGroup(tx, acct, in.GroupName)
		if err != nil {
			return err
		}
		old := *g
		if in.NewGroupName != "" {
			g.Name = in.NewGroupName
		}
		if in.NewPath != "" {
			g.Path = in.NewPath
		}
		if !strings.EqualFold(g.Name, old.Name) {
			var have groupRecord
			if found, err := get(tx, entityKey(acct, kindGroup, g.Name), &have); err != nil {
				return err
			} else if found {
				return errAlreadyExists("Group with name %s already exists.", have.Name)
			}
			if err := tx.Delete(entityKey(acct, kindGroup, old.Name)); err != nil {
				return err
			}
		}
		if g.Name != old.Name {
			for _, m := range g.Members {
				u, err := readUser(tx, acct, m)
				if err != nil {
					return err
				}
				if i := slices.IndexFunc(u.Groups, func(n string) bool { return strings.EqualFold(n, old.Name) }); i >= 0 {
					u.Groups[i] = g.Name
				}
				if err := putUser(tx, acct, u); err != nil {
					return err
				}
			}
		}
		for _, arn := range g.Attached {
			if err := tx.Delete(attachKey(acct, arn, kindGroup, old.Name)); err != nil {
				return err
			}
			if err := putJSON(tx, attachKey(acct, arn, kindGroup, g.Name), attachment{Kind: kindGroup, Name: g.Name, ID: g.ID, Path: g.Path}); err != nil {
				return err
			}
		}
		return putGroup(tx, acct, g)
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// DeleteGroupInput is DeleteGroup's request.
type DeleteGroupInput struct {
	GroupName string `iam:"GroupName,groupName,required"`
}

// DeleteGroup deletes a group with no members and no policies.
func (s *Service) DeleteGroup(ctx context.Context, in *DeleteGroupInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeGroup(ctx, p, "DeleteGroup", in.GroupName, nil); err != nil {
		return nil, err
	}
	err = s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		g, err := readGroup(tx, p.AccountID, in.GroupName)
		if err != nil {
			return err
		}
		switch {
		case len(g.Members) > 0:
			return errDeleteConflict("Cannot delete entity, must remove users from group first.")
		case len(g.Inline) > 0:
			return errDeleteConflict("Cannot delete entity, must delete policies first.")
		case len(g.Attached) > 0:
			return errDeleteConflict("Cannot delete entity, must detach all policies first.")
		}
		return tx.Delete(entityKey(p.AccountID, kindGroup, g.Name))
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// GroupMembershipInput is the request of AddUserToGroup and RemoveUserFromGroup.
type GroupMembershipInput struct {
	GroupName string `iam:"GroupName,groupName,required"`
	UserName  string `iam:"UserName,existingUserName,required"`
}

// AddUserToGroup makes a user a member of a group; adding a member again changes nothing.
func (s *Service) AddUserToGroup(ctx context.Context, in *GroupMembershipInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeGroup(ctx, p, "AddUserToGroup", in.GroupName, nil); err != nil {
		return nil, err
	}
	acct := p.AccountID
	err = s.write(ctx, acct, func(tx storage.Tx) error {
		g, err := readGroup(tx, acct, in.GroupName)
		if err != nil {
			return err
		}
		u, err := readUser(tx, acct, in.UserName)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(u.Groups, func(n string) bool { return strings.EqualFold(n, g.Name) }) {
			return nil
		}
		if len(u.Groups) >= maxGroupsPerUser {
			return errQuota("GroupsPerUser", maxGroupsPerUser)
		}
		u.Groups = append(u.Groups, g.Name)
		g.Members = append(g.Members, u.Name)
		if err := putUser(tx, acct, u); err != nil {
			return err
		}
		return putGroup(tx, acct, g)
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// RemoveUserFromGroup removes a user from a group.
func (s *Service) RemoveUserFromGroup(ctx context.Context, in *GroupMembershipInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeGroup(ctx, p, "RemoveUserFromGroup", in.GroupName, nil); err != nil {
		return nil, err
	}
	acct := p.AccountID
	err = s.write(ctx, acct, func(tx storage.Tx) error {
		g, err := readGroup(tx, acct, in.GroupName)
		if err != nil {
			return err
		}
		u, err := readUser(tx, acct, in.UserName)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(u.Groups, func(n string) bool { return strings.EqualFold(n, g.Name) })
		if i < 0 {
			return errNoSuchEntity("User %s is not in group %s.", u.Name, g.Name)
		}
		u.Groups = slices.Delete(u.Groups, i, i+1)
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return strings.EqualFold(m, u.Name) })
		if err := putUser(tx, acct, u); err != nil {
			return err
		}
		return putGroup(tx, acct, g)
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// ListGroupsForUserInput is ListGroupsForUser's request.
type ListGroupsForUserInput struct {
	UserName string `iam:"UserName,existingUserName,required"`
	Marker   string `iam:"Marker,marker"`
	MaxItems *int32 `iam:"MaxItems,maxItems"`
}

// ListGroupsForUser lists the groups a user belongs to, by name.
func (s *Service) ListGroupsForUser(ctx context.Context, in *ListGroupsForUserInput) (*ListGroupsOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeUser(ctx, p, "ListGroupsForUser", in.UserName, nil); err != nil {
		return nil, err
	}
	out := &ListGroupsOutput{Groups: List[Group]{}}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		u, err := readUser(tx, p.AccountID, in.UserName)
		if err != nil {
			return err
		}
		names := slices.Clone(u.Groups)
		slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		page, next, err := pageSlice(names, in.Marker, maxItems(in.MaxItems))
		if err != nil {
			return err
		}
		for _, name := range page {
			g, err := readGroup(tx, p.AccountID, name)
			if err != nil {
				return err
			}
			out.Groups = append(out.Groups, g.wire(p.AccountID))
		}
		out.Marker, out.IsTruncated = next, next != ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
