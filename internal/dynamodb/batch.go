package dynamodb

import (
	"context"
	"maps"
	"slices"

	"github.com/stateward/stateward/internal/dynamodb/expr"
	"github.com/stateward/stateward/internal/dynamodb/item"
	"github.com/stateward/stateward/internal/storage"
)

// BatchWriteItem and BatchGetItem, as scripts use them to clear or copy lock tables.
// DynamoDB runs each request of a batch on its own and may hand some back unprocessed; here a
// whole batch is validated first and then runs in one store transaction, so it is applied
// whole or not at all, and a write batch never leaves anything unprocessed.

// DynamoDB's limits on one batch.
const (
	maxBatchWrite       = 25
	maxBatchGet         = 100
	maxBatchGetResponse = 16 << 20 // bytes of items returned; keys past it come back as UnprocessedKeys
)

type BatchWriteItemInput struct {
	RequestItems                map[string][]WriteRequest `json:"RequestItems"`
	ReturnConsumedCapacity      string                    `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics string                    `json:"ReturnItemCollectionMetrics"`
}

type WriteRequest struct {
	PutRequest    *struct{ Item item.Item } `json:"PutRequest,omitempty"`
	DeleteRequest *struct{ Key item.Item }  `json:"DeleteRequest,omitempty"`
}

type BatchWriteItemOutput struct {
	UnprocessedItems map[string][]WriteRequest `json:"UnprocessedItems"`
	ConsumedCapacity []*consumedCapacity       `json:"ConsumedCapacity,omitempty"`
}

type BatchGetItemInput struct {
	RequestItems           map[string]*KeysAndAttributes `json:"RequestItems"`
	ReturnConsumedCapacity string                        `json:"ReturnConsumedCapacity"`
}

type KeysAndAttributes struct {
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames,omitempty"`
	Keys                     []item.Item       `json:"Keys"`
	ConsistentRead           bool              `json:"ConsistentRead,omitempty"`
	ProjectionExpression     *string           `json:"ProjectionExpression,omitempty"`
	AttributesToGet          []string          `json:"AttributesToGet,omitempty"`
}

type BatchGetItemOutput struct {
	Responses        map[string][]item.Item        `json:"Responses"`
	UnprocessedKeys  map[string]*KeysAndAttributes `json:"UnprocessedKeys"`
	ConsumedCapacity []*consumedCapacity           `json:"ConsumedCapacity,omitempty"`
}

// batchTable is one table's share of a batch, resolved and authorized.
type batchTable struct {
	account string
	t       *tableRecord
	ops     []batchOp
}

// batchOp is one item of a batch: a put (whole, rec set), a delete, or a get.
type batchOp struct {
	attrs item.Item // the Item of a put, the Key otherwise
	whole bool
	key   itemKey
	rec   []byte
}

func errBatchSize(param string, limit int) error {
	return validation("1 validation error detected: Value at '%s' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to %d, Member must have length greater than or equal to 1]", param, limit)
}

func errDuplicateKeys() error {
	return validation("Provided list of item keys contains duplicates")
}

// batchTables resolves and authorizes every table a batch names as dynamodb:<op>, in name
// order (so the first error is always the same), with each table's keys as its LeadingKeys;
// the items of a lock table are also authorized as their states (write or read).
func batchTables[V any](ctx context.Context, s *Service, op string, write bool, items map[string]V, ops func(V) []batchOp) ([]*batchTable, error) {
	var out []*batchTable
	for _, name := range slices.Sorted(maps.Keys(items)) {
		list := ops(items[name])
		account, t, err := s.itemOp(ctx, op, name, func(t *tableRecord) []string {
			keys := []string{}
			for _, op := range list {
				keys = append(keys, leadingFrom(op.attrs)(t)...)
			}
			return keys
		})
		if err != nil {
			return nil, err
		}
		attrs := make([]item.Item, len(list))
		for i, op := range list {
			attrs[i] = op.attrs
		}
		if err := s.authorizeLocks(ctx, t, lockIDsOf(attrs...), write); err != nil {
			return nil, err
		}
		bt := &batchTable{account: account, t: t}
		seen := map[string]bool{}
		for _, op := range list {
			if op.key, err = t.keyOf(op.attrs, op.whole); err != nil {
				return nil, err
			}
			if seen[string(op.key.store)] {
				return nil, errDuplicateKeys()
			}
			seen[string(op.key.store)] = true
			bt.ops = append(bt.ops, op)
		}
		out = append(out, bt)
	}
	return out, nil
}

// BatchWriteItem applies up to 25 puts and deletes across tables, all or none.
func (s *Service) BatchWriteItem(ctx context.Context, in *BatchWriteItemInput) (*BatchWriteItemOutput, error) {
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	n := 0
	for _, reqs := range in.RequestItems {
		if len(reqs) == 0 {
			return nil, errBatchSize("requestItems", maxBatchWrite)
		}
		n += len(reqs)
	}
	if n == 0 || n > maxBatchWrite {
		return nil, errBatchSize("requestItems", maxBatchWrite)
	}
	// Every request is checked before anything is written: a bad one fails the batch.
	for _, reqs := range in.RequestItems {
		for _, r := range reqs {
			switch {
			case (r.PutRequest == nil) == (r.DeleteRequest == nil):
				return nil, validation("Supplied WriteRequest must have exactly one of PutRequest or DeleteRequest set")
			case r.PutRequest != nil:
				it := r.PutRequest.Item
				if it == nil {
					return nil, validation("1 validation error detected: Value null at 'requestItems.1.member.putRequest.item' failed to satisfy constraint: Member must not be null")
				}
				if err := checkAttributeNames(it); err != nil {
					return nil, err
				}
				if err := it.Validate(); err != nil {
					return nil, classify(err)
				}
			case r.DeleteRequest.Key == nil:
				return nil, validation("1 validation error detected: Value null at 'requestItems.1.member.deleteRequest.key' failed to satisfy constraint: Member must not be null")
			}
		}
	}
	tables, err := batchTables(ctx, s, "BatchWriteItem", true, in.RequestItems, func(reqs []WriteRequest) []batchOp {
		var ops []batchOp
		for _, r := range reqs {
			if r.PutRequest != nil {
				ops = append(ops, batchOp{attrs: r.PutRequest.Item, whole: true, rec: encodeItem(r.PutRequest.Item)})
			} else {
				ops = append(ops, batchOp{attrs: r.DeleteRequest.Key})
			}
		}
		return ops
	})
	if err != nil {
		return nil, err
	}
	out := &BatchWriteItemOutput{UnprocessedItems: map[string][]WriteRequest{}}
	for _, bt := range tables {
		units := 0.0
		for _, op := range bt.ops {
			size := 0 // a delete costs one unit
			if op.rec != nil {
				size = op.attrs.Size()
			}
			units += writeUnits(size)
		}
		if c := consumed(in.ReturnConsumedCapacity, bt.t.Name, units, true); c != nil {
			out.ConsumedCapacity = append(out.ConsumedCapacity, c)
		}
	}
	if err := s.batchWrite(ctx, tables); err != nil {
		return nil, err
	}
	return out, nil
}

// batchWrite applies every put and delete of tables in one transaction. A table deleted
// since authorization refuses the whole batch before anything is written.
func (s *Service) batchWrite(ctx context.Context, tables []*batchTable) error {
	var refusal error
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		refusal = nil
		for _, bt := range tables {
			gone, err := s.tableGone(tx, bt)
			if err != nil {
				return err
			}
			if gone {
				refusal = errTableNotFound()
				return nil
			}
		}
		for _, bt := range tables {
			for _, op := range bt.ops {
				var err error
				if op.rec != nil {
					err = tx.Put(op.key.store, op.rec)
				} else {
					err = tx.Delete(op.key.store)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return refusal
}

// tableGone tells whether bt's table was deleted (or deleted and created again) since it
// was authorized: its keys were computed for the table that was.
func (s *Service) tableGone(tx storage.Tx, bt *batchTable) (bool, error) {
	t, err := getTable(tx, bt.account, s.region, bt.t.Name)
	if isNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return t.ID != bt.t.ID, nil
}

// BatchGetItem reads up to 100 items across tables in one snapshot.
func (s *Service) BatchGetItem(ctx context.Context, in *BatchGetItemInput) (*BatchGetItemOutput, error) {
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	n := 0
	projections := map[string]*expr.Projection{}
	for name, ka := range in.RequestItems {
		if ka == nil || len(ka.Keys) == 0 {
			return nil, errBatchSize("requestItems."+name+".member.keys", maxBatchGet)
		}
		n += len(ka.Keys)
		if ka.ProjectionExpression != nil && ka.AttributesToGet != nil {
			return nil, validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
		}
		ex, err := parseExprs(expressionParams{ExpressionAttributeNames: ka.ExpressionAttributeNames}, exprSources{projection: ka.ProjectionExpression})
		if err != nil {
			return nil, err
		}
		projections[name] = ex.proj
		if ka.AttributesToGet != nil {
			projections[name] = expr.NewProjection(ka.AttributesToGet)
		}
	}
	if n == 0 || n > maxBatchGet {
		return nil, validation("Too many items requested for the BatchGetItem call")
	}
	tables, err := batchTables(ctx, s, "BatchGetItem", false, in.RequestItems, func(ka *KeysAndAttributes) []batchOp {
		ops := make([]batchOp, len(ka.Keys))
		for i, k := range ka.Keys {
			ops[i].attrs = k
		}
		return ops
	})
	if err != nil {
		return nil, err
	}
	out := &BatchGetItemOutput{Responses: map[string][]item.Item{}, UnprocessedKeys: map[string]*KeysAndAttributes{}}
	units := make([]float64, len(tables))
	err = s.store.View(ctx, func(tx storage.Tx) error {
		clear(out.Responses)
		clear(out.UnprocessedKeys)
		size := 0
		for i, bt := range tables {
			units[i] = 0
			if gone, err := s.tableGone(tx, bt); err != nil {
				return err
			} else if gone {
				return errTableNotFound()
			}
			ka := in.RequestItems[bt.t.Name]
			found := []item.Item{}
			for j, op := range bt.ops {
				it, err := getItem(tx, op.key.store)
				if err != nil {
					return err
				}
				if it != nil {
					if p := projections[bt.t.Name]; p != nil {
						it = p.Apply(it)
					}
					if size+it.Size() > maxBatchGetResponse {
						rest := *ka
						rest.Keys = ka.Keys[j:]
						out.UnprocessedKeys[bt.t.Name] = &rest
						break
					}
					size += it.Size()
					found = append(found, it)
				}
				units[i] += readUnits(it.Size(), ka.ConsistentRead)
			}
			out.Responses[bt.t.Name] = found
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, bt := range tables {
		if c := consumed(in.ReturnConsumedCapacity, bt.t.Name, units[i], false); c != nil {
			out.ConsumedCapacity = append(out.ConsumedCapacity, c)
		}
	}
	return out, nil
}
