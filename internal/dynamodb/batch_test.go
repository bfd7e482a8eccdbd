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

func put(item map[string]types.AttributeValue) types.WriteRequest {
	return types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
}

func del(key map[string]types.AttributeValue) types.WriteRequest {
	return types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key}}
}

func lockItem(id, info string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"LockID": s(id), "Info": s(info)}
}

// lockIDs scans table and returns its LockIDs, sorted.
func lockIDs(t *testing.T, env *testEnv, table string) []string {
	t.Helper()
	out, err := env.Client.Scan(context.Background(), &ddb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range out.Items {
		ids = append(ids, it["LockID"].(*types.AttributeValueMemberS).Value)
	}
	slices.Sort(ids)
	return ids
}

func TestBatchWriteItem(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "locks", "LockID", "S", "", "")
	env.createTable(t, "other", "LockID", "S", "", "")
	for _, id := range []string{"stale-1", "stale-2", "keep"} {
		if _, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("locks"), Item: lockItem(id, "old")}); err != nil {
			t.Fatal(err)
		}
	}

	// Deletes and puts across two tables in one call.
	out, err := env.Client.BatchWriteItem(ctx, &ddb.BatchWriteItemInput{
		RequestItems: map[string][]types.WriteRequest{
			"locks": {del(key("LockID", "stale-1")), del(key("LockID", "stale-2")), put(lockItem("new", "{\"Who\":\"ci\"}")),
				del(key("LockID", "never-there"))},
			"other": {put(lockItem("copied", "x"))},
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := env.Authz.last(); got.Action != "dynamodb:BatchWriteItem" || !slices.Contains(got.Keys["dynamodb:LeadingKeys"], "copied") {
		t.Errorf("last authorization: %s with LeadingKeys %v", got.Action, got.Keys["dynamodb:LeadingKeys"])
	}
	if len(out.UnprocessedItems) != 0 {
		t.Errorf("UnprocessedItems = %v, want none", out.UnprocessedItems)
	}
	if len(out.ConsumedCapacity) != 2 {
		t.Errorf("ConsumedCapacity has %d entries, want one per table", len(out.ConsumedCapacity))
	}
	if got := lockIDs(t, env, "locks"); !slices.Equal(got, []string{"keep", "new"}) {
		t.Errorf("locks after the batch: %v", got)
	}
	if got := lockIDs(t, env, "other"); !slices.Equal(got, []string{"copied"}) {
		t.Errorf("other after the batch: %v", got)
	}
	got, err := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String("locks"), Key: key("LockID", "new")})
	if err != nil || got.Item["Info"].(*types.AttributeValueMemberS).Value != "{\"Who\":\"ci\"}" {
		t.Errorf("the put item: %v, %v", got.Item, err)
	}

	// A bad request anywhere fails the whole batch, and nothing is written.
	var many []types.WriteRequest
	for i := range 26 {
		many = append(many, put(lockItem(fmt.Sprint("n", i), "x")))
	}
	bad := []struct {
		name  string
		items map[string][]types.WriteRequest
		code  string
	}{
		{"too many", map[string][]types.WriteRequest{"locks": many}, "ValidationException"},
		{"duplicate keys", map[string][]types.WriteRequest{"locks": {put(lockItem("dup", "1")), del(key("LockID", "dup"))}}, "ValidationException"},
		{"missing key attribute", map[string][]types.WriteRequest{"locks": {put(lockItem("ok", "1")), put(map[string]types.AttributeValue{"Info": s("x")})}}, "ValidationException"},
		{"wrong key type", map[string][]types.WriteRequest{"locks": {put(lockItem("ok", "1")), del(map[string]types.AttributeValue{"LockID": n("1")})}}, "ValidationException"},
		{"missing table", map[string][]types.WriteRequest{"locks": {put(lockItem("ok", "1"))}, "nope": {put(lockItem("x", "1"))}}, "ResourceNotFoundException"},
		{"both put and delete", map[string][]types.WriteRequest{"locks": {{PutRequest: &types.PutRequest{Item: lockItem("ok", "1")}, DeleteRequest: &types.DeleteRequest{Key: key("LockID", "keep")}}}}, "ValidationException"},
		{"empty", map[string][]types.WriteRequest{"locks": {}}, "ValidationException"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Client.BatchWriteItem(ctx, &ddb.BatchWriteItemInput{RequestItems: tt.items})
			if errCode(err) != tt.code {
				t.Errorf("err = %v, want %s", err, tt.code)
			}
			if got := lockIDs(t, env, "locks"); !slices.Equal(got, []string{"keep", "new"}) {
				t.Errorf("a refused batch changed the table: %v", got)
			}
		})
	}
}

func TestBatchGetItem(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "locks", "LockID", "S", "", "")
	env.createTable(t, "states", "Path", "S", "Serial", "N")
	for _, id := range []string{"a", "b", "c"} {
		if _, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("locks"), Item: lockItem(id, "info-"+id)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("states"),
		Item: map[string]types.AttributeValue{"Path": s("prod"), "Serial": n("7"), "Digest": s("abc")}}); err != nil {
		t.Fatal(err)
	}
	out, err := env.Client.BatchGetItem(ctx, &ddb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		"locks": {Keys: []map[string]types.AttributeValue{key("LockID", "a"), key("LockID", "c"), key("LockID", "missing")},
			ProjectionExpression: aws.String("#i"), ExpressionAttributeNames: map[string]string{"#i": "Info"}, ConsistentRead: aws.Bool(true)},
		"states": {Keys: []map[string]types.AttributeValue{{"Path": s("prod"), "Serial": n("7")}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var infos []string
	for _, it := range out.Responses["locks"] {
		if _, ok := it["LockID"]; ok {
			t.Errorf("projection on Info returned LockID: %v", it)
		}
		infos = append(infos, it["Info"].(*types.AttributeValueMemberS).Value)
	}
	slices.Sort(infos)
	if !slices.Equal(infos, []string{"info-a", "info-c"}) {
		t.Errorf("locks: %v, want info-a and info-c (a missing key is left out)", infos)
	}
	if st := out.Responses["states"]; len(st) != 1 || st[0]["Digest"].(*types.AttributeValueMemberS).Value != "abc" {
		t.Errorf("states: %v", st)
	}
	if len(out.UnprocessedKeys) != 0 {
		t.Errorf("UnprocessedKeys = %v", out.UnprocessedKeys)
	}

	var many []map[string]types.AttributeValue
	for i := range 101 {
		many = append(many, key("LockID", fmt.Sprint(i)))
	}
	bad := []struct {
		name  string
		items map[string]types.KeysAndAttributes
		code  string
		msg   string
	}{
		{"too many", map[string]types.KeysAndAttributes{"locks": {Keys: many}}, "ValidationException", "Too many items"},
		{"duplicates", map[string]types.KeysAndAttributes{"locks": {Keys: []map[string]types.AttributeValue{key("LockID", "a"), key("LockID", "a")}}}, "ValidationException", "duplicates"},
		{"not the key", map[string]types.KeysAndAttributes{"locks": {Keys: []map[string]types.AttributeValue{{"LockID": s("a"), "Info": s("x")}}}}, "ValidationException", "key element does not match"},
		{"missing table", map[string]types.KeysAndAttributes{"nope": {Keys: []map[string]types.AttributeValue{key("LockID", "a")}}}, "ResourceNotFoundException", ""},
		{"unused name", map[string]types.KeysAndAttributes{"locks": {Keys: []map[string]types.AttributeValue{key("LockID", "a")}, ExpressionAttributeNames: map[string]string{"#x": "Info"}}}, "ValidationException", ""},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Client.BatchGetItem(ctx, &ddb.BatchGetItemInput{RequestItems: tt.items})
			if errCode(err) != tt.code || !strings.Contains(errMessage(err), tt.msg) {
				t.Errorf("err = %v, want %s mentioning %q", err, tt.code, tt.msg)
			}
		})
	}
}

// TestBatchGetItemUnprocessedKeys: past 16 MB of items the rest of the keys come back as
// UnprocessedKeys, and asking again with them returns the rest, as clients loop.
func TestBatchGetItemUnprocessedKeys(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "big", "LockID", "S", "", "")
	const items, size = 45, 390_000 // 17.5 MB in all, each under the 400 KB item limit
	blob := strings.Repeat("x", size)
	var keys []map[string]types.AttributeValue
	for i := range items {
		id := fmt.Sprintf("k%02d", i)
		if _, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String("big"), Item: lockItem(id, blob)}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key("LockID", id))
	}
	var got []string
	request := map[string]types.KeysAndAttributes{"big": {Keys: keys}}
	for round := 0; len(request) > 0; round++ {
		if round == 3 {
			t.Fatalf("still unprocessed keys after %d rounds", round)
		}
		out, err := env.Client.BatchGetItem(ctx, &ddb.BatchGetItemInput{RequestItems: request})
		if err != nil {
			t.Fatal(err)
		}
		returned := 0
		for _, it := range out.Responses["big"] {
			got = append(got, it["LockID"].(*types.AttributeValueMemberS).Value)
			returned += size
		}
		if returned > 16<<20 {
			t.Errorf("round %d returned %d bytes of items, over 16 MB", round, returned)
		}
		if round == 0 && len(out.UnprocessedKeys) == 0 {
			t.Errorf("17.5 MB of items came back in one response")
		}
		request = out.UnprocessedKeys
	}
	slices.Sort(got)
	var want []string
	for i := range items {
		want = append(want, fmt.Sprintf("k%02d", i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("got items %v, want each of %d once", got, items)
	}
}
