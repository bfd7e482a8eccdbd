package iam

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/storage"
)

// Storage layout. Every value is JSON, sealed by the store's barrier. Names are keyed in lower
// case, since IAM names are unique case-insensitively within an account; the record keeps the
// name as it was given.
//
//	iam/management                       the management account and its first root key (since v0)
//	iam/account/<acct>                   Account (since v0)
//	iam/accesskey/<AKIA…>                AccessKey, secret included (since v0)
//	iam/lastused/<AKIA…>                 keyUse: the key's last use, written at most once a minute
//	iam/gen/<acct>                       the account's IAM generation: bumped by every IAM write
//	iam/acct/<acct>/user/<name>          userRecord (inline policies, attachments, groups, keys, MFA)
//	iam/acct/<acct>/group/<name>         groupRecord (inline policies, attachments, members)
//	iam/acct/<acct>/role/<name>          roleRecord (trust policy, inline policies, attachments)
//	iam/acct/<acct>/policy/<name>        policyRecord: a customer managed policy and its versions
//	iam/acct/<acct>/attach/<arn>#<kind>/<name>  attachment: a managed policy's use by an entity
//	iam/acct/<acct>/mfa/<name>           mfaRecord: a virtual MFA device, seed included
//	iam/acct/<acct>/login/<user>         loginRecord: a user's password hash
//	iam/acct/<acct>/rootkey/<AKIA…>      the account root user's access keys (an index)
//	iam/acct/<acct>/oidc/<host/path>     oidcRecord: an OpenID Connect provider (its URL without https://)
const (
	keyManagement = "iam/management"
	prefixAccount = "iam/account/"
	prefixKey     = "iam/accesskey/"
	prefixUse     = "iam/lastused/"
	prefixGen     = "iam/gen/"
	prefixEntity  = "iam/acct/"
)

// Entity kinds, as they appear in keys and attachment records.
const (
	kindUser   = "user"
	kindGroup  = "group"
	kindRole   = "role"
	kindPolicy = "policy"
	kindMFA    = "mfa"
	kindLogin  = "login"
	kindRoot   = "rootkey"
	kindAttach = "attach"
)

func entityPrefix(acct, kind string) string { return prefixEntity + acct + "/" + kind + "/" }

func entityKey(acct, kind, name string) []byte {
	return []byte(entityPrefix(acct, kind) + strings.ToLower(name))
}

// rootKeyIndex is the index record of the root user's access key id; ids keep their case.
func rootKeyIndex(acct, id string) []byte { return []byte(entityPrefix(acct, kindRoot) + id) }

// attachPrefix is where the attachments of the managed policy arn live; '#' appears in no
// policy ARN, so one policy's prefix never covers another's.
func attachPrefix(acct, policyARN string) string {
	return entityPrefix(acct, kindAttach) + policyARN + "#"
}

func attachKey(acct, policyARN, kind, name string) []byte {
	return []byte(attachPrefix(acct, policyARN) + kind + "/" + strings.ToLower(name))
}

// Tag is a key-value pair on a user, role, policy or MFA device.
type Tag struct {
	Key   string `iam:"Key,tagKey,required" xml:"Key" json:"key"`
	Value string `iam:"Value,tagValue" xml:"Value" json:"value"`
}

// inlinePolicy is a policy embedded in a user, group or role.
type inlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"doc"`
}

type userRecord struct {
	Name             string         `json:"name"`
	Path             string         `json:"path"`
	ID               string         `json:"id"`
	Created          time.Time      `json:"created"`
	Tags             []Tag          `json:"tags,omitempty"`
	Inline           []inlinePolicy `json:"inline,omitempty"`
	Attached         []string       `json:"attached,omitempty"` // managed policy ARNs
	Groups           []string       `json:"groups,omitempty"`   // group names, as given
	AccessKeys       []string       `json:"accessKeys,omitempty"`
	MFA              []string       `json:"mfa,omitempty"` // virtual MFA device names
	PasswordLastUsed time.Time      `json:"passwordLastUsed,omitzero"`
}

type groupRecord struct {
	Name     string         `json:"name"`
	Path     string         `json:"path"`
	ID       string         `json:"id"`
	Created  time.Time      `json:"created"`
	Inline   []inlinePolicy `json:"inline,omitempty"`
	Attached []string       `json:"attached,omitempty"`
	Members  []string       `json:"members,omitempty"` // user names, as given
}

type roleRecord struct {
	Name               string         `json:"name"`
	Path               string         `json:"path"`
	ID                 string         `json:"id"`
	Created            time.Time      `json:"created"`
	Trust              string         `json:"trust"`
	Description        string         `json:"description,omitempty"`
	MaxSessionDuration int            `json:"maxSession"`
	Tags               []Tag          `json:"tags,omitempty"`
	Inline             []inlinePolicy `json:"inline,omitempty"`
	Attached           []string       `json:"attached,omitempty"`
	LastUsed           time.Time      `json:"lastUsed,omitzero"`
	LastUsedRegion     string         `json:"lastUsedRegion,omitempty"`
}

type versionRecord struct {
	ID       string    `json:"id"` // v1, v2, …
	Document string    `json:"doc"`
	Created  time.Time `json:"created"`
}

type policyRecord struct {
	Name        string          `json:"name"`
	Path        string          `json:"path"`
	ID          string          `json:"id"`
	Description string          `json:"description,omitempty"`
	Created     time.Time       `json:"created"`
	Updated     time.Time       `json:"updated"`
	Default     string          `json:"default"`
	Versions    []versionRecord `json:"versions"`
	NextVersion int             `json:"next"`
	Tags        []Tag           `json:"tags,omitempty"`
}

func (p *policyRecord) version(id string) *versionRecord {
	for i := range p.Versions {
		if p.Versions[i].ID == id {
			return &p.Versions[i]
		}
	}
	return nil
}

// attachment is the value of an attachment record: enough of the entity to list it without
// reading it.
type attachment struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	ID   string `json:"id"`
	Path string `json:"path"`
}

type mfaRecord struct {
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	Seed    Secret    `json:"seed"` // base32, no padding
	Created time.Time `json:"created"`
	Tags    []Tag     `json:"tags,omitempty"`
	User    string    `json:"user,omitempty"` // assigned to this user
	UserID  string    `json:"userId,omitempty"`
	Enabled time.Time `json:"enabled,omitzero"`
	// LastStep is the last 30-second step whose code was accepted; codes of it and earlier
	// steps are refused, so a code works once.
	LastStep int64 `json:"lastStep,omitempty"`
}

type loginRecord struct {
	User          string    `json:"user"`
	Created       time.Time `json:"created"`
	ResetRequired bool      `json:"resetRequired,omitempty"`
	Hash          Secret    `json:"hash"` // encoded argon2id hash with its parameters
}

// keyUse is an access key's last recorded use.
type keyUse struct {
	At      time.Time `json:"at"`
	Service string    `json:"service"`
	Region  string    `json:"region"`
}

// get reads the JSON record at key into v; found is false when there is none.
func get(tx storage.Tx, key []byte, v any) (found bool, err error) {
	err = storage.GetJSON(tx, key, v)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func genKey(acct string) []byte { return []byte(prefixGen + acct) }

// generation reads acct's IAM generation; 0 before the first write.
func generation(tx storage.Tx, acct string) (uint64, error) {
	raw, err := tx.Get(genKey(acct))
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(string(raw), 10, 64)
}

func bumpGeneration(tx storage.Tx, acct string) error {
	g, err := generation(tx, acct)
	if err != nil {
		return err
	}
	return tx.Put(genKey(acct), strconv.AppendUint(nil, g+1, 10))
}

// write runs fn in a write transaction that also bumps acct's IAM generation, so every cached
// view of the account's policies is dropped when the transaction commits.
func (s *Service) write(ctx context.Context, acct string, fn func(tx storage.Tx) error) error {
	return s.store.Update(ctx, func(tx storage.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return bumpGeneration(tx, acct)
	})
}

func putJSON(tx storage.Tx, key []byte, v any) error { return storage.PutJSON(tx, key, v) }

// scanJSON decodes each record under prefix, from start (a key at or after prefix, or nil) on,
// into a fresh T and calls fn; fn returns storage.ErrStop to end early.
func scanJSON[T any](tx storage.Tx, prefix string, start []byte, fn func(key []byte, v *T) error) error {
	from := []byte(prefix)
	if start != nil {
		from = start
	}
	return tx.Scan(from, storage.PrefixEnd([]byte(prefix)), func(k, raw []byte) error {
		v := new(T)
		if err := json.Unmarshal(raw, v); err != nil {
			return errorf("decode %q: %w", k, err)
		}
		return fn(k, v)
	})
}
