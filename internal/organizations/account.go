package organizations

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stateward/stateward/internal/storage"
)

var (
	fieldEmail       = field{name: "Email", required: true, min: 6, max: 64, pattern: patEmail}
	fieldAccountName = field{name: "AccountName", required: true, min: 1, max: 50, pattern: patAccountName}
	fieldRoleName    = field{name: "RoleName", max: 64, pattern: patRoleName}
	fieldTagKey      = field{name: "Tags.member.Key", required: true, min: 1, max: 128, pattern: patTag}
	fieldTagValue    = field{name: "Tags.member.Value", max: 256, pattern: patTag}
	fieldAccountID   = field{name: "AccountId", required: true, max: 12, pattern: patAccountID}
	fieldRequestID   = field{name: "CreateAccountRequestId", required: true, max: 36, pattern: patRequestID}
)

// errEmailTaken fails the transaction that would create a second account with one email.
var errEmailTaken = errors.New("organizations: email already in use")

// CreateAccountInput is the request of CreateAccount.
type CreateAccountInput struct {
	Email       string `json:"Email"`
	AccountName string `json:"AccountName"`
	// RoleName is the role created in the new account for the management account to assume;
	// OrganizationAccountAccessRole when empty.
	RoleName string `json:"RoleName"`
	// IamUserAccessToBilling (ALLOW or DENY) is validated and ignored: there is no billing.
	IamUserAccessToBilling string `json:"IamUserAccessToBilling"`
	Tags                   []Tag  `json:"Tags"`
}

// CreateAccountStatusOutput is the response of CreateAccount and DescribeCreateAccountStatus.
type CreateAccountStatusOutput struct {
	CreateAccountStatus *CreateAccountStatus `json:"CreateAccountStatus"`
}

// CreateAccount creates a member account of the caller's organization. Unlike AWS it
// finishes before answering: the status it returns is SUCCEEDED with the new account's id,
// or FAILED with EMAIL_ALREADY_EXISTS when an account was created with that email before
// (then no account is created). Either outcome is kept for DescribeCreateAccountStatus.
func (s *Service) CreateAccount(ctx context.Context, in *CreateAccountInput) (*CreateAccountStatusOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		f field
		v string
	}{{fieldEmail, in.Email}, {fieldAccountName, in.AccountName}, {fieldRoleName, in.RoleName}} {
		if err := c.f.check(c.v); err != nil {
			return nil, err
		}
	}
	if strings.HasPrefix(in.RoleName, "AWSServiceRoleFor") {
		return nil, errInvalidInput(reasonInvalidRoleName, "RoleName")
	}
	if err := checkEnum("IamUserAccessToBilling", in.IamUserAccessToBilling, "ALLOW", "DENY"); err != nil {
		return nil, err
	}
	tags, keys, err := requestTags(in.Tags)
	if err != nil {
		return nil, err
	}
	o, err := s.authorizeManagement(ctx, p, "CreateAccount", anyResource, keys)
	if err != nil {
		return nil, err
	}
	id, err := s.randomID("car-", lowerHex, 32)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	done := accountRequest{ID: id, AccountName: in.AccountName, State: stateSucceeded, Requested: now, Completed: now}
	account, err := s.accounts.CreateMemberAccount(ctx, in.AccountName, in.Email, in.RoleName, o.Management,
		func(tx storage.Tx, account string) error {
			cur, err := orgOf(tx, o.Management)
			if err != nil {
				return err
			}
			if cur == nil || cur.ID != o.ID || cur.Management != o.Management {
				return errNotInUse()
			}
			switch _, err := tx.Get(emailKey(in.Email)); {
			case err == nil:
				return errEmailTaken
			case !errors.Is(err, storage.ErrNotFound):
				return err
			}
			switch prev, err := orgOf(tx, account); {
			case err != nil:
				return err
			case prev != nil:
				return fmt.Errorf("organizations: new account %s is in organization %s already", account, prev.ID)
			}
			if err := storage.PutJSON(tx, emailKey(in.Email), emailOwner{Account: account}); err != nil {
				return err
			}
			m := &member{Account: account, Email: in.Email, Joined: now, Method: joinedCreated, Tags: tags}
			if err := putMember(tx, o.ID, m); err != nil {
				return err
			}
			r := done
			r.AccountID = account
			return storage.PutJSON(tx, requestKey(o.ID, id), &r)
		})
	if errors.Is(err, errEmailTaken) {
		// AWS reports this in the request's status, not as an error of the call.
		failed := done
		failed.State, failed.FailureReason = stateFailed, failureEmailExists
		err := s.store.Update(ctx, func(tx storage.Tx) error {
			return storage.PutJSON(tx, requestKey(o.ID, id), &failed)
		})
		if err != nil {
			return nil, err
		}
		st := statusOf(&failed)
		return &CreateAccountStatusOutput{CreateAccountStatus: &st}, nil
	}
	if err != nil {
		return nil, err
	}
	done.AccountID = account
	st := statusOf(&done)
	return &CreateAccountStatusOutput{CreateAccountStatus: &st}, nil
}

// requestTags validates the tags of a request and returns them with the condition keys they
// give the authorizer (aws:RequestTag/<key>, aws:TagKeys); nil keys for no tags.
func requestTags(in []Tag) ([]tag, map[string][]string, error) {
	if len(in) == 0 {
		return nil, nil, nil
	}
	tags := make([]tag, 0, len(in))
	keys := map[string][]string{}
	for _, t := range in {
		if err := fieldTagKey.check(t.Key); err != nil {
			return nil, nil, err
		}
		if err := fieldTagValue.check(t.Value); err != nil {
			return nil, nil, err
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, nil, errInvalidInput(reasonSystemTags, "Tags")
		}
		if _, dup := keys["aws:RequestTag/"+t.Key]; dup {
			return nil, nil, errInvalidInput(reasonDuplicateTagKey, "Tags")
		}
		keys["aws:RequestTag/"+t.Key] = []string{t.Value}
		keys["aws:TagKeys"] = append(keys["aws:TagKeys"], t.Key)
		tags = append(tags, tag(t))
	}
	return tags, keys, nil
}

// DescribeCreateAccountStatusInput is the request of DescribeCreateAccountStatus.
type DescribeCreateAccountStatusInput struct {
	CreateAccountRequestID string `json:"CreateAccountRequestId"`
}

// DescribeCreateAccountStatus returns the outcome of a CreateAccount request of the caller's
// organization. Errors: CreateAccountStatusNotFoundException.
func (s *Service) DescribeCreateAccountStatus(ctx context.Context, in *DescribeCreateAccountStatusInput) (*CreateAccountStatusOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := fieldRequestID.check(in.CreateAccountRequestID); err != nil {
		return nil, err
	}
	o, err := s.authorizeManagement(ctx, p, "DescribeCreateAccountStatus", anyResource, nil)
	if err != nil {
		return nil, err
	}
	var r accountRequest
	err = s.store.View(ctx, func(tx storage.Tx) error {
		return storage.GetJSON(tx, requestKey(o.ID, in.CreateAccountRequestID), &r)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errCreateAccountStatusNotFound()
	}
	if err != nil {
		return nil, err
	}
	st := statusOf(&r)
	return &CreateAccountStatusOutput{CreateAccountStatus: &st}, nil
}

// ListCreateAccountStatusInput is the request of ListCreateAccountStatus.
type ListCreateAccountStatusInput struct {
	States     []string `json:"States"` // only requests in these states; all when empty
	NextToken  *string  `json:"NextToken"`
	MaxResults *int32   `json:"MaxResults"`
}

// ListCreateAccountStatusOutput is the response of ListCreateAccountStatus.
type ListCreateAccountStatusOutput struct {
	CreateAccountStatuses []CreateAccountStatus `json:"CreateAccountStatuses"`
	NextToken             string                `json:"NextToken,omitempty"`
}

// ListCreateAccountStatus pages through the organization's CreateAccount requests, by
// request id.
func (s *Service) ListCreateAccountStatus(ctx context.Context, in *ListCreateAccountStatusInput) (*ListCreateAccountStatusOutput, error) {
	const op = "ListCreateAccountStatus"
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, st := range in.States {
		if st == "" {
			return nil, errInvalidInput(reasonInvalidEnum, "States")
		}
		if err := checkEnum("States", st, stateInProgress, stateSucceeded, stateFailed); err != nil {
			return nil, err
		}
		want[st] = true
	}
	limit, err := pageLimit(in.MaxResults)
	if err != nil {
		return nil, err
	}
	start, err := pageStart(op, in.NextToken, patRequestID)
	if err != nil {
		return nil, err
	}
	o, err := s.authorizeManagement(ctx, p, op, anyResource, nil)
	if err != nil {
		return nil, err
	}
	out := &ListCreateAccountStatusOutput{}
	prefix := requestsOf(o.ID)
	err = s.store.View(ctx, func(tx storage.Tx) error {
		out.CreateAccountStatuses, out.NextToken = []CreateAccountStatus{}, ""
		return tx.Scan(append(prefix, start...), storage.PrefixEnd(prefix), func(key, v []byte) error {
			var r accountRequest
			if err := storage.DecodeJSON(key, v, &r); err != nil {
				return err
			}
			if len(want) > 0 && !want[r.State] {
				return nil
			}
			if len(out.CreateAccountStatuses) == limit {
				out.NextToken = nextToken(op, r.ID)
				return storage.ErrStop
			}
			out.CreateAccountStatuses = append(out.CreateAccountStatuses, statusOf(&r))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListAccountsInput is the request of ListAccounts.
type ListAccountsInput struct {
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

// ListAccountsOutput is the response of ListAccounts.
type ListAccountsOutput struct {
	Accounts  []Account `json:"Accounts"`
	NextToken string    `json:"NextToken,omitempty"`
}

// ListAccounts pages through the organization's accounts, the management account among
// them, by account id.
func (s *Service) ListAccounts(ctx context.Context, in *ListAccountsInput) (*ListAccountsOutput, error) {
	const op = "ListAccounts"
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	limit, err := pageLimit(in.MaxResults)
	if err != nil {
		return nil, err
	}
	start, err := pageStart(op, in.NextToken, patAccountID)
	if err != nil {
		return nil, err
	}
	o, err := s.authorizeManagement(ctx, p, op, anyResource, nil)
	if err != nil {
		return nil, err
	}
	members, next, err := s.members(ctx, o, start, limit)
	if err != nil {
		return nil, err
	}
	out := &ListAccountsOutput{Accounts: make([]Account, 0, len(members))}
	for _, m := range members {
		name, err := s.accounts.AccountName(ctx, m.Account)
		if err != nil {
			return nil, fmt.Errorf("organizations: name of account %s: %w", m.Account, err)
		}
		out.Accounts = append(out.Accounts, accountOf(o, m, name))
	}
	if next != "" {
		out.NextToken = nextToken(op, next)
	}
	return out, nil
}

// members returns up to limit members of o from account id start on, and the id the next
// page starts at ("" after the last).
func (s *Service) members(ctx context.Context, o *organization, start string, limit int) ([]*member, string, error) {
	var (
		out  []*member
		next string
	)
	prefix := membersOf(o.ID)
	err := s.store.View(ctx, func(tx storage.Tx) error {
		out, next = nil, ""
		return tx.Scan(append(prefix, start...), storage.PrefixEnd(prefix), func(key, v []byte) error {
			var m member
			if err := storage.DecodeJSON(key, v, &m); err != nil {
				return err
			}
			if len(out) == limit {
				next = m.Account
				return storage.ErrStop
			}
			out = append(out, &m)
			return nil
		})
	})
	return out, next, err
}

// DescribeAccountInput is the request of DescribeAccount.
type DescribeAccountInput struct {
	AccountID string `json:"AccountId"`
}

// DescribeAccountOutput is the response of DescribeAccount.
type DescribeAccountOutput struct {
	Account *Account `json:"Account"`
}

// DescribeAccount returns an account of the caller's organization. Errors:
// AccountNotFoundException for an account that is not in it.
func (s *Service) DescribeAccount(ctx context.Context, in *DescribeAccountInput) (*DescribeAccountOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := fieldAccountID.check(in.AccountID); err != nil {
		return nil, err
	}
	o, err := s.authorizeManagement(ctx, p, "DescribeAccount",
		func(o *organization) string { return o.accountARN(in.AccountID) }, nil)
	if err != nil {
		return nil, err
	}
	var m *member
	err = s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		m, err = getMember(tx, o.ID, in.AccountID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errAccountNotFound()
	}
	name, err := s.accounts.AccountName(ctx, m.Account)
	if err != nil {
		return nil, fmt.Errorf("organizations: name of account %s: %w", m.Account, err)
	}
	a := accountOf(o, m, name)
	return &DescribeAccountOutput{Account: &a}, nil
}
