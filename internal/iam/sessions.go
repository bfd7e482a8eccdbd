package iam

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/sigv4"
	"github.com/stateward/stateward/internal/storage"
)

// Temporary credentials (STS sessions). Each session is a record named by its access key id
// (ASIA…): the secret, a hash of the opaque session token, whose role or user it acts as, with
// which tags, session policies and MFA facts, until when, and whether it was revoked. Every
// request signed with it reads the record, so an expiry or a revocation takes effect on the
// next request on every replica. The token is random and names nothing by itself.
//
//	iam/session/<ASIA…>   sessionRecord
//	iam/lastused/<ASIA…>  its last use, as for access keys

const prefixSession = "iam/session/"

func sessionKey(id string) []byte { return []byte(prefixSession + id) }

// sessionRecord is one session.
type sessionRecord struct {
	ID        string `json:"id"` // the access key id
	Secret    Secret `json:"secret"`
	TokenHash []byte `json:"tokenHash"` // SHA-256 of the session token
	AccountID string `json:"account"`
	// For a role session: the role; else the session acts as the user UserName (or the root
	// user when both are empty).
	RoleARN     string `json:"roleArn,omitempty"`
	RoleName    string `json:"roleName,omitempty"`
	RoleID      string `json:"roleId,omitempty"`
	SessionName string `json:"name,omitempty"`
	UserName    string `json:"user,omitempty"`
	UserID      string `json:"userId,omitempty"`
	UserPath    string `json:"userPath,omitempty"`
	// ParentARN is who asked for the session; ParentUser the IAM user at the start of the
	// chain, if any (so a user can list and revoke every session it started).
	ParentARN      string            `json:"parent"`
	ParentUser     string            `json:"parentUser,omitempty"`
	Issued         time.Time         `json:"issued"`
	Expires        time.Time         `json:"expires"`
	MFAAt          time.Time         `json:"mfaAt,omitzero"`
	MFASerial      string            `json:"mfaSerial,omitempty"`
	SourceIdentity string            `json:"sourceIdentity,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	Transitive     []string          `json:"transitive,omitempty"`
	Policy         string            `json:"policy,omitempty"`
	PolicyARNs     []string          `json:"policyArns,omitempty"`
	Revoked        time.Time         `json:"revoked,omitzero"`
}

func (r *sessionRecord) arn() string {
	if r.RoleARN != "" {
		return "arn:aws:sts::" + r.AccountID + ":assumed-role/" + r.RoleName + "/" + r.SessionName
	}
	if r.UserName == "" {
		return identity.RootARN(r.AccountID)
	}
	return userARN(r.AccountID, r.UserPath, r.UserName)
}

func (r *sessionRecord) principalARN() string {
	if r.RoleARN != "" {
		return r.RoleARN
	}
	return r.arn()
}

// maxSessionPolicy is STS's limit on an inline session policy (PackedPolicyTooLarge past it).
const maxSessionPolicy = 2048

// CreateSession issues temporary credentials as spec describes; the caller (the STS service)
// has authorized the request. Session policies are validated here: an inline one that does
// not parse, or a managed policy ARN that names no policy, is MalformedPolicyDocument.
func (s *Service) CreateSession(ctx context.Context, spec *identity.SessionSpec) (*identity.Credentials, error) {
	if spec.Policy != "" {
		if len(spec.Policy) > maxSessionPolicy {
			return nil, awserr.New("PackedPolicyTooLarge", "Serialized token too large for session")
		}
		if _, err := policy.Parse(spec.Policy, policy.IdentityKind); err != nil {
			var se *policy.SyntaxError
			if errors.As(err, &se) {
				return nil, awserr.Wrap("MalformedPolicyDocument", se.Msg, err)
			}
			return nil, err
		}
	}
	id, err := s.randomString(idAlphabet, 16)
	if err != nil {
		return nil, err
	}
	secret, err := s.randomString(secretAlphabet, 40)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, 48)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return nil, err
	}
	token := base64.StdEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	now := s.timestamp()
	p := spec.Parent
	rec := &sessionRecord{ID: "ASIA" + id, Secret: Secret(secret), TokenHash: sum[:], AccountID: spec.AccountID,
		SessionName: spec.Name, ParentARN: p.ARN, Issued: now, Expires: now.Add(spec.Duration),
		MFAAt: spec.MFAAt, MFASerial: spec.MFASerial, SourceIdentity: spec.SourceIdentity,
		Tags: spec.Tags, Transitive: spec.TransitiveTagKeys, Policy: spec.Policy, PolicyARNs: spec.PolicyARNs}
	switch {
	case spec.Role != nil:
		rec.RoleARN, rec.RoleName, rec.RoleID = spec.Role.ARN, spec.Role.Name, spec.Role.ID
	case p.Type == identity.User:
		rec.UserName, rec.UserID = p.Name, p.UserID
		if a, ok := parseARN(p.ARN); ok {
			rec.UserPath = a.Path
		}
	}
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		rec.ParentUser = ""
		if p.Type == identity.User {
			rec.ParentUser = p.Name
		} else if p.Session != nil {
			var parent sessionRecord
			found, err := get(tx, sessionKey(p.Session.ID), &parent)
			if err != nil {
				return err
			}
			if found {
				rec.ParentUser = parent.ParentUser
			}
		}
		for _, arn := range spec.PolicyARNs {
			if _, err := resolvePolicy(tx, spec.AccountID, arn); err != nil {
				if isClassified(err) {
					return awserr.Newf("MalformedPolicyDocument", "Policy %s does not exist or is not attachable.", arn)
				}
				return err
			}
		}
		if a, ok := parseARN(rec.RoleARN); ok {
			// RoleLastUsed, as IAM reports it: when and where the role was last assumed. Not a
			// change of policy, so the account's generation stays.
			var r roleRecord
			found, err := get(tx, entityKey(a.Account, kindRole, a.Name), &r)
			if err != nil {
				return err
			}
			if found && now.After(r.LastUsed) {
				r.LastUsed, r.LastUsedRegion = now, s.region
				if ir := identity.RequestFrom(ctx); ir != nil && ir.Region != "" {
					r.LastUsedRegion = ir.Region
				}
				if err := putJSON(tx, entityKey(a.Account, kindRole, a.Name), &r); err != nil {
					return err
				}
			}
		}
		return putJSON(tx, sessionKey(rec.ID), rec)
	})
	if err != nil {
		return nil, err
	}
	return &identity.Credentials{AccessKeyID: rec.ID, SecretAccessKey: identity.Secret(secret),
		SessionToken: identity.Secret(token), Expiration: rec.Expires}, nil
}

// authenticateSession resolves temporary credentials: the session's secret and its principal,
// if token is the session's own token and the session is live.
func (s *Service) authenticateSession(ctx context.Context, id, token string) (string, *identity.Principal, error) {
	var rec sessionRecord
	var roleTags, userTags map[string]string
	found := false
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		if found, err = get(tx, sessionKey(id), &rec); err != nil || !found {
			return err
		}
		// The principal carries its role's or user's tags (aws:PrincipalTag), as they are now.
		if a, ok := parseARN(rec.RoleARN); ok {
			var r roleRecord
			if ok, err := get(tx, entityKey(a.Account, kindRole, a.Name), &r); err != nil || !ok {
				return err
			}
			roleTags = tagMap(r.Tags)
		} else if rec.UserName != "" {
			var u userRecord
			if ok, err := get(tx, entityKey(rec.AccountID, kindUser, rec.UserName), &u); err != nil || !ok {
				return err
			}
			userTags = tagMap(u.Tags)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	if !found {
		return "", nil, fmt.Errorf("%w: %w: %q", ErrUnknownAccessKey, sigv4.ErrUnknownAccessKey, id)
	}
	sum := sha256.Sum256([]byte(token))
	if token == "" || subtle.ConstantTimeCompare(sum[:], rec.TokenHash) != 1 {
		return "", nil, fmt.Errorf("%w: the token is not %s's", sigv4.ErrInvalidToken, id)
	}
	now := s.now()
	switch {
	case !rec.Revoked.IsZero():
		return "", nil, fmt.Errorf("%w: session %s was revoked at %s", sigv4.ErrExpiredToken, id, rec.Revoked.Format(time.RFC3339))
	case !now.Before(rec.Expires):
		return "", nil, fmt.Errorf("%w: session %s expired at %s", sigv4.ErrExpiredToken, id, rec.Expires.Format(time.RFC3339))
	}
	p := &identity.Principal{AccountID: rec.AccountID, ARN: rec.arn(), AccessKeyID: id,
		Session: &identity.Session{ID: id, Name: rec.SessionName, Issued: rec.Issued, Expires: rec.Expires,
			MFAAt: rec.MFAAt, SourceIdentity: rec.SourceIdentity}}
	switch {
	case rec.RoleARN != "":
		p.Type, p.Name, p.RoleARN, p.UserID = identity.AssumedRole, rec.RoleName, rec.RoleARN, rec.RoleID+":"+rec.SessionName
		p.Tags = overlayTags(roleTags, rec.Tags)
	case rec.UserName != "":
		p.Type, p.Name, p.UserID = identity.User, rec.UserName, rec.UserID
		p.Tags = userTags
	default:
		p.Type, p.UserID = identity.Root, rec.AccountID
	}
	return rec.Secret.Reveal(), p, nil
}

// overlayTags returns base with over's values laid over it (session tags win over the role's).
func overlayTags(base, over map[string]string) map[string]string {
	if len(over) == 0 {
		return base
	}
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		for bk := range out {
			if strings.EqualFold(bk, k) {
				delete(out, bk)
			}
		}
		out[k] = v
	}
	return out
}

// sessionPolicies adds the session policies of p's session to pp.
func (s *Service) sessionPolicies(tx storage.Tx, p *identity.Principal, pp *policy.PrincipalPolicies) error {
	var rec sessionRecord
	found, err := get(tx, sessionKey(p.Session.ID), &rec)
	if err != nil || !found || (rec.Policy == "" && len(rec.PolicyARNs) == 0) {
		return err
	}
	pp.HasSession = true
	if rec.Policy != "" {
		d, err := s.cache.parse(rec.Policy, policy.IdentityKind)
		if err != nil {
			return errorf("session %s policy: %w", rec.ID, err)
		}
		pp.Session = append(pp.Session, policy.Source{ID: "session policy", Type: "none", Doc: d})
	}
	for _, arn := range rec.PolicyARNs {
		m, err := resolvePolicy(tx, rec.AccountID, arn)
		if isClassified(err) {
			continue // deleted since: it allows nothing
		}
		if err != nil {
			return err
		}
		v := m.rec.version(m.rec.Default)
		if v == nil {
			continue
		}
		d, err := s.cache.parse(v.Document, policy.IdentityKind)
		if err != nil {
			return errorf("stored policy %s %s: %w", arn, v.ID, err)
		}
		pp.Session = append(pp.Session, policy.Source{ID: arn, Type: "none", Doc: d})
	}
	return nil
}

// RoleByARN returns the role arn names, or nil (and no error) when there is none, so that
// asking for a missing role is refused like asking for one that does not trust the caller.
func (s *Service) RoleByARN(ctx context.Context, arn string) (*identity.Role, error) {
	a, ok := parseARN(arn)
	if !ok || a.Kind != "role" {
		return nil, nil
	}
	var r roleRecord
	var found bool
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		found, err = get(tx, entityKey(a.Account, kindRole, a.Name), &r)
		return err
	})
	if err != nil || !found || r.Path != a.Path {
		return nil, err
	}
	return &identity.Role{ARN: roleARN(a.Account, r.Path, r.Name), AccountID: a.Account, Name: r.Name, ID: r.ID, Path: r.Path,
		TrustPolicy: r.Trust, MaxSessionDuration: time.Duration(r.MaxSessionDuration) * time.Second, Tags: tagMap(r.Tags)}, nil
}

// AccessKeyAccount returns the account an access key (long-term or temporary) belongs to.
func (s *Service) AccessKeyAccount(ctx context.Context, id string) (string, error) {
	var acct string
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var k AccessKey
		if found, err := get(tx, []byte(prefixKey+id), &k); err != nil || found {
			acct = k.AccountID
			return err
		}
		var rec sessionRecord
		found, err := get(tx, sessionKey(id), &rec)
		if found {
			acct = rec.AccountID
		}
		return err
	})
	if err == nil && acct == "" {
		err = fmt.Errorf("%w: %q", ErrUnknownAccessKey, id)
	}
	return acct, err
}

// Sessions lists the sessions f selects, oldest first.
func (s *Service) Sessions(ctx context.Context, f identity.SessionFilter) ([]identity.SessionInfo, error) {
	var out []identity.SessionInfo
	now := s.now()
	err := s.store.View(ctx, func(tx storage.Tx) error {
		out = out[:0]
		return scanJSON(tx, prefixSession, nil, func(_ []byte, r *sessionRecord) error {
			if !sessionSelected(f, r, now) {
				return nil
			}
			info := identity.SessionInfo{ID: r.ID, AccountID: r.AccountID, ARN: r.arn(), PrincipalARN: r.principalARN(),
				ParentARN: r.ParentARN, User: r.ParentUser, SourceIdentity: r.SourceIdentity, MFA: !r.MFAAt.IsZero(), Issued: r.Issued,
				Expires: r.Expires, Revoked: r.Revoked}
			var use keyUse
			if _, err := get(tx, []byte(prefixUse+r.ID), &use); err != nil {
				return err
			}
			info.LastUsed = use.At
			out = append(out, info)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b identity.SessionInfo) int { return a.Issued.Compare(b.Issued) })
	return out, err
}

// sessionSelected tells whether f selects r as of now.
func sessionSelected(f identity.SessionFilter, r *sessionRecord, now time.Time) bool {
	switch {
	case f.AccountID != "" && r.AccountID != f.AccountID,
		f.ID != "" && r.ID != f.ID,
		f.RoleARN != "" && r.RoleARN != f.RoleARN,
		f.UserName != "" && !strings.EqualFold(r.ParentUser, f.UserName),
		f.Live && (!r.Revoked.IsZero() || !now.Before(r.Expires)):
		return false
	}
	return true
}

// RevokeSessions revokes the live sessions f selects and returns their ids. A revoked session
// is refused from the next request on; its record stays, for listing, until it expires.
func (s *Service) RevokeSessions(ctx context.Context, f identity.SessionFilter) ([]string, error) {
	f.Live = true
	var ids []string
	now := s.timestamp()
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		ids = ids[:0]
		var revoke []*sessionRecord
		err := scanJSON(tx, prefixSession, nil, func(_ []byte, r *sessionRecord) error {
			if sessionSelected(f, r, now) {
				revoke = append(revoke, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range revoke {
			r.Revoked = now
			if err := putJSON(tx, sessionKey(r.ID), r); err != nil {
				return err
			}
			ids = append(ids, r.ID)
		}
		return nil
	})
	return ids, err
}

// SweepSessions deletes the records of sessions that expired before cutoff.
func (s *Service) SweepSessions(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		n = 0
		var gone []string
		err := scanJSON(tx, prefixSession, nil, func(_ []byte, r *sessionRecord) error {
			if r.Expires.Before(cutoff) {
				gone = append(gone, r.ID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range gone {
			if err := tx.Delete(sessionKey(id)); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if err := tx.Delete([]byte(prefixUse + id)); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
