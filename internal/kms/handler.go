package kms

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

// Handler is the KMS JSON 1.1 front-end: POST / with X-Amz-Target: TrentService.<Op>.
type Handler struct{ svc *Service }

// NewHandler returns the front-end for s.
func NewHandler(s *Service) *Handler { return &Handler{svc: s} }

// Protocol is AWS JSON 1.1.
func (h *Handler) Protocol() awsproto.Protocol { return awsproto.JSON11 }

// Service is the SigV4 scope KMS is signed for.
func (h *Handler) Service() string { return "kms" }

// TargetPrefix is the X-Amz-Target prefix of KMS's operations.
func (h *Handler) TargetPrefix() string { return targetPrefix }

const targetPrefix = "TrentService."

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
	"CreateKey":                       op((*Service).createKey),
	"DescribeKey":                     op((*Service).describeKey),
	"ListKeys":                        op((*Service).listKeys),
	"EnableKey":                       op((*Service).enableKey),
	"DisableKey":                      op((*Service).disableKey),
	"UpdateKeyDescription":            op((*Service).updateKeyDescription),
	"ScheduleKeyDeletion":             op((*Service).scheduleKeyDeletion),
	"CancelKeyDeletion":               op((*Service).cancelKeyDeletion),
	"GetKeyPolicy":                    op((*Service).getKeyPolicy),
	"PutKeyPolicy":                    op((*Service).putKeyPolicy),
	"ListKeyPolicies":                 op((*Service).listKeyPolicies),
	"TagResource":                     op((*Service).tagResource),
	"UntagResource":                   op((*Service).untagResource),
	"ListResourceTags":                op((*Service).listResourceTags),
	"CreateAlias":                     op((*Service).createAlias),
	"UpdateAlias":                     op((*Service).updateAlias),
	"DeleteAlias":                     op((*Service).deleteAlias),
	"ListAliases":                     op((*Service).listAliases),
	"Encrypt":                         op((*Service).encryptOp),
	"Decrypt":                         op((*Service).decryptOp),
	"GenerateDataKey":                 op((*Service).generateDataKey),
	"GenerateDataKeyWithoutPlaintext": op((*Service).generateDataKeyWithoutPlaintext),
	"ReEncrypt":                       op((*Service).reEncrypt),
	"GenerateRandom":                  op((*Service).generateRandom),
	"EnableKeyRotation":               op((*Service).enableKeyRotation),
	"DisableKeyRotation":              op((*Service).disableKeyRotation),
	"GetKeyRotationStatus":            op((*Service).getKeyRotationStatus),
	"RotateKeyOnDemand":               op((*Service).rotateKeyOnDemand),
	"ListKeyRotations":                op((*Service).listKeyRotations),
}

// Operations names every operation the front-end serves.
func (h *Handler) Operations() []string { return slices.Sorted(maps.Keys(operations)) }

// ServeAWS serves one KMS call.
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
	// Plaintexts (Decrypt, GenerateDataKey, GenerateRandom) do not outlive the response.
	if z, ok := out.(interface{ zero() }); ok {
		defer z.zero()
	}
	return awsproto.WriteJSON(w, awsproto.JSON11, out)
}
