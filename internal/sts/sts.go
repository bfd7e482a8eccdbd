// Package sts is the STS Query API front-end: GetCallerIdentity now; AssumeRole and session
// tokens come with the identity issue.
package sts

import (
	"context"
	"encoding/xml"
	"net/http"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

// Authorizer decides every request; see package policy.
type Authorizer interface {
	Authorize(ctx context.Context, req *policy.Request) error
}

// Handler serves STS.
type Handler struct{ authz Authorizer }

// NewHandler returns the STS front-end.
func NewHandler(authz Authorizer) *Handler { return &Handler{authz: authz} }

// Protocol is the AWS Query protocol.
func (h *Handler) Protocol() awsproto.Protocol { return awsproto.Query }

// Service is the SigV4 scope STS is signed for.
func (h *Handler) Service() string { return "sts" }

// TargetPrefix is empty: the Query protocol names its operation in the form.
func (h *Handler) TargetPrefix() string { return "" }

// Operations names every operation the front-end serves.
func (h *Handler) Operations() []string { return []string{"GetCallerIdentity"} }

// ServeAWS serves one STS call.
func (h *Handler) ServeAWS(w http.ResponseWriter, r *http.Request) error {
	form, err := awsproto.ParseForm(r)
	if err != nil {
		return err
	}
	action := form.Get("Action")
	awsproto.SetOperation(r.Context(), action)
	switch action {
	case "GetCallerIdentity":
		// No policy denies a caller its own identity; the engine still refuses no caller.
		if err := h.authz.Authorize(r.Context(), &policy.Request{Action: "sts:GetCallerIdentity", Resource: "*"}); err != nil {
			return err
		}
		caller := identity.FromContext(r.Context())
		return awsproto.WriteXML(w, http.StatusOK, getCallerIdentityResponse{
			Xmlns:     xmlns,
			Result:    callerIdentity{Arn: caller.ARN, UserID: caller.UserID, Account: caller.AccountID},
			RequestID: awsproto.InfoFrom(r.Context()).RequestID,
		})
	case "":
		return awserr.New(awserr.InvalidAction, "Could not find operation for the request.")
	}
	return awserr.Newf(awserr.InvalidAction, "Could not find operation %s for version %s", action, form.Get("Version"))
}

type callerIdentity struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

type getCallerIdentityResponse struct {
	XMLName   xml.Name       `xml:"GetCallerIdentityResponse"`
	Xmlns     string         `xml:"xmlns,attr"`
	Result    callerIdentity `xml:"GetCallerIdentityResult"`
	RequestID string         `xml:"ResponseMetadata>RequestId"`
}
