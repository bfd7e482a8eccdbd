package dynamodb

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/storage"
)

var tableNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)

// checkTableName applies DynamoDB's constraints on table names.
func checkTableName(name string) error {
	switch {
	case name == "":
		return validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	case len(name) < 3:
		return validation("1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3", name)
	case len(name) > 255:
		return validation("1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255", name)
	case !tableNamePattern.MatchString(name):
		return validation("1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", name)
	}
	return nil
}

// tableRef resolves a TableName parameter, which may also be a table ARN, to the owning
// account and the name. Only tables in this server's region exist.
func (s *Service) tableRef(callerAccount, name string) (account, table string, err error) {
	if rest, ok := strings.CutPrefix(name, "arn:aws:dynamodb:"); ok {
		parts := strings.SplitN(rest, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "table/") {
			return "", "", validation("Invalid TableArn: %s", name)
		}
		if parts[0] != s.region {
			return "", "", errTableNotFound()
		}
		account, table = parts[1], strings.TrimPrefix(parts[2], "table/")
	} else {
		account, table = callerAccount, name
	}
	return account, table, checkTableName(table)
}

func newTableID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// checkSchema validates CreateTable's key schema and attribute definitions.
func checkSchema(keys []keyElement, attrs []attributeDefinition) error {
	if len(keys) == 0 {
		return validation("1 validation error detected: Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(keys) > 2 {
		return validation("1 validation error detected: Value at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2")
	}
	for i, k := range keys {
		if k.KeyType != "HASH" && k.KeyType != "RANGE" {
			return validation("1 validation error detected: Value '%s' at 'keySchema.%d.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]", k.KeyType, i+1)
		}
		if k.AttributeName == "" || len(k.AttributeName) > 255 {
			return validation("1 validation error detected: Value '%s' at 'keySchema.%d.member.attributeName' failed to satisfy constraint: Member must have length between 1 and 255", k.AttributeName, i+1)
		}
	}
	if keys[0].KeyType != "HASH" {
		return validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
	}
	if len(keys) == 2 {
		if keys[1].KeyType != "RANGE" {
			return validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		}
		if keys[0].AttributeName == keys[1].AttributeName {
			return validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
		}
	}
	seen := map[string]bool{}
	var defined []string
	for i, a := range attrs {
		switch a.AttributeType {
		case "S", "N", "B":
		default:
			return validation("1 validation error detected: Value '%s' at 'attributeDefinitions.%d.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", a.AttributeType, i+1)
		}
		if seen[a.AttributeName] {
			return validation("Cannot have two attributes with the same name")
		}
		seen[a.AttributeName] = true
		defined = append(defined, a.AttributeName)
	}
	var keyNames []string
	for _, k := range keys {
		keyNames = append(keyNames, k.AttributeName)
	}
	for _, k := range keyNames {
		if !seen[k] {
			return validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]",
				strings.Join(keyNames, ", "), strings.Join(defined, ", "))
		}
	}
	if len(attrs) != len(keys) {
		return validation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	return nil
}

// checkThroughput validates billing mode and throughput together, as CreateTable and
// UpdateTable need them.
func checkThroughput(mode string, pt *provisionedThroughput) error {
	switch mode {
	case "PROVISIONED":
		if pt == nil || pt.ReadCapacityUnits == nil || pt.WriteCapacityUnits == nil {
			return validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		if *pt.ReadCapacityUnits < 1 {
			return validation("1 validation error detected: Value '%d' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1", *pt.ReadCapacityUnits)
		}
		if *pt.WriteCapacityUnits < 1 {
			return validation("1 validation error detected: Value '%d' at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1", *pt.WriteCapacityUnits)
		}
	case "PAY_PER_REQUEST":
		if pt != nil {
			return validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
	default:
		return validation("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", mode)
	}
	return nil
}

func checkTableClass(c string) error {
	switch c {
	case "", "STANDARD", "STANDARD_INFREQUENT_ACCESS":
		return nil
	}
	return validation("1 validation error detected: Value '%s' at 'tableClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, STANDARD_INFREQUENT_ACCESS]", c)
}

func checkTags(tags []tag) error {
	if len(tags) > 50 {
		return validation("One or more parameter values were invalid: Too many tags")
	}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return validation("One or more parameter values were invalid: Invalid tag key or value")
		}
	}
	return nil
}

func (s *Service) createTable(ctx context.Context, account string, in *CreateTableInput) (*TableDescription, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	if err := checkSchema(in.KeySchema, in.AttributeDefinitions); err != nil {
		return nil, err
	}
	if len(in.GlobalSecondaryIndexes) > 0 || len(in.LocalSecondaryIndexes) > 0 {
		return nil, validation("One or more parameter values were invalid: secondary indexes are not supported by this server")
	}
	if in.StreamSpecification != nil && in.StreamSpecification.StreamEnabled {
		return nil, validation("One or more parameter values were invalid: streams are not supported by this server")
	}
	mode := in.BillingMode
	if mode == "" {
		mode = "PROVISIONED"
	}
	if err := checkThroughput(mode, in.ProvisionedThroughput); err != nil {
		return nil, err
	}
	if err := checkTableClass(in.TableClass); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	t := &tableRecord{
		ID: newTableID(), Account: account, Region: s.region, Name: in.TableName, Created: now,
		KeySchema: in.KeySchema, Attributes: in.AttributeDefinitions,
		BillingMode: mode, BillingModeSet: in.BillingMode != "", TableClass: in.TableClass, Tags: in.Tags,
		DeletionProtection: in.DeletionProtectionEnabled != nil && *in.DeletionProtectionEnabled,
	}
	if mode == "PROVISIONED" {
		t.ReadCapacity, t.WriteCapacity = *in.ProvisionedThroughput.ReadCapacityUnits, *in.ProvisionedThroughput.WriteCapacityUnits
	} else {
		t.PayPerRequestSince = now
	}
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		_, err := getTable(tx, account, s.region, t.Name)
		if err == nil {
			return awserr.Newf(codeResourceInUse, "Table already exists: %s", t.Name)
		}
		if !isNotFound(err) {
			return err
		}
		return putTable(tx, t)
	})
	if err != nil {
		return nil, err
	}
	return describe(t, "ACTIVE", tableStats{}), nil
}

func isNotFound(err error) bool {
	var e *awserr.Error
	return errors.As(err, &e) && e.Code == codeResourceNotFound
}

// tableStats are a table's item count and size.
type tableStats struct{ items, bytes int64 }

// stats counts a table's items and sums their sizes by scanning them: exact, and linear in
// the table's size. It reads only each record's size header.
func stats(tx storage.Tx, tableID string) (tableStats, error) {
	var st tableStats
	err := storage.ScanPrefix(tx, itemsPrefix(tableID), func(_, v []byte) error {
		n, err := itemRecordSize(v)
		if err != nil {
			return err
		}
		st.items++
		st.bytes += int64(n)
		return nil
	})
	return st, err
}

func describe(t *tableRecord, status string, st tableStats) *TableDescription {
	d := &TableDescription{
		AttributeDefinitions: t.Attributes, TableName: t.Name, KeySchema: t.KeySchema,
		TableStatus: status, CreationDateTime: epochTime(t.Created),
		ProvisionedThroughput: throughputDescription{
			ReadCapacityUnits: t.ReadCapacity, WriteCapacityUnits: t.WriteCapacity,
			LastIncreaseDateTime: epochPtr(t.LastIncrease), LastDecreaseDateTime: epochPtr(t.LastDecrease),
		},
		TableSizeBytes: st.bytes, ItemCount: st.items, TableArn: t.arn(), TableID: t.ID,
		DeletionProtectionEnabled: t.DeletionProtection,
	}
	if t.BillingMode == "PAY_PER_REQUEST" || t.BillingModeSet {
		d.BillingModeSummary = &billingModeSummary{BillingMode: t.BillingMode,
			LastUpdateToPayPerRequestDateTime: epochPtr(t.PayPerRequestSince)}
	}
	if t.TableClass != "" {
		d.TableClassSummary = &tableClassSummary{TableClass: t.TableClass}
	}
	return d
}

func (s *Service) describeTable(ctx context.Context, account, name string) (*TableDescription, error) {
	var d *TableDescription
	err := s.store.View(ctx, func(tx storage.Tx) error {
		t, err := getTable(tx, account, s.region, name)
		if err != nil {
			return err
		}
		st, err := stats(tx, t.ID)
		if err != nil {
			return err
		}
		d = describe(t, "ACTIVE", st)
		return nil
	})
	return d, err
}

func (s *Service) listTables(ctx context.Context, account string, in *ListTablesInput) (*ListTablesOutput, error) {
	limit := 100
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > 100 {
			return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit)
		}
		limit = *in.Limit
	}
	prefix := tablesPrefix(account, s.region)
	start := prefix
	if in.ExclusiveStartTableName != "" {
		start = append(bytes.Clone(prefix), in.ExclusiveStartTableName+"\x00"...)
	}
	out := &ListTablesOutput{TableNames: []string{}}
	err := s.store.View(ctx, func(tx storage.Tx) error {
		out.TableNames, out.LastEvaluatedTableName = out.TableNames[:0], ""
		return tx.Scan(start, storage.PrefixEnd(prefix), func(k, _ []byte) error {
			if len(out.TableNames) == limit {
				out.LastEvaluatedTableName = out.TableNames[limit-1]
				return storage.ErrStop
			}
			out.TableNames = append(out.TableNames, string(k[len(prefix):]))
			return nil
		})
	})
	return out, err
}

// deleteItemsBatch bounds the write transactions that remove a deleted table's items.
const deleteItemsBatch = 1000

func (s *Service) deleteTable(ctx context.Context, account, name string) (*TableDescription, error) {
	var (
		t  *tableRecord
		st tableStats
	)
	if err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		if t, err = getTable(tx, account, s.region, name); err != nil {
			return err
		}
		st, err = stats(tx, t.ID)
		return err
	}); err != nil {
		return nil, err
	}
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		cur, err := getTable(tx, account, s.region, name)
		if err != nil {
			return err
		}
		if cur.DeletionProtection {
			return validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
		}
		t = cur
		if err := tx.Delete(tableKey(account, s.region, name)); err != nil {
			return err
		}
		// The marker survives a crash mid-way, for SweepDroppedTables.
		return tx.Put(droppedKey(cur.ID), []byte(cur.Name))
	})
	if err != nil {
		return nil, err
	}
	// The table is gone for clients; its items go now, in bounded transactions, and even if
	// the client hangs up.
	if err := s.dropItems(context.WithoutCancel(ctx), t.ID); err != nil {
		s.log.Error("dynamodb: removing a deleted table's items", "table", t.arn(), "err", err)
	}
	return describe(t, "DELETING", st), nil
}

// dropItems removes every item of a deleted table, then its marker.
func (s *Service) dropItems(ctx context.Context, tableID string) error {
	prefix := itemsPrefix(tableID)
	for {
		n := 0
		err := s.store.Update(ctx, func(tx storage.Tx) error {
			var keys [][]byte
			err := storage.ScanPrefix(tx, prefix, func(k, _ []byte) error {
				keys = append(keys, bytes.Clone(k))
				if len(keys) == deleteItemsBatch {
					return storage.ErrStop
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			n = len(keys)
			if n == 0 {
				return tx.Delete(droppedKey(tableID))
			}
			return nil
		})
		if err != nil || n == 0 {
			return err
		}
	}
}

// SweepDroppedTables removes the items of tables whose deletion was cut short (by a crash or
// shutdown), and returns how many such tables it finished. Run it at start-up.
func (s *Service) SweepDroppedTables(ctx context.Context) (int, error) {
	var ids []string
	err := s.store.View(ctx, func(tx storage.Tx) error {
		ids = ids[:0]
		return storage.ScanPrefix(tx, []byte(prefixDropped), func(k, _ []byte) error {
			ids = append(ids, string(k[len(prefixDropped):]))
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := s.dropItems(ctx, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

func (s *Service) updateTable(ctx context.Context, account, name string, in *UpdateTableInput) (*TableDescription, error) {
	if len(in.GlobalSecondaryIndexUpdates) > 0 || len(in.ReplicaUpdates) > 0 {
		return nil, validation("One or more parameter values were invalid: secondary indexes and replicas are not supported by this server")
	}
	if in.StreamSpecification != nil && in.StreamSpecification.StreamEnabled {
		return nil, validation("One or more parameter values were invalid: streams are not supported by this server")
	}
	if err := checkTableClass(in.TableClass); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var t *tableRecord
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		cur, err := getTable(tx, account, s.region, name)
		if err != nil {
			return err
		}
		for _, a := range in.AttributeDefinitions {
			if ty := cur.attrType(a.AttributeName); ty.String() != a.AttributeType {
				return validation("One or more parameter values were invalid: attribute definitions may only restate the key attributes on this server")
			}
		}
		mode := cmp.Or(in.BillingMode, cur.BillingMode)
		if in.BillingMode != "" || in.ProvisionedThroughput != nil {
			pt := in.ProvisionedThroughput
			if err := checkThroughput(mode, pt); err != nil {
				return err
			}
			if mode == "PAY_PER_REQUEST" {
				if cur.BillingMode != mode {
					cur.PayPerRequestSince = now
				}
				cur.ReadCapacity, cur.WriteCapacity = 0, 0
			} else {
				r, w := *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
				if r > cur.ReadCapacity || w > cur.WriteCapacity {
					cur.LastIncrease = now
				}
				if (r < cur.ReadCapacity || w < cur.WriteCapacity) && cur.BillingMode == "PROVISIONED" {
					cur.LastDecrease = now
				}
				cur.ReadCapacity, cur.WriteCapacity = r, w
			}
			cur.BillingMode = mode
			cur.BillingModeSet = cur.BillingModeSet || in.BillingMode != ""
		}
		if in.TableClass != "" {
			cur.TableClass = in.TableClass
		}
		if in.DeletionProtectionEnabled != nil {
			cur.DeletionProtection = *in.DeletionProtectionEnabled
		}
		t = cur
		return putTable(tx, cur)
	})
	if err != nil {
		return nil, err
	}
	return s.describeTable(ctx, account, t.Name)
}

// updateTags changes a table's tags: add (replacing equal keys) and then remove.
func (s *Service) updateTags(ctx context.Context, account, name string, add []tag, remove []string) error {
	if err := checkTags(add); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx storage.Tx) error {
		t, err := getTable(tx, account, s.region, name)
		if err != nil {
			return err
		}
		tags := slices.Clone(t.Tags)
		for _, a := range add {
			tags = slices.DeleteFunc(tags, func(x tag) bool { return x.Key == a.Key })
			tags = append(tags, a)
		}
		tags = slices.DeleteFunc(tags, func(x tag) bool { return slices.Contains(remove, x.Key) })
		if len(tags) > 50 {
			return validation("One or more parameter values were invalid: Too many tags")
		}
		t.Tags = tags
		return putTable(tx, t)
	})
}
