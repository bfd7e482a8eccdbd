package policy

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stateward/stateward/internal/identity"
)

// countingSource answers with pp or err and counts the questions.
type countingSource struct {
	pp    *PrincipalPolicies
	err   error
	calls int
}

func (s *countingSource) PoliciesFor(context.Context, *identity.Principal) (*PrincipalPolicies, error) {
	s.calls++
	return s.pp, s.err
}

var (
	alice = &identity.Principal{Type: identity.User, AccountID: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice", Name: "alice"}
	root  = &identity.Principal{Type: identity.Root, AccountID: "111122223333", ARN: "arn:aws:iam::111122223333:root"}
)

func TestAuthorize(t *testing.T) {
	allowGet := &PrincipalPolicies{Identity: []Source{{ID: "p", Type: "user",
		Doc: mustParse(t, stmt(`"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`), IdentityKind)}}}
	storeErr := errors.New("store: unavailable")
	tests := []struct {
		name      string
		p         *identity.Principal
		src       *countingSource
		action    string
		wantErr   error  // matched with errors.Is
		wantMsg   string // the DeniedError's Message, when denied
		wantCalls int
	}{
		{"allowed", alice, &countingSource{pp: allowGet}, "s3:GetObject", nil, "", 1},
		{"denied", alice, &countingSource{pp: allowGet}, "s3:PutObject", ErrDenied,
			"User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k because no identity-based policy allows the s3:PutObject action", 1},
		{"store errors pass through untouched", alice, &countingSource{err: storeErr}, "s3:GetObject", storeErr, "", 1},
		{"root is never asked for policies", root, &countingSource{err: storeErr}, "s3:PutObject", nil, "", 0},
		{"GetCallerIdentity reads no policies", alice, &countingSource{err: storeErr}, "sts:GetCallerIdentity", nil, "", 0},
		{"unauthenticated", nil, &countingSource{pp: allowGet}, "s3:GetObject", ErrDenied, "Access Denied", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.p != nil {
				ctx = identity.NewContext(ctx, &identity.Request{Principal: tt.p, Time: time.Now()})
			}
			req := &Request{Action: tt.action, Resource: "arn:aws:s3:::b/k"}
			err := NewEngine(tt.src).Authorize(ctx, req)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Authorize = %v, want %v", err, tt.wantErr)
			}
			if req.Caller != nil {
				t.Error("Authorize modified the request")
			}
			if tt.src.calls != tt.wantCalls {
				t.Errorf("PoliciesFor called %d times, want %d", tt.src.calls, tt.wantCalls)
			}
			var de *DeniedError
			if errors.As(err, &de) != (tt.wantMsg != "") {
				t.Fatalf("error %v: a *DeniedError is expected exactly when denied", err)
			}
			if de != nil && de.Message() != tt.wantMsg {
				t.Errorf("Message = %q\nwant      %q", de.Message(), tt.wantMsg)
			}
			if tt.wantErr == storeErr && err != storeErr {
				t.Errorf("store error wrapped: %v", err)
			}
		})
	}
}

// TestAuthorizeReasons checks that each kind of denial reaches the client's message.
func TestAuthorizeReasons(t *testing.T) {
	denyPut := mustParse(t, stmt(`"Effect":"Deny","Action":"s3:PutObject","Resource":"*"`), IdentityKind)
	allowAll := mustParse(t, stmt(`"Effect":"Allow","Action":"*","Resource":"*"`), IdentityKind)
	bucketDeny := mustParse(t, stmt(`"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"`), ResourceKind)
	tests := []struct {
		name   string
		pp     *PrincipalPolicies
		rp     *Document
		acct   string
		suffix string
	}{
		{"identity deny", &PrincipalPolicies{Identity: []Source{{Doc: allowAll}, {Doc: denyPut}}}, nil, "", "with an explicit deny in an identity-based policy"},
		{"resource deny", &PrincipalPolicies{Identity: []Source{{Doc: allowAll}}}, bucketDeny, "", "with an explicit deny in a resource-based policy"},
		{"session deny", &PrincipalPolicies{Identity: []Source{{Doc: allowAll}}, Session: []Source{{Doc: allowAll}, {Doc: denyPut}}, HasSession: true}, nil, "",
			"with an explicit deny in a session policy"},
		{"no session allow", &PrincipalPolicies{Identity: []Source{{Doc: allowAll}}, HasSession: true}, nil, "", "because no session policy allows the s3:PutObject action"},
		{"no resource allow across accounts", &PrincipalPolicies{Identity: []Source{{Doc: allowAll}}}, nil, "444455556666", "because no resource-based policy allows the s3:PutObject action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := identity.NewContext(context.Background(), &identity.Request{Principal: alice, Time: time.Now()})
			err := NewEngine(&countingSource{pp: tt.pp}).Authorize(ctx, &Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::b/k",
				ResourcePolicy: tt.rp, ResourceAccount: tt.acct})
			var de *DeniedError
			if !errors.As(err, &de) {
				t.Fatalf("Authorize = %v, want a denial", err)
			}
			want := "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k " + tt.suffix
			if de.Message() != want {
				t.Errorf("Message = %q\nwant      %q", de.Message(), want)
			}
		})
	}
}
