package policy

// Evaluate decides r with the principal's policies pp (nil for none), the resource policy in
// r, and the condition keys derived from r.Caller. It reads nothing else and has no side
// effects: the simulator calls it directly.
//
// Placeholder: an account's root user may act in its own account; nothing else is allowed.
func Evaluate(r *Request, pp *PrincipalPolicies) Result {
	if alwaysAllowed(r.Action) {
		return Result{Decision: Allowed}
	}
	p := r.Caller.Principal
	if p.IsRoot() && (r.ResourceAccount == "" || r.ResourceAccount == p.AccountID) {
		return Result{Decision: Allowed}
	}
	if r.ResourceAccount != "" && r.ResourceAccount != p.AccountID {
		return Result{Decision: ImplicitDeny, Reason: NoResourceAllow}
	}
	return Result{Decision: ImplicitDeny, Reason: NoIdentityAllow}
}
