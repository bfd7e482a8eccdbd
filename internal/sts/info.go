package sts

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// GetCallerIdentityOutput is GetCallerIdentity's response.
type GetCallerIdentityOutput struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

// GetCallerIdentity tells the caller who it is: a user, a root user, or a role session
// (arn:aws:sts::<acct>:assumed-role/<role>/<session>). No policy can deny it.
func (s *Service) GetCallerIdentity(ctx context.Context, _ *struct{}) (*GetCallerIdentityOutput, error) {
	if err := s.authz.Authorize(ctx, &policy.Request{Action: "sts:GetCallerIdentity", Resource: "*"}); err != nil {
		return nil, err
	}
	p := caller(ctx)
	return &GetCallerIdentityOutput{Arn: p.ARN, UserID: p.UserID, Account: p.AccountID}, nil
}

// GetAccessKeyInfoInput is GetAccessKeyInfo's request.
type GetAccessKeyInfoInput struct {
	AccessKeyId string
}

// GetAccessKeyInfoOutput is GetAccessKeyInfo's response.
type GetAccessKeyInfoOutput struct {
	Account string `xml:"Account"`
}

// GetAccessKeyInfo returns the account an access key id (AKIA… or ASIA…) belongs to.
func (s *Service) GetAccessKeyInfo(ctx context.Context, in *GetAccessKeyInfoInput) (*GetAccessKeyInfoOutput, error) {
	if err := tokenSessionRefused(caller(ctx), "GetAccessKeyInfo"); err != nil {
		return nil, err
	}
	if in.AccessKeyId == "" {
		return nil, required("accessKeyId")
	}
	if len(in.AccessKeyId) < 16 || len(in.AccessKeyId) > 128 {
		return nil, validation("accessKeyId", in.AccessKeyId, "Member must have length between 16 and 128")
	}
	if err := s.authz.Authorize(ctx, &policy.Request{Action: "sts:GetAccessKeyInfo", Resource: "*"}); err != nil {
		return nil, err
	}
	acct, err := s.ids.AccessKeyAccount(ctx, in.AccessKeyId)
	if err != nil {
		var e *awserr.Error
		if errors.As(err, &e) {
			return nil, err
		}
		// Unknown keys: AWS still answers for well-formed ids; here no account owns it.
		return nil, awserr.Wrap(awserr.InvalidClientTokenID, "The access key id provided does not exist in our records.", err)
	}
	return &GetAccessKeyInfoOutput{Account: acct}, nil
}

// authorizationMessage is a denial as the server logs it, sealed, and as
// DecodeAuthorizationMessage gives it back.
type authorizationMessage struct {
	Allowed      bool   `json:"allowed"`
	ExplicitDeny bool   `json:"explicitDeny"`
	Reason       string `json:"reason"`
	Matched      struct {
		Items []string `json:"items"`
	} `json:"matchedStatements"`
	Context struct {
		Principal struct {
			ID  string `json:"id"`
			ARN string `json:"arn"`
		} `json:"principal"`
		Account  string `json:"account"`
		Action   string `json:"action"`
		Resource string `json:"resource"`
	} `json:"context"`
}

var messageAAD = []byte("sts authorization message")

// EncodeAuthorizationMessage seals a denial for the log: an operator of the caller's account
// who may call sts:DecodeAuthorizationMessage reads it back in full, the logs alone do not.
func (s *Service) EncodeAuthorizationMessage(ctx context.Context, d *policy.DeniedError) string {
	var m authorizationMessage
	m.ExplicitDeny = d.Reason == policy.IdentityExplicitDeny || d.Reason == policy.ResourceExplicitDeny || d.Reason == policy.SessionExplicitDeny
	m.Reason = d.Message()
	m.Matched.Items = append([]string{}, d.Statements...)
	m.Context.Principal.ARN, m.Context.Action, m.Context.Resource = d.PrincipalARN, d.Action, d.Resource
	if p := identity.FromContext(ctx); p != nil {
		m.Context.Principal.ID, m.Context.Account = p.UserID, p.AccountID
	} else if a := strings.Split(d.PrincipalARN, ":"); len(a) > 4 {
		// An unsigned call refused (a web identity the trust policy did not let in): the
		// account is its principal's, the role's account, whose operators may read it back.
		m.Context.Account = a[4]
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(s.seal.Seal(raw, messageAAD))
}

// DecodeAuthorizationMessageInput is DecodeAuthorizationMessage's request.
type DecodeAuthorizationMessageInput struct {
	EncodedMessage string
}

// DecodeAuthorizationMessageOutput is DecodeAuthorizationMessage's response.
type DecodeAuthorizationMessageOutput struct {
	DecodedMessage string `xml:"DecodedMessage"`
}

// DecodeAuthorizationMessage reads back a denial the server logged, for a caller of the same
// account allowed sts:DecodeAuthorizationMessage.
func (s *Service) DecodeAuthorizationMessage(ctx context.Context, in *DecodeAuthorizationMessageInput) (*DecodeAuthorizationMessageOutput, error) {
	if err := tokenSessionRefused(caller(ctx), "DecodeAuthorizationMessage"); err != nil {
		return nil, err
	}
	if in.EncodedMessage == "" {
		return nil, required("encodedMessage")
	}
	if err := s.authz.Authorize(ctx, &policy.Request{Action: "sts:DecodeAuthorizationMessage", Resource: "*"}); err != nil {
		return nil, err
	}
	invalid := awserr.New("InvalidAuthorizationMessageException", "The message is not a valid authorization message issued by this server.")
	sealed, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(in.EncodedMessage))
	if err != nil {
		return nil, invalid
	}
	raw, err := s.seal.Open(sealed, messageAAD)
	if err != nil {
		return nil, invalid
	}
	var m authorizationMessage
	if err := json.Unmarshal(raw, &m); err != nil || m.Context.Account != caller(ctx).AccountID {
		return nil, invalid
	}
	return &DecodeAuthorizationMessageOutput{DecodedMessage: string(raw)}, nil
}
