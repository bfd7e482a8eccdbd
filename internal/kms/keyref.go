package kms

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/storage"
)

// keyRef is a parsed KeyId parameter: a key id, key ARN, alias name or alias ARN.
type keyRef struct {
	account string
	region  string
	id      string // key id, for key ids and key ARNs
	alias   string // "alias/…", for alias names and alias ARNs
}

// parseKeyRef parses raw, the request member named member (for messages), with account as the
// account of bare ids and alias names.
func (s *Service) parseKeyRef(raw, member, account string) (keyRef, error) {
	ref := keyRef{account: account, region: s.region}
	switch {
	case raw == "":
		return ref, errRequired(member)
	case len(raw) > 2048:
		return ref, errLength(member, 1, 2048)
	case strings.HasPrefix(raw, "arn:"):
		// arn:partition:kms:region:account:key/<id> or …:alias/<name>
		parts := strings.SplitN(raw, ":", 6)
		if len(parts) != 6 || parts[1] != "aws" || parts[2] != "kms" || !isAccountID(parts[4]) {
			return ref, awserr.Newf(CodeNotFound, "Invalid arn %s", raw)
		}
		if parts[3] != s.region {
			// As KMS answers an ARN of another region.
			return ref, awserr.Newf(CodeNotFound, "Invalid arn %s", parts[3])
		}
		ref.account = parts[4]
		switch res := parts[5]; {
		case strings.HasPrefix(res, "key/"):
			ref.id = strings.TrimPrefix(res, "key/")
		case strings.HasPrefix(res, "alias/"):
			ref.alias = res
		default:
			return ref, awserr.Newf(CodeNotFound, "Invalid arn %s", raw)
		}
	case strings.HasPrefix(raw, "alias/"):
		ref.alias = raw
		return ref, nil
	default:
		ref.id = raw
	}
	if ref.id != "" && !validKeyID(ref.id) {
		return ref, errInvalidKeyID(ref.id)
	}
	return ref, nil
}

// arn names what ref refers to, for messages.
func (r keyRef) arn() string {
	if r.alias != "" {
		return aliasARN(r.region, r.account, r.alias)
	}
	return keyARN(r.region, r.account, r.id)
}

// validKeyID reports whether id has the shape of a key id: a UUID, or mrk- and 32 hex digits
// (multi-Region keys, which stateward never mints but must not call malformed).
func validKeyID(id string) bool {
	if rest, ok := strings.CutPrefix(id, "mrk-"); ok {
		return len(rest) == 32 && isHex(rest)
	}
	if len(id) != 36 {
		return false
	}
	for i, c := range id {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHexDigit(c) {
				return false
			}
		}
	}
	return true
}

func isHex(s string) bool {
	for _, c := range s {
		if !isHexDigit(c) {
			return false
		}
	}
	return true
}

func isHexDigit(c rune) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// lookup finds the key ref names inside tx. A missing alias or key, or a key whose deletion
// has come due, is NotFoundException.
func lookup(tx storage.Tx, ref keyRef, now time.Time) (*keyRecord, error) {
	id := ref.id
	if ref.alias != "" {
		a, err := getAlias(tx, ref.account, ref.region, ref.alias)
		if err != nil {
			return nil, err
		}
		if a == nil {
			return nil, errAliasNotFound(ref.arn())
		}
		id = a.Target
	}
	k, err := getKey(tx, ref.account, ref.region, id)
	if err != nil {
		return nil, err
	}
	if k == nil || k.deleted(now) {
		return nil, errKeyNotFound(keyARN(ref.region, ref.account, id))
	}
	return k, nil
}

// resolve parses raw and finds and authorizes the key it names; see resolveRef.
func (s *Service) resolve(ctx context.Context, p *identity.Principal, raw, member, op string, conds map[string][]string) (*keyRecord, error) {
	ref, err := s.parseKeyRef(raw, member, p.AccountID)
	if err != nil {
		return nil, err
	}
	return s.resolveRef(ctx, p, ref, op, conds, p.AccountID)
}

// resolveRef finds the key ref names and authorizes op on it for the caller p. The AWS
// managed keys (alias/aws/s3, alias/aws/ssm) of account home (the caller's own, or the one a
// service acts for) are created on first use. A missing key of another account is refused as access denied unless
// the caller may use it, so callers cannot probe other accounts for keys.
func (s *Service) resolveRef(ctx context.Context, p *identity.Principal, ref keyRef, op string, conds map[string][]string, home string) (*keyRecord, error) {
	k, err := s.find(ctx, ref, ref.account == home)
	var e *awserr.Error
	if err != nil && ref.account != p.AccountID && errors.As(err, &e) && e.Code == CodeNotFound {
		if aerr := s.authorize(ctx, p, op, ref.arn(), ref.account, conds); aerr != nil {
			return nil, aerr
		}
	}
	if err != nil {
		return nil, err
	}
	if err := s.authorizeKey(ctx, p, op, k, conds); err != nil {
		return nil, err
	}
	return k, nil
}

// find reads the key ref names; with createManaged, a missing AWS managed key alias
// (alias/aws/s3, alias/aws/ssm) is created with its key.
func (s *Service) find(ctx context.Context, ref keyRef, createManaged bool) (*keyRecord, error) {
	now := s.now()
	var k *keyRecord
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		k, err = lookup(tx, ref, now)
		return err
	})
	v := managedByAlias(ref.alias)
	if err == nil || !createManaged || v == nil {
		return k, err
	}
	var e *awserr.Error
	if !errors.As(err, &e) || e.Code != CodeNotFound {
		return nil, err
	}
	return s.ensureManagedKey(ctx, ref.account, v)
}

// updateKey re-reads k inside one write transaction, applies fn to the fresh record and stores
// it, so concurrent changes to one key never overwrite each other.
func (s *Service) updateKey(ctx context.Context, k *keyRecord, fn func(tx storage.Tx, k *keyRecord) error) (*keyRecord, error) {
	now := s.now()
	var out *keyRecord
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		cur, err := getKey(tx, k.Account, k.Region, k.ID)
		if err != nil {
			return err
		}
		if cur == nil || cur.deleted(now) {
			return errKeyNotFound(k.arn())
		}
		if err := fn(tx, cur); err != nil {
			return err
		}
		out = cur
		return putKey(tx, cur)
	})
	return out, err
}

// checkUsable refuses cryptographic use of a key that is not enabled.
func checkUsable(k *keyRecord) error {
	switch k.State {
	case stateEnabled:
		return nil
	case stateDisabled:
		return errDisabled(k.arn())
	case statePendingDeletion:
		return errPendingDeletion(k.arn())
	}
	return awserr.Newf(CodeInvalidState, "%s is %s.", k.arn(), k.State)
}

// checkNotPendingDeletion refuses changes to a key scheduled for deletion.
func checkNotPendingDeletion(k *keyRecord) error {
	if k.State == statePendingDeletion {
		return errPendingDeletion(k.arn())
	}
	return nil
}

// checkEditable refuses changes to a key that is AWS managed or pending deletion.
func checkEditable(k *keyRecord) error {
	if err := checkCustomerManaged(k); err != nil {
		return err
	}
	return checkNotPendingDeletion(k)
}

// checkCustomerManaged refuses changes to an AWS managed key, which only AWS administers.
func checkCustomerManaged(k *keyRecord) error {
	if k.Manager == managerAWS {
		return errAWSManaged(k.arn())
	}
	return nil
}
