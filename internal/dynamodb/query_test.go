package dynamodb_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// seedQueryTable makes table "events" (pk S, sk N) with items sk = -5..14 under pk "a", a few
// under "b", and each item's "odd" attribute set for odd sk.
func seedQueryTable(t *testing.T, env *testEnv) {
	t.Helper()
	env.createTable(t, "events", "pk", "S", "sk", "N")
	put := func(pk string, sk int) {
		it := map[string]types.AttributeValue{"pk": s(pk), "sk": n(fmt.Sprint(sk)), "v": s(fmt.Sprintf("%s%d", pk, sk))}
		if sk%2 != 0 {
			it["odd"] = &types.AttributeValueMemberBOOL{Value: true}
		}
		if _, err := env.Client.PutItem(context.Background(), &ddb.PutItemInput{TableName: str("events"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	for sk := -5; sk < 15; sk++ {
		put("a", sk)
	}
	for sk := range 3 {
		put("b", sk)
	}
	put("a-", 0) // a hash key that extends "a" must not leak into a's partition
}

func sks(items []map[string]types.AttributeValue) []string {
	var out []string
	for _, it := range items {
		out = append(out, it["sk"].(*types.AttributeValueMemberN).Value)
	}
	return out
}

func rangeStr(from, to int) string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	return strings.Join(out, ",")
}

func TestQueryKeyConditions(t *testing.T) {
	env := newEnv(t)
	seedQueryTable(t, env)
	tests := []struct {
		cond string
		vals map[string]types.AttributeValue
		want string
	}{
		{"pk = :a", nil, rangeStr(-5, 14)},
		{"pk = :b", nil, "0,1,2"},
		{"pk = :a AND sk = :x", map[string]types.AttributeValue{":x": n("3.0")}, "3"},
		{"pk = :a AND sk < :x", map[string]types.AttributeValue{":x": n("-3")}, "-5,-4"},
		{"pk = :a AND sk <= :x", map[string]types.AttributeValue{":x": n("-3")}, "-5,-4,-3"},
		{"pk = :a AND sk > :x", map[string]types.AttributeValue{":x": n("12")}, "13,14"},
		{"pk = :a AND sk >= :x", map[string]types.AttributeValue{":x": n("12")}, "12,13,14"},
		{"pk = :a AND sk > :x", map[string]types.AttributeValue{":x": n("11.5")}, "12,13,14"},
		{"pk = :a AND sk BETWEEN :x AND :y", map[string]types.AttributeValue{":x": n("-1"), ":y": n("2")}, "-1,0,1,2"},
		{":x > sk AND pk = :a", map[string]types.AttributeValue{":x": n("-4")}, "-5"},
		{"(pk = :a) AND (sk = :x)", map[string]types.AttributeValue{":x": n("100")}, ""},
	}
	for _, tt := range tests {
		vals := map[string]types.AttributeValue{":a": s("a"), ":b": s("b")}
		for k, v := range tt.vals {
			vals[k] = v
		}
		if !strings.Contains(tt.cond, ":b") {
			delete(vals, ":b")
		}
		if !strings.Contains(tt.cond, ":a") {
			delete(vals, ":a")
		}
		out, err := env.Client.Query(context.Background(), &ddb.QueryInput{TableName: str("events"),
			KeyConditionExpression: str(tt.cond), ExpressionAttributeValues: vals})
		if err != nil {
			t.Errorf("%s: %v", tt.cond, err)
			continue
		}
		if got := strings.Join(sks(out.Items), ","); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.cond, got, tt.want)
		}
		if int(out.Count) != len(out.Items) || out.LastEvaluatedKey != nil {
			t.Errorf("%s: Count %d, LastEvaluatedKey %v", tt.cond, out.Count, out.LastEvaluatedKey)
		}
	}
}

func TestQueryBeginsWith(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "files", "dir", "S", "name", "S")
	for _, name := range []string{"a", "ab", "abc", "abd", "b", "a\x00z", "ab\x00"} {
		if _, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: str("files"),
			Item: map[string]types.AttributeValue{"dir": s("d"), "name": s(name)}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ prefix, want string }{
		{"ab", "ab|ab\x00|abc|abd"},
		{"a\x00", "a\x00z"},
		{"c", ""},
		{"", "a|a\x00z|ab|ab\x00|abc|abd|b"},
	} {
		out, err := env.Client.Query(ctx, &ddb.QueryInput{TableName: str("files"),
			KeyConditionExpression:    str("dir = :d AND begins_with(#n, :p)"),
			ExpressionAttributeNames:  map[string]string{"#n": "name"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":d": s("d"), ":p": s(tt.prefix)}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range out.Items {
			got = append(got, it["name"].(*types.AttributeValueMemberS).Value)
		}
		if strings.Join(got, "|") != tt.want {
			t.Errorf("begins_with %q = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

func TestQueryPaging(t *testing.T) {
	env := newEnv(t)
	seedQueryTable(t, env)
	ctx := context.Background()
	for _, forward := range []bool{true, false} {
		for _, limit := range []int32{1, 3, 7, 20, 25} {
			var all []string
			var start map[string]types.AttributeValue
			pages := 0
			for {
				out, err := env.Client.Query(ctx, &ddb.QueryInput{TableName: str("events"), KeyConditionExpression: str("pk = :a"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":a": s("a")},
					ScanIndexForward:          aws.Bool(forward), Limit: aws.Int32(limit), ExclusiveStartKey: start})
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(out.Items) > int(limit) {
					t.Fatalf("page of %d items with Limit %d", len(out.Items), limit)
				}
				all = append(all, sks(out.Items)...)
				if out.LastEvaluatedKey == nil {
					break
				}
				if len(out.LastEvaluatedKey) != 2 {
					t.Fatalf("LastEvaluatedKey = %v", out.LastEvaluatedKey)
				}
				start = out.LastEvaluatedKey
			}
			want := strings.Split(rangeStr(-5, 14), ",")
			if !forward {
				slices.Reverse(want)
			}
			if strings.Join(all, ",") != strings.Join(want, ",") {
				t.Errorf("forward=%v limit=%d: %v", forward, limit, all)
			}
			if wantPages := (20 + int(limit) - 1) / int(limit); pages != wantPages {
				t.Errorf("forward=%v limit=%d: %d pages, want %d", forward, limit, pages, wantPages)
			}
		}
	}
	// Filter, COUNT and projection.
	out, err := env.Client.Query(ctx, &ddb.QueryInput{TableName: str("events"), KeyConditionExpression: str("pk = :a"),
		FilterExpression: str("odd = :t"), ProjectionExpression: str("sk"), Limit: aws.Int32(10),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": s("a"), ":t": &types.AttributeValueMemberBOOL{Value: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sks(out.Items), ","); got != "-5,-3,-1,1,3" || out.ScannedCount != 10 || out.Count != 5 || len(out.Items[0]) != 1 {
		t.Errorf("filtered = %s, Count %d, ScannedCount %d, %v", got, out.Count, out.ScannedCount, out.Items[0])
	}
	cnt, err := env.Client.Query(ctx, &ddb.QueryInput{TableName: str("events"), KeyConditionExpression: str("pk = :a"),
		Select: types.SelectCount, ExpressionAttributeValues: map[string]types.AttributeValue{":a": s("a")}})
	if err != nil || cnt.Count != 20 || cnt.Items != nil {
		t.Errorf("COUNT = %d, %v, %v", cnt.Count, cnt.Items, err)
	}
	r := env.raw(t, "Query", `{"TableName":"events","KeyConditionExpression":"pk = :a","Select":"COUNT","ExpressionAttributeValues":{":a":{"S":"b"}}}`)
	if string(r.Body) != `{"Count":3,"ScannedCount":3}` {
		t.Errorf("COUNT body = %s", r.Body)
	}
}

func TestQueryPageSize(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "big", "pk", "S", "sk", "N")
	blob := strings.Repeat("x", 100<<10)
	for i := range 25 { // 2.5 MB in one partition
		if _, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: str("big"),
			Item: map[string]types.AttributeValue{"pk": s("p"), "sk": n(fmt.Sprint(i)), "blob": s(blob)}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, forward := range []bool{true, false} {
		var sizes []int
		var start map[string]types.AttributeValue
		total := 0
		for {
			out, err := env.Client.Query(ctx, &ddb.QueryInput{TableName: str("big"), KeyConditionExpression: str("pk = :p"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("p")}, ScanIndexForward: aws.Bool(forward),
				ExclusiveStartKey: start})
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(out.Items))
			total += len(out.Items)
			if out.LastEvaluatedKey == nil {
				break
			}
			start = out.LastEvaluatedKey
		}
		// Each page stops at the item that reaches 1 MB: 11 items of ~100 KB.
		if total != 25 || len(sizes) != 3 || sizes[0] != 11 {
			t.Errorf("forward=%v: page sizes %v", forward, sizes)
		}
	}
}

func TestQueryErrors(t *testing.T) {
	env := newEnv(t)
	seedQueryTable(t, env)
	tests := []struct {
		name, body, code, msg string
	}{
		{"no key condition", `{"TableName":"events"}`, "ValidationException", "KeyConditionExpression parameter must be specified"},
		{"range key only", `{"TableName":"events","KeyConditionExpression":"sk = :x","ExpressionAttributeValues":{":x":{"N":"1"}}}`,
			"ValidationException", "Query condition missed key schema element: pk"},
		{"non-key attribute", `{"TableName":"events","KeyConditionExpression":"pk = :a AND v = :x","ExpressionAttributeValues":{":a":{"S":"a"},":x":{"S":"1"}}}`,
			"ValidationException", "Query key condition not supported"},
		{"hash inequality", `{"TableName":"events","KeyConditionExpression":"pk > :a","ExpressionAttributeValues":{":a":{"S":"a"}}}`,
			"ValidationException", "Query key condition not supported"},
		{"OR", `{"TableName":"events","KeyConditionExpression":"pk = :a OR sk = :x","ExpressionAttributeValues":{":a":{"S":"a"},":x":{"N":"1"}}}`,
			"ValidationException", "Invalid operator used in KeyConditionExpression: OR"},
		{"hash type", `{"TableName":"events","KeyConditionExpression":"pk = :a","ExpressionAttributeValues":{":a":{"N":"1"}}}`,
			"ValidationException", "Condition parameter type does not match schema type"},
		{"begins_with on number", `{"TableName":"events","KeyConditionExpression":"pk = :a AND begins_with(sk, :x)","ExpressionAttributeValues":{":a":{"S":"a"},":x":{"N":"1"}}}`,
			"ValidationException", "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{"begins_with on a string for a number key", `{"TableName":"events","KeyConditionExpression":"pk = :a AND begins_with(sk, :x)","ExpressionAttributeValues":{":a":{"S":"a"},":x":{"S":"1"}}}`,
			"ValidationException", "Condition parameter type does not match schema type"},
		{"filter on key", `{"TableName":"events","KeyConditionExpression":"pk = :a","FilterExpression":"sk > :x","ExpressionAttributeValues":{":a":{"S":"a"},":x":{"N":"1"}}}`,
			"ValidationException", "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"},
		{"start key elsewhere", `{"TableName":"events","KeyConditionExpression":"pk = :a","ExclusiveStartKey":{"pk":{"S":"b"},"sk":{"N":"1"}},"ExpressionAttributeValues":{":a":{"S":"a"}}}`,
			"ValidationException", "The provided starting key is outside query boundaries"},
		{"start key incomplete", `{"TableName":"events","KeyConditionExpression":"pk = :a","ExclusiveStartKey":{"pk":{"S":"a"}},"ExpressionAttributeValues":{":a":{"S":"a"}}}`,
			"ValidationException", "The provided starting key is invalid"},
		{"limit zero", `{"TableName":"events","KeyConditionExpression":"pk = :a","Limit":0,"ExpressionAttributeValues":{":a":{"S":"a"}}}`,
			"ValidationException", "Member must have value greater than or equal to 1"},
		{"index", `{"TableName":"events","IndexName":"gsi","KeyConditionExpression":"pk = :a","ExpressionAttributeValues":{":a":{"S":"a"}}}`,
			"ValidationException", "The table does not have the specified index: gsi"},
		{"legacy KeyConditions", `{"TableName":"events","KeyConditions":{"pk":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"a"}]}}}`,
			"ValidationException", "use KeyConditionExpression"},
		{"select specific without projection", `{"TableName":"events","Select":"SPECIFIC_ATTRIBUTES","KeyConditionExpression":"pk = :a","ExpressionAttributeValues":{":a":{"S":"a"}}}`,
			"ValidationException", "SPECIFIC_ATTRIBUTES"},
		{"missing table", `{"TableName":"nope-table","KeyConditionExpression":"pk = :a","ExpressionAttributeValues":{":a":{"S":"a"}}}`,
			"ResourceNotFoundException", "Requested resource not found"},
	}
	for _, tt := range tests {
		r := env.raw(t, "Query", tt.body)
		code, msg := r.awsError()
		if r.Status != 400 || code != tt.code || !strings.Contains(msg, tt.msg) {
			t.Errorf("%s: %d %s, want %s %q", tt.name, r.Status, r.Body, tt.code, tt.msg)
		}
	}
}

func TestScan(t *testing.T) {
	env := newEnv(t)
	seedQueryTable(t, env)
	ctx := context.Background()
	scanAll := func(in ddb.ScanInput) ([]string, int) {
		var got []string
		pages := 0
		for {
			out, err := env.Client.Scan(ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, it := range out.Items {
				got = append(got, it["v"].(*types.AttributeValueMemberS).Value)
			}
			if out.LastEvaluatedKey == nil {
				return got, pages
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	all, pages := scanAll(ddb.ScanInput{TableName: str("events")})
	if len(all) != 24 || pages != 1 {
		t.Fatalf("Scan = %v in %d pages", all, pages)
	}
	// Partition keys in key order, range keys in numeric order within each.
	if all[0] != "a-5" || all[19] != "a14" || all[20] != "a-0" || all[21] != "b0" {
		t.Errorf("Scan order = %v", all)
	}
	paged, pages := scanAll(ddb.ScanInput{TableName: str("events"), Limit: aws.Int32(5)})
	if !slices.Equal(paged, all) || pages != 5 {
		t.Errorf("paged Scan = %v in %d pages", paged, pages)
	}
	filtered, _ := scanAll(ddb.ScanInput{TableName: str("events"), FilterExpression: str("pk = :b OR sk > :x"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":b": s("b"), ":x": n("13")}})
	if strings.Join(filtered, ",") != "a14,b0,b1,b2" {
		t.Errorf("filtered Scan = %v", filtered)
	}
	// Segments partition the table by partition key.
	var union []string
	for seg := range int32(3) {
		part, _ := scanAll(ddb.ScanInput{TableName: str("events"), Segment: aws.Int32(seg), TotalSegments: aws.Int32(3), Limit: aws.Int32(4)})
		union = append(union, part...)
	}
	slices.Sort(union)
	sorted := slices.Clone(all)
	slices.Sort(sorted)
	if !slices.Equal(union, sorted) {
		t.Errorf("segments cover %v", union)
	}
	if _, err := env.Client.Scan(ctx, &ddb.ScanInput{TableName: str("events"), Segment: aws.Int32(3), TotalSegments: aws.Int32(3)}); errCode(err) != "ValidationException" {
		t.Errorf("Segment 3 of 3: %v", err)
	}
	if _, err := env.Client.Scan(ctx, &ddb.ScanInput{TableName: str("events"), Segment: aws.Int32(0)}); errCode(err) != "ValidationException" {
		t.Errorf("Segment without TotalSegments: %v", err)
	}
	cnt, err := env.Client.Scan(ctx, &ddb.ScanInput{TableName: str("events"), Select: types.SelectCount,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil || cnt.Count != 24 || cnt.ConsumedCapacity == nil {
		t.Errorf("COUNT Scan = %+v, %v", cnt, err)
	}
}
