package sts

import (
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
	apiVersion = "2011-06-15"
	xmlns      = "https://sts.amazonaws.com/doc/" + apiVersion + "/"
)

// Handler is the STS Query front-end.
type Handler struct{ svc *Service }

// NewHandler returns the front-end for svc.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Protocol is the AWS Query protocol.
func (h *Handler) Protocol() awsproto.Protocol { return awsproto.Query }

// Service is the SigV4 scope STS is signed for.
func (h *Handler) Service() string { return "sts" }

// TargetPrefix is empty: the Query protocol names its operation in the form.
func (h *Handler) TargetPrefix() string { return "" }

// operations decode each call's form and run the service's operation of the same name.
var operations = map[string]func(*Service, context.Context, url.Values) (any, error){
	"AssumeRole": func(s *Service, ctx context.Context, f url.Values) (any, error) {
		in := &AssumeRoleInput{RoleArn: f.Get("RoleArn"), RoleSessionName: f.Get("RoleSessionName"), Policy: f.Get("Policy"),
			ExternalId: f.Get("ExternalId"), SerialNumber: f.Get("SerialNumber"), TokenCode: f.Get("TokenCode"),
			SourceIdentity: f.Get("SourceIdentity"), TransitiveTagKeys: members(f, "TransitiveTagKeys", "")}
		var err error
		if in.DurationSeconds, err = intParam(f, "DurationSeconds"); err != nil {
			return nil, err
		}
		in.PolicyArns = members(f, "PolicyArns", ".arn")
		keys, values := members(f, "Tags", ".Key"), members(f, "Tags", ".Value")
		for i, k := range keys {
			t := Tag{Key: k}
			if i < len(values) {
				t.Value = values[i]
			}
			in.Tags = append(in.Tags, t)
		}
		return s.AssumeRole(ctx, in)
	},
	"AssumeRoleWithWebIdentity": func(s *Service, ctx context.Context, f url.Values) (any, error) {
		in := &AssumeRoleWithWebIdentityInput{RoleArn: f.Get("RoleArn"), RoleSessionName: f.Get("RoleSessionName"),
			WebIdentityToken: f.Get("WebIdentityToken"), ProviderId: f.Get("ProviderId"), Policy: f.Get("Policy"),
			PolicyArns: members(f, "PolicyArns", ".arn")}
		var err error
		if in.DurationSeconds, err = intParam(f, "DurationSeconds"); err != nil {
			return nil, err
		}
		return s.AssumeRoleWithWebIdentity(ctx, in)
	},
	"GetSessionToken": func(s *Service, ctx context.Context, f url.Values) (any, error) {
		in := &GetSessionTokenInput{SerialNumber: f.Get("SerialNumber"), TokenCode: f.Get("TokenCode")}
		var err error
		if in.DurationSeconds, err = intParam(f, "DurationSeconds"); err != nil {
			return nil, err
		}
		return s.GetSessionToken(ctx, in)
	},
	"GetCallerIdentity": func(s *Service, ctx context.Context, _ url.Values) (any, error) {
		return s.GetCallerIdentity(ctx, nil)
	},
	"GetAccessKeyInfo": func(s *Service, ctx context.Context, f url.Values) (any, error) {
		return s.GetAccessKeyInfo(ctx, &GetAccessKeyInfoInput{AccessKeyId: f.Get("AccessKeyId")})
	},
	"DecodeAuthorizationMessage": func(s *Service, ctx context.Context, f url.Values) (any, error) {
		return s.DecodeAuthorizationMessage(ctx, &DecodeAuthorizationMessageInput{EncodedMessage: f.Get("EncodedMessage")})
	},
	"ListSessions": func(s *Service, ctx context.Context, f url.Values) (any, error) {
		return s.ListSessions(ctx, &ListSessionsInput{RoleArn: f.Get("RoleArn"), UserName: f.Get("UserName"), All: f.Get("All") == "true"})
	},
	"RevokeSession": func(s *Service, ctx context.Context, f url.Values) (any, error) {
		return s.RevokeSession(ctx, &RevokeSessionInput{SessionId: f.Get("SessionId"), RoleArn: f.Get("RoleArn"), UserName: f.Get("UserName")})
	},
}

// Operations names every operation the front-end serves.
func Operations() []string {
	names := make([]string, 0, len(operations))
	for n := range operations {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Operations names every operation the front-end serves.
func (h *Handler) Operations() []string { return Operations() }

// members reads a Query list: name.member.1<suffix>, name.member.2<suffix>, … in order.
func members(f url.Values, name, suffix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := f[name+".member."+strconv.Itoa(i)+suffix]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

func intParam(f url.Values, name string) (*int, error) {
	v := f.Get(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, awserr.Newf(awserr.ValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a number", v, name)
	}
	return &n, nil
}

// APIVersion is the Query Version of STS calls, by which an unsigned one is told from IAM's.
func (h *Handler) APIVersion() string { return apiVersion }

// anonymous are the calls served without a signature, as AWS serves them: their caller is
// what they carry.
var anonymous = map[string]bool{"AssumeRoleWithWebIdentity": true}

// ServeAnonymous serves an unsigned request if it is AssumeRoleWithWebIdentity, and tells
// whether it was; the gateway refuses any other.
func (h *Handler) ServeAnonymous(w http.ResponseWriter, r *http.Request) (bool, error) {
	form, err := awsproto.ParseForm(r)
	if err != nil {
		return false, nil // refused as unsigned, as before it was read
	}
	if action := form.Get("Action"); !anonymous[action] {
		return false, nil
	}
	return true, h.serve(w, r, form)
}

// ServeAWS serves one STS call.
func (h *Handler) ServeAWS(w http.ResponseWriter, r *http.Request) error {
	form, err := awsproto.ParseForm(r)
	if err != nil {
		return err
	}
	return h.serve(w, r, form)
}

// serve runs the call form names and writes its response.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, form url.Values) error {
	action := form.Get("Action")
	op := operations[action]
	if op == nil {
		if action == "" {
			return awserr.New(awserr.InvalidAction, "Could not find operation for the request.")
		}
		return awserr.Newf(awserr.InvalidAction, "Could not find operation %s for version %s", action, form.Get("Version"))
	}
	awsproto.SetOperation(r.Context(), action)
	out, err := op(h.svc, r.Context(), form)
	if err != nil {
		return err
	}
	return awsproto.WriteXML(w, http.StatusOK, response{
		XMLName:   xml.Name{Local: action + "Response"},
		Xmlns:     xmlns,
		Result:    result{XMLName: xml.Name{Local: action + "Result"}, Value: out},
		RequestID: awsproto.InfoFrom(r.Context()).RequestID,
	})
}

// response is the Query envelope: <XResponse><XResult>…</XResult><ResponseMetadata>.
type response struct {
	XMLName   xml.Name
	Xmlns     string `xml:"xmlns,attr"`
	Result    result
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// result is an operation's output under the element <XResult>.
type result struct {
	XMLName xml.Name
	Value   any
}

func (r result) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	return e.EncodeElement(r.Value, xml.StartElement{Name: r.XMLName})
}
