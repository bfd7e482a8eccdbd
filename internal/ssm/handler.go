package ssm

import (
	"context"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
)

// Handler is the SSM JSON 1.1 front-end: POST / with X-Amz-Target: AmazonSSM.<Op>.
type Handler struct{ svc *Service }

// NewHandler returns the front-end for s.
func NewHandler(s *Service) *Handler { return &Handler{svc: s} }

// Protocol is AWS JSON 1.1.
func (h *Handler) Protocol() awsproto.Protocol { return awsproto.JSON11 }

// Service is the SigV4 scope SSM is signed for.
func (h *Handler) Service() string { return "ssm" }

// TargetPrefix is the X-Amz-Target prefix of SSM's operations.
func (h *Handler) TargetPrefix() string { return targetPrefix }

const targetPrefix = "AmazonSSM."

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
	"PutParameter":            op((*Service).putParameter),
	"GetParameter":            op((*Service).getParameter),
	"GetParameters":           op((*Service).getParameters),
	"GetParametersByPath":     op((*Service).getParametersByPath),
	"DescribeParameters":      op((*Service).describeParameters),
	"GetParameterHistory":     op((*Service).getParameterHistory),
	"LabelParameterVersion":   op((*Service).labelParameterVersion),
	"UnlabelParameterVersion": op((*Service).unlabelParameterVersion),
	"DeleteParameter":         op((*Service).deleteParameter),
	"DeleteParameters":        op((*Service).deleteParameters),
	"AddTagsToResource":       op((*Service).addTagsToResource),
	"RemoveTagsFromResource":  op((*Service).removeTagsFromResource),
	"ListTagsForResource":     op((*Service).listTagsForResource),
}

// Operations names every operation the front-end serves.
func (h *Handler) Operations() []string { return slices.Sorted(maps.Keys(operations)) }

// ServeAWS serves one SSM call.
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
