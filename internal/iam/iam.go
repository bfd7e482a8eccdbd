// Package iam holds accounts, their users and access keys. It bootstraps the management
// account on first start and resolves access key ids for the gateway's authentication. The IAM
// Query API front-end will live here too.
package iam

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"time"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/storage"
)

// ErrUnknownAccessKey is returned for an access key id that does not exist or is inactive.
var ErrUnknownAccessKey = errors.New("iam: unknown access key")

// Secret is a secret access key. It never prints: String and LogValue redact it.
type Secret string

func (Secret) String() string                 { return "[redacted]" }
func (Secret) LogValue() slog.Value           { return slog.StringValue("[redacted]") }
func (s Secret) Reveal() string               { return string(s) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(s), nil }

// Account is an isolated tenant with a 12-digit id, like an AWS account.
type Account struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// AccessKey is a long-term credential of a user (or of an account's root user).
type AccessKey struct {
	ID        string    `json:"id"`
	Secret    Secret    `json:"secret"`
	AccountID string    `json:"account"`
	UserName  string    `json:"user,omitempty"` // empty for the root user
	UserID    string    `json:"userId"`
	Active    bool      `json:"active"`
	Created   time.Time `json:"created"`
}

// Principal is the identity a request signed with k acts as.
func (k *AccessKey) Principal() *identity.Principal {
	p := &identity.Principal{AccountID: k.AccountID, AccessKeyID: k.ID, UserID: k.UserID}
	if k.UserName == "" {
		p.Type = identity.Root
		p.ARN = identity.RootARN(k.AccountID)
	} else {
		p.Type, p.Name = identity.User, k.UserName
		p.ARN = "arn:aws:iam::" + k.AccountID + ":user/" + k.UserName
	}
	return p
}

// Service manages identities over a store.
type Service struct {
	store storage.Store
	now   func() time.Time
	rand  io.Reader
}

// New returns a Service; now and random may be nil for the real clock and crypto/rand.
func New(store storage.Store, now func() time.Time, random io.Reader) *Service {
	if now == nil {
		now = time.Now
	}
	if random == nil {
		random = rand.Reader
	}
	return &Service{store: store, now: now, rand: random}
}

const (
	keyManagement = "iam/management"
	prefixAccount = "iam/account/"
	prefixKey     = "iam/accesskey/"
)

// Bootstrap returns the management account and its root access key, creating both on the
// first call. created reports whether they were made now.
func (s *Service) Bootstrap(ctx context.Context) (acct *Account, key *AccessKey, created bool, err error) {
	newAcct, err := s.newAccount("management")
	if err != nil {
		return nil, nil, false, err
	}
	newKey, err := s.newAccessKey(newAcct.ID, "")
	if err != nil {
		return nil, nil, false, err
	}
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		acct, key, created = nil, nil, false
		var m management
		err := storage.GetJSON(tx, []byte(keyManagement), &m)
		if err == nil {
			acct, key = &Account{}, &AccessKey{}
			if err := storage.GetJSON(tx, []byte(prefixAccount+m.AccountID), acct); err != nil {
				return err
			}
			return storage.GetJSON(tx, []byte(prefixKey+m.AccessKeyID), key)
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		acct, key, created = newAcct, newKey, true
		if err := storage.PutJSON(tx, []byte(prefixAccount+acct.ID), acct); err != nil {
			return err
		}
		if err := storage.PutJSON(tx, []byte(prefixKey+key.ID), key); err != nil {
			return err
		}
		return storage.PutJSON(tx, []byte(keyManagement), management{AccountID: acct.ID, AccessKeyID: key.ID})
	})
	return acct, key, created, err
}

type management struct {
	AccountID   string `json:"account"`
	AccessKeyID string `json:"accessKey"`
}

// LookupAccessKey returns the active access key with id, or an error wrapping
// ErrUnknownAccessKey.
func (s *Service) LookupAccessKey(ctx context.Context, id string) (*AccessKey, error) {
	var key AccessKey
	err := s.store.View(ctx, func(tx storage.Tx) error {
		return storage.GetJSON(tx, []byte(prefixKey+id), &key)
	})
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !key.Active) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownAccessKey, id)
	}
	if err != nil {
		return nil, err
	}
	return &key, nil
}

func (s *Service) newAccount(name string) (*Account, error) {
	// 12 digits, never starting with 0, as AWS account ids look.
	n, err := rand.Int(s.rand, big.NewInt(9e11))
	if err != nil {
		return nil, err
	}
	return &Account{ID: fmt.Sprintf("%012d", n.Int64()+1e11), Name: name, Created: s.now().UTC()}, nil
}

func (s *Service) newAccessKey(accountID, user string) (*AccessKey, error) {
	id, err := s.randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
	if err != nil {
		return nil, err
	}
	secret, err := s.randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)
	if err != nil {
		return nil, err
	}
	userID := accountID
	if user != "" {
		if userID, err = s.randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 17); err != nil {
			return nil, err
		}
		userID = "AIDA" + userID
	}
	return &AccessKey{ID: "AKIA" + id, Secret: Secret(secret), AccountID: accountID, UserName: user,
		UserID: userID, Active: true, Created: s.now().UTC()}, nil
}

func (s *Service) randomString(alphabet string, n int) (string, error) {
	buf := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range buf {
		v, err := rand.Int(s.rand, max)
		if err != nil {
			return "", err
		}
		buf[i] = alphabet[v.Int64()]
	}
	return string(buf), nil
}
