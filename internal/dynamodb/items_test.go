package dynamodb_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// everyType is an item holding every attribute type, nested.
const everyType = `{
	"pk": {"S": "all"},
	"s": {"S": "héllo \"world\" <&>"},
	"n": {"N": "-01.500"},
	"b": {"B": "AAECAwT/"},
	"t": {"BOOL": true},
	"f": {"BOOL": false},
	"z": {"NULL": true},
	"m": {"M": {"inner": {"M": {"deep": {"L": [{"N": "1"}, {"S": ""}]}}}, "e": {"M": {}}}},
	"l": {"L": [{"S": "a"}, {"NS": ["1", "2.50"]}, {"L": []}]},
	"ss": {"SS": ["x", "y"]},
	"ns": {"NS": ["10", "-3e2"]},
	"bs": {"BS": ["AA==", "AQ=="]},
	"empty": {"S": ""},
	"emptyb": {"B": ""}
}`

func TestEveryTypeRoundTrip(t *testing.T) {
	env := newEnv(t)
	env.createTable(t, "types", "pk", "S", "", "")
	put := env.raw(t, "PutItem", `{"TableName":"types","Item":`+everyType+`}`)
	if put.Status != 200 || string(put.Body) != "{}" {
		t.Fatalf("PutItem: %d %s", put.Status, put.Body)
	}
	get := env.raw(t, "GetItem", `{"TableName":"types","Key":{"pk":{"S":"all"}}}`)
	if get.Status != 200 {
		t.Fatalf("GetItem: %d %s", get.Status, get.Body)
	}
	var got, want map[string]any
	if err := json.Unmarshal(get.Body, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(everyType), &want); err != nil {
		t.Fatal(err)
	}
	// Numbers keep their text; everything else is exact too.
	if !reflect.DeepEqual(got["Item"], want) {
		t.Errorf("GetItem = %s", get.Body)
	}
	// The SDK decodes every type.
	out, err := env.Client.GetItem(context.Background(), &ddb.GetItemInput{TableName: str("types"), Key: key("pk", "all")})
	if err != nil {
		t.Fatal(err)
	}
	if b := out.Item["b"].(*types.AttributeValueMemberB).Value; string(b) != "\x00\x01\x02\x03\x04\xff" {
		t.Errorf("B = %x", b)
	}
	if n := out.Item["n"].(*types.AttributeValueMemberN).Value; n != "-01.500" {
		t.Errorf("N = %q", n)
	}
}

func TestReturnValues(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "rvt", "pk", "S", "", "")
	tbl := str("rvt")
	item := func(v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": s("k"), "v": s(v), "n": n("1")}
	}
	put, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: tbl, Item: item("one"), ReturnValues: types.ReturnValueAllOld})
	if err != nil || put.Attributes != nil {
		t.Fatalf("first put ALL_OLD = %+v, %v", put.Attributes, err)
	}
	put, err = env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: tbl, Item: item("two"), ReturnValues: types.ReturnValueAllOld})
	if err != nil || put.Attributes["v"].(*types.AttributeValueMemberS).Value != "one" {
		t.Fatalf("second put ALL_OLD = %+v, %v", put.Attributes, err)
	}
	if _, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: tbl, Item: item("x"), ReturnValues: types.ReturnValueAllNew}); errCode(err) != "ValidationException" {
		t.Errorf("PutItem ALL_NEW: %v", err)
	}
	upd := func(rv types.ReturnValue) map[string]types.AttributeValue {
		t.Helper()
		out, err := env.Client.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: tbl, Key: key("pk", "k"),
			UpdateExpression: str("SET v = :v ADD n :one"), ReturnValues: rv,
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(string(rv)), ":one": n("1")}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Attributes
	}
	if a := upd(types.ReturnValueNone); a != nil {
		t.Errorf("NONE = %v", a)
	}
	if a := upd(types.ReturnValueUpdatedOld); len(a) != 2 || a["v"].(*types.AttributeValueMemberS).Value != "NONE" || a["n"].(*types.AttributeValueMemberN).Value != "2" {
		t.Errorf("UPDATED_OLD = %v", a)
	}
	if a := upd(types.ReturnValueUpdatedNew); len(a) != 2 || a["v"].(*types.AttributeValueMemberS).Value != "UPDATED_NEW" || a["n"].(*types.AttributeValueMemberN).Value != "4" {
		t.Errorf("UPDATED_NEW = %v", a)
	}
	if a := upd(types.ReturnValueAllOld); len(a) != 3 || a["v"].(*types.AttributeValueMemberS).Value != "UPDATED_NEW" {
		t.Errorf("ALL_OLD = %v", a)
	}
	if a := upd(types.ReturnValueAllNew); len(a) != 3 || a["v"].(*types.AttributeValueMemberS).Value != "ALL_NEW" || a["n"].(*types.AttributeValueMemberN).Value != "6" {
		t.Errorf("ALL_NEW = %v", a)
	}
	del, err := env.Client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: tbl, Key: key("pk", "k"), ReturnValues: types.ReturnValueAllOld})
	if err != nil || del.Attributes["v"].(*types.AttributeValueMemberS).Value != "ALL_NEW" {
		t.Errorf("DeleteItem ALL_OLD = %v, %v", del.Attributes, err)
	}
	cc, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: tbl, Item: item("cap"), ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil || cc.ConsumedCapacity == nil || aws.ToFloat64(cc.ConsumedCapacity.CapacityUnits) != 1 || aws.ToString(cc.ConsumedCapacity.TableName) != "rvt" {
		t.Errorf("ConsumedCapacity = %+v, %v", cc.ConsumedCapacity, err)
	}
	gc, err := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: tbl, Key: key("pk", "k"), ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil || gc.ConsumedCapacity == nil || aws.ToFloat64(gc.ConsumedCapacity.CapacityUnits) != 0.5 || gc.ConsumedCapacity.Table == nil {
		t.Errorf("GetItem ConsumedCapacity = %+v, %v", gc.ConsumedCapacity, err)
	}
}

func TestUpdateItem(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "upd", "pk", "S", "sk", "N")
	k := map[string]types.AttributeValue{"pk": s("a"), "sk": n("1")}
	update := func(expr, cond string, vals map[string]types.AttributeValue, names map[string]string) (map[string]types.AttributeValue, error) {
		in := &ddb.UpdateItemInput{TableName: str("upd"), Key: k, UpdateExpression: str(expr),
			ExpressionAttributeValues: vals, ExpressionAttributeNames: names, ReturnValues: types.ReturnValueAllNew}
		if cond != "" {
			in.ConditionExpression = str(cond)
		}
		out, err := env.Client.UpdateItem(ctx, in)
		if err != nil {
			return nil, err
		}
		return out.Attributes, nil
	}
	// An update creates the item, with its key.
	a, err := update("SET #c = if_not_exists(#c, :zero) + :one, tags = :tags", "attribute_not_exists(pk)",
		map[string]types.AttributeValue{":zero": n("0"), ":one": n("1"), ":tags": &types.AttributeValueMemberSS{Value: []string{"x"}}},
		map[string]string{"#c": "count"})
	if err != nil {
		t.Fatal(err)
	}
	if a["count"].(*types.AttributeValueMemberN).Value != "1" || a["pk"].(*types.AttributeValueMemberS).Value != "a" || a["sk"].(*types.AttributeValueMemberN).Value != "1" {
		t.Errorf("created = %v", a)
	}
	a, err = update("SET l = list_append(if_not_exists(l, :empty), :more), m = :m ADD tags :t REMOVE gone",
		"#c = :one", map[string]types.AttributeValue{":empty": &types.AttributeValueMemberL{}, ":more": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("e")}},
			":m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": n("1")}}, ":t": &types.AttributeValueMemberSS{Value: []string{"y"}}, ":one": n("1")},
		map[string]string{"#c": "count"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a["l"].(*types.AttributeValueMemberL).Value) != 1 || len(a["tags"].(*types.AttributeValueMemberSS).Value) != 2 {
		t.Errorf("after second update = %v", a)
	}
	a, err = update("SET m.y = m.x + :two DELETE tags :x REMOVE l[0]", "size(tags) = :two",
		map[string]types.AttributeValue{":two": n("2"), ":x": &types.AttributeValueMemberSS{Value: []string{"x"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := a["m"].(*types.AttributeValueMemberM).Value; m["y"].(*types.AttributeValueMemberN).Value != "3" {
		t.Errorf("m = %v", m)
	}
	if tags := a["tags"].(*types.AttributeValueMemberSS).Value; len(tags) != 1 || tags[0] != "y" {
		t.Errorf("tags = %v", tags)
	}
	tests := []struct {
		name, expr, cond string
		vals             map[string]types.AttributeValue
		code, msg        string
	}{
		{"key attribute", "SET pk = :v", "", map[string]types.AttributeValue{":v": s("b")}, "ValidationException", "Cannot update attribute pk. This attribute is part of the key"},
		{"condition fails", "SET v = :v", "attribute_not_exists(pk)", map[string]types.AttributeValue{":v": s("b")}, "ConditionalCheckFailedException", "The conditional request failed"},
		{"wrong operand type", "SET v = tags + :v", "", map[string]types.AttributeValue{":v": n("1")}, "ValidationException", "An operand in the update expression has an incorrect data type"},
		{"missing operand", "SET v = nope + :v", "", map[string]types.AttributeValue{":v": n("1")}, "ValidationException", "The provided expression refers to an attribute that does not exist in the item"},
		{"overlapping paths", "SET m.x = :v REMOVE m", "", map[string]types.AttributeValue{":v": n("1")}, "ValidationException", "Two document paths overlap"},
		{"syntax", "SET = :v", "", map[string]types.AttributeValue{":v": n("1")}, "ValidationException", "Invalid UpdateExpression: Syntax error"},
		{"undefined value", "SET v = :w", "", map[string]types.AttributeValue{":v": n("1")}, "ValidationException", "An expression attribute value used in expression is not defined; attribute value: :w"},
		{"unused value", "SET v = :v", "", map[string]types.AttributeValue{":v": n("1"), ":x": n("2")}, "ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"},
		{"nested path under missing", "SET nope.x = :v", "", map[string]types.AttributeValue{":v": n("1")}, "ValidationException", "The document path provided in the update expression is invalid for update"},
	}
	before, _ := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: str("upd"), Key: k})
	for _, tt := range tests {
		_, err := update(tt.expr, tt.cond, tt.vals, nil)
		if errCode(err) != tt.code || !strings.Contains(errMessage(err), tt.msg) {
			t.Errorf("%s: %v, want %s %q", tt.name, err, tt.code, tt.msg)
		}
	}
	after, _ := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: str("upd"), Key: k})
	if !reflect.DeepEqual(before.Item, after.Item) {
		t.Error("refused updates changed the item")
	}
	// An UpdateItem without an UpdateExpression only makes sure the item exists.
	if _, err := env.Client.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: str("upd"), Key: map[string]types.AttributeValue{"pk": s("b"), "sk": n("2")}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: str("upd"), Key: map[string]types.AttributeValue{"pk": s("b"), "sk": n("2.0")}}); len(got.Item) != 2 {
		t.Errorf("key-only item = %v", got.Item)
	}
}

func TestConditionExpressions(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "cond", "pk", "S", "", "")
	put := env.raw(t, "PutItem", `{"TableName":"cond","Item":`+everyType+`}`)
	if put.Status != 200 {
		t.Fatal(string(put.Body))
	}
	tests := []struct {
		cond string
		vals map[string]types.AttributeValue
		ok   bool
	}{
		{"attribute_exists(pk)", nil, true},
		{"attribute_not_exists(pk)", nil, false},
		{"n = :v", map[string]types.AttributeValue{":v": n("-1.5")}, true},
		{"n <> :v", map[string]types.AttributeValue{":v": n("-1.5")}, false},
		{"n < :v", map[string]types.AttributeValue{":v": n("0")}, true},
		{"n <= :v", map[string]types.AttributeValue{":v": n("-1.5")}, true},
		{"n > :v", map[string]types.AttributeValue{":v": n("-2")}, true},
		{"n >= :v", map[string]types.AttributeValue{":v": n("-1")}, false},
		{"n BETWEEN :a AND :b", map[string]types.AttributeValue{":a": n("-2"), ":b": n("-1")}, true},
		{"s IN (:a, :b)", map[string]types.AttributeValue{":a": s("x"), ":b": s(`héllo "world" <&>`)}, true},
		{"begins_with(s, :p)", map[string]types.AttributeValue{":p": s("hé")}, true},
		{"contains(ss, :m)", map[string]types.AttributeValue{":m": s("y")}, true},
		{"contains(l, :m)", map[string]types.AttributeValue{":m": s("a")}, true},
		{"size(l) = :three", map[string]types.AttributeValue{":three": n("3")}, true},
		{"attribute_type(m.inner.deep, :t)", map[string]types.AttributeValue{":t": s("L")}, true},
		{"m.inner.deep[1] = :e", map[string]types.AttributeValue{":e": s("")}, true},
		{"NOT (t = :t AND f = :t)", map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}, true},
		{"z = :null OR missing = :null", map[string]types.AttributeValue{":null": &types.AttributeValueMemberNULL{Value: true}}, true},
		{"missing = :v OR (ns = :set AND bs = :bs)", map[string]types.AttributeValue{":v": s("x"),
			":set": &types.AttributeValueMemberNS{Value: []string{"-300", "10.0"}}, ":bs": &types.AttributeValueMemberBS{Value: [][]byte{{1}, {0}}}}, true},
	}
	for _, tt := range tests {
		// A conditional no-op update evaluates the condition without changing anything.
		_, err := env.Client.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: str("cond"), Key: key("pk", "all"),
			ConditionExpression: str(tt.cond), ExpressionAttributeValues: tt.vals})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: %v", tt.cond, err)
		case !tt.ok && !errors.As(err, &ccf):
			t.Errorf("%s: %v, want ConditionalCheckFailedException", tt.cond, err)
		}
	}
	// Projection of nested paths.
	out, err := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: str("cond"), Key: key("pk", "all"),
		ProjectionExpression: str("m.inner.deep[1], #s, l[1]"), ExpressionAttributeNames: map[string]string{"#s": "ss"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Item) != 3 || len(out.Item["l"].(*types.AttributeValueMemberL).Value) != 1 {
		t.Errorf("projection = %v", out.Item)
	}
	// A projection that matches nothing on an existing item is an empty Item, not a miss.
	r := env.raw(t, "GetItem", `{"TableName":"cond","Key":{"pk":{"S":"all"}},"ProjectionExpression":"nothing"}`)
	if string(r.Body) != `{"Item":{}}` {
		t.Errorf("empty projection = %s", r.Body)
	}
	legacy, err := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: str("cond"), Key: key("pk", "all"), AttributesToGet: []string{"pk", "t"}})
	if err != nil || len(legacy.Item) != 2 {
		t.Errorf("AttributesToGet = %v, %v", legacy.Item, err)
	}
}
