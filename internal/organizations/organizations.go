// Package organizations is the AWS Organizations API: an account creates an organization and
// becomes its management account, creates member accounts in it, and reads the organization,
// its accounts, its one root and the tree under it. Its JSON 1.1 front-end answers
// X-Amz-Target AWSOrganizationsV20161128.<Op>.
//
// Accounts themselves belong to the iam package; this package keeps only who belongs to which
// organization. It creates a member account through Accounts, which runs this package's
// bookkeeping inside the transaction that creates the account, so an account and its
// membership are committed together or not at all.
//
// Every operation authorizes inside the service, once, with the action organizations:<Op> and
// the resource the AWS service authorization reference names for it ("*" where it names
// none), owned by the management account. The management operations are refused to any other
// account even when the authorizer allows them, as Organizations refuses them.
//
// Simplifications: one root and no organizational units, policies, handshakes or delegated
// administrators; CreateAccount completes before it returns.
package organizations

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
)

// Authorizer decides every request; see package policy.
type Authorizer interface {
	Authorize(ctx context.Context, req *policy.Request) error
}

// Accounts is what this package needs of the accounts the iam package keeps.
type Accounts interface {
	// CreateMemberAccount creates a new account (12-digit id, no root access key) containing
	// the role roleName ("OrganizationAccountAccessRole" when empty) with AdministratorAccess
	// attached and a trust policy allowing sts:AssumeRole to
	// arn:aws:iam::<managementAccountID>:root, all in one store transaction that also runs
	// within with the new account's id. If within fails, nothing is created and its error is
	// returned (so errors.Is finds it). within may run more than once.
	CreateMemberAccount(ctx context.Context, name, email, roleName, managementAccountID string,
		within func(tx storage.Tx, accountID string) error) (accountID string, err error)
	// AccountName returns an existing account's name.
	AccountName(ctx context.Context, id string) (string, error)
}

// Config configures a Service; nil fields mean defaults where one exists.
type Config struct {
	Store      storage.Store // required
	Accounts   Accounts      // required
	Authorizer Authorizer    // required
	Logger     *slog.Logger
	Now        func() time.Time
	Rand       io.Reader // ids of organizations, roots and account requests
}

// Service implements Organizations over a store. It never sees HTTP; the caller is the
// identity.Principal in the context of each call.
type Service struct {
	store    storage.Store
	accounts Accounts
	authz    Authorizer
	log      *slog.Logger
	now      func() time.Time
	rand     io.Reader
}

// New returns a Service.
func New(c Config) *Service {
	s := &Service{store: c.Store, accounts: c.Accounts, authz: c.Authorizer, log: c.Logger,
		now: c.Now, rand: c.Rand}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s
}

// caller returns the authenticated principal of ctx.
func caller(ctx context.Context) (*identity.Principal, error) {
	p := identity.FromContext(ctx)
	if p == nil || p.AccountID == "" {
		return nil, &policy.DeniedError{Reason: policy.Unauthenticated}
	}
	return p, nil
}

// authorize asks the authorizer whether the caller may perform organizations:<op> on
// resource, owned by account. A denial is returned unchanged: the gateway renders it as
// AccessDeniedException with AWS's wording.
func (s *Service) authorize(ctx context.Context, op, resource, account string, keys map[string][]string) error {
	return s.authz.Authorize(ctx, &policy.Request{
		Action:          "organizations:" + op,
		Resource:        resource,
		ResourceAccount: account,
		Keys:            keys,
	})
}

// view is the caller's standing: the organization its account belongs to (nil for none) and
// whether it is that organization's management account.
type view struct {
	org        *organization
	management bool
}

// standing reads the organization account belongs to.
func (s *Service) standing(ctx context.Context, account string) (*view, error) {
	v := &view{}
	err := s.store.View(ctx, func(tx storage.Tx) error {
		org, err := orgOf(tx, account)
		v.org = org
		return err
	})
	if err != nil {
		return nil, err
	}
	v.management = v.org != nil && v.org.Management == account
	return v, nil
}

// authorizeManagement authorizes op for a management operation and then checks that the
// caller may make it: its account must be in an organization, and be its management
// account. resource builds the ARN acted on from the organization; it is "*" when the caller
// is in none, for there is no ARN to name, and the caller's account owns the request then.
func (s *Service) authorizeManagement(ctx context.Context, p *identity.Principal, op string,
	resource func(*organization) string, keys map[string][]string) (*organization, error) {
	v, err := s.standing(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	if v.org == nil {
		if err := s.authorize(ctx, op, "*", p.AccountID, keys); err != nil {
			return nil, err
		}
		return nil, errNotInUse()
	}
	if err := s.authorize(ctx, op, resource(v.org), v.org.Management, keys); err != nil {
		return nil, err
	}
	if !v.management {
		// The authorizer may one day allow a member account (a delegated administrator's
		// resource policy); this server has no delegated administrators, so Organizations'
		// own refusal stands.
		return nil, errNotManagement()
	}
	return v.org, nil
}

// anyResource is the resource of the actions the authorization reference gives none.
func anyResource(*organization) string { return "*" }

// randomID returns prefix followed by n characters drawn uniformly from alphabet.
func (s *Service) randomID(prefix, alphabet string, n int) (string, error) {
	out := make([]byte, 0, len(prefix)+n)
	out = append(out, prefix...)
	// Reject bytes past the largest multiple of the alphabet's size, so no character is
	// likelier than another.
	limit := 256 - 256%len(alphabet)
	var buf [32]byte
	for len(out) < len(prefix)+n {
		if _, err := io.ReadFull(s.rand, buf[:]); err != nil {
			return "", fmt.Errorf("organizations: random id: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < len(prefix)+n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	lowerHex   = "0123456789abcdef"
)
