package dynamodb

import (
	"context"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/dynamodb/expr"
	"github.com/stateward/stateward/internal/dynamodb/item"
)

// The service's typed operations. Each resolves the table it names, authorizes the caller in
// ctx as dynamodb:<Operation> on it (items of lock tables also as the states they lock), and
// runs. Front-ends only decode and encode.

func notFoundTable(err error, name string) error {
	if isNotFound(err) {
		return awserr.Newf(codeResourceNotFound, "Requested resource not found: Table: %s not found", name)
	}
	return err
}

// CreateTableOutput is CreateTable's answer.
type CreateTableOutput struct {
	TableDescription *TableDescription `json:"TableDescription"`
}

// CreateTable creates a table in the caller's account.
func (s *Service) CreateTable(ctx context.Context, in *CreateTableInput) (*CreateTableOutput, error) {
	if err := checkTableName(in.TableName); err != nil {
		return nil, err
	}
	account := callerAccount(ctx)
	if err := s.authorize(ctx, "CreateTable", account, tableARN(s.region, account, in.TableName), nil, nil); err != nil {
		return nil, err
	}
	d, err := s.createTable(ctx, account, in)
	if err != nil {
		return nil, err
	}
	return &CreateTableOutput{TableDescription: d}, nil
}

// DescribeTableOutput is DescribeTable's answer.
type DescribeTableOutput struct {
	Table *TableDescription `json:"Table"`
}

// DescribeTable describes a table.
func (s *Service) DescribeTable(ctx context.Context, in *TableNameInput) (*DescribeTableOutput, error) {
	account, table, err := s.tableOp(ctx, "DescribeTable", in.TableName)
	if err != nil {
		return nil, err
	}
	d, err := s.describeTable(ctx, account, table)
	if err != nil {
		return nil, notFoundTable(err, table)
	}
	return &DescribeTableOutput{Table: d}, nil
}

// ListTables lists the caller's tables.
func (s *Service) ListTables(ctx context.Context, in *ListTablesInput) (*ListTablesOutput, error) {
	account := callerAccount(ctx)
	if err := s.authorize(ctx, "ListTables", account, tableARN(s.region, account, "*"), nil, nil); err != nil {
		return nil, err
	}
	return s.listTables(ctx, account, in)
}

// DeleteTable deletes a table and, in the background, its items.
func (s *Service) DeleteTable(ctx context.Context, in *TableNameInput) (*CreateTableOutput, error) {
	account, table, err := s.tableOp(ctx, "DeleteTable", in.TableName)
	if err != nil {
		return nil, err
	}
	d, err := s.deleteTable(ctx, account, table)
	if err != nil {
		return nil, notFoundTable(err, table)
	}
	return &CreateTableOutput{TableDescription: d}, nil
}

// UpdateTable changes a table's billing, capacity, class or deletion protection.
func (s *Service) UpdateTable(ctx context.Context, in *UpdateTableInput) (*CreateTableOutput, error) {
	account, table, err := s.tableOp(ctx, "UpdateTable", in.TableName)
	if err != nil {
		return nil, err
	}
	d, err := s.updateTable(ctx, account, table, in)
	if err != nil {
		return nil, notFoundTable(err, table)
	}
	return &CreateTableOutput{TableDescription: d}, nil
}

// itemCall runs a single-item operation: it authorizes op on the table with the item's
// partition key as dynamodb:LeadingKeys (and, in a lock table, the state the item locks), and
// runs it.
func itemCall[In, Out any](ctx context.Context, s *Service, op string, write bool, in *In, target func(*In) (table string, key item.Item),
	run func(context.Context, string, *tableRecord, *In) (Out, error)) (Out, error) {
	var zero Out
	table, key := target(in)
	account, t, err := s.itemOp(ctx, op, table, leadingFrom(key))
	if err != nil {
		return zero, err
	}
	if err := s.authorizeLocks(ctx, t, lockIDsOf(key), write); err != nil {
		return zero, err
	}
	return run(ctx, account, t, in)
}

// PutItem writes an item, replacing any with its key.
func (s *Service) PutItem(ctx context.Context, in *PutItemInput) (*WriteOutput, error) {
	return itemCall(ctx, s, "PutItem", true, in, func(in *PutItemInput) (string, item.Item) { return in.TableName, in.Item }, s.putItem)
}

// GetItem reads one item.
func (s *Service) GetItem(ctx context.Context, in *GetItemInput) (*GetItemOutput, error) {
	return itemCall(ctx, s, "GetItem", false, in, func(in *GetItemInput) (string, item.Item) { return in.TableName, in.Key }, s.getItem)
}

// DeleteItem deletes one item.
func (s *Service) DeleteItem(ctx context.Context, in *DeleteItemInput) (*WriteOutput, error) {
	return itemCall(ctx, s, "DeleteItem", true, in, func(in *DeleteItemInput) (string, item.Item) { return in.TableName, in.Key }, s.deleteItem)
}

// UpdateItem changes one item with an update expression.
func (s *Service) UpdateItem(ctx context.Context, in *UpdateItemInput) (*WriteOutput, error) {
	return itemCall(ctx, s, "UpdateItem", true, in, func(in *UpdateItemInput) (string, item.Item) { return in.TableName, in.Key }, s.updateItem)
}

// Query reads the items of one partition.
func (s *Service) Query(ctx context.Context, in *QueryInput) (any, error) {
	var partition *item.Value
	account, t, err := s.itemOp(ctx, "Query", in.TableName, func(t *tableRecord) []string {
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
				partition = &tm.Values[0]
				return []string{keyString(tm.Values[0])}
			}
		}
		return []string{}
	})
	if err != nil {
		return nil, err
	}
	if partition != nil && partition.Type == item.S {
		if err := s.authorizeLocks(ctx, t, []string{partition.S}, false); err != nil {
			return nil, err
		}
	}
	return s.query(ctx, account, t, in)
}

// Scan reads a table's items.
func (s *Service) Scan(ctx context.Context, in *QueryInput) (any, error) {
	account, t, err := s.itemOp(ctx, "Scan", in.TableName, nil)
	if err != nil {
		return nil, err
	}
	return s.scan(ctx, account, t, in)
}

// tagTarget resolves and authorizes the table a tagging request's ResourceArn names.
func (s *Service) tagTarget(ctx context.Context, op, arn string) (account, table string, err error) {
	if !strings.HasPrefix(arn, "arn:aws:dynamodb:") {
		return "", "", validation("Invalid TableArn: Invalid ResourceArn provided as input %s", arn)
	}
	return s.tableOp(ctx, op, arn)
}

// TagResource adds or replaces a table's tags.
func (s *Service) TagResource(ctx context.Context, in *TagResourceInput) (*struct{}, error) {
	account, table, err := s.tagTarget(ctx, "TagResource", in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return &struct{}{}, s.updateTags(ctx, account, table, in.Tags, nil)
}

// UntagResource removes tags from a table.
func (s *Service) UntagResource(ctx context.Context, in *TagResourceInput) (*struct{}, error) {
	account, table, err := s.tagTarget(ctx, "UntagResource", in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return &struct{}{}, s.updateTags(ctx, account, table, nil, in.TagKeys)
}

// ListTagsOfResourceOutput is ListTagsOfResource's answer.
type ListTagsOfResourceOutput struct {
	Tags []tag `json:"Tags"`
}

// ListTagsOfResource lists a table's tags.
func (s *Service) ListTagsOfResource(ctx context.Context, in *TagResourceInput) (*ListTagsOfResourceOutput, error) {
	account, table, err := s.tagTarget(ctx, "ListTagsOfResource", in.ResourceArn)
	if err != nil {
		return nil, err
	}
	t, err := s.table(ctx, account, table)
	if err != nil {
		return nil, err
	}
	tags := t.Tags
	if tags == nil {
		tags = []tag{}
	}
	return &ListTagsOfResourceOutput{Tags: tags}, nil
}

// DescribeTimeToLive reports TTL as disabled: this server expires nothing.
func (s *Service) DescribeTimeToLive(ctx context.Context, in *TableNameInput) (any, error) {
	account, table, err := s.tableOp(ctx, "DescribeTimeToLive", in.TableName)
	if err != nil {
		return nil, err
	}
	if _, err := s.table(ctx, account, table); err != nil {
		return nil, notFoundTable(err, table)
	}
	return map[string]any{"TimeToLiveDescription": map[string]string{"TimeToLiveStatus": "DISABLED"}}, nil
}

// DescribeContinuousBackups reports point-in-time recovery as disabled; stateward's own
// backups are taken of the whole data directory.
func (s *Service) DescribeContinuousBackups(ctx context.Context, in *TableNameInput) (any, error) {
	account, table, err := s.tableOp(ctx, "DescribeContinuousBackups", in.TableName)
	if err != nil {
		return nil, err
	}
	if _, err := s.table(ctx, account, table); err != nil {
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
