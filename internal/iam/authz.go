package iam

import (
	"context"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
)

// begin starts an operation: it validates in against the model and returns the caller.
func (s *Service) begin(ctx context.Context, in any) (*identity.Principal, error) {
	p := identity.FromContext(ctx)
	if p == nil || p.AccountID == "" {
		return nil, errMissingAuth()
	}
	if err := validate(in); err != nil {
		return nil, err
	}
	return p, nil
}

// authorize asks the authorizer whether p may perform iam:<op> on resource in its own account.
// keys are the resource's and the request's condition keys. A denial is returned as the
// authorizer gave it; the gateway renders it.
func (s *Service) authorize(ctx context.Context, p *identity.Principal, op, resource string, keys map[string][]string) error {
	if p.Session != nil && p.Type != identity.AssumedRole && p.Session.MFAAt.IsZero() {
		// As on AWS: GetSessionToken's credentials reach IAM only when they were issued with MFA.
		return awserr.New(awserr.AccessDenied, "Credentials from GetSessionToken without MFA cannot call IAM.")
	}
	return s.authz.Authorize(ctx, &policy.Request{
		Action:          "iam:" + op,
		Resource:        resource,
		ResourceAccount: p.AccountID,
		Keys:            keys,
	})
}

// ARNs of IAM resources; path begins and ends with "/".
func arnOf(acct, kind, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + acct + ":" + kind + path + name
}

func userARN(acct, path, name string) string  { return arnOf(acct, "user", path, name) }
func groupARN(acct, path, name string) string { return arnOf(acct, "group", path, name) }
func roleARN(acct, path, name string) string  { return arnOf(acct, "role", path, name) }
func mfaARN(acct, path, name string) string   { return arnOf(acct, "mfa", path, name) }
func policyARN(acct, path, name string) string {
	return arnOf(acct, "policy", path, name)
}

// parsedARN is an IAM ARN: arn:aws:iam::<account>:<kind><path><name>.
type parsedARN struct {
	Account, Kind, Path, Name string
}

// parseARN reads an IAM ARN of the form arn:aws:iam::ACCOUNT:KIND/PATH/NAME. The account is
// "aws" for AWS managed policies.
func parseARN(arn string) (parsedARN, bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok {
		return parsedARN{}, false
	}
	acct, res, ok := strings.Cut(rest, ":")
	if !ok || acct == "" {
		return parsedARN{}, false
	}
	kind, pathName, ok := strings.Cut(res, "/")
	if !ok || kind == "" || pathName == "" {
		return parsedARN{}, false
	}
	i := strings.LastIndexByte(pathName, '/')
	name := pathName[i+1:]
	if name == "" {
		return parsedARN{}, false
	}
	return parsedARN{Account: acct, Kind: kind, Path: "/" + pathName[:i+1], Name: name}, true
}

// resourceTagKeys are the condition keys of a tagged resource: iam:ResourceTag/<k> and
// aws:ResourceTag/<k>.
func resourceTagKeys(tags []Tag) map[string][]string {
	if len(tags) == 0 {
		return nil
	}
	keys := make(map[string][]string, 2*len(tags))
	for _, t := range tags {
		keys["iam:ResourceTag/"+t.Key] = []string{t.Value}
		keys["aws:ResourceTag/"+t.Key] = []string{t.Value}
	}
	return keys
}

// requestTagKeys adds the condition keys of tags a request sets: aws:RequestTag/<k> and
// aws:TagKeys.
func requestTagKeys(keys map[string][]string, tags []Tag) map[string][]string {
	if len(tags) == 0 {
		return keys
	}
	if keys == nil {
		keys = map[string][]string{}
	}
	var names []string
	for _, t := range tags {
		keys["aws:RequestTag/"+t.Key] = []string{t.Value}
		names = append(names, t.Key)
	}
	keys["aws:TagKeys"] = names
	return keys
}

// withKey adds one condition key to keys.
func withKey(keys map[string][]string, k string, v ...string) map[string][]string {
	if keys == nil {
		keys = map[string][]string{}
	}
	keys[k] = v
	return keys
}

// target is what authorization needs to know of an existing entity: its ARN and tags. An
// entity that does not exist gets the ARN it would have at the root path, so a caller learns
// nothing of it before being authorized; the operation then answers NoSuchEntity.
type target struct {
	arn  string
	tags []Tag
}

func (s *Service) userTarget(ctx context.Context, acct, name string) (target, error) {
	var u userRecord
	var found bool
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		found, err = get(tx, entityKey(acct, kindUser, name), &u)
		return err
	})
	if err != nil || !found {
		return target{arn: userARN(acct, "/", name)}, err
	}
	return target{arn: userARN(acct, u.Path, u.Name), tags: u.Tags}, nil
}

func (s *Service) groupTarget(ctx context.Context, acct, name string) (target, error) {
	var g groupRecord
	var found bool
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		found, err = get(tx, entityKey(acct, kindGroup, name), &g)
		return err
	})
	if err != nil || !found {
		return target{arn: groupARN(acct, "/", name)}, err
	}
	return target{arn: groupARN(acct, g.Path, g.Name)}, nil
}

func (s *Service) roleTarget(ctx context.Context, acct, name string) (target, error) {
	var r roleRecord
	var found bool
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		found, err = get(tx, entityKey(acct, kindRole, name), &r)
		return err
	})
	if err != nil || !found {
		return target{arn: roleARN(acct, "/", name)}, err
	}
	return target{arn: roleARN(acct, r.Path, r.Name), tags: r.Tags}, nil
}

// authorizeUser authorizes op on the user name of p's account, with the user's tags. An empty
// name means p itself where IAM allows it (the caller's own user, or the root user).
func (s *Service) authorizeUser(ctx context.Context, p *identity.Principal, op, name string, extra map[string][]string) error {
	t, err := s.userTarget(ctx, p.AccountID, name)
	if err != nil {
		return err
	}
	return s.authorize(ctx, p, op, t.arn, merge(resourceTagKeys(t.tags), extra))
}

func (s *Service) authorizeGroup(ctx context.Context, p *identity.Principal, op, name string, extra map[string][]string) error {
	t, err := s.groupTarget(ctx, p.AccountID, name)
	if err != nil {
		return err
	}
	return s.authorize(ctx, p, op, t.arn, extra)
}

func (s *Service) authorizeRole(ctx context.Context, p *identity.Principal, op, name string, extra map[string][]string) error {
	t, err := s.roleTarget(ctx, p.AccountID, name)
	if err != nil {
		return err
	}
	return s.authorize(ctx, p, op, t.arn, merge(resourceTagKeys(t.tags), extra))
}

func merge(a, b map[string][]string) map[string][]string {
	if len(a) == 0 {
		return b
	}
	for k, v := range b {
		a[k] = v
	}
	return a
}

// selfUser resolves an optional UserName: empty means the caller's own user. ok is false for
// a caller that is not an IAM user (the root user, or a role session).
func selfUser(p *identity.Principal, name string) (string, bool) {
	if name != "" {
		return name, true
	}
	if p.Type == identity.User && p.Name != "" {
		return p.Name, true
	}
	return "", false
}
