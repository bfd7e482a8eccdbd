package main

import (
	"bytes"
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	dynamodbfe "github.com/stateward/stateward/internal/dynamodb"
	"github.com/stateward/stateward/internal/identity"
	kmsfe "github.com/stateward/stateward/internal/kms"
	"github.com/stateward/stateward/internal/policy"
	s3fe "github.com/stateward/stateward/internal/s3"
	ssmfe "github.com/stateward/stateward/internal/ssm"
	stsfe "github.com/stateward/stateward/internal/sts"
)

// authzRecorder passes every decision to the real authorizer and keeps the questions asked.
type authzRecorder struct {
	inner authorizer
	mu    sync.Mutex
	reqs  []policy.Request
}

func (a *authzRecorder) Authorize(ctx context.Context, req *policy.Request) error {
	a.mu.Lock()
	a.reqs = append(a.reqs, *req)
	a.mu.Unlock()
	return a.inner.Authorize(ctx, req)
}

// take returns the questions asked since the last call, as "action resource".
func (a *authzRecorder) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.reqs {
		out = append(out, r.Action+" "+r.Resource)
	}
	a.reqs = nil
	return out
}

// walkStep runs one operation. want lists the decisions it must ask for, in order, as
// "action resource"; when empty, the step must ask exactly one question with a non-empty
// action and resource.
type walkStep struct {
	op   string
	call func(ctx context.Context) error
	want []string
}

// TestEveryOperationAuthorizesOnce walks every operation of every front-end, as the server
// wires them, and checks each asks the one authorizer exactly once (or, for the calls AWS
// authorizes twice, exactly the questions AWS asks), with an action and a resource. A front-end
// operation missing from the walk fails the test, so a new operation cannot skip it. IAM's 88
// and Organizations' 10 operations are walked the same way in their own packages
// (iam.TestEveryOperationAuthorizesOnce, organizations.TestAuthorizationRequests).
func TestEveryOperationAuthorizesOnce(t *testing.T) {
	rec := &authzRecorder{}
	issuer := newTestIssuer(t)
	env := newTestEnv(t, envOptions{WrapAuthz: func(a authorizer) authorizer { rec.inner = a; return rec }, OIDCClient: issuer.srv.Client()})
	ctx := context.Background()
	acct := env.Account
	const bucket, src = "walk-bucket", "walk-src"
	obj := "arn:aws:s3:::" + bucket + "/obj"
	table := "arn:aws:dynamodb:us-east-1:" + acct + ":table/walk"

	// State the walk reads, made before recording.
	var keyID, keyARN, uploadID, copyUploadID string
	var blob []byte
	setup := func() {
		mustOK(t, "create source bucket", func() error {
			_, err := env.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(src)})
			return err
		})
		mustOK(t, "put source", func() error {
			_, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("s"), Body: strings.NewReader("source")})
			return err
		})
		rec.take()
	}
	setup()

	s3Steps := []walkStep{
		{op: "CreateBucket", call: func(ctx context.Context) error {
			_, err := env.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "ListBuckets", call: func(ctx context.Context) error { _, err := env.S3.ListBuckets(ctx, &s3.ListBucketsInput{}); return err }},
		{op: "HeadBucket", call: func(ctx context.Context) error {
			_, err := env.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "GetBucketLocation", call: func(ctx context.Context) error {
			_, err := env.S3.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "PutBucketVersioning", call: func(ctx context.Context) error {
			_, err := env.S3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
			return err
		}},
		{op: "GetBucketVersioning", call: func(ctx context.Context) error {
			_, err := env.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "PutBucketEncryption", call: func(ctx context.Context) error {
			_, err := env.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
				ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
					ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
			return err
		}},
		{op: "GetBucketEncryption", call: func(ctx context.Context) error {
			_, err := env.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "DeleteBucketEncryption", call: func(ctx context.Context) error {
			_, err := env.S3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "PutBucketPolicy", call: func(ctx context.Context) error {
			_, err := env.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bucket + `/*"}]}`)})
			return err
		}},
		{op: "GetBucketPolicy", call: func(ctx context.Context) error {
			_, err := env.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "DeleteBucketPolicy", call: func(ctx context.Context) error {
			_, err := env.S3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "PutPublicAccessBlock", call: func(ctx context.Context) error {
			_, err := env.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket),
				PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true)}})
			return err
		}},
		{op: "GetPublicAccessBlock", call: func(ctx context.Context) error {
			_, err := env.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "DeletePublicAccessBlock", call: func(ctx context.Context) error {
			_, err := env.S3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "PutObject", call: func(ctx context.Context) error {
			_, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj"), Body: strings.NewReader("x")})
			return err
		}},
		{op: "GetObject", call: func(ctx context.Context) error {
			out, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
			if err == nil {
				out.Body.Close()
			}
			return err
		}},
		{op: "HeadObject", call: func(ctx context.Context) error {
			_, err := env.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
			return err
		}},
		{op: "CopyObject", want: []string{"s3:PutObject " + obj + "-copy", "s3:GetObject arn:aws:s3:::" + src + "/s"},
			call: func(ctx context.Context) error {
				_, err := env.S3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj-copy"), CopySource: aws.String(src + "/s")})
				return err
			}},
		{op: "PutObjectTagging", call: func(ctx context.Context) error {
			_, err := env.S3.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("obj"),
				Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}})
			return err
		}},
		{op: "GetObjectTagging", call: func(ctx context.Context) error {
			_, err := env.S3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
			return err
		}},
		{op: "DeleteObjectTagging", call: func(ctx context.Context) error {
			_, err := env.S3.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
			return err
		}},
		{op: "ListObjects", call: func(ctx context.Context) error {
			_, err := env.S3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "ListObjectsV2", call: func(ctx context.Context) error {
			_, err := env.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "ListObjectVersions", call: func(ctx context.Context) error {
			_, err := env.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "CreateMultipartUpload", call: func(ctx context.Context) error {
			out, err := env.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp")})
			if err == nil {
				uploadID = aws.ToString(out.UploadId)
			}
			return err
		}},
		{op: "UploadPart", call: func(ctx context.Context) error {
			_, err := env.S3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: &uploadID,
				PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part"))})
			return err
		}},
		{op: "ListParts", call: func(ctx context.Context) error {
			_, err := env.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: &uploadID})
			return err
		}},
		{op: "ListMultipartUploads", call: func(ctx context.Context) error {
			_, err := env.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
			return err
		}},
		{op: "CompleteMultipartUpload", call: func(ctx context.Context) error {
			parts, err := env.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: &uploadID})
			if err != nil {
				return err
			}
			rec.take()
			_, err = env.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp"),
				UploadId: &uploadID, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: parts.Parts[0].ETag}}}})
			return err
		}},
		{op: "UploadPartCopy", want: []string{"s3:PutObject " + obj + "-mp2", "s3:GetObject arn:aws:s3:::" + src + "/s"},
			call: func(ctx context.Context) error {
				out, err := env.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("obj-mp2")})
				if err != nil {
					return err
				}
				copyUploadID = aws.ToString(out.UploadId)
				rec.take()
				_, err = env.S3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(bucket), Key: aws.String("obj-mp2"),
					UploadId: &copyUploadID, PartNumber: aws.Int32(1), CopySource: aws.String(src + "/s")})
				return err
			}},
		{op: "AbortMultipartUpload", call: func(ctx context.Context) error {
			_, err := env.S3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("obj-mp2"), UploadId: &copyUploadID})
			return err
		}},
		{op: "DeleteObjects", call: func(ctx context.Context) error {
			_, err := env.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket),
				Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("obj-copy")}}}})
			return err
		}},
		{op: "DeleteObject", call: func(ctx context.Context) error {
			_, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
			return err
		}},
		{op: "DeleteBucket", call: func(ctx context.Context) error {
			// Versions and markers keep a versioned bucket from being deleted; empty one.
			out, err := env.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
			if err != nil {
				return err
			}
			for _, v := range out.Versions {
				if _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: v.Key, VersionId: v.VersionId}); err != nil {
					return err
				}
			}
			for _, m := range out.DeleteMarkers {
				if _, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: m.Key, VersionId: m.VersionId}); err != nil {
					return err
				}
			}
			rec.take()
			_, err = env.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
			return err
		}},
	}

	key := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "a"}}
	ddbSteps := []walkStep{
		{op: "CreateTable", call: func(ctx context.Context) error {
			_, err := env.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("walk"),
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
				BillingMode:          ddbtypes.BillingModePayPerRequest})
			return err
		}},
		{op: "DescribeTable", call: func(ctx context.Context) error {
			_, err := env.DDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("walk")})
			return err
		}},
		{op: "ListTables", call: func(ctx context.Context) error {
			_, err := env.DDB.ListTables(ctx, &dynamodb.ListTablesInput{})
			return err
		}},
		{op: "UpdateTable", call: func(ctx context.Context) error {
			_, err := env.DDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("walk"), DeletionProtectionEnabled: aws.Bool(false)})
			return err
		}},
		{op: "PutItem", call: func(ctx context.Context) error {
			_, err := env.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("walk"), Item: key})
			return err
		}},
		{op: "GetItem", call: func(ctx context.Context) error {
			_, err := env.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("walk"), Key: key})
			return err
		}},
		{op: "UpdateItem", call: func(ctx context.Context) error {
			_, err := env.DDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("walk"), Key: key,
				UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberS{Value: "1"}}})
			return err
		}},
		{op: "Query", call: func(ctx context.Context) error {
			_, err := env.DDB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("walk"), KeyConditionExpression: aws.String("pk = :p"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": &ddbtypes.AttributeValueMemberS{Value: "a"}}})
			return err
		}},
		{op: "Scan", call: func(ctx context.Context) error {
			_, err := env.DDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("walk")})
			return err
		}},
		{op: "BatchGetItem", call: func(ctx context.Context) error {
			_, err := env.DDB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{"walk": {Keys: []map[string]ddbtypes.AttributeValue{key}}}})
			return err
		}},
		{op: "BatchWriteItem", call: func(ctx context.Context) error {
			_, err := env.DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"walk": {{PutRequest: &ddbtypes.PutRequest{Item: key}}}}})
			return err
		}},
		{op: "DeleteItem", call: func(ctx context.Context) error {
			_, err := env.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("walk"), Key: key})
			return err
		}},
		{op: "TagResource", call: func(ctx context.Context) error {
			_, err := env.DDB.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(table), Tags: []ddbtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
		{op: "ListTagsOfResource", call: func(ctx context.Context) error {
			_, err := env.DDB.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(table)})
			return err
		}},
		{op: "UntagResource", call: func(ctx context.Context) error {
			_, err := env.DDB.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: aws.String(table), TagKeys: []string{"k"}})
			return err
		}},
		{op: "DescribeTimeToLive", call: func(ctx context.Context) error {
			_, err := env.DDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("walk")})
			return err
		}},
		{op: "DescribeContinuousBackups", call: func(ctx context.Context) error {
			_, err := env.DDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String("walk")})
			return err
		}},
		{op: "DeleteTable", call: func(ctx context.Context) error {
			_, err := env.DDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("walk")})
			return err
		}},
	}

	alias := "arn:aws:kms:us-east-1:" + acct + ":alias/walk"
	kmsSteps := []walkStep{
		{op: "CreateKey", call: func(ctx context.Context) error {
			out, err := env.KMS.CreateKey(ctx, &kms.CreateKeyInput{})
			if err == nil {
				keyID, keyARN = aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
			}
			return err
		}},
		{op: "DescribeKey", call: func(ctx context.Context) error {
			_, err := env.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &keyID})
			return err
		}},
		{op: "ListKeys", call: func(ctx context.Context) error { _, err := env.KMS.ListKeys(ctx, &kms.ListKeysInput{}); return err }},
		{op: "DisableKey", call: func(ctx context.Context) error {
			_, err := env.KMS.DisableKey(ctx, &kms.DisableKeyInput{KeyId: &keyID})
			return err
		}},
		{op: "EnableKey", call: func(ctx context.Context) error {
			_, err := env.KMS.EnableKey(ctx, &kms.EnableKeyInput{KeyId: &keyID})
			return err
		}},
		{op: "UpdateKeyDescription", call: func(ctx context.Context) error {
			_, err := env.KMS.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: &keyID, Description: aws.String("d")})
			return err
		}},
		{op: "GetKeyPolicy", call: func(ctx context.Context) error {
			_, err := env.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &keyID, PolicyName: aws.String("default")})
			return err
		}},
		// The second question is KMS's lockout check: would the new policy still let the
		// caller change it?
		{op: "PutKeyPolicy", want: []string{"kms:PutKeyPolicy ", "kms:PutKeyPolicy "}, call: func(ctx context.Context) error {
			_, err := env.KMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &keyID, PolicyName: aws.String("default"), Policy: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}]}`)})
			return err
		}},
		{op: "ListKeyPolicies", call: func(ctx context.Context) error {
			_, err := env.KMS.ListKeyPolicies(ctx, &kms.ListKeyPoliciesInput{KeyId: &keyID})
			return err
		}},
		{op: "TagResource", call: func(ctx context.Context) error {
			_, err := env.KMS.TagResource(ctx, &kms.TagResourceInput{KeyId: &keyID, Tags: []kmstypes.Tag{{TagKey: aws.String("k"), TagValue: aws.String("v")}}})
			return err
		}},
		{op: "ListResourceTags", call: func(ctx context.Context) error {
			_, err := env.KMS.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: &keyID})
			return err
		}},
		{op: "UntagResource", call: func(ctx context.Context) error {
			_, err := env.KMS.UntagResource(ctx, &kms.UntagResourceInput{KeyId: &keyID, TagKeys: []string{"k"}})
			return err
		}},
		// As on KMS, an alias call needs the action on the key and on the alias.
		{op: "CreateAlias", want: []string{"kms:CreateAlias ", "kms:CreateAlias " + alias}, call: func(ctx context.Context) error {
			_, err := env.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/walk"), TargetKeyId: &keyID})
			return err
		}},
		{op: "UpdateAlias", want: []string{"kms:UpdateAlias ", "kms:UpdateAlias " + alias}, call: func(ctx context.Context) error {
			_, err := env.KMS.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String("alias/walk"), TargetKeyId: &keyID})
			return err
		}},
		{op: "ListAliases", call: func(ctx context.Context) error {
			_, err := env.KMS.ListAliases(ctx, &kms.ListAliasesInput{})
			return err
		}},
		{op: "DeleteAlias", call: func(ctx context.Context) error {
			_, err := env.KMS.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/walk")})
			return err
		}},
		{op: "Encrypt", call: func(ctx context.Context) error {
			out, err := env.KMS.Encrypt(ctx, &kms.EncryptInput{KeyId: &keyID, Plaintext: []byte("p")})
			if err == nil {
				blob = out.CiphertextBlob
			}
			return err
		}},
		{op: "Decrypt", call: func(ctx context.Context) error {
			_, err := env.KMS.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob})
			return err
		}},
		{op: "ReEncrypt", want: []string{"kms:ReEncryptTo ", "kms:ReEncryptFrom "}, call: func(ctx context.Context) error {
			_, err := env.KMS.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: &keyID})
			return err
		}},
		{op: "GenerateDataKey", call: func(ctx context.Context) error {
			_, err := env.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: &keyID, KeySpec: kmstypes.DataKeySpecAes256})
			return err
		}},
		{op: "GenerateDataKeyWithoutPlaintext", call: func(ctx context.Context) error {
			_, err := env.KMS.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: &keyID, KeySpec: kmstypes.DataKeySpecAes256})
			return err
		}},
		{op: "GenerateRandom", call: func(ctx context.Context) error {
			_, err := env.KMS.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(8)})
			return err
		}},
		{op: "EnableKeyRotation", call: func(ctx context.Context) error {
			_, err := env.KMS.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: &keyID})
			return err
		}},
		{op: "GetKeyRotationStatus", call: func(ctx context.Context) error {
			_, err := env.KMS.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: &keyID})
			return err
		}},
		{op: "RotateKeyOnDemand", call: func(ctx context.Context) error {
			_, err := env.KMS.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: &keyID})
			return err
		}},
		{op: "ListKeyRotations", call: func(ctx context.Context) error {
			_, err := env.KMS.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: &keyID})
			return err
		}},
		{op: "DisableKeyRotation", call: func(ctx context.Context) error {
			_, err := env.KMS.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: &keyID})
			return err
		}},
		{op: "ScheduleKeyDeletion", call: func(ctx context.Context) error {
			_, err := env.KMS.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: &keyID, PendingWindowInDays: aws.Int32(7)})
			return err
		}},
		{op: "CancelKeyDeletion", call: func(ctx context.Context) error {
			_, err := env.KMS.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: &keyID})
			return err
		}},
	}

	// A role the root may assume (its trust policy names the account).
	role, err := env.as(env.Creds).IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("walk"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := aws.ToString(role.Role.Arn)
	// And one a test issuer's tokens may assume.
	provider, err := env.IAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(issuer.URL),
		ClientIDList: []string{"sts.amazonaws.com"}})
	if err != nil {
		t.Fatal(err)
	}
	ciRole, err := env.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("walk-ci"),
		AssumeRolePolicyDocument: aws.String(mainBranchTrust(aws.ToString(provider.OpenIDConnectProviderArn), issuer.providerURL()))})
	if err != nil {
		t.Fatal(err)
	}
	ciRoleARN := aws.ToString(ciRole.Role.Arn)
	anonymous, _ := env.anonymousSTS()
	rec.take()
	var sessionID string
	stsSteps := []walkStep{
		{op: "GetCallerIdentity", call: func(ctx context.Context) error {
			_, err := env.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}},
		{op: "AssumeRole", call: func(ctx context.Context) error {
			out, err := env.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("walk")})
			if err == nil {
				sessionID = aws.ToString(out.Credentials.AccessKeyId)
			}
			return err
		}},
		{op: "AssumeRoleWithWebIdentity", call: func(ctx context.Context) error {
			_, err := anonymous.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: &ciRoleARN, RoleSessionName: aws.String("walk"),
				WebIdentityToken: aws.String(issuer.token(t, githubClaims("refs/heads/main", time.Now())))})
			return err
		}, want: []string{"sts:AssumeRoleWithWebIdentity " + ciRoleARN}},
		{op: "GetSessionToken", call: func(ctx context.Context) error {
			_, err := env.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
			return err
		}},
		{op: "GetAccessKeyInfo", call: func(ctx context.Context) error {
			_, err := env.STS.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(env.Creds.AccessKeyID)})
			return err
		}},
		{op: "DecodeAuthorizationMessage", call: func(ctx context.Context) error {
			blob := env.srv.sessions.EncodeAuthorizationMessage(identity.WithPrincipal(ctx, &identity.Principal{AccountID: acct}), &policy.DeniedError{Action: "s3:GetObject"})
			_, err := env.STS.DecodeAuthorizationMessage(ctx, &sts.DecodeAuthorizationMessageInput{EncodedMessage: &blob})
			return err
		}},
		{op: "ListSessions", call: func(ctx context.Context) error {
			env.query(t, env.Creds, "ListSessions", url.Values{}, 200, nil)
			return nil
		}},
		{op: "RevokeSession", call: func(ctx context.Context) error {
			env.query(t, env.Creds, "RevokeSession", url.Values{"SessionId": {sessionID}}, 200, nil)
			return nil
		}},
	}

	// SSM: SecureStrings under a customer key; reading one WithDecryption asks SSM's question
	// about the parameter (or path), then KMS's about the key, as AWS does.
	ssmKey, err := env.KMS.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	ssmKeyARN := aws.ToString(ssmKey.KeyMetadata.Arn)
	if _, err := env.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/walk-ssm"), TargetKeyId: ssmKey.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	rec.take()
	param := "arn:aws:ssm:us-east-1:" + acct + ":parameter/walk/secret"
	parameter := ssmtypes.ResourceTypeForTaggingParameter
	ssmSteps := []walkStep{
		{op: "PutParameter", want: []string{"ssm:PutParameter " + param, "kms:Encrypt " + ssmKeyARN}, call: func(ctx context.Context) error {
			_, err := env.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/walk/secret"), Value: aws.String("s"),
				Type: ssmtypes.ParameterTypeSecureString, KeyId: aws.String("alias/walk-ssm")})
			return err
		}},
		{op: "PutParameter", call: func(ctx context.Context) error {
			_, err := env.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/walk/plain"), Value: aws.String("p"), Type: ssmtypes.ParameterTypeString})
			return err
		}},
		{op: "GetParameter", want: []string{"ssm:GetParameter " + param, "kms:Decrypt " + ssmKeyARN}, call: func(ctx context.Context) error {
			_, err := env.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/walk/secret"), WithDecryption: aws.Bool(true)})
			return err
		}},
		{op: "GetParameter", call: func(ctx context.Context) error {
			_, err := env.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/walk/secret")})
			return err
		}},
		{op: "GetParameters", want: []string{"ssm:GetParameters " + param, "kms:Decrypt " + ssmKeyARN}, call: func(ctx context.Context) error {
			_, err := env.SSM.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/walk/secret"}, WithDecryption: aws.Bool(true)})
			return err
		}},
		{op: "GetParametersByPath", want: []string{"ssm:GetParametersByPath arn:aws:ssm:us-east-1:" + acct + ":parameter/walk/", "kms:Decrypt " + ssmKeyARN},
			call: func(ctx context.Context) error {
				_, err := env.SSM.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/walk/"), WithDecryption: aws.Bool(true),
					ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"SecureString"}}}})
				return err
			}},
		{op: "DescribeParameters", call: func(ctx context.Context) error {
			_, err := env.SSM.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
			return err
		}},
		{op: "GetParameterHistory", call: func(ctx context.Context) error {
			_, err := env.SSM.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/walk/secret")})
			return err
		}},
		{op: "LabelParameterVersion", call: func(ctx context.Context) error {
			_, err := env.SSM.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/walk/secret"), Labels: []string{"walk"}})
			return err
		}},
		{op: "UnlabelParameterVersion", call: func(ctx context.Context) error {
			_, err := env.SSM.UnlabelParameterVersion(ctx, &ssm.UnlabelParameterVersionInput{Name: aws.String("/walk/secret"),
				ParameterVersion: aws.Int64(1), Labels: []string{"walk"}})
			return err
		}},
		{op: "AddTagsToResource", call: func(ctx context.Context) error {
			_, err := env.SSM.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: parameter, ResourceId: aws.String("/walk/secret"),
				Tags: []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
		{op: "ListTagsForResource", call: func(ctx context.Context) error {
			_, err := env.SSM.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: parameter, ResourceId: aws.String("/walk/secret")})
			return err
		}},
		{op: "RemoveTagsFromResource", call: func(ctx context.Context) error {
			_, err := env.SSM.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: parameter, ResourceId: aws.String("/walk/secret"),
				TagKeys: []string{"k"}})
			return err
		}},
		{op: "DeleteParameters", call: func(ctx context.Context) error {
			_, err := env.SSM.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{"/walk/plain"}})
			return err
		}},
		{op: "DeleteParameter", call: func(ctx context.Context) error {
			_, err := env.SSM.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/walk/secret")})
			return err
		}},
	}

	frontends := []struct {
		name  string
		ops   []string
		steps []walkStep
	}{
		{"s3", s3fe.NewHandler(env.srv.objects).Operations(), s3Steps},
		{"dynamodb", dynamodbfe.NewHandler(env.srv.tables).Operations(), ddbSteps},
		{"kms", kmsfe.NewHandler(env.srv.keys).Operations(), kmsSteps},
		{"ssm", ssmfe.NewHandler(env.srv.params).Operations(), ssmSteps},
		{"sts", stsfe.Operations(), stsSteps},
	}
	for _, fe := range frontends {
		t.Run(fe.name, func(t *testing.T) {
			var walked []string
			for _, st := range fe.steps {
				walked = append(walked, st.op)
				rec.take()
				if err := st.call(ctx); err != nil {
					t.Fatalf("%s: %v", st.op, err)
				}
				got := rec.take()
				want := st.want
				if want == nil {
					if len(got) != 1 || strings.HasPrefix(got[0], " ") || strings.HasSuffix(got[0], " ") {
						t.Errorf("%s asked %d questions %q, want exactly one with an action and a resource", st.op, len(got), got)
					}
					continue
				}
				// keyARN is known only once CreateKey ran: a want ending in a space takes it.
				if !slices.Equal(got, resolveWant(want, keyARN)) {
					t.Errorf("%s asked %q, want %q", st.op, got, resolveWant(want, keyARN))
				}
			}
			slices.Sort(walked)
			if !slices.Equal(slices.Compact(walked), fe.ops) {
				t.Errorf("walked %v\nfront-end serves %v", slices.Compact(walked), fe.ops)
			}
		})
	}
}

// resolveWant fills in a key ARN learnt during the walk.
func resolveWant(want []string, keyARN string) []string {
	out := make([]string, len(want))
	for i, w := range want {
		if strings.HasSuffix(w, " ") {
			w += keyARN
		}
		out[i] = w
	}
	return out
}

func mustOK(t *testing.T, what string, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestLocksAskForTheirState checks the questions behind Terraform's two lock kinds: an item of
// a lock table and a <key>.tflock object are also authorized as the state they lock.
func TestLocksAskForTheirState(t *testing.T) {
	rec := &authzRecorder{}
	env := newTestEnv(t, envOptions{WrapAuthz: func(a authorizer) authorizer { rec.inner = a; return rec }})
	ctx := context.Background()
	table := "arn:aws:dynamodb:us-east-1:" + env.Account + ":table/terraform_locks"
	state := "arn:aws:s3:::" + defaultBucket + "/env/terraform.tfstate"
	mustOK(t, "create lock table", func() error {
		_, err := env.DDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("terraform_locks"),
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: ddbtypes.KeyTypeHash}},
			BillingMode:          ddbtypes.BillingModePayPerRequest})
		return err
	})
	lockID := func(id string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"LockID": &ddbtypes.AttributeValueMemberS{Value: id}}
	}
	lock, digest := defaultBucket+"/env/terraform.tfstate", defaultBucket+"/env/terraform.tfstate-md5"
	for _, tc := range []struct {
		name string
		call func() error
		want []string
	}{
		{"lock item put", func() error {
			_, err := env.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("terraform_locks"), Item: lockID(lock)})
			return err
		}, []string{"dynamodb:PutItem " + table, "s3:PutObject " + state}},
		{"digest item read", func() error {
			_, err := env.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("terraform_locks"), Key: lockID(digest)})
			return err
		}, []string{"dynamodb:GetItem " + table, "s3:GetObject " + state}},
		{"lock item delete", func() error {
			_, err := env.DDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("terraform_locks"), Key: lockID(lock)})
			return err
		}, []string{"dynamodb:DeleteItem " + table, "s3:PutObject " + state}},
		{"batch of lock items", func() error {
			_, err := env.DDB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{
				"terraform_locks": {{DeleteRequest: &ddbtypes.DeleteRequest{Key: lockID(digest)}}}}})
			return err
		}, []string{"dynamodb:BatchWriteItem " + table, "s3:PutObject " + state}},
		{"an id naming no bucket locks no state", func() error {
			_, err := env.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("terraform_locks"), Item: lockID("no-such-bucket/x")})
			return err
		}, []string{"dynamodb:PutItem " + table}},
		{"lock file put", func() error {
			_, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(defaultBucket), Key: aws.String("env/terraform.tfstate.tflock"),
				Body: strings.NewReader("{}"), IfNoneMatch: aws.String("*")})
			return err
		}, []string{"s3:PutObject " + state + ".tflock", "s3:PutObject " + state}},
		{"lock file read", func() error {
			out, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(defaultBucket), Key: aws.String("env/terraform.tfstate.tflock")})
			if err == nil {
				out.Body.Close()
			}
			return err
		}, []string{"s3:GetObject " + state + ".tflock", "s3:GetObject " + state}},
		{"lock file delete", func() error {
			_, err := env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(defaultBucket), Key: aws.String("env/terraform.tfstate.tflock")})
			return err
		}, []string{"s3:DeleteObject " + state + ".tflock", "s3:PutObject " + state}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.take()
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			if got := rec.take(); !slices.Equal(got, tc.want) {
				t.Errorf("asked %q, want %q", got, tc.want)
			}
		})
	}
}
