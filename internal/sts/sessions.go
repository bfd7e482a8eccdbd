package sts

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// Listing and revoking live sessions, beyond AWS (whose answer is a policy denying sessions
// issued before a time, which also works here). Both act in the caller's account. They are
// authorized as sts:ListSessions on "*" and sts:RevokeSession on what is revoked: a session's
// ARN (assumed-role/… or, for GetSessionToken, the user's), a role's ARN, or a user's ARN. A
// user may always list and revoke the sessions it started itself.

// Session is a listed session.
type Session struct {
	SessionID      string `xml:"SessionId"`
	Arn            string `xml:"Arn"`
	PrincipalArn   string `xml:"PrincipalArn"`
	ParentArn      string `xml:"ParentArn"`
	SourceIdentity string `xml:"SourceIdentity,omitempty"`
	MFA            bool   `xml:"MFA"`
	Issued         string `xml:"Issued"`
	Expiration     string `xml:"Expiration"`
	LastUsed       string `xml:"LastUsed,omitempty"`
	Revoked        string `xml:"Revoked,omitempty"`
}

func xmlTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// ListSessionsInput selects sessions: all the account's live ones, or those of a role or
// started by a user; All also lists expired and revoked ones still on record.
type ListSessionsInput struct {
	RoleArn  string
	UserName string
	All      bool
}

// ListSessionsOutput is ListSessions' response.
type ListSessionsOutput struct {
	Sessions []Session `xml:"Sessions>member"`
}

// ownSessions tells whether f selects only sessions the caller started itself.
func ownSessions(p *identity.Principal, userName string) bool {
	return p.Type == identity.User && userName != "" && strings.EqualFold(userName, p.Name)
}

// allowOwn passes a denial through unless the request is for the caller's own sessions.
func allowOwn(err error, own bool) error {
	if err != nil && own && errors.Is(err, policy.ErrDenied) {
		return nil
	}
	return err
}

// ListSessions lists the sessions in selects.
func (s *Service) ListSessions(ctx context.Context, in *ListSessionsInput) (*ListSessionsOutput, error) {
	if err := tokenSessionRefused(caller(ctx), "ListSessions"); err != nil {
		return nil, err
	}
	p := caller(ctx)
	err := s.authz.Authorize(ctx, &policy.Request{Action: "sts:ListSessions", Resource: "*"})
	if err := allowOwn(err, ownSessions(p, in.UserName)); err != nil {
		return nil, err
	}
	infos, err := s.ids.Sessions(ctx, identity.SessionFilter{AccountID: p.AccountID, RoleARN: in.RoleArn, UserName: in.UserName, Live: !in.All})
	if err != nil {
		return nil, err
	}
	out := &ListSessionsOutput{Sessions: []Session{}}
	for _, i := range infos {
		out.Sessions = append(out.Sessions, Session{SessionID: i.ID, Arn: i.ARN, PrincipalArn: i.PrincipalARN, ParentArn: i.ParentARN,
			SourceIdentity: i.SourceIdentity, MFA: i.MFA, Issued: xmlTime(i.Issued), Expiration: xmlTime(i.Expires),
			LastUsed: xmlTime(i.LastUsed), Revoked: xmlTime(i.Revoked)})
	}
	return out, nil
}

// RevokeSessionInput names what to revoke: exactly one of a session, a role's sessions, or
// the sessions a user started.
type RevokeSessionInput struct {
	SessionId string
	RoleArn   string
	UserName  string
}

// RevokeSessionOutput lists the sessions revoked.
type RevokeSessionOutput struct {
	Revoked []string `xml:"Revoked>member"`
}

// RevokeSession revokes live sessions: from the next request on, on every replica, their
// credentials are refused (ExpiredToken).
func (s *Service) RevokeSession(ctx context.Context, in *RevokeSessionInput) (*RevokeSessionOutput, error) {
	if err := tokenSessionRefused(caller(ctx), "RevokeSession"); err != nil {
		return nil, err
	}
	n := 0
	for _, v := range []string{in.SessionId, in.RoleArn, in.UserName} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return nil, awserr.New(awserr.ValidationError, "Give exactly one of SessionId, RoleArn and UserName.")
	}
	p := caller(ctx)
	f := identity.SessionFilter{AccountID: p.AccountID, ID: in.SessionId, RoleARN: in.RoleArn, UserName: in.UserName, Live: true}
	resource, own := "", ownSessions(p, in.UserName)
	switch {
	case in.SessionId != "":
		// The resource is the session's own ARN; a session of another account, or none, is
		// refused alike.
		infos, err := s.ids.Sessions(ctx, identity.SessionFilter{AccountID: p.AccountID, ID: in.SessionId})
		if err != nil {
			return nil, err
		}
		resource = "arn:aws:sts::" + p.AccountID + ":session/" + in.SessionId
		if len(infos) == 1 {
			resource = infos[0].ARN
			own = p.Type == identity.User && strings.EqualFold(infos[0].User, p.Name)
		}
	case in.RoleArn != "":
		resource = in.RoleArn
	default:
		resource = "arn:aws:iam::" + p.AccountID + ":user/" + in.UserName
	}
	err := s.authz.Authorize(ctx, &policy.Request{Action: "sts:RevokeSession", Resource: resource})
	if err := allowOwn(err, own); err != nil {
		return nil, err
	}
	ids, err := s.ids.RevokeSessions(ctx, f)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 && in.SessionId != "" {
		return nil, awserr.Newf("NoSuchEntity", "No live session %s.", in.SessionId)
	}
	s.log.Info("sessions revoked", "by", p.ARN, "sessions", ids)
	return &RevokeSessionOutput{Revoked: append([]string{}, ids...)}, nil
}
