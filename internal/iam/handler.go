package iam

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
)

const (
	apiVersion = "2010-05-08"
	xmlns      = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// Handler is the IAM Query front-end: POST / with Action=<Op>&Version=2010-05-08, answered in
// XML. It only decodes, calls the Service, and encodes.
type Handler struct{ svc *Service }

// NewHandler returns the front-end for s.
func NewHandler(s *Service) *Handler { return &Handler{svc: s} }

// Protocol is the AWS Query protocol.
func (h *Handler) Protocol() awsproto.Protocol { return awsproto.Query }

// Service is the SigV4 scope IAM is signed for.
func (h *Handler) Service() string { return "iam" }

// APIVersion is the Query Version of IAM calls.
func (h *Handler) APIVersion() string { return apiVersion }

// TargetPrefix is empty: the Query protocol names its operation in the form.
func (h *Handler) TargetPrefix() string { return "" }

// operation decodes one call's form and serves it.
type operation func(s *Service, ctx context.Context, form url.Values) (any, error)

// op adapts a typed Service operation to the wire.
func op[In, Out any](f func(*Service, context.Context, *In) (*Out, error)) operation {
	return func(s *Service, ctx context.Context, form url.Values) (any, error) {
		in := new(In)
		if err := decodeForm(form, in); err != nil {
			return nil, err
		}
		out, err := f(s, ctx, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

var operations = map[string]operation{
	"CreateUser":                              op((*Service).CreateUser),
	"GetUser":                                 op((*Service).GetUser),
	"ListUsers":                               op((*Service).ListUsers),
	"UpdateUser":                              op((*Service).UpdateUser),
	"DeleteUser":                              op((*Service).DeleteUser),
	"TagUser":                                 op((*Service).TagUser),
	"UntagUser":                               op((*Service).UntagUser),
	"ListUserTags":                            op((*Service).ListUserTags),
	"CreateGroup":                             op((*Service).CreateGroup),
	"GetGroup":                                op((*Service).GetGroup),
	"ListGroups":                              op((*Service).ListGroups),
	"UpdateGroup":                             op((*Service).UpdateGroup),
	"DeleteGroup":                             op((*Service).DeleteGroup),
	"AddUserToGroup":                          op((*Service).AddUserToGroup),
	"RemoveUserFromGroup":                     op((*Service).RemoveUserFromGroup),
	"ListGroupsForUser":                       op((*Service).ListGroupsForUser),
	"CreateRole":                              op((*Service).CreateRole),
	"GetRole":                                 op((*Service).GetRole),
	"ListRoles":                               op((*Service).ListRoles),
	"UpdateRole":                              op((*Service).UpdateRole),
	"UpdateRoleDescription":                   op((*Service).UpdateRoleDescription),
	"UpdateAssumeRolePolicy":                  op((*Service).UpdateAssumeRolePolicy),
	"DeleteRole":                              op((*Service).DeleteRole),
	"TagRole":                                 op((*Service).TagRole),
	"UntagRole":                               op((*Service).UntagRole),
	"ListRoleTags":                            op((*Service).ListRoleTags),
	"PutUserPolicy":                           op((*Service).PutUserPolicy),
	"GetUserPolicy":                           op((*Service).GetUserPolicy),
	"ListUserPolicies":                        op((*Service).ListUserPolicies),
	"DeleteUserPolicy":                        op((*Service).DeleteUserPolicy),
	"PutGroupPolicy":                          op((*Service).PutGroupPolicy),
	"GetGroupPolicy":                          op((*Service).GetGroupPolicy),
	"ListGroupPolicies":                       op((*Service).ListGroupPolicies),
	"DeleteGroupPolicy":                       op((*Service).DeleteGroupPolicy),
	"PutRolePolicy":                           op((*Service).PutRolePolicy),
	"GetRolePolicy":                           op((*Service).GetRolePolicy),
	"ListRolePolicies":                        op((*Service).ListRolePolicies),
	"DeleteRolePolicy":                        op((*Service).DeleteRolePolicy),
	"CreatePolicy":                            op((*Service).CreatePolicy),
	"GetPolicy":                               op((*Service).GetPolicy),
	"ListPolicies":                            op((*Service).ListPolicies),
	"DeletePolicy":                            op((*Service).DeletePolicy),
	"CreatePolicyVersion":                     op((*Service).CreatePolicyVersion),
	"GetPolicyVersion":                        op((*Service).GetPolicyVersion),
	"ListPolicyVersions":                      op((*Service).ListPolicyVersions),
	"DeletePolicyVersion":                     op((*Service).DeletePolicyVersion),
	"SetDefaultPolicyVersion":                 op((*Service).SetDefaultPolicyVersion),
	"TagPolicy":                               op((*Service).TagPolicy),
	"UntagPolicy":                             op((*Service).UntagPolicy),
	"ListPolicyTags":                          op((*Service).ListPolicyTags),
	"AttachUserPolicy":                        op((*Service).AttachUserPolicy),
	"DetachUserPolicy":                        op((*Service).DetachUserPolicy),
	"ListAttachedUserPolicies":                op((*Service).ListAttachedUserPolicies),
	"AttachGroupPolicy":                       op((*Service).AttachGroupPolicy),
	"DetachGroupPolicy":                       op((*Service).DetachGroupPolicy),
	"ListAttachedGroupPolicies":               op((*Service).ListAttachedGroupPolicies),
	"AttachRolePolicy":                        op((*Service).AttachRolePolicy),
	"DetachRolePolicy":                        op((*Service).DetachRolePolicy),
	"ListAttachedRolePolicies":                op((*Service).ListAttachedRolePolicies),
	"ListEntitiesForPolicy":                   op((*Service).ListEntitiesForPolicy),
	"CreateAccessKey":                         op((*Service).CreateAccessKey),
	"ListAccessKeys":                          op((*Service).ListAccessKeys),
	"UpdateAccessKey":                         op((*Service).UpdateAccessKey),
	"DeleteAccessKey":                         op((*Service).DeleteAccessKey),
	"GetAccessKeyLastUsed":                    op((*Service).GetAccessKeyLastUsed),
	"CreateVirtualMFADevice":                  op((*Service).CreateVirtualMFADevice),
	"EnableMFADevice":                         op((*Service).EnableMFADevice),
	"ListMFADevices":                          op((*Service).ListMFADevices),
	"ListVirtualMFADevices":                   op((*Service).ListVirtualMFADevices),
	"DeactivateMFADevice":                     op((*Service).DeactivateMFADevice),
	"DeleteVirtualMFADevice":                  op((*Service).DeleteVirtualMFADevice),
	"CreateLoginProfile":                      op((*Service).CreateLoginProfile),
	"GetLoginProfile":                         op((*Service).GetLoginProfile),
	"UpdateLoginProfile":                      op((*Service).UpdateLoginProfile),
	"DeleteLoginProfile":                      op((*Service).DeleteLoginProfile),
	"CreateOpenIDConnectProvider":             op((*Service).CreateOpenIDConnectProvider),
	"GetOpenIDConnectProvider":                op((*Service).GetOpenIDConnectProvider),
	"ListOpenIDConnectProviders":              op((*Service).ListOpenIDConnectProviders),
	"DeleteOpenIDConnectProvider":             op((*Service).DeleteOpenIDConnectProvider),
	"AddClientIDToOpenIDConnectProvider":      op((*Service).AddClientIDToOpenIDConnectProvider),
	"RemoveClientIDFromOpenIDConnectProvider": op((*Service).RemoveClientIDFromOpenIDConnectProvider),
	"UpdateOpenIDConnectProviderThumbprint":   op((*Service).UpdateOpenIDConnectProviderThumbprint),
	"TagOpenIDConnectProvider":                op((*Service).TagOpenIDConnectProvider),
	"UntagOpenIDConnectProvider":              op((*Service).UntagOpenIDConnectProvider),
	"ListOpenIDConnectProviderTags":           op((*Service).ListOpenIDConnectProviderTags),
	"GetAccountAuthorizationDetails":          op((*Service).GetAccountAuthorizationDetails),
	"SimulatePrincipalPolicy":                 op((*Service).SimulatePrincipalPolicy),
	"SimulateCustomPolicy":                    op((*Service).SimulateCustomPolicy),
}

// Operations returns the names of the IAM actions the front-end serves, sorted.
func Operations() []string {
	names := make([]string, 0, len(operations))
	for name := range operations {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// ServeAWS serves one IAM call.
func (h *Handler) ServeAWS(w http.ResponseWriter, r *http.Request) error {
	form, err := awsproto.ParseForm(r)
	if err != nil {
		return err
	}
	action := form.Get("Action")
	ctx := r.Context()
	awsproto.SetOperation(ctx, action)
	serve := operations[action]
	switch {
	case action == "":
		return awserr.New(awserr.InvalidAction, "Could not find operation for the request.")
	case serve == nil || form.Get("Version") != apiVersion:
		return awserr.Newf(awserr.InvalidAction, "Could not find operation %s for version %s", action, form.Get("Version"))
	}
	out, err := serve(h.svc, ctx, form)
	if err != nil {
		return err
	}
	return writeResponse(w, action, awsproto.InfoFrom(ctx).RequestID, out)
}

// writeResponse writes <ActionResponse><ActionResult>out</ActionResult><ResponseMetadata>…,
// leaving the result out for operations that return nothing.
func writeResponse(w http.ResponseWriter, action, requestID string, out any) error {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<" + action + `Response xmlns="` + xmlns + `">`)
	if _, none := out.(*Empty); !none {
		enc := xml.NewEncoder(&b)
		if err := enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return err
		}
		if err := enc.Flush(); err != nil {
			return err
		}
	}
	b.WriteString("<ResponseMetadata><RequestId>")
	if err := xml.EscapeText(&b, []byte(requestID)); err != nil {
		return err
	}
	b.WriteString("</RequestId></ResponseMetadata></" + action + "Response>")
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b.Bytes())
	return err
}
