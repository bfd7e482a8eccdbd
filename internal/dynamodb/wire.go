package dynamodb

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/stateward/stateward/internal/dynamodb/item"
)

// Request and response shapes of the JSON 1.0 protocol, named as AWS names them. Optional
// members that DynamoDB tells apart from their zero value are pointers.

// epochTime is a timestamp as DynamoDB sends it: epoch seconds as a JSON number.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	s := strconv.FormatInt(ms/1000, 10) + "." + strconv.FormatInt(1000+ms%1000, 10)[1:]
	return []byte(s), nil
}

func epochPtr(t time.Time) *epochTime {
	if t.IsZero() {
		return nil
	}
	e := epochTime(t)
	return &e
}

type provisionedThroughput struct {
	ReadCapacityUnits  *int64 `json:"ReadCapacityUnits"`
	WriteCapacityUnits *int64 `json:"WriteCapacityUnits"`
}

type CreateTableInput struct {
	TableName                 string                 `json:"TableName"`
	AttributeDefinitions      []attributeDefinition  `json:"AttributeDefinitions"`
	KeySchema                 []keyElement           `json:"KeySchema"`
	BillingMode               string                 `json:"BillingMode"`
	ProvisionedThroughput     *provisionedThroughput `json:"ProvisionedThroughput"`
	GlobalSecondaryIndexes    []json.RawMessage      `json:"GlobalSecondaryIndexes"`
	LocalSecondaryIndexes     []json.RawMessage      `json:"LocalSecondaryIndexes"`
	StreamSpecification       *streamSpecification   `json:"StreamSpecification"`
	Tags                      []tag                  `json:"Tags"`
	TableClass                string                 `json:"TableClass"`
	DeletionProtectionEnabled *bool                  `json:"DeletionProtectionEnabled"`
	// SSESpecification is accepted and ignored: every stored value is encrypted at rest.
	SSESpecification json.RawMessage `json:"SSESpecification"`
}

type streamSpecification struct {
	StreamEnabled  bool   `json:"StreamEnabled"`
	StreamViewType string `json:"StreamViewType"`
}

type TableNameInput struct {
	TableName string `json:"TableName"`
}

type UpdateTableInput struct {
	TableName                   string                 `json:"TableName"`
	AttributeDefinitions        []attributeDefinition  `json:"AttributeDefinitions"`
	BillingMode                 string                 `json:"BillingMode"`
	ProvisionedThroughput       *provisionedThroughput `json:"ProvisionedThroughput"`
	TableClass                  string                 `json:"TableClass"`
	DeletionProtectionEnabled   *bool                  `json:"DeletionProtectionEnabled"`
	StreamSpecification         *streamSpecification   `json:"StreamSpecification"`
	GlobalSecondaryIndexUpdates []json.RawMessage      `json:"GlobalSecondaryIndexUpdates"`
	ReplicaUpdates              []json.RawMessage      `json:"ReplicaUpdates"`
	SSESpecification            json.RawMessage        `json:"SSESpecification"`
}

type ListTablesInput struct {
	ExclusiveStartTableName string `json:"ExclusiveStartTableName"`
	Limit                   *int   `json:"Limit"`
}

type ListTablesOutput struct {
	TableNames             []string `json:"TableNames"`
	LastEvaluatedTableName string   `json:"LastEvaluatedTableName,omitempty"`
}

type TableDescription struct {
	AttributeDefinitions      []attributeDefinition `json:"AttributeDefinitions"`
	TableName                 string                `json:"TableName"`
	KeySchema                 []keyElement          `json:"KeySchema"`
	TableStatus               string                `json:"TableStatus"`
	CreationDateTime          epochTime             `json:"CreationDateTime"`
	ProvisionedThroughput     throughputDescription `json:"ProvisionedThroughput"`
	TableSizeBytes            int64                 `json:"TableSizeBytes"`
	ItemCount                 int64                 `json:"ItemCount"`
	TableArn                  string                `json:"TableArn"`
	TableID                   string                `json:"TableId"`
	BillingModeSummary        *billingModeSummary   `json:"BillingModeSummary,omitempty"`
	TableClassSummary         *tableClassSummary    `json:"TableClassSummary,omitempty"`
	DeletionProtectionEnabled bool                  `json:"DeletionProtectionEnabled"`
}

type throughputDescription struct {
	LastIncreaseDateTime   *epochTime `json:"LastIncreaseDateTime,omitempty"`
	LastDecreaseDateTime   *epochTime `json:"LastDecreaseDateTime,omitempty"`
	NumberOfDecreasesToday int64      `json:"NumberOfDecreasesToday"`
	ReadCapacityUnits      int64      `json:"ReadCapacityUnits"`
	WriteCapacityUnits     int64      `json:"WriteCapacityUnits"`
}

type billingModeSummary struct {
	BillingMode                       string     `json:"BillingMode"`
	LastUpdateToPayPerRequestDateTime *epochTime `json:"LastUpdateToPayPerRequestDateTime,omitempty"`
}

type tableClassSummary struct {
	TableClass string `json:"TableClass"`
}

type TagResourceInput struct {
	ResourceArn string   `json:"ResourceArn"`
	Tags        []tag    `json:"Tags"`
	TagKeys     []string `json:"TagKeys"`
	NextToken   string   `json:"NextToken"`
}

// Item operations. Legacy (pre-expression) parameters are decoded only to be refused.

type legacyParams struct {
	Expected            json.RawMessage `json:"Expected"`
	ConditionalOperator json.RawMessage `json:"ConditionalOperator"`
	AttributeUpdates    json.RawMessage `json:"AttributeUpdates"`
	KeyConditions       json.RawMessage `json:"KeyConditions"`
	QueryFilter         json.RawMessage `json:"QueryFilter"`
	ScanFilter          json.RawMessage `json:"ScanFilter"`
}

type expressionParams struct {
	ExpressionAttributeNames  map[string]string     `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues map[string]item.Value `json:"ExpressionAttributeValues"`
}

type PutItemInput struct {
	legacyParams
	expressionParams
	TableName                           string    `json:"TableName"`
	Item                                item.Item `json:"Item"`
	ConditionExpression                 *string   `json:"ConditionExpression"`
	ReturnValues                        string    `json:"ReturnValues"`
	ReturnConsumedCapacity              string    `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         string    `json:"ReturnItemCollectionMetrics"`
	ReturnValuesOnConditionCheckFailure string    `json:"ReturnValuesOnConditionCheckFailure"`
}

type GetItemInput struct {
	expressionParams
	TableName              string    `json:"TableName"`
	Key                    item.Item `json:"Key"`
	ConsistentRead         bool      `json:"ConsistentRead"`
	ProjectionExpression   *string   `json:"ProjectionExpression"`
	AttributesToGet        []string  `json:"AttributesToGet"`
	ReturnConsumedCapacity string    `json:"ReturnConsumedCapacity"`
}

type DeleteItemInput struct {
	legacyParams
	expressionParams
	TableName                           string    `json:"TableName"`
	Key                                 item.Item `json:"Key"`
	ConditionExpression                 *string   `json:"ConditionExpression"`
	ReturnValues                        string    `json:"ReturnValues"`
	ReturnConsumedCapacity              string    `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         string    `json:"ReturnItemCollectionMetrics"`
	ReturnValuesOnConditionCheckFailure string    `json:"ReturnValuesOnConditionCheckFailure"`
}

type UpdateItemInput struct {
	legacyParams
	expressionParams
	TableName                           string    `json:"TableName"`
	Key                                 item.Item `json:"Key"`
	UpdateExpression                    *string   `json:"UpdateExpression"`
	ConditionExpression                 *string   `json:"ConditionExpression"`
	ReturnValues                        string    `json:"ReturnValues"`
	ReturnConsumedCapacity              string    `json:"ReturnConsumedCapacity"`
	ReturnItemCollectionMetrics         string    `json:"ReturnItemCollectionMetrics"`
	ReturnValuesOnConditionCheckFailure string    `json:"ReturnValuesOnConditionCheckFailure"`
}

// GetItemOutput is GetItem's answer: no Item member for a miss, and an empty one for a hit
// whose projection matched nothing.
type GetItemOutput struct {
	Item             *item.Item        `json:"Item,omitempty"`
	ConsumedCapacity *consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

// WriteOutput is the answer of PutItem, DeleteItem and UpdateItem.
type WriteOutput struct {
	Attributes       item.Item         `json:"Attributes,omitempty"`
	ConsumedCapacity *consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

type QueryInput struct {
	legacyParams
	expressionParams
	TableName              string    `json:"TableName"`
	IndexName              *string   `json:"IndexName"`
	KeyConditionExpression *string   `json:"KeyConditionExpression"`
	FilterExpression       *string   `json:"FilterExpression"`
	ProjectionExpression   *string   `json:"ProjectionExpression"`
	AttributesToGet        []string  `json:"AttributesToGet"`
	Select                 string    `json:"Select"`
	ScanIndexForward       *bool     `json:"ScanIndexForward"`
	Limit                  *int      `json:"Limit"`
	ExclusiveStartKey      item.Item `json:"ExclusiveStartKey"`
	ConsistentRead         bool      `json:"ConsistentRead"`
	ReturnConsumedCapacity string    `json:"ReturnConsumedCapacity"`
	// Scan only.
	Segment       *int `json:"Segment"`
	TotalSegments *int `json:"TotalSegments"`
}

type queryOutput struct {
	Items            []item.Item       `json:"Items"`
	Count            int               `json:"Count"`
	ScannedCount     int               `json:"ScannedCount"`
	LastEvaluatedKey item.Item         `json:"LastEvaluatedKey,omitempty"`
	ConsumedCapacity *consumedCapacity `json:"ConsumedCapacity,omitempty"`
}

// queryCountOutput is Select=COUNT's answer, which carries no Items member at all.
type queryCountOutput struct {
	Count            int               `json:"Count"`
	ScannedCount     int               `json:"ScannedCount"`
	LastEvaluatedKey item.Item         `json:"LastEvaluatedKey,omitempty"`
	ConsumedCapacity *consumedCapacity `json:"ConsumedCapacity,omitempty"`
}
