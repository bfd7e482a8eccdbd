package policy

import (
	"slices"
	"strings"

	"github.com/stateward/stateward/internal/identity"
)

// principalMatch is how a resource policy statement's Principal names the caller, weakest
// first.
type principalMatch uint8

const (
	pmNone principalMatch = iota
	// pmAccount: through the caller's account ("123456789012" or its root ARN). For anyone
	// but the root user that delegates to the account's identity policies and allows nothing
	// by itself.
	pmAccount
	// pmDirect: through the role the caller's session was assumed from, or through "*". Such
	// a grant is added to the role's permissions before the session exists, so session
	// policies limit it.
	pmDirect
	// pmSelf: through the caller's own ARN (user, role session, federated user; the root
	// user through its account). Session policies do not limit it.
	pmSelf
)

// match tells how pr names p.
func (pr *Principal) match(p *identity.Principal) principalMatch {
	best := pmNone
	if pr.anyAWS {
		best = pmDirect
	}
	for _, a := range pr.accounts {
		if a == p.AccountID {
			if p.IsRoot() {
				return pmSelf
			}
			best = max(best, pmAccount)
		}
	}
	for _, arn := range pr.arns {
		if arn == p.ARN {
			return pmSelf
		}
		if p.Type == identity.AssumedRole && p.RoleARN != "" && arn == p.RoleARN {
			best = pmDirect
		}
	}
	return best
}

// excludes tells whether a NotPrincipal element leaves p out. AWS checks a caller as each of
// the identities it holds (its account, then the role, then the session), so only a list that
// names the account and the caller (the session or its role) leaves it out; the
// documentation's examples list the account next to the user or role for this reason.
func (pr *Principal) excludes(p *identity.Principal) bool {
	if pr.anyAWS {
		return true
	}
	acct := false
	for _, a := range pr.accounts {
		acct = acct || a == p.AccountID
	}
	if !acct {
		return false
	}
	if p.IsRoot() {
		return true
	}
	for _, arn := range pr.arns {
		if arn == p.ARN || p.Type == identity.AssumedRole && p.RoleARN != "" && arn == p.RoleARN {
			return true
		}
	}
	return false
}

// principalMatch tells how st's Principal or NotPrincipal names p.
func (st *Statement) principalMatch(p *identity.Principal) principalMatch {
	if p.IsWebIdentity() {
		return st.webIdentityMatch(p)
	}
	switch {
	case st.Principal != nil:
		return st.Principal.match(p)
	case st.NotPrincipal != nil:
		if st.NotPrincipal.excludes(p) {
			return pmNone
		}
		return pmDirect
	}
	return pmNone
}

// webIdentityMatch tells how st names a web identity (see identity.Principal.IsWebIdentity).
// Only a Federated entry naming its provider lets an Allow apply: neither "*" nor the account
// lets every token of every provider the account trusts assume a role. A Deny applies to it
// also through "*", or through a NotPrincipal that does not name its provider.
func (st *Statement) webIdentityMatch(p *identity.Principal) principalMatch {
	switch {
	case st.Principal != nil:
		if slices.Contains(st.Principal.Federated, p.ARN) {
			return pmSelf
		}
		if st.deny && st.Principal.anyAWS {
			return pmDirect
		}
	case st.NotPrincipal != nil:
		if st.deny && !slices.Contains(st.NotPrincipal.Federated, p.ARN) {
			return pmDirect
		}
	}
	return pmNone
}

// applies tells whether st covers the request in ec, its principal aside. Every condition is
// evaluated, even after one fails, so that Result.Missing names every key the statement
// needed.
func (st *Statement) applies(ec *evalCtx) bool {
	m := false
	for i := range st.actions {
		if st.actions[i].match(ec.r.Action, true, nil) {
			m = true
			break
		}
	}
	if m == st.notAction {
		return false
	}
	if !st.anyResource {
		m = false
		for i := range st.resources {
			if st.resources[i].match(ec.r.Resource, false, ec) {
				m = true
				break
			}
		}
		if m == st.notResource {
			return false
		}
	}
	ok := true
	for i := range st.Condition {
		c := &st.Condition[i]
		if ec.unknown(c.key) {
			// Satisfiable for an Allow; a Deny it guards may not apply.
			if st.deny {
				ok = false
			}
			continue
		}
		if !c.eval(ec) {
			ok = false
		}
	}
	return ok
}

// unknown tells whether key (lower-case) is one the request cannot know; see Request.Unknown.
func (ec *evalCtx) unknown(key string) bool {
	for _, p := range ec.r.Unknown {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// policyClass is where a policy comes from.
type policyClass uint8

const (
	classIdentity policyClass = iota
	classResource
	classSession
)

// hit is a statement that applies to the request.
type hit struct {
	class policyClass
	deny  bool
	pm    principalMatch // resource policies only
	src   int            // index in PrincipalPolicies.Identity or .Session
	stmt  int
}

// evaluation gathers the statements that apply to one request. It lives on Evaluate's stack:
// a decision allocates only its result.
type evaluation struct {
	ec evalCtx
	pp *PrincipalPolicies
	// sessionAllowing counts the session policies with an applying Allow.
	sessionAllowing int
}

// scan appends to hits the statements of d that apply, and tells whether one allows.
func (e *evaluation) scan(hits []hit, class policyClass, src int, d *Document) (_ []hit, allows bool) {
	if d == nil {
		return hits, false
	}
	p := e.ec.p
	ec := &e.ec
	for i, st := range d.Statements {
		pm := pmNone
		if class == classResource {
			if pm = st.principalMatch(p); pm == pmNone {
				continue
			}
		}
		if !st.applies(ec) {
			continue
		}
		hits = append(hits, hit{class: class, deny: st.deny, pm: pm, src: src, stmt: i})
		allows = allows || !st.deny
	}
	return hits, allows
}

// Evaluate decides r with the principal's policies pp (nil for none), the resource policy in
// r, and the condition keys derived from r.Caller. It reads nothing else and has no side
// effects: the simulator calls it directly.
//
// The logic is AWS's: an explicit Deny in any policy that applies wins. Otherwise, within the
// caller's account, an identity-based policy's Allow or a resource policy's Allow naming the
// caller allows (a grant to the account only delegates to identity policies); the root user
// needs neither. Across accounts both the caller's identity policies and the resource policy
// must allow. A session's identity-side allows must also be allowed by every session policy.
// When r.ResourcePolicyRequired, the resource policy must grant, to the caller or to its
// account.
func Evaluate(r *Request, pp *PrincipalPolicies) Result {
	if alwaysAllowed(r.Action) {
		return Result{Decision: Allowed}
	}
	if r.Caller == nil || r.Caller.Principal == nil {
		return Result{Decision: ImplicitDeny, Reason: Unauthenticated}
	}
	var buf [16]hit
	hits := buf[:0]
	e := evaluation{pp: pp}
	e.ec.init(r)
	identityAllow, allows := false, false
	if pp != nil {
		for i := range pp.Identity {
			hits, allows = e.scan(hits, classIdentity, i, pp.Identity[i].Doc)
			identityAllow = identityAllow || allows
		}
		for i := range pp.Session {
			if hits, allows = e.scan(hits, classSession, i, pp.Session[i].Doc); allows {
				e.sessionAllowing++
			}
		}
	}
	hits, _ = e.scan(hits, classResource, 0, r.ResourcePolicy)
	res := e.decide(r, hits, identityAllow)
	if len(e.ec.missing) > 0 {
		res.Missing = e.ec.missing
	}
	return res
}

func (e *evaluation) decide(r *Request, hits []hit, identityAllow bool) Result {
	// An explicit deny anywhere wins; the reason names the first kind of policy in
	// identity, resource, session order that denies.
	denied, denyClass := false, classSession
	for _, h := range hits {
		if h.deny && (!denied || h.class < denyClass) {
			denied, denyClass = true, h.class
		}
	}
	if denied {
		reason := SessionExplicitDeny
		switch denyClass {
		case classIdentity:
			reason = IdentityExplicitDeny
		case classResource:
			reason = ResourceExplicitDeny
		}
		return Result{Decision: ExplicitDeny, Reason: reason, Matched: e.matches(hits, filter{deny: true})}
	}

	p := e.ec.p
	sameAccount := e.ec.acct == p.AccountID
	// Session policies intersect with what the identity side allows; an empty list allows
	// nothing.
	sessionOK := e.pp == nil || !e.pp.HasSession || len(e.pp.Session) > 0 && e.sessionAllowing == len(e.pp.Session)
	var best principalMatch // the strongest resource-policy grant
	for _, h := range hits {
		if h.class == classResource {
			best = max(best, h.pm)
		}
	}
	deny := func(reason Reason) Result { return Result{Decision: ImplicitDeny, Reason: reason} }
	allow := func(f filter) Result { return Result{Decision: Allowed, Matched: e.matches(hits, f)} }
	const all = 1<<classIdentity | 1<<classResource | 1<<classSession

	if p.IsRoot() {
		// The root user's identity side always allows; only a resource policy can stand in
		// its way, when it is required or the resource is another account's.
		if (!sameAccount || r.ResourcePolicyRequired) && best == pmNone {
			return deny(NoResourceAllow)
		}
		if !sessionOK {
			return deny(NoSessionAllow)
		}
		return allow(filter{classes: 1<<classResource | 1<<classSession})
	}

	if !sameAccount {
		// Both sides must allow; the resource side may grant to the caller's account.
		switch {
		case best == pmNone:
			return deny(NoResourceAllow)
		case !identityAllow:
			return deny(NoIdentityAllow)
		case !sessionOK:
			return deny(NoSessionAllow)
		}
		return allow(filter{classes: all})
	}

	// Same account. A grant naming the caller's own ARN is not limited by session policies.
	if best == pmSelf {
		return allow(filter{classes: 1 << classResource, pm: pmSelf})
	}
	direct := best == pmDirect
	switch {
	case r.ResourcePolicyRequired && best == pmNone:
		return deny(NoResourceAllow)
	case !direct && !identityAllow:
		// Without a direct grant the identity policies decide; a grant to the account (the
		// only other kind here) delegates to them.
		return deny(NoIdentityAllow)
	case !sessionOK:
		return deny(NoSessionAllow)
	}
	if r.ResourcePolicyRequired {
		return allow(filter{classes: all})
	}
	return allow(filter{classes: all, pm: pmDirect})
}

// filter picks the hits a Result lists.
type filter struct {
	deny    bool  // the denying statements; otherwise the allowing ones
	classes uint8 // of these classes (1<<policyClass); all when zero
	// pm, when set, is the one kind of resource-policy grant to list.
	pm principalMatch
}

func (f filter) keep(h hit) bool {
	if h.deny != f.deny || f.classes != 0 && f.classes&(1<<h.class) == 0 {
		return false
	}
	return h.class != classResource || f.pm == pmNone || h.pm == f.pm
}

// matches lists the hits f keeps, in the order they were found.
func (e *evaluation) matches(hits []hit, f filter) []Match {
	n := 0
	for _, h := range hits {
		if f.keep(h) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]Match, 0, n)
	for _, h := range hits {
		if !f.keep(h) {
			continue
		}
		var src Source
		switch h.class {
		case classIdentity:
			src = e.pp.Identity[h.src]
		case classSession:
			src = e.pp.Session[h.src]
		default:
			src = Source{Type: "resource", Doc: e.ec.r.ResourcePolicy}
		}
		out = append(out, Match{Source: src, Statement: h.stmt})
	}
	return out
}
