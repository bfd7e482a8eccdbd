package e2e

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The seeds (../shared/seeds) are the articles stateward's users follow by hand. Their `aws`
// lines run here as printed, with only --endpoint-url added. Both articles keep their state in
// eu-west-1 (001: "For us, it is eu-west-1"; 003: "eu-west-1 for the example") and assume a
// configured CLI, so the servers run with --region eu-west-1 and the CLI gets that region from
// AWS_DEFAULT_REGION, as `aws configure` would have left it; a line that names --region itself
// (003's create-bucket, 001's create-table) keeps it.
const seedRegion = "eu-west-1"

const (
	// seed003StateBucket is where seed 003 creates and encrypts its bucket …
	seed003StateBucket = "terraform-backend-store"
	// … and seed003RemoteBucket the name its policy, versioning and backend block then use: the
	// article switches names half way, so both are created here.
	seed003RemoteBucket = "terraform-remote-store"
	// seed003Table is the lock table seed 003 has Terraform create (aws_dynamodb_table
	// "dynamodb-terraform-state-lock": hash_key LockID of type S, read/write capacity 20).
	seed003Table = "terraform-state-lock-dynamo"

	// seed001Bucket is seed 001's "YourBucket", lower-cased as bucket names must be.
	seed001Bucket = "yourbucket"
	seed001Table  = "terraform_locks"
	// seed001Alias and seed001Description: seed 001 creates its key in the console with the
	// alias "terraform" and this description; the CLI equivalent here names it terraform-state.
	seed001Alias       = "alias/terraform-state"
	seed001Description = "Used by terraform to store remote state"
)

// seed003Policy is seed 003's policy.json, as its heredoc writes it.
const seed003Policy = `{
"Statement": [
{
"Effect": "Allow",
"Principal": {
"AWS": "arn:aws:iam::123456789012:user/terraform-deployer"
},
"Action": "s3:*",
"Resource": "arn:aws:s3:::terraform-remote-store"
}
]
}
`

// seed001Policy is seed 001's bucket policy requiring aws:kms; YourBucket is substituted as the
// article says.
const seed001Policy = `{
  "Version":"2012-10-17",
  "Id":"PutObjPolicy",
  "Statement":[
     {
        "Sid":"DenyIncorrectEncryptionHeader",
        "Effect":"Deny",
        "Principal":"*",
        "Action":"s3:PutObject",
        "Resource":"arn:aws:s3:::YourBucket/*",
        "Condition":{
           "StringNotEquals":{
             "s3:x-amz-server-side-encryption": "aws:kms"
           }
        }
     },
     {
        "Sid":"DenyUnEncryptedObjectUploads",
        "Effect":"Deny",
        "Principal":"*",
        "Action":"s3:PutObject",
        "Resource":"arn:aws:s3:::YourBucket/*",
        "Condition":{
           "Null":{
              "s3:x-amz-server-side-encryption":"true"
           }
        }
     }
  ]
}
`

func seed001PolicyFor(bucket string) string {
	return strings.ReplaceAll(seed001Policy, "YourBucket", bucket)
}

var (
	uuidV4Re  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	accountRe = regexp.MustCompile(`^\d{12}$`)
)

// seedEnv is the CLI's environment for seed commands: cliCase.environ plus the seeds' region.
func (cc *cliCase) seedEnv() []string {
	return cc.environ([]string{"AWS_DEFAULT_REGION=" + seedRegion})
}

// seed runs `aws args…` exactly as a seed prints it, adding only --endpoint-url, and returns the
// result whatever the exit code.
func (cc *cliCase) seed(t testing.TB, args ...string) *cmdResult {
	t.Helper()
	return runCmd(t, cc.dir, cc.seedEnv(), cc.bin, append(args, "--endpoint-url", cc.srv.URL)...)
}

// seedOK is seed that fails the test, with the full output, unless the command exits 0.
func (cc *cliCase) seedOK(t testing.TB, args ...string) *cmdResult {
	t.Helper()
	r := cc.seed(t, args...)
	if r.Err != nil {
		t.Fatalf("aws CLI %s failed:\n%s", cc.cli.name, r)
	}
	return r
}

// seedJSON is seedOK that decodes the command's (default, JSON) output into v.
func (cc *cliCase) seedJSON(t testing.TB, v any, args ...string) *cmdResult {
	t.Helper()
	r := cc.seedOK(t, args...)
	if err := json.Unmarshal(r.Stdout, v); err != nil {
		t.Fatalf("output is not the expected JSON: %v\n%s", err, r)
	}
	return r
}

// seedSilent is seedOK for commands the seeds show with no output ("expect none").
func (cc *cliCase) seedSilent(t testing.TB, args ...string) {
	t.Helper()
	if r := cc.seedOK(t, args...); len(bytes.TrimSpace(r.Stdout)) != 0 {
		t.Errorf("the seed expects no output; got:\n%s", r)
	}
}

// callerAccount returns the 12-digit account of the CLI's credentials.
func (cc *cliCase) callerAccount(t testing.TB) string {
	t.Helper()
	var id struct{ Account string }
	cc.seedJSON(t, &id, "sts", "get-caller-identity")
	if !accountRe.MatchString(id.Account) {
		t.Fatalf("sts get-caller-identity: Account = %q, want 12 digits", id.Account)
	}
	return id.Account
}

// kmsKeyMetadata is the part of KMS KeyMetadata the seeds rely on.
type kmsKeyMetadata struct {
	AWSAccountId string
	KeyId        string
	Arn          string
	Description  string
	Enabled      bool
	KeyState     string
	KeyUsage     string
}

// createSeedKey runs `aws kms create-key --description …` and `aws kms create-alias` as seed 001
// sets the key up, checks the metadata's shape, and returns it.
func (cc *cliCase) createSeedKey(t testing.TB, account string) kmsKeyMetadata {
	t.Helper()
	var out struct{ KeyMetadata kmsKeyMetadata }
	r := cc.seedJSON(t, &out, "kms", "create-key", "--description", seed001Description)
	md := out.KeyMetadata
	if !uuidV4Re.MatchString(md.KeyId) {
		t.Errorf("create-key: KeyId = %q, want a lower-case v4 UUID\n%s", md.KeyId, r)
	}
	if want := "arn:aws:kms:" + seedRegion + ":" + account + ":key/" + md.KeyId; md.Arn != want {
		t.Errorf("create-key: Arn = %q, want %q", md.Arn, want)
	}
	if md.AWSAccountId != account || md.Description != seed001Description || !md.Enabled || md.KeyState != "Enabled" || md.KeyUsage != "ENCRYPT_DECRYPT" {
		t.Errorf("create-key: KeyMetadata = %+v, want account %s, the description, Enabled, KeyState Enabled, KeyUsage ENCRYPT_DECRYPT", md, account)
	}
	if md.KeyId == "" || md.Arn == "" {
		t.Fatalf("create-key gave no KeyId/Arn:\n%s", r)
	}
	cc.seedSilent(t, "kms", "create-alias", "--alias-name", seed001Alias, "--target-key-id", md.KeyId)
	return md
}

// createSeedBucket runs seed 003's create-bucket line for bucket and checks its output.
func (cc *cliCase) createSeedBucket(t testing.TB, bucket string) {
	t.Helper()
	var out struct{ Location string }
	r := cc.seedJSON(t, &out, "s3api", "create-bucket", "--bucket", bucket,
		"--region", "eu-west-1",
		"--create-bucket-configuration",
		"LocationConstraint=eu-west-1")
	// The seed shows "http://terraform-backend-store.s3.amazonaws.com/"; any Location naming
	// the bucket will do.
	if !strings.Contains(out.Location, bucket) {
		t.Errorf("create-bucket: Location = %q, want it to name %s\n%s", out.Location, bucket, r)
	}
}

// putSeedPolicy writes policy to policy.json and runs the seeds' put-bucket-policy line.
func (cc *cliCase) putSeedPolicy(t testing.TB, bucket, policy string) {
	t.Helper()
	writeFile(t, filepath.Join(cc.dir, "policy.json"), []byte(policy))
	cc.seedSilent(t, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", "file://policy.json")
}

// dynamoTable is the part of a DynamoDB TableDescription the seeds rely on.
type dynamoTable struct {
	TableName            string
	TableStatus          string
	TableArn             string
	CreationDateTime     json.RawMessage
	ItemCount            *int64
	AttributeDefinitions []struct{ AttributeName, AttributeType string }
	KeySchema            []struct{ AttributeName, KeyType string }
	// ProvisionedThroughput is absent for on-demand tables.
	ProvisionedThroughput *struct{ ReadCapacityUnits, WriteCapacityUnits int64 }
}

// check reports how td differs from a LockID-keyed table named name in account with the given
// provisioned capacity.
func (td dynamoTable) check(t testing.TB, what, name, account string, capacity int64) {
	t.Helper()
	if td.TableName != name {
		t.Errorf("%s: TableName = %q, want %q", what, td.TableName, name)
	}
	if td.TableStatus != "ACTIVE" {
		t.Errorf("%s: TableStatus = %q, want ACTIVE", what, td.TableStatus)
	}
	if want := "arn:aws:dynamodb:" + seedRegion + ":" + account + ":table/" + name; td.TableArn != want {
		t.Errorf("%s: TableArn = %q, want %q", what, td.TableArn, want)
	}
	if len(td.CreationDateTime) == 0 {
		t.Errorf("%s: no CreationDateTime", what)
	}
	if len(td.KeySchema) != 1 || td.KeySchema[0].AttributeName != "LockID" || td.KeySchema[0].KeyType != "HASH" {
		t.Errorf("%s: KeySchema = %+v, want [LockID HASH]", what, td.KeySchema)
	}
	if len(td.AttributeDefinitions) != 1 || td.AttributeDefinitions[0].AttributeName != "LockID" || td.AttributeDefinitions[0].AttributeType != "S" {
		t.Errorf("%s: AttributeDefinitions = %+v, want [LockID S]", what, td.AttributeDefinitions)
	}
	if p := td.ProvisionedThroughput; p == nil || p.ReadCapacityUnits != capacity || p.WriteCapacityUnits != capacity {
		t.Errorf("%s: ProvisionedThroughput = %+v, want %d/%d", what, p, capacity, capacity)
	}
}

// createSeed001Table runs seed 001's create-table line, as printed there, and checks the
// TableDescription it prints.
func (cc *cliCase) createSeed001Table(t testing.TB, account string) {
	t.Helper()
	var out struct{ TableDescription dynamoTable }
	cc.seedJSON(t, &out, "dynamodb", "create-table",
		"--region", "eu-west-1",
		"--table-name", "terraform_locks",
		"--attribute-definitions", "AttributeName=LockID,AttributeType=S",
		"--key-schema", "AttributeName=LockID,KeyType=HASH",
		"--provisioned-throughput", "ReadCapacityUnits=1,WriteCapacityUnits=1")
	out.TableDescription.check(t, "create-table "+seed001Table, seed001Table, account, 1)
}

// createSeed003Table creates the table seed 003's aws_dynamodb_table resource describes.
func (cc *cliCase) createSeed003Table(t testing.TB, account string) {
	t.Helper()
	var out struct{ TableDescription dynamoTable }
	cc.seedJSON(t, &out, "dynamodb", "create-table",
		"--table-name", "terraform-state-lock-dynamo",
		"--attribute-definitions", "AttributeName=LockID,AttributeType=S",
		"--key-schema", "AttributeName=LockID,KeyType=HASH",
		"--provisioned-throughput", "ReadCapacityUnits=20,WriteCapacityUnits=20")
	out.TableDescription.check(t, "create-table "+seed003Table, seed003Table, account, 20)
}

// bucketEncryption is get-bucket-encryption's output.
type bucketEncryption struct {
	ServerSideEncryptionConfiguration struct {
		Rules []struct {
			ApplyServerSideEncryptionByDefault struct{ SSEAlgorithm, KMSMasterKeyID string }
		}
	}
}

func (cc *cliCase) checkBucketEncryption(t testing.TB, bucket, alg, kmsKey string) {
	t.Helper()
	var out bucketEncryption
	cc.seedJSON(t, &out, "s3api", "get-bucket-encryption", "--bucket", bucket)
	rules := out.ServerSideEncryptionConfiguration.Rules
	if len(rules) != 1 || rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != alg ||
		rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID != kmsKey {
		t.Errorf("get-bucket-encryption %s: rules = %+v, want one with SSEAlgorithm %q, KMSMasterKeyID %q", bucket, rules, alg, kmsKey)
	}
}

// checkBucketPolicy: get-bucket-policy returns a policy equal, as JSON, to the one put.
func (cc *cliCase) checkBucketPolicy(t testing.TB, bucket, policy string) {
	t.Helper()
	var out struct{ Policy string }
	cc.seedJSON(t, &out, "s3api", "get-bucket-policy", "--bucket", bucket)
	var got, want any
	if err := json.Unmarshal([]byte(out.Policy), &got); err != nil {
		t.Errorf("get-bucket-policy %s: Policy is not JSON: %v\n%s", bucket, err, out.Policy)
		return
	}
	if err := json.Unmarshal([]byte(policy), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("get-bucket-policy %s:\n%s\nwant (as JSON):\n%s", bucket, out.Policy, policy)
	}
}

func (cc *cliCase) checkVersioning(t testing.TB, bucket string) {
	t.Helper()
	var out struct{ Status string }
	cc.seedJSON(t, &out, "s3api", "get-bucket-versioning", "--bucket", bucket)
	if out.Status != "Enabled" {
		t.Errorf("get-bucket-versioning %s: Status = %q, want Enabled", bucket, out.Status)
	}
}

// TestSeedCommands runs the `aws` commands of seeds 001 and 003 with the aws CLI v1 and v2, over
// HTTP and HTTPS, against a server in eu-west-1, and checks that their output parses as the
// seeds show.
func TestSeedCommands(t *testing.T) {
	for _, c := range awsCLIs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bin := c.binary(t)
			for _, tls := range []bool{false, true} {
				t.Run(transportName(tls), func(t *testing.T) {
					srv := startServer(t, serverOpts{TLS: tls, Region: seedRegion})
					cc := newCLICase(t, c, bin, srv)
					account := cc.callerAccount(t)
					t.Run("seed003", func(t *testing.T) { cc.seed003(t, account) })
					t.Run("seed001", func(t *testing.T) { cc.seed001(t, account) })
				})
			}
		})
	}
}

func (cc *cliCase) seed003(t *testing.T, account string) {
	steps := []struct {
		name     string
		critical bool
		f        func(t *testing.T)
	}{
		{"create-bucket", true, func(t *testing.T) { cc.createSeedBucket(t, seed003StateBucket) }},
		{"put-bucket-encryption", false, func(t *testing.T) {
			// The seed's argument, as the shell passes it once it has removed the backslashes.
			cc.seedSilent(t, "s3api", "put-bucket-encryption",
				"--bucket", "terraform-backend-store",
				`--server-side-encryption-configuration={"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`)
			cc.checkBucketEncryption(t, seed003StateBucket, "AES256", "")
		}},
		// The article's policy, versioning and backend block name terraform-remote-store, a
		// bucket it never creates: create it the same way as terraform-backend-store.
		{"create-remote-bucket", true, func(t *testing.T) { cc.createSeedBucket(t, seed003RemoteBucket) }},
		{"put-bucket-policy", false, func(t *testing.T) {
			cc.putSeedPolicy(t, seed003RemoteBucket, seed003Policy)
			cc.checkBucketPolicy(t, seed003RemoteBucket, seed003Policy)
		}},
		{"put-bucket-versioning", false, func(t *testing.T) {
			cc.seedSilent(t, "s3api", "put-bucket-versioning", "--bucket", "terraform-remote-store", "--versioning-configuration", "Status=Enabled")
			cc.checkVersioning(t, seed003RemoteBucket)
		}},
		{"create-table", false, func(t *testing.T) { cc.createSeed003Table(t, account) }},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.f) && s.critical {
			t.Fatalf("step %s failed; later steps depend on it", s.name)
		}
	}
}

func (cc *cliCase) seed001(t *testing.T, account string) {
	var key kmsKeyMetadata
	steps := []struct {
		name     string
		critical bool
		f        func(t *testing.T)
	}{
		{"kms-key", true, func(t *testing.T) {
			key = cc.createSeedKey(t, account)
			var out struct{ KeyMetadata kmsKeyMetadata }
			cc.seedJSON(t, &out, "kms", "describe-key", "--key-id", seed001Alias)
			if out.KeyMetadata.KeyId != key.KeyId || out.KeyMetadata.Arn != key.Arn {
				t.Errorf("describe-key --key-id %s: KeyId %q Arn %q, want %q %q", seed001Alias,
					out.KeyMetadata.KeyId, out.KeyMetadata.Arn, key.KeyId, key.Arn)
			}
		}},
		// Seed 001 creates its bucket in the console, in eu-west-1; seed 003's line does the same.
		{"create-bucket", true, func(t *testing.T) { cc.createSeedBucket(t, seed001Bucket) }},
		{"put-bucket-versioning", false, func(t *testing.T) {
			cc.seedSilent(t, "s3api", "put-bucket-versioning", "--bucket", seed001Bucket, "--versioning-configuration", "Status=Enabled")
			cc.checkVersioning(t, seed001Bucket)
		}},
		{"put-bucket-encryption", false, func(t *testing.T) {
			cc.seedSilent(t, "s3api", "put-bucket-encryption", "--bucket", seed001Bucket,
				"--server-side-encryption-configuration",
				`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"`+key.Arn+`"}}]}`)
			cc.checkBucketEncryption(t, seed001Bucket, "aws:kms", key.Arn)
		}},
		{"put-bucket-policy", false, func(t *testing.T) {
			cc.putSeedPolicy(t, seed001Bucket, seed001PolicyFor(seed001Bucket))
			cc.checkBucketPolicy(t, seed001Bucket, seed001PolicyFor(seed001Bucket))
		}},
		{"create-table", true, func(t *testing.T) { cc.createSeed001Table(t, account) }},
		{"wait-table-exists", false, func(t *testing.T) {
			cc.seedSilent(t, "dynamodb", "wait", "table-exists", "--table-name", "terraform_locks")
		}},
		{"describe-table", false, func(t *testing.T) {
			var out struct{ Table dynamoTable }
			cc.seedJSON(t, &out, "dynamodb", "describe-table", "--table-name", "terraform_locks")
			out.Table.check(t, "describe-table "+seed001Table, seed001Table, account, 1)
			if n := out.Table.ItemCount; n == nil || *n != 0 {
				t.Errorf("describe-table: ItemCount = %v, want 0 for a new table", n)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.f) && s.critical {
			t.Fatalf("step %s failed; later steps depend on it", s.name)
		}
	}
}
