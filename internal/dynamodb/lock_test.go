package dynamodb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// lockInfo is a LockInfo as Terraform marshals it, with characters that a re-encoding JSON
// layer would be tempted to change (HTML escapes, non-ASCII, escaped quotes).
const lockInfo = `{"ID":"6a1e0c3e-2b7a-4d47-9a7e-0f9f5e7c1d2b","Operation":"OperationTypeApply","Info":"","Who":"älice<&>@host","Version":"1.14.8","Created":"2025-06-01T12:00:00.123456789Z","Path":"mybucket/path/terraform.tfstate"}`

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// checkCRC asserts the response carries X-Amz-Crc32 equal to the CRC32 of its body.
func checkCRC(t *testing.T, r rawResponse) {
	t.Helper()
	if got, want := r.Header.Get("X-Amz-Crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(r.Body)), 10); got != want {
		t.Errorf("X-Amz-Crc32 = %q, want %q for %s", got, want, r.Body)
	}
}

// TestLockWireShapes replays Terraform's and OpenTofu's lock and digest requests byte for
// byte (WIRE.md §2.9) and checks the answers byte for byte.
func TestLockWireShapes(t *testing.T) {
	env := newEnv(t)
	if r := env.raw(t, "CreateTable", payPerRequestTable); r.Status != 200 {
		t.Fatal(string(r.Body))
	}
	const path = "mybucket/path/terraform.tfstate"
	lock := `{"ConditionExpression":"attribute_not_exists(LockID)","Item":{"Info":{"S":` + jsonString(lockInfo) +
		`},"LockID":{"S":"` + path + `"}},"TableName":"tf-locks"}`
	readLock := `{"ConsistentRead":true,"Key":{"LockID":{"S":"` + path + `"}},"ProjectionExpression":"LockID, Info","TableName":"tf-locks"}`
	tfUnlock := `{"Key":{"LockID":{"S":"` + path + `"}},"TableName":"tf-locks"}`
	tofuUnlock := func(info string) string {
		return `{"ConditionExpression":"Info = :info","ExpressionAttributeValues":{":info":{"S":` + jsonString(info) +
			`}},"Key":{"LockID":{"S":"` + path + `"}},"TableName":"tf-locks"}`
	}
	const md5 = "0f343b0931126a20f133d67c2b018a3b"
	putDigest := `{"Item":{"Digest":{"S":"` + md5 + `"},"LockID":{"S":"` + path + `-md5"}},"TableName":"tf-locks"}`
	readDigest := `{"ConsistentRead":true,"Key":{"LockID":{"S":"` + path + `-md5"}},"ProjectionExpression":"LockID, Digest","TableName":"tf-locks"}`
	readOtherDigest := `{"ConsistentRead":true,"Key":{"LockID":{"S":"other/terraform.tfstate-md5"}},"ProjectionExpression":"LockID, Digest","TableName":"tf-locks"}`
	wantItem := `{"Item":{"Info":{"S":` + jsonString(lockInfo) + `},"LockID":{"S":"` + path + `"}}}`

	steps := []struct {
		name, op, body string
		status         int
		want           string // exact body for 200; error code for 400
	}{
		{"lock", "PutItem", lock, 200, `{}`},
		{"lock held", "PutItem", lock, 400, "ConditionalCheckFailedException"},
		{"read lock info", "GetItem", readLock, 200, ""}, // compared by value below
		{"write digest", "PutItem", putDigest, 200, `{}`},
		{"read digest", "GetItem", readDigest, 200, `{"Item":{"Digest":{"S":"` + md5 + `"},"LockID":{"S":"` + path + `-md5"}}}`},
		{"read missing digest", "GetItem", readOtherDigest, 200, `{}`},
		{"tofu unlock with another holder's info", "DeleteItem", tofuUnlock(lockInfo[:len(lockInfo)-1] + ` }`), 400, "ConditionalCheckFailedException"},
		{"lock still held", "GetItem", readLock, 200, ""},
		{"tofu unlock", "DeleteItem", tofuUnlock(lockInfo), 200, `{}`},
		{"lock gone", "GetItem", readLock, 200, `{}`},
		{"relock", "PutItem", lock, 200, `{}`},
		{"terraform unlock", "DeleteItem", tfUnlock, 200, `{}`},
		{"lock gone again", "GetItem", readLock, 200, `{}`},
		{"unlock of nothing", "DeleteItem", tfUnlock, 200, `{}`},
		{"digest survives", "GetItem", readDigest, 200, `{"Item":{"Digest":{"S":"` + md5 + `"},"LockID":{"S":"` + path + `-md5"}}}`},
	}
	for _, st := range steps {
		r := env.raw(t, st.op, st.body)
		if r.Status != st.status {
			t.Fatalf("%s: status %d %s", st.name, r.Status, r.Body)
		}
		if st.status != 200 {
			if code, msg := r.awsError(); code != st.want || msg != "The conditional request failed" {
				t.Errorf("%s: %s", st.name, r.Body)
			}
			continue
		}
		checkCRC(t, r)
		if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
			t.Errorf("%s: Content-Type %q", st.name, ct)
		}
		want := st.want
		if want == "" {
			want = wantItem
		}
		if st.want == "" {
			// The value must come back byte for byte whatever escaping the encoder chose.
			var got struct{ Item map[string]map[string]string }
			if err := json.Unmarshal(r.Body, &got); err != nil || got.Item["Info"]["S"] != lockInfo || len(got.Item) != 2 {
				t.Errorf("%s: %s", st.name, r.Body)
			}
			continue
		}
		if string(r.Body) != want {
			t.Errorf("%s: body %s, want %s", st.name, r.Body, want)
		}
	}
}

// TestLockSDK runs the same protocol through the SDK, which also validates X-Amz-Crc32.
func TestLockSDK(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "tf-locks", "LockID", "S", "", "")
	tbl := str("tf-locks")
	lock := func(info string) error {
		_, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: tbl, ConditionExpression: str("attribute_not_exists(LockID)"),
			Item: map[string]types.AttributeValue{"LockID": s("b/k"), "Info": s(info)}})
		return err
	}
	if err := lock(lockInfo); err != nil {
		t.Fatal(err)
	}
	err := lock("other")
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("second lock: %v", err)
	}
	got, err := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: tbl, Key: key("LockID", "b/k"),
		ProjectionExpression: str("LockID, Info"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if info := got.Item["Info"].(*types.AttributeValueMemberS).Value; info != lockInfo {
		t.Errorf("Info = %q", info)
	}
	// The failed lock can report the holder with the error itself.
	_, err = env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: tbl, ConditionExpression: str("attribute_not_exists(LockID)"),
		Item: key("LockID", "b/k"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	if !errors.As(err, &ccf) || ccf.Item["Info"].(*types.AttributeValueMemberS).Value != lockInfo {
		t.Errorf("ALL_OLD on failure: %v %+v", err, ccf)
	}
	miss, err := env.Client.GetItem(ctx, &ddb.GetItemInput{TableName: tbl, Key: key("LockID", "b/k-md5"),
		ProjectionExpression: str("LockID, Digest"), ConsistentRead: aws.Bool(true)})
	if err != nil || miss.Item != nil {
		t.Errorf("miss = %+v, %v", miss, err)
	}
	_, err = env.Client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: tbl, Key: key("LockID", "b/k"),
		ConditionExpression: str("Info = :info"), ExpressionAttributeValues: map[string]types.AttributeValue{":info": s(lockInfo)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := lock("again"); err != nil {
		t.Errorf("lock after unlock: %v", err)
	}
}

// TestLockContention races many lockers on one key, round after round: exactly one wins each
// round and every other one gets ConditionalCheckFailedException.
func TestLockContention(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "tf-locks", "LockID", "S", "", "")
	const (
		lockers = 64
		rounds  = 50
	)
	for round := range rounds {
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, lockers)
		for i := range lockers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: str("tf-locks"),
					ConditionExpression: str("attribute_not_exists(LockID)"),
					Item:                map[string]types.AttributeValue{"LockID": s("b/k"), "Info": s(fmt.Sprint(round, "/", i))}})
				var ccf *types.ConditionalCheckFailedException
				switch {
				case err == nil:
					wins.Add(1)
				case errors.As(err, &ccf):
					conflicts.Add(1)
				default:
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		if wins.Load() != 1 || conflicts.Load() != lockers-1 {
			t.Fatalf("round %d: %d wins, %d conflicts", round, wins.Load(), conflicts.Load())
		}
		if _, err := env.Client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: str("tf-locks"), Key: key("LockID", "b/k")}); err != nil {
			t.Fatal(err)
		}
	}
}
