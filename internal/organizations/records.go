package organizations

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/storage"
)

// Record layout. Ids stay readable in the data file (keys are not sealed); values, which hold
// the emails, names and tags, are sealed by the storage barrier. An email appears in a key
// only as a hash, for uniqueness.
//
//	org/organization/<o-id>                     organization
//	org/organization/<o-id>/account/<account>   member: one per account in it, the management one too
//	org/organization/<o-id>/car/<car-id>        accountRequest: a CreateAccount request and its outcome
//	org/membership/<account>                    membership: which organization an account is in
//	org/email/<sha-256 of the lower-cased email> emailOwner: the account created with that email
const (
	prefixOrganization = "org/organization/"
	prefixMembership   = "org/membership/"
	prefixEmail        = "org/email/"
)

func organizationKey(id string) []byte { return []byte(prefixOrganization + id) }

func membersOf(org string) []byte { return []byte(prefixOrganization + org + "/account/") }

func memberKey(org, account string) []byte { return append(membersOf(org), account...) }

func requestsOf(org string) []byte { return []byte(prefixOrganization + org + "/car/") }

func requestKey(org, id string) []byte { return append(requestsOf(org), id...) }

func membershipKey(account string) []byte { return []byte(prefixMembership + account) }

// emailKey indexes an email without writing it in the clear. Emails are compared without
// regard to case, as mail providers treat them.
func emailKey(email string) []byte {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return []byte(prefixEmail + hex.EncodeToString(sum[:]))
}

// Feature sets, account states and how accounts joined, as Organizations names them.
const (
	featureAll         = "ALL"
	featureConsolidate = "CONSOLIDATED_BILLING"

	joinedInvited = "INVITED"
	joinedCreated = "CREATED"

	stateInProgress = "IN_PROGRESS" // never stored: requests complete before CreateAccount returns
	stateSucceeded  = "SUCCEEDED"
	stateFailed     = "FAILED"

	failureEmailExists = "EMAIL_ALREADY_EXISTS"
)

type organization struct {
	ID         string    `json:"id"`
	Management string    `json:"management"` // the management account's id
	FeatureSet string    `json:"featureSet"`
	Root       string    `json:"root"` // the root's id, r-…
	Created    time.Time `json:"created"`
}

func (o *organization) arn() string {
	return "arn:aws:organizations::" + o.Management + ":organization/" + o.ID
}

func (o *organization) accountARN(account string) string {
	return "arn:aws:organizations::" + o.Management + ":account/" + o.ID + "/" + account
}

func (o *organization) rootARN(root string) string {
	return "arn:aws:organizations::" + o.Management + ":root/" + o.ID + "/" + root
}

func (o *organization) ouARN(ou string) string {
	return "arn:aws:organizations::" + o.Management + ":ou/" + o.ID + "/" + ou
}

// member is an account's place in its organization.
type member struct {
	Account string    `json:"account"`
	Email   string    `json:"email,omitempty"` // unknown for the management account
	Joined  time.Time `json:"joined"`
	Method  string    `json:"method"` // joinedInvited or joinedCreated
	Tags    []tag     `json:"tags,omitempty"`
}

type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

type membership struct {
	Org string `json:"org"`
}

type emailOwner struct {
	Account string `json:"account"`
}

// accountRequest is a CreateAccount request.
type accountRequest struct {
	ID            string    `json:"id"`
	AccountName   string    `json:"name"`
	State         string    `json:"state"`
	Requested     time.Time `json:"requested"`
	Completed     time.Time `json:"completed,omitzero"`
	AccountID     string    `json:"account,omitempty"`
	FailureReason string    `json:"failure,omitempty"`
}

// orgOf returns the organization account belongs to, or nil.
func orgOf(tx storage.Tx, account string) (*organization, error) {
	var m membership
	err := storage.GetJSON(tx, membershipKey(account), &m)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var o organization
	if err := storage.GetJSON(tx, organizationKey(m.Org), &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// getMember returns account's record in org, or nil when it is not a member.
func getMember(tx storage.Tx, org, account string) (*member, error) {
	var m member
	err := storage.GetJSON(tx, memberKey(org, account), &m)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// putMember records m as a member of org, in both directions.
func putMember(tx storage.Tx, org string, m *member) error {
	if err := storage.PutJSON(tx, memberKey(org, m.Account), m); err != nil {
		return err
	}
	return storage.PutJSON(tx, membershipKey(m.Account), membership{Org: org})
}
