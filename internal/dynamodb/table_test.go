package dynamodb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The request bodies the aws CLI sends for the seeds' create-table lines (001: provisioned
// 1/1; WIRE.md §6: PAY_PER_REQUEST) and for Terraform's backend test table (provisioned 5/5).
const (
	seed001CreateTable = `{"TableName":"terraform_locks","AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"}],"KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1}}`
	payPerRequestTable = `{"AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"}],"TableName":"tf-locks","KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`
)

func TestCreateTableSeedShapes(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		name, body, table, billing string
		read, write                int64
		summary                    bool
	}{
		{"seed 001 provisioned", seed001CreateTable, "terraform_locks", "PROVISIONED", 1, 1, false},
		{"pay per request", payPerRequestTable, "tf-locks", "PAY_PER_REQUEST", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			resp := env.raw(t, "CreateTable", tt.body)
			if resp.Status != 200 {
				t.Fatalf("status %d: %s", resp.Status, resp.Body)
			}
			var out struct {
				TableDescription map[string]json.RawMessage
			}
			if err := json.Unmarshal(resp.Body, &out); err != nil {
				t.Fatal(err)
			}
			d := out.TableDescription
			want := map[string]string{
				"TableName":            `"` + tt.table + `"`,
				"TableStatus":          `"ACTIVE"`,
				"TableArn":             `"arn:aws:dynamodb:us-east-1:` + testAccount + `:table/` + tt.table + `"`,
				"ItemCount":            `0`,
				"TableSizeBytes":       `0`,
				"KeySchema":            `[{"AttributeName":"LockID","KeyType":"HASH"}]`,
				"AttributeDefinitions": `[{"AttributeName":"LockID","AttributeType":"S"}]`,
			}
			for k, v := range want {
				if string(d[k]) != v {
					t.Errorf("%s = %s, want %s", k, d[k], v)
				}
			}
			if !regexp.MustCompile(`^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$`).Match(d["TableId"]) {
				t.Errorf("TableId = %s, want a UUID", d["TableId"])
			}
			var created float64 // epoch seconds as a JSON number
			if err := json.Unmarshal(d["CreationDateTime"], &created); err != nil {
				t.Errorf("CreationDateTime %s: %v", d["CreationDateTime"], err)
			} else if c := time.Unix(int64(created), 0); c.Before(before) || c.After(time.Now().Add(time.Second)) {
				t.Errorf("CreationDateTime = %v", c)
			}
			var pt struct{ ReadCapacityUnits, WriteCapacityUnits, NumberOfDecreasesToday *int64 }
			if err := json.Unmarshal(d["ProvisionedThroughput"], &pt); err != nil || pt.ReadCapacityUnits == nil ||
				*pt.ReadCapacityUnits != tt.read || *pt.WriteCapacityUnits != tt.write || pt.NumberOfDecreasesToday == nil {
				t.Errorf("ProvisionedThroughput = %s", d["ProvisionedThroughput"])
			}
			if _, ok := d["BillingModeSummary"]; ok != tt.summary {
				t.Errorf("BillingModeSummary present = %v, want %v (%s)", ok, tt.summary, d["BillingModeSummary"])
			}
			// Described through the SDK, as `aws dynamodb wait table-exists` polls it.
			desc, err := env.Client.DescribeTable(context.Background(), &ddb.DescribeTableInput{TableName: str(tt.table)})
			if err != nil {
				t.Fatal(err)
			}
			if desc.Table.TableStatus != types.TableStatusActive || aws.ToString(desc.Table.TableId) != strings.Trim(string(d["TableId"]), `"`) {
				t.Errorf("DescribeTable = %+v", desc.Table)
			}
			if tt.summary && desc.Table.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
				t.Errorf("BillingModeSummary = %+v", desc.Table.BillingModeSummary)
			}
			w := ddb.NewTableExistsWaiter(env.Client)
			if err := w.Wait(context.Background(), &ddb.DescribeTableInput{TableName: str(tt.table)}, 5*time.Second); err != nil {
				t.Errorf("table-exists waiter: %v", err)
			}
			// A second create is refused and changes nothing.
			resp = env.raw(t, "CreateTable", tt.body)
			if resp.Status != 400 || !strings.Contains(string(resp.Body), "#ResourceInUseException") {
				t.Errorf("duplicate create: %d %s", resp.Status, resp.Body)
			}
			again, err := env.Client.DescribeTable(context.Background(), &ddb.DescribeTableInput{TableName: str(tt.table)})
			if err != nil || aws.ToString(again.Table.TableId) != aws.ToString(desc.Table.TableId) {
				t.Errorf("table changed by a refused create: %v", err)
			}
		})
	}
}

func TestCreateTableValidation(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		name, body, code, msg string
	}{
		{"missing attribute definition",
			`{"TableName":"t1x","AttributeDefinitions":[{"AttributeName":"Other","AttributeType":"S"}],"KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`,
			"ValidationException", "Some index key attributes are not defined in AttributeDefinitions"},
		{"extra attribute definition",
			`{"TableName":"t1x","AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"},{"AttributeName":"X","AttributeType":"S"}],"KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`,
			"ValidationException", "Number of attributes in KeySchema does not exactly match"},
		{"bad attribute type",
			`{"TableName":"t1x","AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"BOOL"}],"KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`,
			"ValidationException", "Member must satisfy enum value set: [B, N, S]"},
		{"range first",
			`{"TableName":"t1x","AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"}],"KeySchema":[{"AttributeName":"LockID","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST"}`,
			"ValidationException", "The first KeySchemaElement is not a HASH key type"},
		{"no key schema",
			`{"TableName":"t1x","AttributeDefinitions":[],"KeySchema":[],"BillingMode":"PAY_PER_REQUEST"}`,
			"ValidationException", "at 'keySchema' failed to satisfy constraint"},
		{"provisioned without throughput",
			`{"TableName":"t1x","AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"}],"KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}]}`,
			"ValidationException", "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"},
		{"on demand with throughput",
			`{"TableName":"t1x","AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"}],"KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST","ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1}}`,
			"ValidationException", "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified"},
		{"zero capacity",
			`{"TableName":"t1x","AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"}],"KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":1}}`,
			"ValidationException", "Member must have value greater than or equal to 1"},
		{"short name",
			`{"TableName":"ab","AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"}],"KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`,
			"ValidationException", "Member must have length greater than or equal to 3"},
		{"bad name",
			`{"TableName":"a b c","AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"}],"KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`,
			"ValidationException", "regular expression pattern"},
		{"secondary index",
			`{"TableName":"t1x","AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"}],"KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{}]}`,
			"ValidationException", "secondary indexes are not supported"},
		{"wrong JSON type", `{"TableName":5}`, "SerializationException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := env.raw(t, "CreateTable", tt.body)
			code, msg := resp.awsError()
			if resp.Status != 400 || code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Errorf("got %d %s, want %s containing %q", resp.Status, resp.Body, tt.code, tt.msg)
			}
		})
	}
	out, err := env.Client.ListTables(context.Background(), &ddb.ListTablesInput{})
	if err != nil || len(out.TableNames) != 0 {
		t.Errorf("refused creates left tables: %v %v", out, err)
	}
}

func TestListTables(t *testing.T) {
	env := newEnv(t)
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("table-%02d", i)
		want = append(want, name)
		env.createTable(t, name, "pk", "S", "", "")
	}
	var got []string
	var start *string
	pages := 0
	for {
		out, err := env.Client.ListTables(context.Background(), &ddb.ListTablesInput{Limit: aws.Int32(3), ExclusiveStartTableName: start})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, out.TableNames...)
		if out.LastEvaluatedTableName == nil {
			break
		}
		start = out.LastEvaluatedTableName
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
		t.Errorf("ListTables = %v in %d pages, want %v in 3", got, pages, want)
	}
	all, err := env.Client.ListTables(context.Background(), &ddb.ListTablesInput{})
	if err != nil || len(all.TableNames) != 7 || all.LastEvaluatedTableName != nil {
		t.Errorf("ListTables without limit = %+v, %v", all, err)
	}
	if _, err := env.Client.ListTables(context.Background(), &ddb.ListTablesInput{Limit: aws.Int32(101)}); errCode(err) != "ValidationException" {
		t.Errorf("Limit 101: %v", err)
	}
}

func TestDeleteTable(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "doomed", "pk", "S", "", "")
	// More than one deletion batch, written by parallel clients so group commit keeps it quick.
	var wg sync.WaitGroup
	errs := make(chan error, 1100)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 1100; i += 16 {
				if _, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: str("doomed"), Item: key("pk", fmt.Sprint(i))}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	desc, err := env.Client.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: str("doomed")})
	if err != nil || aws.ToInt64(desc.Table.ItemCount) != 1100 || aws.ToInt64(desc.Table.TableSizeBytes) == 0 {
		t.Fatalf("DescribeTable = %+v, %v", desc, err)
	}
	out, err := env.Client.DeleteTable(ctx, &ddb.DeleteTableInput{TableName: str("doomed")})
	if err != nil {
		t.Fatal(err)
	}
	if out.TableDescription.TableStatus != types.TableStatusDeleting || aws.ToInt64(out.TableDescription.ItemCount) != 1100 {
		t.Errorf("DeleteTable = %+v", out.TableDescription)
	}
	if _, err := env.Client.DescribeTable(ctx, &ddb.DescribeTableInput{TableName: str("doomed")}); errCode(err) != "ResourceNotFoundException" {
		t.Errorf("DescribeTable after delete: %v", err)
	}
	if _, err := env.Client.DeleteTable(ctx, &ddb.DeleteTableInput{TableName: str("doomed")}); errCode(err) != "ResourceNotFoundException" {
		t.Errorf("second DeleteTable: %v", err)
	}
	// A new table of the same name starts empty.
	env.createTable(t, "doomed", "pk", "S", "", "")
	scan, err := env.Client.Scan(ctx, &ddb.ScanInput{TableName: str("doomed")})
	if err != nil || scan.Count != 0 {
		t.Errorf("Scan of the new table = %+v, %v", scan, err)
	}
	// Deletion protection holds the table.
	if _, err := env.Client.UpdateTable(ctx, &ddb.UpdateTableInput{TableName: str("doomed"), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Client.DeleteTable(ctx, &ddb.DeleteTableInput{TableName: str("doomed")}); errCode(err) != "ValidationException" {
		t.Errorf("DeleteTable of a protected table: %v", err)
	}
}

func TestUpdateTable(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	if r := env.raw(t, "CreateTable", seed001CreateTable); r.Status != 200 {
		t.Fatal(string(r.Body))
	}
	out, err := env.Client.UpdateTable(ctx, &ddb.UpdateTableInput{TableName: str("terraform_locks"), BillingMode: types.BillingModePayPerRequest})
	if err != nil {
		t.Fatal(err)
	}
	d := out.TableDescription
	if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest ||
		aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits) != 0 || d.BillingModeSummary.LastUpdateToPayPerRequestDateTime == nil {
		t.Errorf("after switch to on-demand: %+v %+v", d.BillingModeSummary, d.ProvisionedThroughput)
	}
	if _, err := env.Client.UpdateTable(ctx, &ddb.UpdateTableInput{TableName: str("terraform_locks"), BillingMode: types.BillingModeProvisioned}); errCode(err) != "ValidationException" {
		t.Errorf("provisioned without throughput: %v", err)
	}
	out, err = env.Client.UpdateTable(ctx, &ddb.UpdateTableInput{TableName: str("terraform_locks"), BillingMode: types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(7)}})
	if err != nil {
		t.Fatal(err)
	}
	if pt := out.TableDescription.ProvisionedThroughput; aws.ToInt64(pt.ReadCapacityUnits) != 5 || aws.ToInt64(pt.WriteCapacityUnits) != 7 || pt.LastIncreaseDateTime == nil {
		t.Errorf("throughput = %+v", pt)
	}
	if _, err := env.Client.UpdateTable(ctx, &ddb.UpdateTableInput{TableName: str("nope-table")}); errCode(err) != "ResourceNotFoundException" {
		t.Errorf("UpdateTable of a missing table: %v", err)
	}
}

func TestTagsAndDescribeExtras(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	env.createTable(t, "tagged", "LockID", "S", "", "")
	arn := "arn:aws:dynamodb:us-east-1:" + testAccount + ":table/tagged"
	if _, err := env.Client.TagResource(ctx, &ddb.TagResourceInput{ResourceArn: str(arn),
		Tags: []types.Tag{{Key: str("env"), Value: str("prod")}, {Key: str("team"), Value: str("a")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Client.UntagResource(ctx, &ddb.UntagResourceInput{ResourceArn: str(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := env.Client.ListTagsOfResource(ctx, &ddb.ListTagsOfResourceInput{ResourceArn: str(arn)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "prod" {
		t.Errorf("tags = %+v, %v", tags, err)
	}
	ttl, err := env.Client.DescribeTimeToLive(ctx, &ddb.DescribeTimeToLiveInput{TableName: str("tagged")})
	if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusDisabled {
		t.Errorf("DescribeTimeToLive = %+v, %v", ttl, err)
	}
	cb, err := env.Client.DescribeContinuousBackups(ctx, &ddb.DescribeContinuousBackupsInput{TableName: str("tagged")})
	if err != nil || cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusDisabled {
		t.Errorf("DescribeContinuousBackups = %+v, %v", cb, err)
	}
	// A table ARN works wherever a table name does.
	if _, err := env.Client.PutItem(ctx, &ddb.PutItemInput{TableName: str(arn), Item: key("LockID", "x")}); err != nil {
		t.Errorf("PutItem by ARN: %v", err)
	}
}
