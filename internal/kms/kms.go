// Package kms is the AWS KMS API: symmetric customer keys and AWS managed keys, aliases, key
// policies, tags, rotation and deletion, and the cryptographic operations on them (Encrypt,
// Decrypt, GenerateDataKey, ReEncrypt), with its JSON 1.1 front-end (X-Amz-Target
// TrentService.<Op>). It also serves the services that use keys on their callers' behalf, as
// kms:ViaService tells: S3, which encrypts object data keys through ResolveForS3,
// GenerateDataKeyFor and DecryptFor, and SSM, which encrypts SecureString parameters through
// EncryptForSSM and DecryptForSSM. Each has an AWS managed key (alias/aws/s3, alias/aws/ssm),
// created in an account on first use.
//
// Keys and aliases live in an account and a region. A Service answers for one region: requests
// signed for any region reach the same keys (stateward accepts every region), and an ARN that
// names another region is not found, as on KMS. Key material is 32 random bytes per material
// version, sealed under the master keyring with its record key as additional data, so it is
// never stored or logged in the clear.
package kms

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
)

// Authorizer decides every request; see package policy.
type Authorizer interface {
	Authorize(ctx context.Context, req *policy.Request) error
}

// Config configures a Service. Nil fields mean defaults where one exists.
type Config struct {
	Store      storage.Store    // required
	Keyring    *keyring.Keyring // required: seals key material
	Authorizer Authorizer       // required
	Region     string           // the region this service answers for; "us-east-1" if empty
	Logger     *slog.Logger
	Now        func() time.Time
	Rand       io.Reader
}

// Service implements KMS semantics over a store. It never sees HTTP; the caller is the
// identity.Principal in the context of each call.
type Service struct {
	store  storage.Store
	kr     *keyring.Keyring
	authz  Authorizer
	region string
	log    *slog.Logger
	now    func() time.Time
	rand   io.Reader
}

// New returns a Service.
func New(c Config) *Service {
	s := &Service{store: c.Store, kr: c.Keyring, authz: c.Authorizer, region: c.Region,
		log: c.Logger, now: c.Now, rand: c.Rand}
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
	return s
}

// caller returns the authenticated principal of ctx. The gateway refuses unauthenticated
// requests; a call from elsewhere without a caller is denied like them.
func caller(ctx context.Context) (*identity.Principal, error) {
	p := identity.FromContext(ctx)
	if p == nil || p.AccountID == "" {
		return nil, &policy.DeniedError{Reason: policy.Unauthenticated}
	}
	return p, nil
}

// authorize asks the authorizer whether the caller may perform kms:<op> on resource, owned
// by account (empty for a key being created), for calls that name no key (CreateKey,
// ListKeys, aliases). A denial is returned as it is: the gateway words it.
func (s *Service) authorize(ctx context.Context, p *identity.Principal, op, resource, account string, conds map[string][]string) error {
	return s.authz.Authorize(ctx, s.request(p, op, resource, account, conds))
}

// authorizeKey asks whether the caller may perform kms:<op> on key k. The key policy decides
// with the caller's IAM policies as KMS does: it must grant the caller, or grant the account
// (as the default key policy does), which delegates to the account's IAM policies.
func (s *Service) authorizeKey(ctx context.Context, p *identity.Principal, op string, k *keyRecord, conds map[string][]string) error {
	req := s.request(p, op, k.arn(), k.Account, conds)
	doc, err := policy.ParseCached(k.Policy, policy.ResourceKind)
	if err != nil {
		// Stored before key policies were enforced and unreadable now: fail closed.
		return fmt.Errorf("kms: key policy of %s: %w", k.arn(), err)
	}
	req.ResourcePolicy, req.ResourcePolicyRequired = doc, true
	for _, t := range k.Tags {
		req.Keys["aws:ResourceTag/"+t.Key] = []string{t.Value}
	}
	return s.authz.Authorize(ctx, req)
}

func (s *Service) request(p *identity.Principal, op, resource, account string, conds map[string][]string) *policy.Request {
	req := &policy.Request{
		Action:          "kms:" + op,
		Resource:        resource,
		ResourceAccount: account,
		Keys:            map[string][]string{"kms:CallerAccount": {p.AccountID}},
	}
	for k, v := range conds {
		req.Keys[k] = v
	}
	return req
}

// newKeyID returns a fresh lowercase RFC 4122 version 4 UUID, the form Terraform's kms_key_id
// validation accepts.
func (s *Service) newKeyID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("kms: key id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// newMaterial returns fresh key material for one material version.
func (s *Service) newMaterial() (keyring.Key, error) {
	m := make(keyring.Key, keyring.KeySize)
	if _, err := io.ReadFull(s.rand, m); err != nil {
		return nil, fmt.Errorf("kms: key material: %w", err)
	}
	return m, nil
}

// keyARN is the ARN of key id in account and region.
func keyARN(region, account, id string) string {
	return "arn:aws:kms:" + region + ":" + account + ":key/" + id
}

// aliasARN is the ARN of alias name ("alias/…") in account and region.
func aliasARN(region, account, name string) string {
	return "arn:aws:kms:" + region + ":" + account + ":" + name
}
