// Package iam is the AWS IAM API and stateward's identity store: accounts, their users, groups,
// roles, inline and managed policies, access keys, virtual MFA devices, login profiles and
// OpenID Connect providers, with the IAM Query front-end (Handler). It also serves the rest of
// the server: the gateway authenticates access keys through Authenticate, the policy engine
// reads a principal's identity-based policies through PoliciesFor, STS checks MFA codes through
// CheckMFACode and finds the provider of a web identity token through OIDCProviderForIssuer, the
// console checks passwords through CheckPassword, and Organizations creates member accounts
// through CreateMemberAccount.
//
// Everything an IAM call touches lives in the caller's account. Every exported operation
// validates its input against the IAM model, asks the Authorizer once (action iam:<Operation>,
// the resource's ARN), and then runs in one store transaction, so a console or CLI calling the
// Service directly is held to the same checks as the wire.
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
	"github.com/stateward/stateward/internal/policy"
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
	Email   string    `json:"email,omitempty"`
	// Management is the organization's management account that created this one; empty
	// for the management account itself.
	Management string `json:"management,omitempty"`
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

// Principal is the identity a request signed with k acts as. It knows neither the user's path
// nor its tags; Authenticate gives the whole principal.
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

// Authorizer decides every request; see package policy.
type Authorizer interface {
	Authorize(ctx context.Context, req *policy.Request) error
}

// Config configures a Service; nil fields mean defaults.
type Config struct {
	Store storage.Store // required
	// Authorizer decides each IAM call; nil means policy.NewEngine over this Service's own
	// policies, the engine the rest of the server uses.
	Authorizer Authorizer
	// Region is reported as an access key's last-used region when the request's own region
	// is unknown; "us-east-1" if empty.
	Region string
	Logger *slog.Logger
	Now    func() time.Time
	Rand   io.Reader
}

// Service manages identities over a store. It never sees HTTP; the caller is the
// identity.Principal in the context of each call.
type Service struct {
	store  storage.Store
	authz  Authorizer
	region string
	log    *slog.Logger
	now    func() time.Time
	rand   io.Reader

	cache *policyCache
	uses  *useRecorder
}

// NewService returns a Service.
func NewService(c Config) *Service {
	s := &Service{store: c.Store, authz: c.Authorizer, region: c.Region, log: c.Logger, now: c.Now, rand: c.Rand}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.authz == nil {
		s.authz = policy.NewEngine(s)
	}
	s.cache = newPolicyCache()
	s.uses = &useRecorder{last: map[string]time.Time{}}
	return s
}

// New returns a Service over store that authorizes with the policy engine over its own
// policies; now and random may be nil for the real clock and crypto/rand.
func New(store storage.Store, now func() time.Time, random io.Reader) *Service {
	return NewService(Config{Store: store, Now: now, Rand: random})
}

// Close waits for the access-key use records still being written; the store must stay open
// until it returns.
func (s *Service) Close() error {
	s.uses.wg.Wait()
	return nil
}

// Bootstrap returns the management account and its root access key, creating both on the
// first call. created reports whether they were made now. key is nil when that root key has
// since been deleted.
func (s *Service) Bootstrap(ctx context.Context) (acct *Account, key *AccessKey, created bool, err error) {
	newAcct, err := s.newAccount("management")
	if err != nil {
		return nil, nil, false, err
	}
	newKey, err := s.newAccessKey(newAcct.ID, "", newAcct.ID)
	if err != nil {
		return nil, nil, false, err
	}
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		acct, key, created = nil, nil, false
		var m management
		err := storage.GetJSON(tx, []byte(keyManagement), &m)
		if err == nil {
			acct = &Account{}
			if err := storage.GetJSON(tx, []byte(prefixAccount+m.AccountID), acct); err != nil {
				return err
			}
			k := &AccessKey{}
			found, err := get(tx, []byte(prefixKey+m.AccessKeyID), k)
			if err != nil || !found {
				return err
			}
			key = k
			// Stores written before root keys were indexed lack the index record.
			idx := rootKeyIndex(acct.ID, k.ID)
			if _, err := tx.Get(idx); errors.Is(err, storage.ErrNotFound) {
				return tx.Put(idx, []byte("{}"))
			} else if err != nil {
				return err
			}
			return nil
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
		if err := tx.Put(rootKeyIndex(acct.ID, key.ID), []byte("{}")); err != nil {
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
// ErrUnknownAccessKey. Authenticate is the gateway's whole answer; this one only reads the key.
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

// AccountName returns the name of account id, or NoSuchEntity.
func (s *Service) AccountName(ctx context.Context, id string) (string, error) {
	var a Account
	var found bool
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		found, err = get(tx, []byte(prefixAccount+id), &a)
		return err
	})
	if err != nil {
		return "", err
	}
	if !found {
		return "", errNoSuchEntity("The account %s cannot be found.", id)
	}
	return a.Name, nil
}

func (s *Service) newAccount(name string) (*Account, error) {
	id, err := s.newAccountID()
	if err != nil {
		return nil, err
	}
	return &Account{ID: id, Name: name, Created: s.now().UTC()}, nil
}

// newAccountID returns 12 digits, never starting with 0, as AWS account ids look.
func (s *Service) newAccountID() (string, error) {
	n, err := rand.Int(s.rand, big.NewInt(9e11))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%012d", n.Int64()+1e11), nil
}

const (
	idAlphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

// newAccessKey makes a key for user (empty for the root user) whose unique id is userID.
func (s *Service) newAccessKey(accountID, user, userID string) (*AccessKey, error) {
	id, err := s.randomString(idAlphabet, 16)
	if err != nil {
		return nil, err
	}
	secret, err := s.randomString(secretAlphabet, 40)
	if err != nil {
		return nil, err
	}
	return &AccessKey{ID: "AKIA" + id, Secret: Secret(secret), AccountID: accountID, UserName: user,
		UserID: userID, Active: true, Created: s.now().UTC().Truncate(time.Second)}, nil
}

// newID returns a unique id as IAM makes them: a four-letter prefix naming the kind (AIDA a
// user, AGPA a group, AROA a role, ANPA a managed policy) and 17 characters of [A-Z2-7].
func (s *Service) newID(prefix string) (string, error) {
	r, err := s.randomString(idAlphabet, 17)
	if err != nil {
		return "", err
	}
	return prefix + r, nil
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

// timestamp is the current time as IAM records it: UTC, whole seconds.
func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Second) }
