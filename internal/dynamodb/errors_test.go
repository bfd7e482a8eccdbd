package dynamodb_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stateward/stateward/internal/policy"
)

// TestBadInput sends malformed and invalid requests: each is answered with DynamoDB's error
// type and message, and leaves the table exactly as it was.
func TestBadInput(t *testing.T) {
	env := newEnv(t)
	env.createTable(t, "bad-input", "pk", "S", "", "")
	if r := env.raw(t, "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"v":{"S":"orig"}}}`); r.Status != 200 {
		t.Fatal(string(r.Body))
	}
	big := strings.Repeat("x", 410<<10)
	deep := strings.Repeat(`{"L":[`, 40) + `{"S":"x"}` + strings.Repeat(`]}`, 40)
	deepOK := strings.Repeat(`{"L":[`, 33) + `{"S":"x"}` + strings.Repeat(`]}`, 33)
	tests := []struct {
		name, op, body, code, msg string
	}{
		{"truncated JSON", "PutItem", `{"TableName":"bad-input","Item":`, "SerializationException", ""},
		{"not an object", "PutItem", `[1,2]`, "SerializationException", ""},
		{"number as JSON number", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"n":{"N":5}}}`, "SerializationException", ""},
		{"bad base64", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"b":{"B":"!!"}}}`, "SerializationException", ""},
		{"bad number", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"n":{"N":"12abc"}}}`, "ValidationException", "The parameter cannot be converted to a numeric value: 12abc"},
		{"number too large", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"n":{"N":"1e126"}}}`, "ValidationException", "Number overflow"},
		{"empty value", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"v":{}}}`, "ValidationException", "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{"two types", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"v":{"S":"a","N":"1"}}}`, "ValidationException", "Supplied AttributeValue has more than one datatypes set"},
		{"NULL false", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"v":{"NULL":false}}}`, "ValidationException", "Null attribute value types must have the value of true"},
		{"empty set", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"v":{"SS":[]}}}`, "ValidationException", "An string set  may not be empty"},
		{"duplicate set members", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"v":{"NS":["1","1.0"]}}}`, "ValidationException", "Input collection contains duplicates"},
		{"too deep", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"v":` + deep + `}}`, "ValidationException", "Nesting Levels have exceeded supported limits"},
		{"one level too deep", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"v":` + deepOK + `}}`, "ValidationException", "Nesting Levels have exceeded supported limits"},
		{"key type", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"N":"1"},"v":{"S":"new"}}}`, "ValidationException", "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"},
		{"missing key", "PutItem", `{"TableName":"bad-input","Item":{"v":{"S":"new"}}}`, "ValidationException", "One or more parameter values were invalid: Missing the key pk in the item"},
		{"empty key", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":""}}}`, "ValidationException", "The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"},
		{"hash key too long", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"` + strings.Repeat("k", 2049) + `"}}}`, "ValidationException", "Size of hashkey has exceeded the maximum size limit of2048 bytes"},
		{"empty attribute name", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"":{"S":"x"}}}`, "ValidationException", "attribute name is empty"},
		{"no item", "PutItem", `{"TableName":"bad-input"}`, "ValidationException", "Value null at 'item'"},
		{"oversized item", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"},"v":{"S":"` + big + `"}}}`, "ValidationException", "Item size has exceeded the maximum allowed size"},
		{"missing table", "PutItem", `{"TableName":"no-such-table","Item":{"pk":{"S":"keep"}}}`, "ResourceNotFoundException", "Requested resource not found"},
		{"no table name", "PutItem", `{"Item":{"pk":{"S":"keep"}}}`, "ValidationException", "Value null at 'tableName'"},
		{"undefined value", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"ConditionExpression":"v = :x"}`, "ValidationException", "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :x"},
		{"unused value", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"ConditionExpression":"v = :v","ExpressionAttributeValues":{":v":{"S":"orig"},":x":{"S":"y"}}}`, "ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"},
		{"undefined name", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"ConditionExpression":"#v = :v","ExpressionAttributeValues":{":v":{"S":"orig"}}}`, "ValidationException", "An expression attribute name used in the document path is not defined; attribute name: #v"},
		{"unused name", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"ConditionExpression":"v = :v","ExpressionAttributeNames":{"#n":"n"},"ExpressionAttributeValues":{":v":{"S":"orig"}}}`, "ValidationException", "Value provided in ExpressionAttributeNames unused in expressions: keys: {#n}"},
		{"values without expression", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"ExpressionAttributeValues":{":v":{"S":"orig"}}}`, "ValidationException", "ExpressionAttributeValues can only be specified when using expressions"},
		{"empty values", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"ConditionExpression":"v = v","ExpressionAttributeValues":{}}`, "ValidationException", "ExpressionAttributeValues must not be empty"},
		{"syntax error", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"ConditionExpression":"attribute_not_exists(pk"}`, "ValidationException", `Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "pk"`},
		{"empty condition", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"ConditionExpression":""}`, "ValidationException", "Invalid ConditionExpression: The expression can not be empty;"},
		{"unknown function", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"ConditionExpression":"exists(pk)"}`, "ValidationException", "Invalid function name; function: exists"},
		{"legacy Expected", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"Expected":{"pk":{"Exists":false}}}`, "ValidationException", "use ConditionExpression"},
		{"ReturnValues ALL_NEW on put", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"ReturnValues":"ALL_NEW"}`, "ValidationException", "ReturnValues can only be ALL_OLD or NONE"},
		{"condition fails", "PutItem", `{"TableName":"bad-input","Item":{"pk":{"S":"keep"}},"ConditionExpression":"attribute_not_exists(pk)"}`, "ConditionalCheckFailedException", "The conditional request failed"},
		{"get with wrong key attribute", "GetItem", `{"TableName":"bad-input","Key":{"id":{"S":"keep"}}}`, "ValidationException", "The provided key element does not match the schema"},
		{"get with extra key attribute", "GetItem", `{"TableName":"bad-input","Key":{"pk":{"S":"keep"},"v":{"S":"orig"}}}`, "ValidationException", "The provided key element does not match the schema"},
		{"get with wrong key type", "GetItem", `{"TableName":"bad-input","Key":{"pk":{"B":"AA=="}}}`, "ValidationException", "Type mismatch for key pk expected: S actual: B"},
		{"get from missing table", "GetItem", `{"TableName":"no-such-table","Key":{"pk":{"S":"keep"}}}`, "ResourceNotFoundException", "Requested resource not found"},
		{"get with bad projection", "GetItem", `{"TableName":"bad-input","Key":{"pk":{"S":"keep"}},"ProjectionExpression":"pk,,v"}`, "ValidationException", "Invalid ProjectionExpression: Syntax error"},
		{"delete with wrong key type", "DeleteItem", `{"TableName":"bad-input","Key":{"pk":{"N":"1"}}}`, "ValidationException", "Type mismatch for key pk"},
		{"delete condition fails", "DeleteItem", `{"TableName":"bad-input","Key":{"pk":{"S":"keep"}},"ConditionExpression":"v = :v","ExpressionAttributeValues":{":v":{"S":"other"}}}`, "ConditionalCheckFailedException", "The conditional request failed"},
		{"delete from missing table", "DeleteItem", `{"TableName":"no-such-table","Key":{"pk":{"S":"keep"}}}`, "ResourceNotFoundException", "Requested resource not found"},
		{"update key", "UpdateItem", `{"TableName":"bad-input","Key":{"pk":{"S":"keep"}},"UpdateExpression":"SET pk = :v","ExpressionAttributeValues":{":v":{"S":"x"}}}`, "ValidationException", "Cannot update attribute pk. This attribute is part of the key"},
		{"update grows too large", "UpdateItem", `{"TableName":"bad-input","Key":{"pk":{"S":"keep"}},"UpdateExpression":"SET a = :v, b = :v","ExpressionAttributeValues":{":v":{"S":"` + big[:250<<10] + `"}}}`, "ValidationException", "Item size has exceeded the maximum allowed size"},
		{"legacy AttributeUpdates", "UpdateItem", `{"TableName":"bad-input","Key":{"pk":{"S":"keep"}},"AttributeUpdates":{"v":{"Action":"PUT","Value":{"S":"x"}}}}`, "ValidationException", "use UpdateExpression"},
		{"describe missing table", "DescribeTable", `{"TableName":"no-such-table"}`, "ResourceNotFoundException", "Requested resource not found: Table: no-such-table not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.raw(t, tt.op, tt.body)
			code, msg := r.awsError()
			if r.Status != 400 || code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Errorf("got %d %.300s, want %s %q", r.Status, r.Body, tt.code, tt.msg)
			}
			if got := r.Header.Get("X-Amzn-Errortype"); got != tt.code {
				t.Errorf("X-Amzn-ErrorType = %q", got)
			}
			scan := env.raw(t, "Scan", `{"TableName":"bad-input"}`)
			if want := `{"Items":[{"pk":{"S":"keep"},"v":{"S":"orig"}}],"Count":1,"ScannedCount":1}`; string(scan.Body) != want {
				t.Errorf("table changed: %s", scan.Body)
			}
		})
	}
}

func TestUnknownOperation(t *testing.T) {
	env := newEnv(t)
	for _, target := range []string{"DynamoDB_20120810.TransactWriteItems", "DynamoDB_20120810.Nope", "DynamoDB_20120810."} {
		r := env.rawTarget(t, target, `{}`)
		if code, _ := r.awsError(); r.Status != 400 || code != "UnknownOperationException" {
			t.Errorf("%s: %d %s", target, r.Status, r.Body)
		}
	}
}

func TestChecksumHeader(t *testing.T) {
	env := newEnv(t)
	env.createTable(t, "crc-table", "pk", "S", "", "")
	for _, tt := range []struct{ op, body string }{
		{"ListTables", `{}`},
		{"DescribeTable", `{"TableName":"crc-table"}`},
		{"PutItem", `{"TableName":"crc-table","Item":{"pk":{"S":"é<&>"}}}`},
		{"GetItem", `{"TableName":"crc-table","Key":{"pk":{"S":"é<&>"}}}`},
		{"Scan", `{"TableName":"crc-table"}`},
	} {
		r := env.raw(t, tt.op, tt.body)
		if r.Status != 200 {
			t.Fatalf("%s: %s", tt.op, r.Body)
		}
		checkCRC(t, r)
	}
}

func TestAuthorization(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "guarded", "pk", "S", "sk", "N")
	arn := "arn:aws:dynamodb:us-east-1:" + testAccount + ":table/guarded"
	check := func(name, action, resource string, leading []string) {
		t.Helper()
		req := env.Authz.last()
		if req.Action != action || req.Resource != resource || req.ResourceAccount != testAccount ||
			req.Caller.Principal.AccountID != testAccount || !req.Caller.Principal.IsRoot() {
			t.Errorf("%s: request %+v", name, req)
		}
		got, ok := req.Keys["dynamodb:LeadingKeys"]
		if (leading == nil) == ok || !slices.Equal(got, leading) {
			t.Errorf("%s: LeadingKeys = %v (present %v), want %v", name, got, ok, leading)
		}
		if req.Caller.SecureTransport {
			t.Errorf("%s: SecureTransport set on a plain HTTP request", name)
		}
	}
	check("CreateTable", "dynamodb:CreateTable", arn, nil)
	k := map[string]types.AttributeValue{"pk": s("tenant-1"), "sk": n("1")}
	if _, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: str("guarded"), Item: k}); err != nil {
		t.Fatal(err)
	}
	check("PutItem", "dynamodb:PutItem", arn, []string{"tenant-1"})
	if _, err := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: str("guarded"), Key: k}); err != nil {
		t.Fatal(err)
	}
	check("GetItem", "dynamodb:GetItem", arn, []string{"tenant-1"})
	if _, err := env.Client.Query(ctx, &ddb.QueryInput{TableName: str("guarded"), KeyConditionExpression: str("sk > :z AND #p = :p"),
		ExpressionAttributeNames:  map[string]string{"#p": "pk"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("tenant-1"), ":z": n("0")}}); err != nil {
		t.Fatal(err)
	}
	check("Query", "dynamodb:Query", arn, []string{"tenant-1"})
	if _, err := env.Client.Scan(ctx, &ddb.ScanInput{TableName: str("guarded")}); err != nil {
		t.Fatal(err)
	}
	check("Scan", "dynamodb:Scan", arn, nil)
	if _, err := env.Client.ListTables(ctx, &ddb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	check("ListTables", "dynamodb:ListTables", "arn:aws:dynamodb:us-east-1:"+testAccount+":table/*", nil)

	// Denied: AccessDeniedException, and nothing written.
	env.Authz.setDeny(func(r *policy.Request) bool {
		return r.Action == "dynamodb:PutItem" || r.Action == "dynamodb:DescribeTable"
	})
	other := map[string]types.AttributeValue{"pk": s("tenant-2"), "sk": n("1")}
	_, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: str("guarded"), Item: other})
	if errCode(err) != "AccessDeniedException" || !strings.Contains(errMessage(err), "is not authorized to perform: dynamodb:PutItem on resource: "+arn) {
		t.Errorf("denied PutItem: %v", err)
	}
	if got, err := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: str("guarded"), Key: other}); err != nil || got.Item != nil {
		t.Errorf("denied PutItem wrote: %v %v", got.Item, err)
	}
	// A caller who may not ask learns nothing about whether a table exists.
	if _, err := env.Client.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: str("no-such-table")}); errCode(err) != "AccessDeniedException" {
		t.Errorf("denied DescribeTable of a missing table: %v", err)
	}
	if _, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: str("no-such-table"), Item: k}); errCode(err) != "AccessDeniedException" {
		t.Errorf("denied PutItem to a missing table: %v", err)
	}
	env.Authz.setDeny(nil)
	// Another account's table, named by ARN: the root user of this account may not touch it.
	foreign := "arn:aws:dynamodb:us-east-1:999988887777:table/guarded"
	if _, err := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: str(foreign), Key: k}); errCode(err) != "AccessDeniedException" {
		t.Errorf("GetItem on a foreign table: %v", err)
	}
	if req := env.Authz.last(); req.ResourceAccount != "999988887777" || req.Resource != foreign {
		t.Errorf("foreign request = %+v", req)
	}
	// Unsigned requests are refused before anything else.
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/", bytes.NewReader([]byte(`{"TableName":"guarded"}`)))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := env.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
}
