package iam

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/sigv4"
	"github.com/stateward/stateward/internal/storage"
)

var _ policy.PolicySource = (*Service)(nil)

// Authenticate resolves an access key id and the session token the request carries for the
// gateway: the key's secret and the principal it authenticates, the user's path and tags
// included. Unknown and inactive keys, and keys whose user no longer exists, are errors
// wrapping both ErrUnknownAccessKey and sigv4.ErrUnknownAccessKey. Temporary credentials
// (ASIA…) need their session's token (else sigv4.ErrInvalidToken) and a live session (else
// sigv4.ErrExpiredToken); a long-term key with a token is sigv4.ErrInvalidToken.
func (s *Service) Authenticate(ctx context.Context, accessKeyID, sessionToken string) (string, *identity.Principal, error) {
	if strings.HasPrefix(accessKeyID, "ASIA") {
		return s.authenticateSession(ctx, accessKeyID, sessionToken)
	}
	if sessionToken != "" {
		return "", nil, fmt.Errorf("%w: %s is a long-term access key", sigv4.ErrInvalidToken, accessKeyID)
	}
	var k AccessKey
	var u userRecord
	var ok bool
	err := s.store.View(ctx, func(tx storage.Tx) error {
		found, err := get(tx, []byte(prefixKey+accessKeyID), &k)
		if err != nil || !found || !k.Active {
			return err
		}
		if k.UserName == "" {
			found, err = get(tx, []byte(prefixAccount+k.AccountID), &Account{})
			ok = found
			return err
		}
		found, err = get(tx, entityKey(k.AccountID, kindUser, k.UserName), &u)
		ok = found && u.ID == k.UserID
		return err
	})
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "", nil, fmt.Errorf("%w: %w: %q", ErrUnknownAccessKey, sigv4.ErrUnknownAccessKey, accessKeyID)
	}
	p := &identity.Principal{AccountID: k.AccountID, AccessKeyID: k.ID}
	if k.UserName == "" {
		p.Type, p.ARN, p.UserID = identity.Root, identity.RootARN(k.AccountID), k.AccountID
	} else {
		p.Type, p.Name, p.UserID = identity.User, u.Name, u.ID
		p.ARN = userARN(k.AccountID, u.Path, u.Name)
		p.Tags = tagMap(u.Tags)
	}
	return k.Secret.Reveal(), p, nil
}

// GatewayKeys adapts a Service to the gateway's KeyLookup through Authenticate.
type GatewayKeys struct{ Service *Service }

// LookupAccessKey implements gateway.KeyLookup.
func (g GatewayKeys) LookupAccessKey(ctx context.Context, id, sessionToken string) (string, *identity.Principal, error) {
	return g.Service.Authenticate(ctx, id, sessionToken)
}

// Verified implements the gateway's optional notice that a request signed with p's key
// verified: the key's (or session's) last use is recorded then, so a forged request that only
// names a key is no use of it.
func (g GatewayKeys) Verified(ctx context.Context, p *identity.Principal) {
	region := ""
	if r := identity.RequestFrom(ctx); r != nil {
		region = r.Region
	}
	g.Service.noteKeyUse(ctx, p.AccessKeyID, awsproto.InfoFrom(ctx).Service, region)
}

// PoliciesFor returns the identity-based policies of p for the policy engine: a user's inline
// and attached policies and those of its groups, or a role session's role's. It runs on every
// request of a non-root caller, so it answers from a cache of parsed documents that one small
// read (the account's IAM generation, bumped by every IAM write) proves current.
func (s *Service) PoliciesFor(ctx context.Context, p *identity.Principal) (*policy.PrincipalPolicies, error) {
	if p == nil || p.IsRoot() {
		return &policy.PrincipalPolicies{}, nil
	}
	var pp *policy.PrincipalPolicies
	err := s.store.View(ctx, func(tx storage.Tx) error {
		gen, err := generation(tx, p.AccountID)
		if err != nil {
			return err
		}
		key := cacheKey(p)
		if pp = s.cache.lookup(key, gen); pp != nil {
			return nil
		}
		if pp, err = s.principalPolicies(tx, p); err != nil {
			return err
		}
		s.cache.store(key, gen, pp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pp, nil
}

func cacheKey(p *identity.Principal) string {
	if p.Session != nil {
		// Session policies are the session's own.
		return p.AccountID + " session " + p.Session.ID + " " + p.RoleARN + " " + p.UserID
	}
	switch p.Type {
	case identity.AssumedRole:
		return p.AccountID + " role " + p.RoleARN
	}
	return p.AccountID + " " + string(p.Type) + " " + p.UserID + " " + p.Name
}

// principalPolicies reads and parses p's policies.
func (s *Service) principalPolicies(tx storage.Tx, p *identity.Principal) (*policy.PrincipalPolicies, error) {
	pp := &policy.PrincipalPolicies{}
	switch p.Type {
	case identity.User:
		var u userRecord
		found, err := get(tx, entityKey(p.AccountID, kindUser, p.Name), &u)
		if err != nil || !found || u.ID != p.UserID {
			return pp, err // a principal whose user is gone has no policies
		}
		return pp, s.userSources(tx, p.AccountID, &u, pp)
	case identity.AssumedRole:
		a, ok := parseARN(p.RoleARN)
		if !ok || a.Kind != "role" || a.Account != p.AccountID {
			return pp, nil
		}
		var r roleRecord
		found, err := get(tx, entityKey(a.Account, kindRole, a.Name), &r)
		if err != nil || !found || r.Path != a.Path {
			return pp, err
		}
		if err := s.entitySources(tx, a.Account, kindRole, r.Inline, r.Attached, pp); err != nil {
			return pp, err
		}
	}
	if p.Session != nil {
		return pp, s.sessionPolicies(tx, p, pp)
	}
	return pp, nil
}

// userSources adds a user's policies and its groups' to pp.
func (s *Service) userSources(tx storage.Tx, acct string, u *userRecord, pp *policy.PrincipalPolicies) error {
	if err := s.entitySources(tx, acct, kindUser, u.Inline, u.Attached, pp); err != nil {
		return err
	}
	for _, name := range u.Groups {
		var g groupRecord
		found, err := get(tx, entityKey(acct, kindGroup, name), &g)
		if err != nil {
			return err
		}
		if found {
			if err := s.entitySources(tx, acct, kindGroup, g.Inline, g.Attached, pp); err != nil {
				return err
			}
		}
	}
	return nil
}

// entitySources adds inline policies (source type kind) and the default versions of attached
// managed policies to pp.
func (s *Service) entitySources(tx storage.Tx, acct, kind string, inline []inlinePolicy, attached []string, pp *policy.PrincipalPolicies) error {
	for _, ip := range inline {
		d, err := s.cache.parse(ip.Document, policy.IdentityKind)
		if err != nil {
			return errorf("stored %s policy %s: %w", kind, ip.Name, err)
		}
		pp.Identity = append(pp.Identity, policy.Source{ID: ip.Name, Type: kind, Doc: d})
	}
	for _, arn := range attached {
		m, err := resolvePolicy(tx, acct, arn)
		if isClassified(err) {
			continue // deleted while attached cannot happen; an old record is skipped
		}
		if err != nil {
			return err
		}
		v := m.rec.version(m.rec.Default)
		if v == nil {
			return errorf("policy %s has no default version %s", arn, m.rec.Default)
		}
		d, err := s.cache.parse(v.Document, policy.IdentityKind)
		if err != nil {
			return errorf("stored policy %s %s: %w", arn, v.ID, err)
		}
		typ := "user-managed"
		if m.aws {
			typ = "aws-managed"
		}
		pp.Identity = append(pp.Identity, policy.Source{ID: m.arn, Type: typ, Doc: d})
	}
	return nil
}

// policyCache holds parsed documents (by kind and text) and each principal's policies with
// the account generation they were read at. Both are bounded: past the bound they start over.
type policyCache struct {
	mu         sync.Mutex
	docs       map[[32]byte]*policy.Document
	principals map[string]cachedPolicies
}

type cachedPolicies struct {
	gen uint64
	pp  *policy.PrincipalPolicies
}

const (
	maxCachedDocs       = 10000
	maxCachedPrincipals = 10000
)

func newPolicyCache() *policyCache {
	return &policyCache{docs: map[[32]byte]*policy.Document{}, principals: map[string]cachedPolicies{}}
}

func (c *policyCache) lookup(key string, gen uint64) *policy.PrincipalPolicies {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.principals[key]; ok && e.gen == gen {
		return e.pp
	}
	return nil
}

func (c *policyCache) store(key string, gen uint64, pp *policy.PrincipalPolicies) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.principals) >= maxCachedPrincipals {
		clear(c.principals)
	}
	c.principals[key] = cachedPolicies{gen: gen, pp: pp}
}

// parse parses text once per distinct document and kind; documents are immutable once parsed,
// so one *policy.Document serves every principal that has it.
func (c *policyCache) parse(text string, k policy.Kind) (*policy.Document, error) {
	sum := sha256.Sum256(append([]byte{byte(k)}, text...))
	c.mu.Lock()
	d := c.docs[sum]
	c.mu.Unlock()
	if d != nil {
		return d, nil
	}
	d, err := policy.Parse(text, k)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.docs) >= maxCachedDocs {
		clear(c.docs)
	}
	c.docs[sum] = d
	c.mu.Unlock()
	return d, nil
}

// useRecorder notes access keys' last use, at most once a minute per key, in writes of their
// own that run off the request path and leave the IAM generation alone.
type useRecorder struct {
	mu   sync.Mutex
	last map[string]time.Time // key id → when its use was last written
	wg   sync.WaitGroup
}

const (
	useInterval = time.Minute
	maxUseKeys  = 100000
)

func (s *Service) noteKeyUse(ctx context.Context, keyID, service, region string) {
	now := s.now()
	r := s.uses
	r.mu.Lock()
	if t, ok := r.last[keyID]; ok && now.Sub(t) < useInterval && !now.Before(t) {
		r.mu.Unlock()
		return
	}
	if len(r.last) >= maxUseKeys {
		for id, t := range r.last {
			if now.Sub(t) >= useInterval {
				delete(r.last, id)
			}
		}
	}
	r.last[keyID] = now
	r.wg.Add(1)
	r.mu.Unlock()
	if service == "" {
		service = "N/A"
	}
	if region == "" {
		region = s.region
	}
	use := keyUse{At: now.UTC().Truncate(time.Second), Service: service, Region: region}
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err := s.store.Update(ctx, func(tx storage.Tx) error {
			// A key deleted meanwhile gets no record; a session's key is its session record.
			if _, err := tx.Get([]byte(prefixKey + keyID)); isNotFound(err) {
				if _, err = tx.Get(sessionKey(keyID)); isNotFound(err) {
					return nil
				} else if err != nil {
					return err
				}
			} else if err != nil {
				return err
			}
			return putJSON(tx, []byte(prefixUse+keyID), use)
		})
		if err != nil {
			s.log.Warn("iam: record access key use", "access_key_id", keyID, "err", err)
		}
	}()
}
