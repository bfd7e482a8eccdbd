package dynamodb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/dynamodb/expr"
	"github.com/stateward/stateward/internal/dynamodb/item"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
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
	ctx    context.Context
	op     string
	caller *identity.Principal
	body   []byte
	secure bool
}

var operations = map[string]func(*Handler, *request) (any, error){
	"CreateTable":               (*Handler).createTable,
	"DescribeTable":             (*Handler).describeTable,
	"ListTables":                (*Handler).listTables,
	"DeleteTable":               (*Handler).deleteTable,
	"UpdateTable":               (*Handler).updateTable,
	"PutItem":                   (*Handler).putItem,
	"GetItem":                   (*Handler).getItem,
	"DeleteItem":                (*Handler).deleteItem,
	"UpdateItem":                (*Handler).updateItem,
	"Query":                     (*Handler).query,
	"Scan":                      (*Handler).scan,
	"BatchWriteItem":            (*Handler).batchWriteItem,
	"BatchGetItem":              (*Handler).batchGetItem,
	"TagResource":               (*Handler).tagResource,
	"UntagResource":             (*Handler).untagResource,
	"ListTagsOfResource":        (*Handler).listTags,
	"DescribeTimeToLive":        (*Handler).describeTimeToLive,
	"DescribeContinuousBackups": (*Handler).describeContinuousBackups,
}

// ServeAWS serves one DynamoDB request.
func (h *Handler) ServeAWS(w http.ResponseWriter, r *http.Request) error {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	serve := operations[op]
	if !ok || serve == nil || r.Method != http.MethodPost {
		return awserr.Newf(awserr.UnknownOperationException, "The operation %q is not supported by this server.", op)
	}
	awsproto.SetOperation(r.Context(), op)
	rq := &request{ctx: r.Context(), op: op, caller: identity.FromContext(r.Context()), secure: r.TLS != nil}
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

// authorize asks whether the caller may run the request's operation on resource, owned by
// account, with the partition key values the request touches as dynamodb:LeadingKeys.
func (h *Handler) authorize(rq *request, account, resource string, leadingKeys []string) error {
	req := &policy.Request{Action: "dynamodb:" + rq.op, Resource: resource, ResourceAccount: account}
	if leadingKeys != nil {
		req.Keys = map[string][]string{"dynamodb:LeadingKeys": leadingKeys}
	}
	if err := h.svc.authz.Authorize(rq.ctx, req); err != nil {
		return awserr.Wrap(codeAccessDenied, "User: "+rq.caller.ARN+" is not authorized to perform: dynamodb:"+
			rq.op+" on resource: "+resource, err)
	}
	return nil
}

// tableOp resolves and authorizes a table-level request (no item keys).
func (h *Handler) tableOp(rq *request, name string) (account, table string, err error) {
	account, table, err = h.svc.tableRef(rq.caller.AccountID, name)
	if err != nil {
		return "", "", err
	}
	return account, table, h.authorize(rq, account, tableARN(h.svc.region, account, table), nil)
}

// itemOp resolves and authorizes an item request. leading returns the partition key values
// the request touches, given the table's schema. A missing table is reported only to a caller
// allowed to ask.
func (h *Handler) itemOp(rq *request, name string, leading func(t *tableRecord) []string) (string, *tableRecord, error) {
	account, table, err := h.svc.tableRef(rq.caller.AccountID, name)
	if err != nil {
		return "", nil, err
	}
	t, err := h.svc.table(rq.ctx, account, table)
	if isNotFound(err) {
		if err := h.authorize(rq, account, tableARN(h.svc.region, account, table), nil); err != nil {
			return "", nil, err
		}
		return "", nil, errTableNotFound()
	}
	if err != nil {
		return "", nil, err
	}
	var keys []string
	if leading != nil {
		keys = leading(t)
	}
	return account, t, h.authorize(rq, account, t.arn(), keys)
}

// keyString renders a key value as a condition key value.
func keyString(v item.Value) string {
	switch v.Type {
	case item.S:
		return v.S
	case item.N:
		return v.N
	case item.B:
		return base64.StdEncoding.EncodeToString(v.B)
	}
	return ""
}

// leadingFrom returns the partition key value of attrs (a Key or an Item) as LeadingKeys.
func leadingFrom(attrs item.Item) func(t *tableRecord) []string {
	return func(t *tableRecord) []string {
		if v, ok := attrs[t.hashKey().AttributeName]; ok && v.Type.IsKeyType() {
			return []string{keyString(v)}
		}
		return []string{}
	}
}

func notFoundTable(err error, name string) error {
	if isNotFound(err) {
		return awserr.Newf(codeResourceNotFound, "Requested resource not found: Table: %s not found", name)
	}
	return err
}

func (h *Handler) createTable(rq *request) (any, error) {
	var in createTableInput
	if err := decode(rq.body, &in); err != nil {
		return nil, err
	}
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	account := rq.caller.AccountID
	if err := h.authorize(rq, account, tableARN(h.svc.region, account, in.TableName), nil); err != nil {
		return nil, err
	}
	d, err := h.svc.createTable(rq.ctx, account, &in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableDescription": d}, nil
}

// tableRequest decodes a request on one table and resolves and authorizes the table it names.
func tableRequest[In any](h *Handler, rq *request, name func(*In) string) (in *In, account, table string, err error) {
	in = new(In)
	if err := decode(rq.body, in); err != nil {
		return nil, "", "", err
	}
	account, table, err = h.tableOp(rq, name(in))
	return in, account, table, err
}

func tableName(in *tableNameInput) string { return in.TableName }

func (h *Handler) describeTable(rq *request) (any, error) {
	_, account, table, err := tableRequest(h, rq, tableName)
	if err != nil {
		return nil, err
	}
	d, err := h.svc.describeTable(rq.ctx, account, table)
	if err != nil {
		return nil, notFoundTable(err, table)
	}
	return map[string]any{"Table": d}, nil
}

func (h *Handler) listTables(rq *request) (any, error) {
	var in listTablesInput
	if err := decode(rq.body, &in); err != nil {
		return nil, err
	}
	account := rq.caller.AccountID
	if err := h.authorize(rq, account, tableARN(h.svc.region, account, "*"), nil); err != nil {
		return nil, err
	}
	return h.svc.listTables(rq.ctx, account, &in)
}

func (h *Handler) deleteTable(rq *request) (any, error) {
	_, account, table, err := tableRequest(h, rq, tableName)
	if err != nil {
		return nil, err
	}
	d, err := h.svc.deleteTable(rq.ctx, account, table)
	if err != nil {
		return nil, notFoundTable(err, table)
	}
	return map[string]any{"TableDescription": d}, nil
}

func (h *Handler) updateTable(rq *request) (any, error) {
	in, account, table, err := tableRequest(h, rq, func(in *updateTableInput) string { return in.TableName })
	if err != nil {
		return nil, err
	}
	d, err := h.svc.updateTable(rq.ctx, account, table, in)
	if err != nil {
		return nil, notFoundTable(err, table)
	}
	return map[string]any{"TableDescription": d}, nil
}

// itemCall serves a single-item operation: it decodes the input, authorizes it on its table
// with the item's partition key as dynamodb:LeadingKeys, and runs it.
func itemCall[In, Out any](h *Handler, rq *request, target func(*In) (table string, key item.Item),
	run func(context.Context, string, *tableRecord, *In) (Out, error)) (any, error) {
	var in In
	if err := decode(rq.body, &in); err != nil {
		return nil, err
	}
	table, key := target(&in)
	account, t, err := h.itemOp(rq, table, leadingFrom(key))
	if err != nil {
		return nil, err
	}
	return run(rq.ctx, account, t, &in)
}

func (h *Handler) putItem(rq *request) (any, error) {
	return itemCall(h, rq, func(in *putItemInput) (string, item.Item) { return in.TableName, in.Item }, h.svc.putItem)
}

func (h *Handler) getItem(rq *request) (any, error) {
	return itemCall(h, rq, func(in *getItemInput) (string, item.Item) { return in.TableName, in.Key }, h.svc.getItem)
}

func (h *Handler) deleteItem(rq *request) (any, error) {
	return itemCall(h, rq, func(in *deleteItemInput) (string, item.Item) { return in.TableName, in.Key }, h.svc.deleteItem)
}

func (h *Handler) updateItem(rq *request) (any, error) {
	return itemCall(h, rq, func(in *updateItemInput) (string, item.Item) { return in.TableName, in.Key }, h.svc.updateItem)
}

func (h *Handler) query(rq *request) (any, error) {
	var in queryInput
	if err := decode(rq.body, &in); err != nil {
		return nil, err
	}
	account, t, err := h.itemOp(rq, in.TableName, func(t *tableRecord) []string {
		// The partition key value the key condition names; an expression that does not parse
		// fails in the service before any item is read.
		if in.KeyConditionExpression == nil {
			return []string{}
		}
		env, err := expr.NewEnv(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
		if err != nil {
			return []string{}
		}
		terms, err := env.ParseKeyCondition(*in.KeyConditionExpression)
		if err != nil {
			return []string{}
		}
		for _, tm := range terms {
			if tm.Attribute == t.hashKey().AttributeName && tm.Op == "=" {
				return []string{keyString(tm.Values[0])}
			}
		}
		return []string{}
	})
	if err != nil {
		return nil, err
	}
	return h.svc.query(rq.ctx, account, t, &in)
}

func (h *Handler) scan(rq *request) (any, error) {
	var in queryInput
	if err := decode(rq.body, &in); err != nil {
		return nil, err
	}
	account, t, err := h.itemOp(rq, in.TableName, nil)
	if err != nil {
		return nil, err
	}
	return h.svc.scan(rq.ctx, account, t, &in)
}

// tagRequest decodes a tagging request and resolves and authorizes the table its ResourceArn
// names.
func (h *Handler) tagRequest(rq *request) (in *tagResourceInput, account, table string, err error) {
	in = new(tagResourceInput)
	if err := decode(rq.body, in); err != nil {
		return nil, "", "", err
	}
	if !strings.HasPrefix(in.ResourceArn, "arn:aws:dynamodb:") {
		return nil, "", "", validation("Invalid TableArn: Invalid ResourceArn provided as input %s", in.ResourceArn)
	}
	account, table, err = h.tableOp(rq, in.ResourceArn)
	return in, account, table, err
}

func (h *Handler) tagResource(rq *request) (any, error) {
	in, account, table, err := h.tagRequest(rq)
	if err != nil {
		return nil, err
	}
	return struct{}{}, h.svc.updateTags(rq.ctx, account, table, in.Tags, nil)
}

func (h *Handler) untagResource(rq *request) (any, error) {
	in, account, table, err := h.tagRequest(rq)
	if err != nil {
		return nil, err
	}
	return struct{}{}, h.svc.updateTags(rq.ctx, account, table, nil, in.TagKeys)
}

func (h *Handler) listTags(rq *request) (any, error) {
	_, account, table, err := h.tagRequest(rq)
	if err != nil {
		return nil, err
	}
	t, err := h.svc.table(rq.ctx, account, table)
	if err != nil {
		return nil, err
	}
	tags := t.Tags
	if tags == nil {
		tags = []tag{}
	}
	return map[string]any{"Tags": tags}, nil
}

// describeTimeToLive reports TTL as disabled: this server expires nothing.
func (h *Handler) describeTimeToLive(rq *request) (any, error) {
	_, account, table, err := tableRequest(h, rq, tableName)
	if err != nil {
		return nil, err
	}
	if _, err := h.svc.table(rq.ctx, account, table); err != nil {
		return nil, notFoundTable(err, table)
	}
	return map[string]any{"TimeToLiveDescription": map[string]string{"TimeToLiveStatus": "DISABLED"}}, nil
}

// describeContinuousBackups reports point-in-time recovery as disabled; stateward's own
// backups are taken of the whole data directory.
func (h *Handler) describeContinuousBackups(rq *request) (any, error) {
	_, account, table, err := tableRequest(h, rq, tableName)
	if err != nil {
		return nil, err
	}
	if _, err := h.svc.table(rq.ctx, account, table); err != nil {
		if isNotFound(err) {
			return nil, awserr.Newf("TableNotFoundException", "Table not found: %s", table)
		}
		return nil, err
	}
	return map[string]any{"ContinuousBackupsDescription": map[string]any{
		"ContinuousBackupsStatus":        "DISABLED",
		"PointInTimeRecoveryDescription": map[string]string{"PointInTimeRecoveryStatus": "DISABLED"},
	}}, nil
}
