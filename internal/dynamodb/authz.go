package dynamodb

import (
	"context"
	"encoding/base64"

	"github.com/stateward/stateward/internal/dynamodb/item"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// Authorizer decides every request; see package policy.
type Authorizer interface {
	Authorize(ctx context.Context, req *policy.Request) error
}

// StateLocks authorizes the items of Terraform lock tables as the states they lock; the s3
// service implements it. lockID is the item's LockID ("<bucket>/<key>" or
// "<bucket>/<key>-md5"); write asks for the right to write the state, else to read it.
type StateLocks interface {
	AuthorizeStateLock(ctx context.Context, lockID string, write bool) error
}

// lockAttribute is the partition key of the lock tables Terraform and OpenTofu use.
const lockAttribute = "LockID"

// isLockTable tells whether t is shaped as a Terraform lock table: a string partition key
// named LockID. Its items are also authorized as the states they lock.
func (t *tableRecord) isLockTable() bool {
	return t.hashKey().AttributeName == lockAttribute && t.attrType(lockAttribute) == item.S
}

// authorize asks whether the caller in ctx may run dynamodb:<op> on resource, owned by
// account, with the partition key values the request touches as dynamodb:LeadingKeys and,
// for an existing table t, its tags as aws:ResourceTag keys.
func (s *Service) authorize(ctx context.Context, op, account, resource string, leadingKeys []string, t *tableRecord) error {
	req := &policy.Request{Action: "dynamodb:" + op, Resource: resource, ResourceAccount: account, Keys: map[string][]string{}}
	if leadingKeys != nil {
		req.Keys["dynamodb:LeadingKeys"] = leadingKeys
	}
	if t != nil {
		for _, tg := range t.Tags {
			req.Keys["aws:ResourceTag/"+tg.Key] = []string{tg.Value}
		}
	}
	return s.authz.Authorize(ctx, req)
}

// callerAccount is the account of the caller in ctx; authorization refuses a request without
// one before it matters.
func callerAccount(ctx context.Context) string {
	if p := identity.FromContext(ctx); p != nil {
		return p.AccountID
	}
	return ""
}

// tableOp resolves and authorizes a table-level request (no item keys).
func (s *Service) tableOp(ctx context.Context, op, name string) (account, table string, err error) {
	account, table, err = s.tableRef(callerAccount(ctx), name)
	if err != nil {
		return "", "", err
	}
	return account, table, s.authorize(ctx, op, account, tableARN(s.region, account, table), nil, nil)
}

// itemOp resolves and authorizes an item request. leading returns the partition key values
// the request touches, given the table's schema. A missing table is reported only to a caller
// allowed to ask.
func (s *Service) itemOp(ctx context.Context, op, name string, leading func(t *tableRecord) []string) (string, *tableRecord, error) {
	account, table, err := s.tableRef(callerAccount(ctx), name)
	if err != nil {
		return "", nil, err
	}
	t, err := s.table(ctx, account, table)
	if isNotFound(err) {
		if err := s.authorize(ctx, op, account, tableARN(s.region, account, table), nil, nil); err != nil {
			return "", nil, err
		}
		return "", nil, errTableNotFound()
	}
	if err != nil {
		return "", nil, err
	}
	var keys []string
	if leading != nil {
		keys = leading(t)
	}
	return account, t, s.authorize(ctx, op, account, t.arn(), keys, t)
}

// authorizeLocks authorizes the items of a lock table as the states they lock: each LockID in
// lockIDs needs the state's s3:PutObject (write) or s3:GetObject, beyond the DynamoDB action,
// so a principal that cannot write a state cannot lock or unlock it.
func (s *Service) authorizeLocks(ctx context.Context, t *tableRecord, lockIDs []string, write bool) error {
	if s.locks == nil || !t.isLockTable() {
		return nil
	}
	for _, id := range lockIDs {
		if err := s.locks.AuthorizeStateLock(ctx, id, write); err != nil {
			return err
		}
	}
	return nil
}

// keyString renders a key value as a condition key value.
func keyString(v item.Value) string {
	switch v.Type {
	case item.S:
		return v.S
	case item.N:
		return v.N
	case item.B:
		return base64.StdEncoding.EncodeToString(v.B)
	}
	return ""
}

// leadingFrom returns the partition key value of attrs (a Key or an Item) as LeadingKeys.
func leadingFrom(attrs item.Item) func(t *tableRecord) []string {
	return func(t *tableRecord) []string {
		if v, ok := attrs[t.hashKey().AttributeName]; ok && v.Type.IsKeyType() {
			return []string{keyString(v)}
		}
		return []string{}
	}
}

// lockIDsOf returns the LockID strings of attrs (Items or Keys).
func lockIDsOf(attrs ...item.Item) []string {
	var ids []string
	for _, a := range attrs {
		if v, ok := a[lockAttribute]; ok && v.Type == item.S {
			ids = append(ids, v.S)
		}
	}
	return ids
}
