package iam

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/storage"
)

// maxAccessKeys is IAM's AccessKeysPerUser quota; the root user has the same.
const maxAccessKeys = 2

// AccessKeyInfo is IAM's AccessKey: a new key with its secret, shown once.
type AccessKeyInfo struct {
	UserName        string    `xml:"UserName,omitempty"`
	AccessKeyID     string    `xml:"AccessKeyId"`
	Status          string    `xml:"Status"`
	SecretAccessKey Secret    `xml:"SecretAccessKey"`
	CreateDate      time.Time `xml:"CreateDate"`
}

// AccessKeyMetadata describes an access key without its secret.
type AccessKeyMetadata struct {
	UserName    string    `xml:"UserName,omitempty"`
	AccessKeyID string    `xml:"AccessKeyId"`
	Status      string    `xml:"Status"`
	CreateDate  time.Time `xml:"CreateDate"`
}

func status(active bool) string {
	if active {
		return "Active"
	}
	return "Inactive"
}

// keyOwner is whose access keys an operation acts on: a user, or the account's root user.
type keyOwner struct {
	user string // empty for the root user
}

// resolveKeyOwner reads an optional UserName: empty means the caller's own user, or the root
// user when the root user calls (AWS lets the root user have access keys; stateward's first
// credentials are one).
func resolveKeyOwner(p *identity.Principal, name string) (keyOwner, error) {
	if name != "" {
		return keyOwner{user: name}, nil
	}
	if p.IsRoot() {
		return keyOwner{}, nil
	}
	if n, ok := selfUser(p, ""); ok {
		return keyOwner{user: n}, nil
	}
	return keyOwner{}, errValidation("Must specify userName when calling with non-User credentials")
}

func (s *Service) authorizeKeyOwner(ctx context.Context, p *identity.Principal, op string, o keyOwner) error {
	if o.user == "" {
		return s.authorize(ctx, p, op, identity.RootARN(p.AccountID), nil)
	}
	return s.authorizeUser(ctx, p, op, o.user, nil)
}

// ownerKeys returns the ids of o's access keys, and for a user its record.
func ownerKeys(tx storage.Tx, acct string, o keyOwner) ([]string, *userRecord, error) {
	if o.user != "" {
		u, err := readUser(tx, acct, o.user)
		if err != nil {
			return nil, nil, err
		}
		return slices.Clone(u.AccessKeys), u, nil
	}
	var ids []string
	prefix := entityPrefix(acct, kindRoot)
	err := storage.ScanPrefix(tx, []byte(prefix), func(k, _ []byte) error {
		ids = append(ids, strings.TrimPrefix(string(k), prefix))
		return nil
	})
	return ids, nil, err
}

// ownedKey reads the access key id if it belongs to o, or returns NoSuchEntity.
func ownedKey(tx storage.Tx, acct string, o keyOwner, id string) (*AccessKey, *userRecord, error) {
	ids, u, err := ownerKeys(tx, acct, o)
	if err != nil {
		return nil, nil, err
	}
	var k AccessKey
	if slices.Contains(ids, id) {
		found, err := get(tx, []byte(prefixKey+id), &k)
		if err != nil {
			return nil, nil, err
		}
		if found && k.AccountID == acct {
			return &k, u, nil
		}
	}
	return nil, nil, errNoSuchEntity("The Access Key with id %s cannot be found.", id)
}

// CreateAccessKeyInput is CreateAccessKey's request; an empty UserName means the caller.
type CreateAccessKeyInput struct {
	UserName string `iam:"UserName,existingUserName"`
}

// CreateAccessKeyOutput is CreateAccessKey's response: the only time the secret is shown.
type CreateAccessKeyOutput struct {
	AccessKey AccessKeyInfo `xml:"AccessKey"`
}

// CreateAccessKey makes a new active access key for a user (or the calling root user). The
// secret is stored sealed and returned only here.
func (s *Service) CreateAccessKey(ctx context.Context, in *CreateAccessKeyInput) (*CreateAccessKeyOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	o, err := resolveKeyOwner(p, in.UserName)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeKeyOwner(ctx, p, "CreateAccessKey", o); err != nil {
		return nil, err
	}
	acct := p.AccountID
	key, err := s.newAccessKey(acct, o.user, acct)
	if err != nil {
		return nil, err
	}
	err = s.write(ctx, acct, func(tx storage.Tx) error {
		ids, u, err := ownerKeys(tx, acct, o)
		if err != nil {
			return err
		}
		if len(ids) >= maxAccessKeys {
			return errQuota("AccessKeysPerUser", maxAccessKeys)
		}
		k := *key
		if u != nil {
			k.UserName, k.UserID = u.Name, u.ID
			u.AccessKeys = append(u.AccessKeys, k.ID)
			if err := putUser(tx, acct, u); err != nil {
				return err
			}
		} else if err := tx.Put(rootKeyIndex(acct, k.ID), []byte("{}")); err != nil {
			return err
		}
		key.UserName = k.UserName
		return putJSON(tx, []byte(prefixKey+k.ID), &k)
	})
	if err != nil {
		return nil, err
	}
	return &CreateAccessKeyOutput{AccessKey: AccessKeyInfo{UserName: key.UserName, AccessKeyID: key.ID,
		Status: status(true), SecretAccessKey: key.Secret, CreateDate: key.Created}}, nil
}

// ListAccessKeysInput is ListAccessKeys' request; an empty UserName means the caller.
type ListAccessKeysInput struct {
	UserName string `iam:"UserName,existingUserName"`
	Marker   string `iam:"Marker,marker"`
	MaxItems *int32 `iam:"MaxItems,maxItems"`
}

// ListAccessKeysOutput is ListAccessKeys' response.
type ListAccessKeysOutput struct {
	AccessKeyMetadata List[AccessKeyMetadata] `xml:"AccessKeyMetadata"`
	IsTruncated       bool                    `xml:"IsTruncated"`
	Marker            string                  `xml:"Marker,omitempty"`
}

// ListAccessKeys lists a user's (or the calling root user's) access keys, without secrets.
func (s *Service) ListAccessKeys(ctx context.Context, in *ListAccessKeysInput) (*ListAccessKeysOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	o, err := resolveKeyOwner(p, in.UserName)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeKeyOwner(ctx, p, "ListAccessKeys", o); err != nil {
		return nil, err
	}
	var all []AccessKeyMetadata
	err = s.store.View(ctx, func(tx storage.Tx) error {
		ids, _, err := ownerKeys(tx, p.AccountID, o)
		if err != nil {
			return err
		}
		for _, id := range ids {
			var k AccessKey
			if found, err := get(tx, []byte(prefixKey+id), &k); err != nil {
				return err
			} else if found {
				all = append(all, AccessKeyMetadata{UserName: k.UserName, AccessKeyID: k.ID, Status: status(k.Active), CreateDate: k.Created.Truncate(time.Second)})
			}
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
	return &ListAccessKeysOutput{AccessKeyMetadata: append(List[AccessKeyMetadata]{}, page...), IsTruncated: next != "", Marker: next}, nil
}

// UpdateAccessKeyInput is UpdateAccessKey's request.
type UpdateAccessKeyInput struct {
	UserName    string `iam:"UserName,existingUserName"`
	AccessKeyID string `iam:"AccessKeyId,accessKeyId,required"`
	Status      string `iam:"Status,statusType,required"`
}

// UpdateAccessKey makes an access key active or inactive. An inactive key authenticates
// nothing until it is made active again.
func (s *Service) UpdateAccessKey(ctx context.Context, in *UpdateAccessKeyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	o, err := resolveKeyOwner(p, in.UserName)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeKeyOwner(ctx, p, "UpdateAccessKey", o); err != nil {
		return nil, err
	}
	if in.Status == "Expired" {
		return nil, errInvalidInput("Invalid status Expired: an access key can be made Active or Inactive.")
	}
	return empty(s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		k, _, err := ownedKey(tx, p.AccountID, o, in.AccessKeyID)
		if err != nil {
			return err
		}
		k.Active = in.Status == "Active"
		return putJSON(tx, []byte(prefixKey+k.ID), k)
	}))
}

// DeleteAccessKeyInput is DeleteAccessKey's request.
type DeleteAccessKeyInput struct {
	UserName    string `iam:"UserName,existingUserName"`
	AccessKeyID string `iam:"AccessKeyId,accessKeyId,required"`
}

// DeleteAccessKey deletes an access key and its secret.
func (s *Service) DeleteAccessKey(ctx context.Context, in *DeleteAccessKeyInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	o, err := resolveKeyOwner(p, in.UserName)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeKeyOwner(ctx, p, "DeleteAccessKey", o); err != nil {
		return nil, err
	}
	acct := p.AccountID
	return empty(s.write(ctx, acct, func(tx storage.Tx) error {
		k, u, err := ownedKey(tx, acct, o, in.AccessKeyID)
		if err != nil {
			return err
		}
		if u != nil {
			u.AccessKeys = slices.DeleteFunc(u.AccessKeys, func(id string) bool { return id == k.ID })
			if err := putUser(tx, acct, u); err != nil {
				return err
			}
		} else if err := tx.Delete(rootKeyIndex(acct, k.ID)); err != nil {
			return err
		}
		if err := tx.Delete([]byte(prefixUse + k.ID)); err != nil {
			return err
		}
		return tx.Delete([]byte(prefixKey + k.ID))
	}))
}

// GetAccessKeyLastUsedInput is GetAccessKeyLastUsed's request.
type GetAccessKeyLastUsedInput struct {
	AccessKeyID string `iam:"AccessKeyId,accessKeyId,required"`
}

// AccessKeyLastUsed is when, where and with which service a key was last used. A key never
// used has no date, and N/A for service and region, as IAM reports it.
type AccessKeyLastUsed struct {
	LastUsedDate *time.Time `xml:"LastUsedDate,omitempty"`
	ServiceName  string     `xml:"ServiceName"`
	Region       string     `xml:"Region"`
}

// GetAccessKeyLastUsedOutput is GetAccessKeyLastUsed's response.
type GetAccessKeyLastUsedOutput struct {
	UserName          string            `xml:"UserName,omitempty"`
	AccessKeyLastUsed AccessKeyLastUsed `xml:"AccessKeyLastUsed"`
}

// GetAccessKeyLastUsed reports a key's last use, recorded at most once a minute per key.
func (s *Service) GetAccessKeyLastUsed(ctx context.Context, in *GetAccessKeyLastUsedInput) (*GetAccessKeyLastUsedOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	var k AccessKey
	var found bool
	err = s.store.View(ctx, func(tx storage.Tx) (err error) {
		found, err = get(tx, []byte(prefixKey+in.AccessKeyID), &k)
		return err
	})
	if err != nil {
		return nil, err
	}
	found = found && k.AccountID == p.AccountID
	resource := "*"
	if found {
		resource = identity.RootARN(p.AccountID)
		if k.UserName != "" {
			t, err := s.userTarget(ctx, p.AccountID, k.UserName)
			if err != nil {
				return nil, err
			}
			resource = t.arn
		}
	}
	if err := s.authorize(ctx, p, "GetAccessKeyLastUsed", resource, nil); err != nil {
		return nil, err
	}
	if !found {
		return nil, errNoSuchEntity("The Access Key with id %s cannot be found.", in.AccessKeyID)
	}
	var use keyUse
	var used bool
	err = s.store.View(ctx, func(tx storage.Tx) (err error) {
		used, err = get(tx, []byte(prefixUse+k.ID), &use)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &GetAccessKeyLastUsedOutput{UserName: k.UserName, AccessKeyLastUsed: AccessKeyLastUsed{ServiceName: "N/A", Region: "N/A"}}
	if used {
		t := use.At
		out.AccessKeyLastUsed = AccessKeyLastUsed{LastUsedDate: &t, ServiceName: use.Service, Region: use.Region}
	}
	return out, nil
}
