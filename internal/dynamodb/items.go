package dynamodb

import (
	"context"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/dynamodb/expr"
	"github.com/stateward/stateward/internal/dynamodb/item"
	"github.com/stateward/stateward/internal/storage"
)

// checkLegacy refuses the pre-expression parameters (Expected, AttributeUpdates, …): this
// server speaks expressions only.
func checkLegacy(l legacyParams) error {
	for _, p := range []struct {
		name, instead string
		set           bool
	}{
		{"Expected", "ConditionExpression", l.Expected != nil},
		{"ConditionalOperator", "ConditionExpression", l.ConditionalOperator != nil},
		{"AttributeUpdates", "UpdateExpression", l.AttributeUpdates != nil},
		{"KeyConditions", "KeyConditionExpression", l.KeyConditions != nil},
		{"QueryFilter", "FilterExpression", l.QueryFilter != nil},
		{"ScanFilter", "FilterExpression", l.ScanFilter != nil},
	} {
		if p.set {
			return validation("The legacy parameter %s is not supported by this server; use %s instead", p.name, p.instead)
		}
	}
	return nil
}

// exprSet is a request's parsed expressions; any may be nil.
type exprSet struct {
	cond   *expr.Condition // ConditionExpression
	update *expr.Update
	filter *expr.Condition
	proj   *expr.Projection
	keys   []expr.KeyCondition
}

// exprSources are a request's expression parameters, by parameter name.
type exprSources struct {
	condition, update, filter, projection, keyCondition *string
}

// parseExprs parses every expression a request carries against one Env and refuses unused
// or misplaced placeholders, as DynamoDB does.
func parseExprs(p expressionParams, src exprSources) (*exprSet, error) {
	none := src.condition == nil && src.update == nil && src.filter == nil && src.projection == nil && src.keyCondition == nil
	if none && p.ExpressionAttributeNames != nil {
		return nil, validation("ExpressionAttributeNames can only be specified when using expressions")
	}
	if p.ExpressionAttributeValues != nil && src.condition == nil && src.update == nil && src.filter == nil && src.keyCondition == nil {
		return nil, validation("ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null")
	}
	for _, v := range p.ExpressionAttributeValues {
		if err := v.Validate(); err != nil {
			return nil, validation("ExpressionAttributeValues contains invalid value: %s", err.Error())
		}
	}
	env, err := expr.NewEnv(p.ExpressionAttributeNames, p.ExpressionAttributeValues)
	if err != nil {
		return nil, classify(err)
	}
	var out exprSet
	if src.keyCondition != nil {
		if out.keys, err = env.ParseKeyCondition(*src.keyCondition); err != nil {
			return nil, classify(err)
		}
	}
	if src.condition != nil {
		if out.cond, err = env.ParseCondition("ConditionExpression", *src.condition); err != nil {
			return nil, classify(err)
		}
	}
	if src.update != nil {
		if out.update, err = env.ParseUpdate(*src.update); err != nil {
			return nil, classify(err)
		}
	}
	if src.filter != nil {
		if out.filter, err = env.ParseCondition("FilterExpression", *src.filter); err != nil {
			return nil, classify(err)
		}
	}
	if src.projection != nil {
		if out.proj, err = env.ParseProjection(*src.projection); err != nil {
			return nil, classify(err)
		}
	}
	return &out, classify(env.CheckUnused())
}

func checkReturnValues(rv string, allowed ...string) (string, error) {
	if rv == "" {
		return "NONE", nil
	}
	for _, a := range allowed {
		if rv == a {
			return rv, nil
		}
	}
	if len(allowed) == 2 {
		return "", validation("ReturnValues can only be ALL_OLD or NONE")
	}
	return "", validation("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]", rv)
}

func checkOnConditionFailure(v string) error {
	switch v {
	case "", "NONE", "ALL_OLD":
		return nil
	}
	return validation("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", v)
}

func checkAttributeNames(it item.Item) error {
	for name := range it {
		if name == "" {
			return validation("One or more parameter values are not valid. A value specified for an attribute name is empty")
		}
		if len(name) > 65535 {
			return validation("One or more parameter values were invalid: Attribute name is too long")
		}
	}
	return nil
}

// writeOp is one single-item write, run in one store transaction.
type writeOp struct {
	account string
	hint    *tableRecord // the table as read for authorization; its name is the table's
	key     item.Item    // the key attributes: the Key parameter or the whole new item
	whole   bool
	cond    *expr.Condition
	needOld bool
	// apply returns the new item (nil deletes) and, if it has it ready, its record.
	apply func(t *tableRecord, k itemKey, old item.Item) (item.Item, []byte, error)
}

type writeResult struct {
	old, new item.Item
}

// write runs op. The condition is evaluated inside the transaction against the stored item,
// so a conditional write is atomic with its check. Refusals found inside the transaction (a
// failed condition, a table gone meanwhile, an update that does not apply) happen before any
// write, so they end the function with nil and are returned afterwards: an error would roll
// back the other writes group-committed with this one and make them run again.
func (s *Service) write(ctx context.Context, op *writeOp) (*writeResult, error) {
	k, err := op.hint.keyOf(op.key, op.whole)
	if err != nil {
		return nil, err
	}
	var (
		res     writeResult
		refusal error
	)
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		res, refusal = writeResult{}, nil
		t, err := getTable(tx, op.account, s.region, op.hint.Name)
		if isNotFound(err) {
			refusal = err
			return nil
		}
		if err != nil {
			return err
		}
		key := k
		if t.ID != op.hint.ID { // deleted and created again since authorization
			if key, refusal = t.keyOf(op.key, op.whole); refusal != nil {
				return nil
			}
		}
		if op.needOld || op.cond != nil {
			if res.old, err = getItem(tx, key.store); err != nil {
				return err
			}
		}
		if op.cond != nil && !op.cond.Eval(res.old) {
			refusal = &conditionFailed{old: res.old}
			return nil
		}
		nw, rec, err := op.apply(t, key, res.old)
		if err != nil {
			refusal = err
			return nil
		}
		res.new = nw
		if nw == nil {
			return tx.Delete(key.store)
		}
		if rec == nil {
			rec = encodeItem(nw)
		}
		return tx.Put(key.store, rec)
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return &res, nil
}

// conditionError finishes a failed condition per ReturnValuesOnConditionCheckFailure.
func conditionError(err error, onFailure string) error {
	if cf, ok := err.(*conditionFailed); ok {
		if onFailure != "ALL_OLD" {
			cf.old = nil
		}
		return cf
	}
	return err
}

func (s *Service) putItem(ctx context.Context, account string, hint *tableRecord, in *PutItemInput) (*WriteOutput, error) {
	if err := checkLegacy(in.legacyParams); err != nil {
		return nil, err
	}
	rv, err := checkReturnValues(in.ReturnValues, "NONE", "ALL_OLD")
	if err != nil {
		return nil, err
	}
	if err := checkOnConditionFailure(in.ReturnValuesOnConditionCheckFailure); err != nil {
		return nil, err
	}
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	if in.Item == nil {
		return nil, validation("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
	}
	if err := checkAttributeNames(in.Item); err != nil {
		return nil, err
	}
	if err := in.Item.Validate(); err != nil {
		return nil, classify(err)
	}
	ex, err := parseExprs(in.expressionParams, exprSources{condition: in.ConditionExpression})
	if err != nil {
		return nil, err
	}
	rec := encodeItem(in.Item) // outside the transaction, which group commit serializes
	res, err := s.write(ctx, &writeOp{
		account: account, hint: hint, key: in.Item, whole: true,
		cond: ex.cond, needOld: rv == "ALL_OLD" || in.ReturnConsumedCapacity != "",
		apply: func(*tableRecord, itemKey, item.Item) (item.Item, []byte, error) { return in.Item, rec, nil },
	})
	if err != nil {
		return nil, conditionError(err, in.ReturnValuesOnConditionCheckFailure)
	}
	out := &WriteOutput{ConsumedCapacity: consumed(in.ReturnConsumedCapacity, hint.Name,
		writeUnits(max(res.old.Size(), in.Item.Size())), true)}
	if rv == "ALL_OLD" {
		out.Attributes = res.old
	}
	return out, nil
}

func (s *Service) deleteItem(ctx context.Context, account string, hint *tableRecord, in *DeleteItemInput) (*WriteOutput, error) {
	if err := checkLegacy(in.legacyParams); err != nil {
		return nil, err
	}
	rv, err := checkReturnValues(in.ReturnValues, "NONE", "ALL_OLD")
	if err != nil {
		return nil, err
	}
	if err := checkOnConditionFailure(in.ReturnValuesOnConditionCheckFailure); err != nil {
		return nil, err
	}
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	ex, err := parseExprs(in.expressionParams, exprSources{condition: in.ConditionExpression})
	if err != nil {
		return nil, err
	}
	res, err := s.write(ctx, &writeOp{
		account: account, hint: hint, key: in.Key,
		cond: ex.cond, needOld: rv == "ALL_OLD" || in.ReturnConsumedCapacity != "",
		apply: func(*tableRecord, itemKey, item.Item) (item.Item, []byte, error) { return nil, nil, nil },
	})
	if err != nil {
		return nil, conditionError(err, in.ReturnValuesOnConditionCheckFailure)
	}
	out := &WriteOutput{ConsumedCapacity: consumed(in.ReturnConsumedCapacity, hint.Name, writeUnits(res.old.Size()), true)}
	if rv == "ALL_OLD" {
		out.Attributes = res.old
	}
	return out, nil
}

func (s *Service) updateItem(ctx context.Context, account string, hint *tableRecord, in *UpdateItemInput) (*WriteOutput, error) {
	if err := checkLegacy(in.legacyParams); err != nil {
		return nil, err
	}
	rv, err := checkReturnValues(in.ReturnValues, "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
	if err != nil {
		return nil, err
	}
	if err := checkOnConditionFailure(in.ReturnValuesOnConditionCheckFailure); err != nil {
		return nil, err
	}
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	ex, err := parseExprs(in.expressionParams, exprSources{condition: in.ConditionExpression, update: in.UpdateExpression})
	if err != nil {
		return nil, err
	}
	res, err := s.write(ctx, &writeOp{
		account: account, hint: hint, key: in.Key, cond: ex.cond, needOld: true,
		apply: func(t *tableRecord, k itemKey, old item.Item) (item.Item, []byte, error) {
			base := old
			if base == nil {
				base = k.attrs // an update creates the item
			}
			if ex.update == nil {
				return base, nil, nil
			}
			for _, p := range ex.update.Paths() {
				if t.isKey(p.Attribute()) {
					return nil, nil, validation("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", p.Attribute())
				}
			}
			nw, err := ex.update.Apply(base)
			if err != nil {
				return nil, nil, classify(err)
			}
			if err := nw.Validate(); err != nil {
				return nil, nil, classify(err)
			}
			return nw, nil, nil
		},
	})
	if err != nil {
		return nil, conditionError(err, in.ReturnValuesOnConditionCheckFailure)
	}
	out := &WriteOutput{ConsumedCapacity: consumed(in.ReturnConsumedCapacity, hint.Name,
		writeUnits(max(res.old.Size(), res.new.Size())), true)}
	switch rv {
	case "ALL_OLD":
		out.Attributes = res.old
	case "ALL_NEW":
		out.Attributes = res.new
	case "UPDATED_OLD", "UPDATED_NEW":
		if ex.update != nil {
			src := res.old
			if rv == "UPDATED_NEW" {
				src = res.new
			}
			out.Attributes = expr.NewPathProjection(ex.update.Paths()).Apply(src)
		}
	}
	return out, nil
}

func (s *Service) getItem(ctx context.Context, account string, hint *tableRecord, in *GetItemInput) (*GetItemOutput, error) {
	if err := checkCapacityMode(in.ReturnConsumedCapacity); err != nil {
		return nil, err
	}
	if in.ProjectionExpression != nil && in.AttributesToGet != nil {
		return nil, validation("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}")
	}
	ex, err := parseExprs(in.expressionParams, exprSources{projection: in.ProjectionExpression})
	if err != nil {
		return nil, err
	}
	proj := ex.proj
	if in.AttributesToGet != nil {
		proj = expr.NewProjection(in.AttributesToGet) // legacy, but exactly a projection
	}
	k, err := hint.keyOf(in.Key, false)
	if err != nil {
		return nil, err
	}
	var it item.Item
	err = s.store.View(ctx, func(tx storage.Tx) error {
		t, err := getTable(tx, account, s.region, hint.Name)
		if err != nil {
			return err
		}
		key := k
		if t.ID != hint.ID {
			if key, err = t.keyOf(in.Key, false); err != nil {
				return err
			}
		}
		it, err = getItem(tx, key.store)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &GetItemOutput{ConsumedCapacity: consumed(in.ReturnConsumedCapacity, hint.Name, readUnits(it.Size(), in.ConsistentRead), false)}
	if it != nil {
		if proj != nil {
			it = proj.Apply(it)
		}
		out.Item = &it
	}
	return out, nil
}

// errConditionFailed renders a failed condition for the client.
func errConditionFailed() *awserr.Error {
	return awserr.New(codeConditionalFailed, "The conditional request failed")
}
