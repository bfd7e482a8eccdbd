package policy

import (
	"strconv"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/identity"
)

// derivedKey numbers the condition keys the engine derives from the caller, so each has a
// slot in evalCtx and a lookup allocates only the first time a value is formatted.
type derivedKey uint8

const (
	dkNone derivedKey = iota
	dkCurrentTime
	dkEpochTime
	dkSecureTransport
	dkSourceIP
	dkPrincipalARN
	dkPrincipalAccount
	dkPrincipalType
	dkUsername
	dkUserID
	dkRequestedRegion
	dkUserAgent
	dkResourceAccount
	dkTokenIssueTime
	dkMFAPresent
	dkMFAAge
	dkSourceIdentity
	dkCount
)

// derivedKeys maps lower-cased key names to their slots.
var derivedKeys = map[string]derivedKey{
	"aws:currenttime":            dkCurrentTime,
	"aws:epochtime":              dkEpochTime,
	"aws:securetransport":        dkSecureTransport,
	"aws:sourceip":               dkSourceIP,
	"aws:principalarn":           dkPrincipalARN,
	"aws:principalaccount":       dkPrincipalAccount,
	"aws:principaltype":          dkPrincipalType,
	"aws:username":               dkUsername,
	"aws:userid":                 dkUserID,
	"aws:requestedregion":        dkRequestedRegion,
	"aws:useragent":              dkUserAgent,
	"aws:resourceaccount":        dkResourceAccount,
	"aws:tokenissuetime":         dkTokenIssueTime,
	"aws:multifactorauthpresent": dkMFAPresent,
	"aws:multifactorauthage":     dkMFAAge,
	"aws:sourceidentity":         dkSourceIdentity,
}

const principalTagPrefix = "aws:principaltag/"

// evalCtx is the request context of one evaluation: the condition keys, resolved lazily, and
// the keys conditions asked for that the request lacked.
type evalCtx struct {
	r       *Request
	ir      *identity.Request
	p       *identity.Principal
	acct    string // the resource's account
	derived [dkCount][1]string
	have    [dkCount]int8 // 0 not computed, 1 present, -1 absent
	missing []string
}

// init readies ec for r, whose Caller and its Principal are set.
func (ec *evalCtx) init(r *Request) {
	ec.r, ec.ir, ec.p = r, r.Caller, r.Caller.Principal
	ec.acct = r.ResourceAccount
	if ec.acct == "" {
		ec.acct = ec.p.AccountID
	}
}

// lookup returns the values of key, which is lower-case. A key in Request.Keys overrides the
// derived one (an empty list there makes it absent). Absent keys give no values. The slice
// must not be modified.
func (ec *evalCtx) lookup(key string) []string {
	if len(ec.r.Keys) > 0 {
		if v, ok := ec.r.Keys[key]; ok {
			return v
		}
		for k, v := range ec.r.Keys {
			if len(k) == len(key) && equalFoldASCII(k, key) {
				return v
			}
		}
	}
	if strings.HasPrefix(key, principalTagPrefix) {
		tag := key[len(principalTagPrefix):]
		for k, v := range ec.p.Tags {
			if strings.EqualFold(k, tag) {
				return []string{v}
			}
		}
		return nil
	}
	dk := derivedKeys[key]
	if dk == dkNone {
		return nil
	}
	switch ec.have[dk] {
	case 1:
		return ec.derived[dk][:]
	case -1:
		return nil
	}
	v, ok := ec.derive(dk)
	if !ok {
		ec.have[dk] = -1
		return nil
	}
	ec.have[dk] = 1
	ec.derived[dk][0] = v
	return ec.derived[dk][:]
}

// derive computes a key from the caller, as AWS puts it in the request context; ok is false
// for a key this request does not carry.
func (ec *evalCtx) derive(dk derivedKey) (string, bool) {
	ir, p := ec.ir, ec.p
	switch dk {
	case dkCurrentTime:
		if ir.Time.IsZero() {
			return "", false
		}
		return ir.Time.UTC().Format(time.RFC3339), true
	case dkEpochTime:
		if ir.Time.IsZero() {
			return "", false
		}
		return strconv.FormatInt(ir.Time.Unix(), 10), true
	case dkSecureTransport:
		return strconv.FormatBool(ir.SecureTransport), true
	case dkSourceIP:
		if !ir.SourceIP.IsValid() {
			return "", false
		}
		return ir.SourceIP.Unmap().String(), true
	case dkPrincipalARN:
		return p.PrincipalARN(), p.PrincipalARN() != ""
	case dkPrincipalAccount:
		return p.AccountID, p.AccountID != ""
	case dkPrincipalType:
		return string(p.Type), p.Type != ""
	case dkUsername:
		return p.Name, p.Type == identity.User && p.Name != ""
	case dkUserID:
		return p.UserID, p.UserID != ""
	case dkRequestedRegion:
		return ir.Region, ir.Region != ""
	case dkUserAgent:
		return ir.UserAgent, ir.UserAgent != ""
	case dkResourceAccount:
		return ec.acct, ec.acct != ""
	}
	// The rest describe temporary credentials; a long-term access key carries none of them,
	// so aws:MultiFactorAuthPresent is absent (not "false") for it, as on AWS.
	s := p.Session
	if s == nil {
		return "", false
	}
	switch dk {
	case dkTokenIssueTime:
		if s.Issued.IsZero() {
			return "", false
		}
		return s.Issued.UTC().Format(time.RFC3339), true
	case dkMFAPresent:
		return strconv.FormatBool(!s.MFAAt.IsZero()), true
	case dkMFAAge:
		if s.MFAAt.IsZero() || ir.Time.IsZero() {
			return "", false
		}
		age := int64(ir.Time.Sub(s.MFAAt) / time.Second)
		if age < 0 {
			age = 0
		}
		return strconv.FormatInt(age, 10), true
	case dkSourceIdentity:
		return s.SourceIdentity, s.SourceIdentity != ""
	}
	return "", false
}

// variable resolves the policy variable pc: the key's single value, else its default. A key
// that is absent (or has several values) without a default makes the element match nothing.
func (ec *evalCtx) variable(pc *piece) (string, bool) {
	if ec == nil {
		return "", false
	}
	vals := ec.lookup(pc.key)
	if len(vals) == 1 {
		return vals[0], true
	}
	if pc.hasDefault {
		return pc.lit, true
	}
	if len(vals) == 0 {
		ec.miss(pc.name)
	}
	return "", false
}

// miss records a key a condition or variable needed that the request lacked.
func (ec *evalCtx) miss(key string) {
	for _, k := range ec.missing {
		if strings.EqualFold(k, key) {
			return
		}
	}
	ec.missing = append(ec.missing, key)
}
