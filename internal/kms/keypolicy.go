package kms

import (
	"context"
	"errors"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
)

// defaultKeyPolicy is the policy KMS gives a key created without one: the account's IAM
// policies decide who may use it.
func defaultKeyPolicy(account string) string {
	return `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` +
		account + `:root"},"Action":"kms:*","Resource":"*"}]}`
}

// checkLockout is KMS's policy lockout safety check: a new key policy must still let the
// caller change the key policy (kms:PutKeyPolicy), else the key could become unmanageable.
// It asks the authorizer what it would decide under the new policy; resource is the key's
// ARN (the account's key ARN prefix for a key being created, which key policies never name).
func (s *Service) checkLockout(ctx context.Context, p *identity.Principal, resource, account, text string) error {
	doc, err := policy.ParseCached(text, policy.ResourceKind)
	if err != nil {
		return err
	}
	req := s.request(p, "PutKeyPolicy", resource, account, nil)
	req.ResourcePolicy, req.ResourcePolicyRequired = doc, true
	err = s.authz.Authorize(ctx, req)
	if errors.Is(err, policy.ErrDenied) {
		return awserr.New(CodeMalformedPolicy, "The new key policy will not allow you to update the key policy in the future.")
	}
	return err
}

// validatePolicy checks a key policy with the policy language the authorizer enforces.
func validatePolicy(p string) error {
	if len(p) > maxPolicy {
		return awserr.Newf(CodeLimitExceeded, "The key policy is %d bytes; the limit is %d.", len(p), maxPolicy)
	}
	if _, err := policy.Parse(p, policy.ResourceKind); err != nil {
		var se *policy.SyntaxError
		if errors.As(err, &se) {
			return awserr.Wrap(CodeMalformedPolicy, se.Msg, err)
		}
		return err
	}
	return nil
}

type keyPolicyInput struct {
	KeyID                          string  `json:"KeyId"`
	PolicyName                     *string `json:"PolicyName"`
	Policy                         *string `json:"Policy"`
	BypassPolicyLockoutSafetyCheck bool    `json:"BypassPolicyLockoutSafetyCheck"`
}

func (in *keyPolicyInput) policyName() string {
	if in.PolicyName == nil {
		return defaultPolicy
	}
	return *in.PolicyName
}

type getKeyPolicyOutput struct {
	Policy     string `json:"Policy"`
	PolicyName string `json:"PolicyName"`
}

func (s *Service) getKeyPolicy(ctx context.Context, in *keyPolicyInput) (*getKeyPolicyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", "GetKeyPolicy", nil)
	if err != nil {
		return nil, err
	}
	if in.policyName() != defaultPolicy {
		return nil, awserr.New(CodeNotFound, "No such policy exists")
	}
	return &getKeyPolicyOutput{Policy: k.Policy, PolicyName: defaultPolicy}, nil
}

func (s *Service) putKeyPolicy(ctx context.Context, in *keyPolicyInput) (*emptyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if in.policyName() != defaultPolicy {
		return nil, errValidation("1 validation error detected: Value '%s' at 'policyName' failed to satisfy constraint: the only policy name is \"default\"", in.policyName())
	}
	if in.Policy == nil {
		return nil, errRequired("policy")
	}
	if err := validatePolicy(*in.Policy); err != nil {
		return nil, err
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", "PutKeyPolicy", nil)
	if err != nil {
		return nil, err
	}
	if !in.BypassPolicyLockoutSafetyCheck {
		if err := s.checkLockout(ctx, p, k.arn(), k.Account, *in.Policy); err != nil {
			return nil, err
		}
	}
	_, err = s.updateKey(ctx, k, func(_ storage.Tx, k *keyRecord) error {
		if err := checkEditable(k); err != nil {
			return err
		}
		k.Policy = *in.Policy
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type listKeyPoliciesOutput struct {
	PolicyNames []string `json:"PolicyNames"`
	Truncated   bool     `json:"Truncated"`
}

func (s *Service) listKeyPolicies(ctx context.Context, in *listInput) (*listKeyPoliciesOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := in.limit(100); err != nil {
		return nil, err
	}
	if _, err := s.resolve(ctx, p, in.KeyID, "keyId", "ListKeyPolicies", nil); err != nil {
		return nil, err
	}
	return &listKeyPoliciesOutput{PolicyNames: []string{defaultPolicy}}, nil
}
