package iam

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/stateward/stateward/internal/storage"
)

// DefaultMemberRole is the role Organizations creates in a new member account when the
// request names none.
const DefaultMemberRole = "OrganizationAccountAccessRole"

// memberAccountTries is how many fresh ids CreateMemberAccount tries before giving up; with
// 9×10^11 ids, a second is already unlikely.
const memberAccountTries = 8

// CreateMemberAccount creates an organization's member account: a new 12-digit account with no
// root access key, holding the role roleName (DefaultMemberRole when empty) with
// AdministratorAccess attached and a trust policy that lets the management account's
// principals assume it, as AWS Organizations creates it. Everything, and within (the
// organization's own records, written in the same transaction), commits together or not at
// all. It does not authorize: the Organizations service authorizes its CreateAccount call.
func (s *Service) CreateMemberAccount(ctx context.Context, name, email, roleName, managementAccountID string, within func(tx storage.Tx, accountID string) error) (string, error) {
	if roleName == "" {
		roleName = DefaultMemberRole
	}
	check := struct {
		RoleName string `iam:"RoleName,roleName,required"`
	}{roleName}
	if err := validate(&check); err != nil {
		return "", err
	}
	if len(managementAccountID) != 12 {
		return "", errInvalidInput("Invalid management account id %q.", managementAccountID)
	}
	var ids []string
	for range memberAccountTries {
		id, err := s.newAccountID()
		if err != nil {
			return "", err
		}
		ids = append(ids, id)
	}
	trust, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]string{"AWS": "arn:aws:iam::" + managementAccountID + ":root"},
			"Action":    "sts:AssumeRole",
		}},
	})
	if err != nil {
		return "", err
	}
	role, err := s.newRole(roleName, "/", string(trust))
	if err != nil {
		return "", err
	}
	admin := awsPolicyARN("AdministratorAccess")
	role.Attached = []string{admin}
	created := s.timestamp()
	var chosen string
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		chosen = ""
		for _, id := range ids {
			if _, err := tx.Get([]byte(prefixAccount + id)); errors.Is(err, storage.ErrNotFound) {
				chosen = id
				break
			} else if err != nil {
				return err
			}
		}
		if chosen == "" {
			return errorf("no free account id after %d tries", len(ids))
		}
		acct := &Account{ID: chosen, Name: name, Email: email, Created: created, Management: managementAccountID}
		if err := putJSON(tx, []byte(prefixAccount+chosen), acct); err != nil {
			return err
		}
		if err := insertRole(tx, chosen, role); err != nil {
			return err
		}
		if err := putJSON(tx, attachKey(chosen, admin, kindRole, role.Name), attachment{Kind: kindRole, Name: role.Name, ID: role.ID, Path: role.Path}); err != nil {
			return err
		}
		if err := bumpGeneration(tx, chosen); err != nil {
			return err
		}
		if within != nil {
			return within(tx, chosen)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return chosen, nil
}
