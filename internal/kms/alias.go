package kms

import (
	"context"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/storage"
)

const (
	aliasPrefix         = "alias/"
	reservedAliasPrefix = "alias/aws/"
	managedS3Alias      = "alias/aws/s3"
	managedSSMAlias     = "alias/aws/ssm"
)

// validateAliasName checks an AliasName parameter. Names under alias/aws/ belong to AWS
// managed keys; callers may not create, repoint or delete them.
func validateAliasName(name string) error {
	switch {
	case name == "":
		return errRequired("aliasName")
	case len(name) > 256:
		return errLength("aliasName", 1, 256)
	case !strings.HasPrefix(name, aliasPrefix):
		return errValidation(`Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`)
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune(":/_-", c)) {
			return errValidation("1 validation error detected: Value '%s' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$", name)
		}
	}
	switch {
	case name == aliasPrefix || strings.Contains(name, ":"):
		return awserr.Newf(CodeInvalidAliasName, "%s is not a valid alias name.", name)
	case strings.HasPrefix(name, reservedAliasPrefix):
		return awserr.Newf(CodeNotAuthorized, "%s: the alias/aws/ prefix is reserved for AWS managed keys.", name)
	}
	return nil
}

type aliasInput struct {
	AliasName   string `json:"AliasName"`
	TargetKeyID string `json:"TargetKeyId"`
}

func (s *Service) createAlias(ctx context.Context, in *aliasInput) (*emptyOutput, error) {
	return s.setAlias(ctx, in, false)
}

func (s *Service) updateAlias(ctx context.Context, in *aliasInput) (*emptyOutput, error) {
	return s.setAlias(ctx, in, true)
}

// setAlias points an alias at a key: a new alias (CreateAlias) or an existing one (UpdateAlias).
func (s *Service) setAlias(ctx context.Context, in *aliasInput, update bool) (*emptyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	op := "CreateAlias"
	if update {
		op = "UpdateAlias"
	}
	if err := validateAliasName(in.AliasName); err != nil {
		return nil, err
	}
	if in.TargetKeyID == "" {
		return nil, errRequired("targetKeyId")
	}
	if ref, err := s.parseKeyRef(in.TargetKeyID, "targetKeyId", p.AccountID); err == nil && ref.alias != "" {
		return nil, errValidation("Aliases must refer to keys. Not aliases")
	}
	k, err := s.resolve(ctx, p, in.TargetKeyID, "targetKeyId", op, nil)
	if err != nil {
		return nil, err
	}
	if k.Account != p.AccountID {
		return nil, errValidation("An alias must be in the same account and Region as its key.")
	}
	if err := checkCustomerManaged(k); err != nil {
		return nil, err
	}
	arn := aliasARN(s.region, p.AccountID, in.AliasName)
	if err := s.authorize(ctx, p, op, arn, p.AccountID, nil); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		target, err := lookup(tx, keyRef{account: k.Account, region: k.Region, id: k.ID}, now)
		if err != nil {
			return err
		}
		if err := checkNotPendingDeletion(target); err != nil {
			return err
		}
		a, err := getAlias(tx, p.AccountID, s.region, in.AliasName)
		if err != nil {
			return err
		}
		switch {
		case update && a == nil:
			return errAliasNotFound(arn)
		case !update && a != nil:
			return awserr.Newf(CodeAlreadyExists, "An alias with the name %s already exists", arn)
		case a == nil:
			a = &aliasRecord{Name: in.AliasName, Created: now}
		}
		a.Target, a.Updated = target.ID, now
		return storage.PutJSON(tx, aliasRecordKey(p.AccountID, s.region, in.AliasName), a)
	})
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type deleteAliasInput struct {
	AliasName string `json:"AliasName"`
}

func (s *Service) deleteAlias(ctx context.Context, in *deleteAliasInput) (*emptyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validateAliasName(in.AliasName); err != nil {
		return nil, err
	}
	arn := aliasARN(s.region, p.AccountID, in.AliasName)
	if err := s.authorize(ctx, p, "DeleteAlias", arn, p.AccountID, nil); err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		a, err := getAlias(tx, p.AccountID, s.region, in.AliasName)
		if err != nil {
			return err
		}
		if a == nil {
			return errAliasNotFound(arn)
		}
		return tx.Delete(aliasRecordKey(p.AccountID, s.region, in.AliasName))
	})
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type aliasListEntry struct {
	AliasName       string `json:"AliasName"`
	AliasArn        string `json:"AliasArn"`
	TargetKeyID     string `json:"TargetKeyId,omitempty"`
	CreationDate    *epoch `json:"CreationDate,omitempty"`
	LastUpdatedDate *epoch `json:"LastUpdatedDate,omitempty"`
}

type listAliasesOutput struct {
	Aliases    []aliasListEntry `json:"Aliases"`
	NextMarker string           `json:"NextMarker,omitempty"`
	Truncated  bool             `json:"Truncated"`
}

// listAliases pages through the caller's aliases by name, optionally only those of one key;
// Marker is the name of the first alias of the next page.
func (s *Service) listAliases(ctx context.Context, in *listInput) (*listAliasesOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	limit, err := in.limit(50)
	if err != nil {
		return nil, err
	}
	if limit > 100 {
		return nil, errValidation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", limit)
	}
	if in.Marker != "" && !strings.HasPrefix(in.Marker, aliasPrefix) {
		return nil, awserr.New(CodeInvalidMarker, "The marker is not valid.")
	}
	targetID := ""
	if in.KeyID != "" {
		k, err := s.keyForListing(ctx, p, in.KeyID)
		if err != nil {
			return nil, err
		}
		targetID = k.ID
	}
	if err := s.authorize(ctx, p, "ListAliases", "*", p.AccountID, nil); err != nil {
		return nil, err
	}
	out := &listAliasesOutput{Aliases: []aliasListEntry{}}
	prefix := aliasesOf(p.AccountID, s.region)
	err = s.store.View(ctx, func(tx storage.Tx) error {
		return tx.Scan(append(prefix, in.Marker...), storage.PrefixEnd(prefix), func(key, v []byte) error {
			var a aliasRecord
			if err := storage.DecodeJSON(key, v, &a); err != nil {
				return err
			}
			if targetID != "" && a.Target != targetID {
				return nil
			}
			if len(out.Aliases) == limit {
				out.NextMarker, out.Truncated = a.Name, true
				return storage.ErrStop
			}
			out.Aliases = append(out.Aliases, aliasListEntry{AliasName: a.Name,
				AliasArn: aliasARN(s.region, p.AccountID, a.Name), TargetKeyID: a.Target,
				CreationDate: epochPtr(a.Created), LastUpdatedDate: epochPtr(a.Updated)})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// keyForListing finds the key a ListAliases filter names, in the caller's own account.
func (s *Service) keyForListing(ctx context.Context, p *identity.Principal, raw string) (*keyRecord, error) {
	ref, err := s.parseKeyRef(raw, "keyId", p.AccountID)
	if err != nil {
		return nil, err
	}
	if ref.account != p.AccountID {
		return nil, errKeyNotFound(ref.arn())
	}
	return s.find(ctx, ref, true)
}
