// Package ssm is the Parameter Store part of AWS Systems Manager: String, StringList and
// SecureString parameters in an account and region, their versions (the 100 most recent),
// labels and tags, the path hierarchy that GetParametersByPath and DescribeParameters list,
// with its JSON 1.1 front-end (X-Amz-Target AmazonSSM.<Op>). The Service's typed operations
// authorize each call once with the one authorizer and never see HTTP.
//
// A SecureString value is envelope-encrypted: a fresh data key seals the value, and KMS
// encrypts the data key under the key the caller names (alias/aws/ssm when none), bound to
// the encryption context {"PARAMETER_ARN": <arn>}, through the KMS interface, which asks KMS's
// authorizer for kms:Encrypt or kms:Decrypt with kms:ViaService ssm.<region>.amazonaws.com.
// Reading a value WithDecryption therefore needs both ssm:GetParameter* on the parameter and
// kms:Decrypt on its key; without the second, the caller sees the metadata and the ciphertext.
//
// A Service answers for one region, as the KMS service does: requests signed for any region
// reach the same parameters, and their ARNs name the Service's region.
package ssm

import (
	"context"
	"crypto/rand"
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

// KMS encrypts and decrypts the data keys of SecureString values on the caller's behalf; the
// kms package implements it. Both authorize the caller in ctx (kms:Encrypt, kms:Decrypt,
// through SSM) and return *awserr.Error with KMS's codes (NotFoundException,
// DisabledException, KMSInvalidStateException, …) or a policy denial.
type KMS interface {
	// EncryptForSSM encrypts plaintext under the key keyRef names (a key id, key ARN, alias
	// name or alias ARN, in accountID unless an ARN; accountID's alias/aws/ssm when empty),
	// bound to encCtx, and returns the blob and the key's ARN.
	EncryptForSSM(ctx context.Context, accountID, keyRef string, plaintext []byte, encCtx map[string]string) (blob []byte, keyARN string, err error)
	// DecryptForSSM opens a blob EncryptForSSM made with the same encCtx; the caller zeroes
	// the plaintext.
	DecryptForSSM(ctx context.Context, accountID string, blob []byte, encCtx map[string]string) (plaintext keyring.Key, keyARN string, err error)
}

// Config configures a Service. Zero fields mean defaults where one exists.
type Config struct {
	Store      storage.Store // required
	Authorizer Authorizer    // required
	// KMS encrypts SecureString values; without it SecureString is refused.
	KMS    KMS
	Region string // the region parameters live in; "us-east-1" if empty
	// MaxStandard and MaxAdvanced are the number of parameters of each tier an account may
	// have in the region: 10,000 and 100,000 as on AWS when zero.
	MaxStandard, MaxAdvanced int
	Logger                   *slog.Logger
	Now                      func() time.Time
	Rand                     io.Reader // data keys; crypto/rand when nil
}

// Service implements Parameter Store semantics over a store.
type Service struct {
	store       storage.Store
	authz       Authorizer
	kms         KMS
	region      string
	maxStandard int
	maxAdvanced int
	log         *slog.Logger
	now         func() time.Time
	rand        io.Reader
}

// New returns a Service.
func New(c Config) *Service {
	s := &Service{store: c.Store, authz: c.Authorizer, kms: c.KMS, region: c.Region,
		maxStandard: c.MaxStandard, maxAdvanced: c.MaxAdvanced, log: c.Logger, now: c.Now, rand: c.Rand}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.maxStandard == 0 {
		s.maxStandard = 10_000
	}
	if s.maxAdvanced == 0 {
		s.maxAdvanced = 100_000
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

// authorize asks whether the caller may perform ssm:<op> on resource, owned by account. An
// existing parameter's tags are its aws:ResourceTag keys; extra holds request keys
// (aws:RequestTag/…, aws:TagKeys). A denial is returned as it is: the gateway words it.
func (s *Service) authorize(ctx context.Context, op, resource, account string, p *parameterRecord, extra map[string][]string) error {
	req := &policy.Request{Action: "ssm:" + op, Resource: resource, ResourceAccount: account, Keys: map[string][]string{}}
	if p != nil {
		for _, t := range p.Tags {
			req.Keys["aws:ResourceTag/"+t.Key] = []string{t.Value}
		}
	}
	for k, v := range extra {
		req.Keys[k] = v
	}
	return s.authz.Authorize(ctx, req)
}

// parameterARN is the ARN of parameter name in account: the name without its leading slash
// after "parameter/", so /app/db and app/db share one (as on AWS, where only one of them can
// be reached by ARN).
func (s *Service) parameterARN(account, name string) string {
	return "arn:aws:ssm:" + s.region + ":" + account + ":parameter/" + trimSlash(name)
}

func trimSlash(name string) string {
	if len(name) > 0 && name[0] == '/' {
		return name[1:]
	}
	return name
}
