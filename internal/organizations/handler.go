package organizations

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
)

// Handler is the Organizations JSON 1.1 front-end: POST / with
// X-Amz-Target: AWSOrganizationsV20161128.<Op>, signed for the service "organizations".
type Handler struct{ svc *Service }

// NewHandler returns the front-end for s.
func NewHandler(s *Service) *Handler { return &Handler{svc: s} }

// Service is the SigV4 scope Organizations is signed for.
func (h *Handler) Service() string { return "organizations" }

// Protocol is AWS JSON 1.1.
func (h *Handler) Protocol() awsproto.Protocol { return awsproto.JSON11 }

// TargetPrefix is the X-Amz-Target prefix of Organizations' operations.
func (h *Handler) TargetPrefix() string { return targetPrefix }

const targetPrefix = "AWSOrganizationsV20161128."

// operation decodes one call's JSON body and serves it.
type operation func(s *Service, ctx context.Context, body io.Reader) (any, error)

// op adapts a service method to an operation.
func op[In, Out any](f func(*Service, context.Context, *In) (*Out, error)) operation {
	return func(s *Service, ctx context.Context, body io.Reader) (any, error) {
		in := new(In)
		if err := awsproto.DecodeJSON(body, in); err != nil {
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
	"CreateOrganization":          op((*Service).CreateOrganization),
	"DescribeOrganization":        op((*Service).DescribeOrganization),
	"CreateAccount":               op((*Service).CreateAccount),
	"DescribeCreateAccountStatus": op((*Service).DescribeCreateAccountStatus),
	"ListCreateAccountStatus":     op((*Service).ListCreateAccountStatus),
	"ListAccounts":                op((*Service).ListAccounts),
	"DescribeAccount":             op((*Service).DescribeAccount),
	"ListRoots":                   op((*Service).ListRoots),
	"ListParents":                 op((*Service).ListParents),
	"ListChildren":                op((*Service).ListChildren),
}

// ServeAWS serves one Organizations call.
func (h *Handler) ServeAWS(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	serve := operations[name]
	if !ok || serve == nil || r.Method != http.MethodPost {
		return awserr.New(awserr.UnknownOperationException, "The requested operation is not supported by this server.")
	}
	ctx := r.Context()
	awsproto.SetOperation(ctx, name)
	out, err := serve(h.svc, ctx, r.Body)
	if err != nil {
		return err
	}
	return awsproto.WriteJSON(w, awsproto.JSON11, out)
}
