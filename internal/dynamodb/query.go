package dynamodb

import (
	"bytes"
	"context"
	"hash/fnv"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/dynamodb/expr"
	"github.com/stateward/stateward/internal/dynamodb/item"
	"github.com/stateward/stateward/internal/storage"
)

// maxPageBytes is DynamoDB's limit on the data one Query or Scan page reads.
const maxPageBytes = 1 << 20

// readRequest is what Query and Scan share once checked.
type readRequest struct {
	in      *QueryInput
	ex      *exprSet
	proj    *expr.Projection
	count   bool // Select=COUNT
	limit   int
	forward bool
	segment func(t *tableRecord, it item.Item) bool // Scan's Segment, or nil
}

func checkRead(in *QueryInput, src exprSources) (*readRequest, error) {
	if err := checkLegacy(in.legacyParams); err != nil {
		return nil, err
	}
	if in.IndexName != nil {
		return nil, validation("The table does not have the specified index: %s", *in.IndexName)
	}
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	if in.ProjectionExpression != nil && in.AttributesToGet != nil {
		return nil, validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
	}
	rq := &readRequest{in: in, limit: int(^uint(0) >> 1), forward: in.ScanIndexForward == nil || *in.ScanIndexForward}
	if in.Limit != nil {
		if *in.Limit < 1 {
			return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
		}
		rq.limit = *in.Limit
	}
	projected := in.ProjectionExpression != nil || in.AttributesToGet != nil
	switch in.Select {
	case "", "ALL_ATTRIBUTES", "SPECIFIC_ATTRIBUTES":
		if in.Select == "ALL_ATTRIBUTES" && projected {
			return nil, validation("Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES")
		}
		if in.Select == "SPECIFIC_ATTRIBUTES" && !projected {
			return nil, validation("Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
		}
	case "COUNT":
		if projected {
			return nil, validation("Cannot specify the ProjectionExpression when choosing to get only the COUNT")
		}
		rq.count = true
	case "ALL_PROJECTED_ATTRIBUTES":
		return nil, validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]", in.Select)
	}
	src.filter, src.projection = in.FilterExpression, in.ProjectionExpression
	var err error
	if rq.ex, err = parseExprs(in.expressionParams, src); err != nil {
		return nil, err
	}
	rq.proj = rq.ex.proj
	if in.AttributesToGet != nil {
		rq.proj = expr.NewProjection(in.AttributesToGet)
	}
	return rq, nil
}

// keyRange is the slice of a table's items a key condition selects.
type keyRange struct {
	hash       []byte // the storage prefix of the hash key's items
	start, end []byte
}

// queryRange checks a Query's key condition against the schema and turns it into a range of
// storage keys.
func (t *tableRecord) queryRange(terms []expr.KeyCondition) (keyRange, error) {
	hk := t.hashKey()
	rk, hasRange := t.rangeKey()
	var hashTerm, rangeTerm *expr.KeyCondition
	for i := range terms {
		tm := &terms[i]
		switch {
		case tm.Attribute == hk.AttributeName:
			if hashTerm != nil {
				return keyRange{}, validation("KeyConditionExpressions must only contain one condition per key")
			}
			hashTerm = tm
		case hasRange && tm.Attribute == rk.AttributeName:
			if rangeTerm != nil {
				return keyRange{}, validation("KeyConditionExpressions must only contain one condition per key")
			}
			rangeTerm = tm
		default:
			if hashTerm == nil && !anyAttribute(terms, hk.AttributeName) {
				return keyRange{}, validation("Query condition missed key schema element: %s", hk.AttributeName)
			}
			return keyRange{}, validation("Query key condition not supported")
		}
	}
	if hashTerm == nil {
		return keyRange{}, validation("Query condition missed key schema element: %s", hk.AttributeName)
	}
	if hashTerm.Op != "=" {
		return keyRange{}, validation("Query key condition not supported")
	}
	hv := hashTerm.Values[0]
	if hv.Type != t.attrType(hk.AttributeName) {
		return keyRange{}, validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
	}
	prefix, err := item.AppendKey(itemsPrefix(t.ID), hv)
	if err != nil {
		return keyRange{}, classify(err)
	}
	r := keyRange{hash: prefix, start: prefix, end: storage.PrefixEnd(prefix)}
	if rangeTerm == nil {
		return r, nil
	}
	rt := t.attrType(rk.AttributeName)
	enc := make([][]byte, len(rangeTerm.Values))
	for i, v := range rangeTerm.Values {
		if v.Type != rt {
			return keyRange{}, validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
		}
		if enc[i], err = item.AppendKey(bytes.Clone(prefix), v); err != nil {
			return keyRange{}, classify(err)
		}
	}
	after := func(k []byte) []byte { return append(bytes.Clone(k), 0) } // the next possible key
	switch rangeTerm.Op {
	case "=":
		r.start, r.end = enc[0], after(enc[0])
	case "<":
		r.end = enc[0]
	case "<=":
		r.end = after(enc[0])
	case ">":
		r.start = after(enc[0])
	case ">=":
		r.start = enc[0]
	case "BETWEEN":
		if c, _ := item.Compare(rangeTerm.Values[0], rangeTerm.Values[1]); c > 0 {
			return keyRange{}, validation("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound")
		}
		r.start, r.end = enc[0], after(enc[1])
	case "begins_with":
		// The parser allows only S and B operands, and the operand's type is the key's.
		p := item.AppendKeyPrefix(bytes.Clone(prefix), rangeTerm.Values[0])
		r.start, r.end = p, storage.PrefixEnd(p)
	default:
		return keyRange{}, validation("Query key condition not supported")
	}
	return r, nil
}

func anyAttribute(terms []expr.KeyCondition, name string) bool {
	for _, t := range terms {
		if t.Attribute == name {
			return true
		}
	}
	return false
}

// page is one page of evaluated items, before the filter.
type page struct {
	items []item.Item
	bytes int
	more  bool // the page stopped at a limit with items left
}

// readForward evaluates items in [start, end) in key order until Limit items or 1 MB.
func readForward(tx storage.Tx, start, end []byte, limit int, accept func(item.Item) bool) (page, error) {
	var p page
	full := false
	err := tx.Scan(start, end, func(_, v []byte) error {
		it, err := decodeItem(v)
		if err != nil {
			return err
		}
		if accept != nil && !accept(it) {
			return nil
		}
		if full {
			p.more = true
			return storage.ErrStop
		}
		n, _ := itemRecordSize(v)
		p.items = append(p.items, it)
		p.bytes += n
		full = len(p.items) >= limit || p.bytes >= maxPageBytes
		return nil
	})
	return p, err
}

// readBackward evaluates items in [start, end) in reverse key order until Limit items or
// 1 MB. The store scans forward only, so it walks the range keeping the shortest suffix that
// would have filled a page: memory stays bounded by the page, time is linear in the range.
func readBackward(tx storage.Tx, start, end []byte, limit int) (page, error) {
	type entry struct {
		rec  []byte // valid until the transaction ends
		size int
	}
	var (
		win   []entry
		head  int
		total int
		p     page
	)
	err := tx.Scan(start, end, func(_, v []byte) error {
		n, err := itemRecordSize(v)
		if err != nil {
			return err
		}
		win = append(win, entry{v, n})
		total += n
		for len(win)-head > 1 && (len(win)-head-1 >= limit || total-win[head].size >= maxPageBytes) {
			total -= win[head].size
			head++
			p.more = true
		}
		if head > 1024 && head > len(win)/2 {
			win = append(win[:0], win[head:]...)
			head = 0
		}
		return nil
	})
	if err != nil {
		return page{}, err
	}
	for i := len(win) - 1; i >= head; i-- {
		it, err := decodeItem(win[i].rec)
		if err != nil {
			return page{}, err
		}
		p.items = append(p.items, it)
	}
	p.bytes = total
	return p, nil
}

func (s *Service) query(ctx context.Context, account string, hint *tableRecord, in *QueryInput) (any, error) {
	if err := checkLegacy(in.legacyParams); err != nil {
		return nil, err
	}
	if in.KeyConditionExpression == nil {
		return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	if in.Segment != nil || in.TotalSegments != nil {
		return nil, validation("Segment and TotalSegments are Scan parameters")
	}
	rq, err := checkRead(in, exprSources{keyCondition: in.KeyConditionExpression})
	if err != nil {
		return nil, err
	}
	return s.read(ctx, account, hint, rq, true)
}

func (s *Service) scan(ctx context.Context, account string, hint *tableRecord, in *QueryInput) (any, error) {
	if in.KeyConditionExpression != nil {
		return nil, validation("KeyConditionExpression is a Query parameter")
	}
	rq, err := checkRead(in, exprSources{})
	if err != nil {
		return nil, err
	}
	rq.forward = true
	switch {
	case in.Segment == nil && in.TotalSegments == nil:
	case in.Segment == nil:
		return nil, validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	case in.TotalSegments == nil:
		return nil, validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	case *in.TotalSegments < 1 || *in.TotalSegments > 1000000:
		return nil, validation("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: Member must have value between 1 and 1000000", *in.TotalSegments)
	case *in.Segment < 0 || *in.Segment >= *in.TotalSegments:
		return nil, validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d", *in.Segment, *in.TotalSegments)
	default:
		seg, total := uint32(*in.Segment), uint32(*in.TotalSegments)
		rq.segment = func(t *tableRecord, it item.Item) bool { return segmentOf(t, it, total) == seg }
	}
	return s.read(ctx, account, hint, rq, false)
}

// segmentOf spreads items over Scan segments by a hash of their partition key.
func segmentOf(t *tableRecord, it item.Item, total uint32) uint32 {
	enc, _ := item.AppendKey(nil, it[t.hashKey().AttributeName])
	h := fnv.New32a()
	h.Write(enc)
	return h.Sum32() % total
}

func (s *Service) read(ctx context.Context, account string, hint *tableRecord, rq *readRequest, isQuery bool) (any, error) {
	in := rq.in
	var (
		p page
		t *tableRecord
	)
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		if t, err = getTable(tx, account, s.region, hint.Name); err != nil {
			return err
		}
		r := keyRange{start: itemsPrefix(t.ID), end: storage.PrefixEnd(itemsPrefix(t.ID))}
		if isQuery {
			if r, err = t.queryRange(rq.ex.keys); err != nil {
				return err
			}
			if rq.ex.filter != nil {
				for _, fp := range rq.ex.filter.Paths() {
					if t.isKey(fp.Attribute()) {
						return validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", fp.Attribute())
					}
				}
			}
		}
		if in.ExclusiveStartKey != nil {
			k, err := t.keyOf(in.ExclusiveStartKey, false)
			if err != nil {
				return validation("The provided starting key is invalid: %s", errMessage(err))
			}
			if isQuery && !bytes.HasPrefix(k.store, r.hash) {
				return validation("The provided starting key is outside query boundaries based on provided conditions")
			}
			if rq.forward {
				if next := append(bytes.Clone(k.store), 0); bytes.Compare(next, r.start) > 0 {
					r.start = next
				}
			} else if bytes.Compare(k.store, r.end) < 0 {
				r.end = k.store
			}
		}
		if bytes.Compare(r.start, r.end) >= 0 {
			p = page{}
			return nil
		}
		var accept func(item.Item) bool
		if rq.segment != nil {
			accept = func(it item.Item) bool { return rq.segment(t, it) }
		}
		if rq.forward {
			p, err = readForward(tx, r.start, r.end, rq.limit, accept)
		} else {
			p, err = readBackward(tx, r.start, r.end, rq.limit)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var matched []item.Item
	for _, it := range p.items {
		if rq.ex.filter == nil || rq.ex.filter.Eval(it) {
			if rq.proj != nil {
				it = rq.proj.Apply(it)
			}
			matched = append(matched, it)
		}
	}
	var lek item.Item
	if p.more && len(p.items) > 0 {
		lek = t.keyAttrs(p.items[len(p.items)-1])
	}
	cc := consumed(in.ReturnConsumedCapacity, t.Name, readUnits(p.bytes, in.ConsistentRead), false)
	if rq.count {
		return &queryCountOutput{Count: len(matched), ScannedCount: len(p.items), LastEvaluatedKey: lek, ConsumedCapacity: cc}, nil
	}
	if matched == nil {
		matched = []item.Item{}
	}
	return &queryOutput{Items: matched, Count: len(matched), ScannedCount: len(p.items), LastEvaluatedKey: lek, ConsumedCapacity: cc}, nil
}

// errMessage is the client message of a classified error.
func errMessage(err error) string { return awserr.As(err).Message }
