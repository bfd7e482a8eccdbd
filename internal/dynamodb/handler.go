package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/dynamodb/item"
)

// Handler is the DynamoDB JSON 1.0 front-end: X-Amz-Target: DynamoDB_20120810.<Op>.
type Handler struct{ svc *Service }

// NewHandler returns the front-end for s.
func NewHandler(s *Service) *Handler { return &Handler{svc: s} }

// Protocol is DynamoDB's JSON 1.0.
func (h *Handler) Protocol() awsproto.Protocol { return awsproto.JSON10 }

// Service is the SigV4 scope DynamoDB is signed for.
func (h *Handler) Service() string { return "dynamodb" }

// TargetPrefix is the X-Amz-Target prefix of DynamoDB's operations.
func (h *Handler) TargetPrefix() string { return targetPrefix }

const targetPrefix = "DynamoDB_20120810."

// maxRequestBody matches the gateway's cap on hashed bodies; DynamoDB's own limit is 16 MB.
const maxRequestBody = 16 << 20

// maxJSONDepth bounds request nesting before decoding, so a deeply nested body cannot make
// the decoder's per-level re-scanning quadratic. Each level of an item's maps and lists is
// two JSON levels; the margin covers the request's own.
const maxJSONDepth = 2*item.MaxDepth + 16

// request is one decoded call.
type request struct {
	ctx  context.Context
	op   string
	body []byte
}

// operations decode each call's input and run the service's operation of the same name.
var operations = map[string]func(*Handler, *request) (any, error){
	"CreateTable":               call((*Service).CreateTable),
	"DescribeTable":             call((*Service).DescribeTable),
	"ListTables":                call((*Service).ListTables),
	"DeleteTable":               call((*Service).DeleteTable),
	"UpdateTable":               call((*Service).UpdateTable),
	"PutItem":                   call((*Service).PutItem),
	"GetItem":                   call((*Service).GetItem),
	"DeleteItem":                call((*Service).DeleteItem),
	"UpdateItem":                call((*Service).UpdateItem),
	"Query":                     call((*Service).Query),
	"Scan":                      call((*Service).Scan),
	"BatchWriteItem":            call((*Service).BatchWriteItem),
	"BatchGetItem":              call((*Service).BatchGetItem),
	"TagResource":               call((*Service).TagResource),
	"UntagResource":             call((*Service).UntagResource),
	"ListTagsOfResource":        call((*Service).ListTagsOfResource),
	"DescribeTimeToLive":        call((*Service).DescribeTimeToLive),
	"DescribeContinuousBackups": call((*Service).DescribeContinuousBackups),
}

// call adapts a typed operation to the front-end: decode the input, run, return the output.
func call[In, Out any](op func(*Service, context.Context, *In) (Out, error)) func(*Handler, *request) (any, error) {
	return func(h *Handler, rq *request) (any, error) {
		in := new(In)
		if err := decode(rq.body, in); err != nil {
			return nil, err
		}
		out, err := op(h.svc, rq.ctx, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// Operations names every operation the front-end serves.
func (h *Handler) Operations() []string { return slices.Sorted(maps.Keys(operations)) }

// ServeAWS serves one DynamoDB request.
func (h *Handler) ServeAWS(w http.ResponseWriter, r *http.Request) error {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	serve := operations[op]
	if !ok || serve == nil || r.Method != http.MethodPost {
		return awserr.Newf(awserr.UnknownOperationException, "The operation %q is not supported by this server.", op)
	}
	awsproto.SetOperation(r.Context(), op)
	rq := &request{ctx: r.Context(), op: op}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return err
	}
	if len(body) > maxRequestBody {
		return awserr.New(awserr.SerializationException, "Request body too large.")
	}
	if jsonDepth(body) > maxJSONDepth {
		return validation("Nesting Levels have exceeded supported limits")
	}
	rq.body = body
	out, err := serve(h, rq)
	if err != nil {
		var cf *conditionFailed
		if errors.As(err, &cf) {
			if cf.old == nil {
				return errConditionFailed()
			}
			return writeConditionFailed(w, cf.old)
		}
		return err
	}
	return awsproto.WriteJSON(w, awsproto.JSON10, out)
}

// jsonDepth is the deepest nesting of objects and arrays in b, which need not be valid JSON.
func jsonDepth(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// writeConditionFailed answers a failed condition with the item as it stood, for
// ReturnValuesOnConditionCheckFailure=ALL_OLD. awsproto's error renderer has no way to carry
// a JSON member such as Item, so this one error is written here.
func writeConditionFailed(w http.ResponseWriter, old item.Item) error {
	body := []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#` + codeConditionalFailed +
		`","message":"The conditional request failed","Item":`)
	body = old.AppendJSON(body)
	body = append(body, '}')
	hdr := w.Header()
	hdr.Set("Content-Type", "application/x-amz-json-1.0")
	hdr.Set("X-Amzn-ErrorType", codeConditionalFailed)
	hdr.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusBadRequest)
	_, err := w.Write(body)
	return err
}

// decode reads the request body into v. Malformed JSON is a SerializationException; a
// well-formed attribute value DynamoDB refuses is a ValidationException.
func decode(body []byte, v any) error {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var ie *item.Error
		if errors.As(err, &ie) {
			return awserr.New(codeValidation, ie.Msg)
		}
		return awserr.Wrap(awserr.SerializationException, "Start of structure or map found where not expected.", err)
	}
	return nil
}
