package iam

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/storage"
)

// User is IAM's User.
type User struct {
	Path             string     `xml:"Path,omitempty"`
	UserName         string     `xml:"UserName,omitempty"`
	UserID           string     `xml:"UserId"`
	Arn              string     `xml:"Arn"`
	CreateDate       time.Time  `xml:"CreateDate"`
	PasswordLastUsed *time.Time `xml:"PasswordLastUsed,omitempty"`
	Tags             List[Tag]  `xml:"Tags,omitempty"`
}

func (u *userRecord) wire(acct string, withTags bool) User {
	out := User{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: userARN(acct, u.Path, u.Name), CreateDate: u.Created}
	if !u.PasswordLastUsed.IsZero() {
		t := u.PasswordLastUsed
		out.PasswordLastUsed = &t
	}
	if withTags {
		out.Tags = u.Tags
	}
	return out
}

// Empty is the output of operations that return nothing.
type Empty struct{}

// empty is the result of an operation that returns nothing and err.
func empty(err error) (*Empty, error) {
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// readUser reads user name of acct, or returns NoSuchEntity.
func readUser(tx storage.Tx, acct, name string) (*userRecord, error) {
	var u userRecord
	found, err := get(tx, entityKey(acct, kindUser, name), &u)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNoSuchUser(name)
	}
	return &u, nil
}

func putUser(tx storage.Tx, acct string, u *userRecord) error {
	return putJSON(tx, entityKey(acct, kindUser, u.Name), u)
}

// CreateUserInput is CreateUser's request.
type CreateUserInput struct {
	Path                string `iam:"Path,path"`
	UserName            string `iam:"UserName,userName,required"`
	PermissionsBoundary string `iam:"PermissionsBoundary,arn"`
	Tags                []Tag  `iam:"Tags,tags"`
}

// CreateUserOutput is CreateUser's response.
type CreateUserOutput struct {
	User User `xml:"User"`
}

// CreateUser creates a user in the caller's account.
func (s *Service) CreateUser(ctx context.Context, in *CreateUserInput) (*CreateUserOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	path := defaultPath(in.Path)
	if err := s.authorize(ctx, p, "CreateUser", userARN(p.AccountID, path, in.UserName), requestTagKeys(nil, in.Tags)); err != nil {
		return nil, err
	}
	if err := noBoundary(in.PermissionsBoundary); err != nil {
		return nil, err
	}
	if err := checkNewTags(in.Tags); err != nil {
		return nil, err
	}
	id, err := s.newID("AIDA")
	if err != nil {
		return nil, err
	}
	u := &userRecord{Name: in.UserName, Path: path, ID: id, Created: s.timestamp(), Tags: in.Tags}
	err = s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		var have userRecord
		if found, err := get(tx, entityKey(p.AccountID, kindUser, u.Name), &have); err != nil {
			return err
		} else if found {
			return errAlreadyExists("User with name %s already exists.", have.Name)
		}
		return putUser(tx, p.AccountID, u)
	})
	if err != nil {
		return nil, err
	}
	return &CreateUserOutput{User: u.wire(p.AccountID, true)}, nil
}

// GetUserInput is GetUser's request; an empty UserName means the caller.
type GetUserInput struct {
	UserName string `iam:"UserName,existingUserName"`
}

// GetUserOutput is GetUser's response.
type GetUserOutput struct {
	User User `xml:"User"`
}

// GetUser describes a user, or the caller: an account's root user is described by its root ARN
// and the account id as its user id, as IAM does.
func (s *Service) GetUser(ctx context.Context, in *GetUserInput) (*GetUserOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if in.UserName == "" && p.IsRoot() {
		if err := s.authorize(ctx, p, "GetUser", p.ARN, nil); err != nil {
			return nil, err
		}
		var a Account
		err := s.store.View(ctx, func(tx storage.Tx) error {
			_, err := get(tx, []byte(prefixAccount+p.AccountID), &a)
			return err
		})
		if err != nil {
			return nil, err
		}
		return &GetUserOutput{User: User{UserID: p.AccountID, Arn: identity.RootARN(p.AccountID), CreateDate: a.Created.Truncate(time.Second)}}, nil
	}
	name, ok := selfUser(p, in.UserName)
	if !ok {
		return nil, errValidation("Must specify userName when calling with non-User credentials")
	}
	if err := s.authorizeUser(ctx, p, "GetUser", name, nil); err != nil {
		return nil, err
	}
	var u *userRecord
	err = s.store.View(ctx, func(tx storage.Tx) (err error) {
		u, err = readUser(tx, p.AccountID, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &GetUserOutput{User: u.wire(p.AccountID, true)}, nil
}

// ListUsersInput is ListUsers' request.
type ListUsersInput struct {
	PathPrefix string `iam:"PathPrefix,pathPrefix"`
	Marker     string `iam:"Marker,marker"`
	MaxItems   *int32 `iam:"MaxItems,maxItems"`
}

// ListUsersOutput is ListUsers' response.
type ListUsersOutput struct {
	Users       List[User] `xml:"Users"`
	IsTruncated bool       `xml:"IsTruncated"`
	Marker      string     `xml:"Marker,omitempty"`
}

// ListUsers lists the account's users whose path starts with PathPrefix, by name.
func (s *Service) ListUsers(ctx context.Context, in *ListUsersInput) (*ListUsersOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "ListUsers", "*", nil); err != nil {
		return nil, err
	}
	out := &ListUsersOutput{Users: List[User]{}}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		users, next, err := scanPage(tx, entityPrefix(p.AccountID, kindUser), in.Marker, maxItems(in.MaxItems),
			func(u *userRecord) bool { return strings.HasPrefix(u.Path, in.PathPrefix) })
		for _, u := range users {
			out.Users = append(out.Users, u.wire(p.AccountID, false))
		}
		out.Marker, out.IsTruncated = next, next != ""
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateUserInput is UpdateUser's request.
type UpdateUserInput struct {
	UserName    string `iam:"UserName,existingUserName,required"`
	NewPath     string `iam:"NewPath,path"`
	NewUserName string `iam:"NewUserName,userName"`
}

// UpdateUser renames a user or moves it to another path. Everything that names the user (its
// groups, access keys, MFA devices, login profile, policy attachments) follows it.
func (s *Service) UpdateUser(ctx context.Context, in *UpdateUserInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeUser(ctx, p, "UpdateUser", in.UserName, nil); err != nil {
		return nil, err
	}
	acct := p.AccountID
	err = s.write(ctx, acct, func(tx storage.Tx) error {
		u, err := readUser(tx, acct, in.UserName)
		if err != nil {
			return err
		}
		old := *u
		if in.NewUserName != "" {
			u.Name = in.NewUserName
		}
		if in.NewPath != "" {
			u.Path = in.NewPath
		}
		if !strings.EqualFold(u.Name, old.Name) {
			var have userRecord
			if found, err := get(tx, entityKey(acct, kindUser, u.Name), &have); err != nil {
				return err
			} else if found {
				return errAlreadyExists("User with name %s already exists.", have.Name)
			}
			if err := tx.Delete(entityKey(acct, kindUser, old.Name)); err != nil {
				return err
			}
		}
		if u.Name != old.Name {
			if err := renameUserRefs(tx, acct, old.Name, u); err != nil {
				return err
			}
		}
		for _, arn := range u.Attached {
			if err := tx.Delete(attachKey(acct, arn, kindUser, old.Name)); err != nil {
				return err
			}
			if err := putJSON(tx, attachKey(acct, arn, kindUser, u.Name), attachment{Kind: kindUser, Name: u.Name, ID: u.ID, Path: u.Path}); err != nil {
				return err
			}
		}
		return putUser(tx, acct, u)
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// renameUserRefs makes the records that name a renamed user (from old to u.Name) name it anew.
func renameUserRefs(tx storage.Tx, acct, old string, u *userRecord) error {
	for _, gname := range u.Groups {
		g, err := readGroup(tx, acct, gname)
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(g.Members, func(m string) bool { return strings.EqualFold(m, old) }); i >= 0 {
			g.Members[i] = u.Name
		}
		if err := putGroup(tx, acct, g); err != nil {
			return err
		}
	}
	for _, id := range u.AccessKeys {
		var k AccessKey
		if found, err := get(tx, []byte(prefixKey+id), &k); err != nil {
			return err
		} else if found {
			k.UserName = u.Name
			if err := putJSON(tx, []byte(prefixKey+id), &k); err != nil {
				return err
			}
		}
	}
	for _, name := range u.MFA {
		var m mfaRecord
		if found, err := get(tx, entityKey(acct, kindMFA, name), &m); err != nil {
			return err
		} else if found {
			m.User = u.Name
			if err := putJSON(tx, entityKey(acct, kindMFA, name), &m); err != nil {
				return err
			}
		}
	}
	var l loginRecord
	if found, err := get(tx, entityKey(acct, kindLogin, old), &l); err != nil {
		return err
	} else if found {
		if err := tx.Delete(entityKey(acct, kindLogin, old)); err != nil {
			return err
		}
		l.User = u.Name
		return putJSON(tx, entityKey(acct, kindLogin, u.Name), &l)
	}
	return nil
}

// DeleteUserInput is DeleteUser's request.
type DeleteUserInput struct {
	UserName string `iam:"UserName,existingUserName,required"`
}

// DeleteUser deletes a user that has nothing left attached, as IAM requires: no login profile,
// access keys, MFA devices, inline or attached policies, or group memberships.
func (s *Service) DeleteUser(ctx context.Context, in *DeleteUserInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeUser(ctx, p, "DeleteUser", in.UserName, nil); err != nil {
		return nil, err
	}
	acct := p.AccountID
	err = s.write(ctx, acct, func(tx storage.Tx) error {
		u, err := readUser(tx, acct, in.UserName)
		if err != nil {
			return err
		}
		if _, err := tx.Get(entityKey(acct, kindLogin, u.Name)); err == nil {
			return errDeleteConflict("Cannot delete entity, must delete login profile first.")
		} else if !isNotFound(err) {
			return err
		}
		switch {
		case len(u.AccessKeys) > 0:
			return errDeleteConflict("Cannot delete entity, must delete access keys first.")
		case len(u.MFA) > 0:
			return errDeleteConflict("Cannot delete entity, must delete MFA device first.")
		case len(u.Inline) > 0:
			return errDeleteConflict("Cannot delete entity, must delete policies first.")
		case len(u.Attached) > 0:
			return errDeleteConflict("Cannot delete entity, must detach all policies first.")
		case len(u.Groups) > 0:
			return errDeleteConflict("Cannot delete entity, must remove users from group first.")
		}
		return tx.Delete(entityKey(acct, kindUser, u.Name))
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// TagUserInput is TagUser's request.
type TagUserInput struct {
	UserName string `iam:"UserName,existingUserName,required"`
	Tags     []Tag  `iam:"Tags,tags,required"`
}

// TagUser adds tags to a user, replacing the values of keys it has.
func (s *Service) TagUser(ctx context.Context, in *TagUserInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeUser(ctx, p, "TagUser", in.UserName, requestTagKeys(nil, in.Tags)); err != nil {
		return nil, err
	}
	if err := checkNewTags(in.Tags); err != nil {
		return nil, err
	}
	err = s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		u, err := readUser(tx, p.AccountID, in.UserName)
		if err != nil {
			return err
		}
		if u.Tags, err = mergeTags(u.Tags, in.Tags); err != nil {
			return err
		}
		return putUser(tx, p.AccountID, u)
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// UntagUserInput is UntagUser's request.
type UntagUserInput struct {
	UserName string   `iam:"UserName,existingUserName,required"`
	TagKeys  []string `iam:"TagKeys,tagKeys,required"`
}

// UntagUser removes tags from a user; keys it does not have are ignored.
func (s *Service) UntagUser(ctx context.Context, in *UntagUserInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeUser(ctx, p, "UntagUser", in.UserName, withKey(nil, "aws:TagKeys", in.TagKeys...)); err != nil {
		return nil, err
	}
	err = s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		u, err := readUser(tx, p.AccountID, in.UserName)
		if err != nil {
			return err
		}
		u.Tags = removeTags(u.Tags, in.TagKeys)
		return putUser(tx, p.AccountID, u)
	})
	if err != nil {
		return nil, err
	}
	return &Empty{}, nil
}

// ListUserTagsInput is ListUserTags' request.
type ListUserTagsInput struct {
	UserName string `iam:"UserName,existingUserName,required"`
	Marker   string `iam:"Marker,marker"`
	MaxItems *int32 `iam:"MaxItems,maxItems"`
}

// ListTagsOutput is the response of ListUserTags, ListRoleTags, ListPolicyTags and
// ListMFADeviceTags.
type ListTagsOutput struct {
	Tags        List[Tag] `xml:"Tags"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

func pageTags(tags []Tag, marker string, max *int32) (*ListTagsOutput, error) {
	page, next, err := pageSlice(tags, marker, maxItems(max))
	if err != nil {
		return nil, err
	}
	return &ListTagsOutput{Tags: append(List[Tag]{}, page...), IsTruncated: next != "", Marker: next}, nil
}

// ListUserTags lists a user's tags.
func (s *Service) ListUserTags(ctx context.Context, in *ListUserTagsInput) (*ListTagsOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeUser(ctx, p, "ListUserTags", in.UserName, nil); err != nil {
		return nil, err
	}
	var u *userRecord
	err = s.store.View(ctx, func(tx storage.Tx) (err error) {
		u, err = readUser(tx, p.AccountID, in.UserName)
		return err
	})
	if err != nil {
		return nil, err
	}
	return pageTags(u.Tags, in.Marker, in.MaxItems)
}

func defaultPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// noBoundary refuses permissions boundaries, which stateward does not enforce: accepting one
// would promise a limit that is not kept.
func noBoundary(arn string) error {
	if arn != "" {
		return errInvalidInput("Permissions boundaries are not supported by this server.")
	}
	return nil
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, storage.ErrNotFound) }
