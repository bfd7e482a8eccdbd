package iam_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// BenchmarkAuthorizeUser is one decision for an IAM user with 3 groups and 10 policies (some
// with conditions and wildcards) against a bucket policy, through the real engine and the
// real identity service over a sealed bbolt store: the per-request cost of authorizing a
// non-root caller (reading the account's IAM generation, the cached parsed policies,
// evaluating). root is the same decision for the account's root user, which reads nothing.
func BenchmarkAuthorizeUser(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	c := e.Root
	must := func(_ any, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	doc := func(stmt string) *string { return aws.String(`{"Version":"2012-10-17","Statement":[` + stmt + `]}`) }
	must(c.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("deployer")}))
	must(c.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String("state"),
		PolicyDocument: doc(`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::tfstate/env:/*","Condition":{"IpAddress":{"aws:SourceIp":["127.0.0.0/8","10.0.0.0/8"]}}}`)}))
	must(c.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String("fence"),
		PolicyDocument: doc(`{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::tfstate","arn:aws:s3:::tfstate/*"]}`)}))
	for _, g := range []string{"readers", "lockers", "auditors"} {
		must(c.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String(g)}))
		must(c.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String(g), UserName: aws.String("deployer")}))
		must(c.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: aws.String(g), PolicyName: aws.String(g),
			PolicyDocument: doc(`{"Effect":"Allow","Action":"dynamodb:*Item","Resource":"arn:aws:dynamodb:*:*:table/locks","Condition":{"StringLike":{"dynamodb:LeadingKeys":["tfstate/*"]}}}`)}))
		p, err := c.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String(g + "-managed"),
			PolicyDocument: doc(`{"Effect":"Allow","Action":"kms:Describe*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}`)})
		must(p, err)
		must(c.AttachGroupPolicy(ctx, &awsiam.AttachGroupPolicyInput{GroupName: aws.String(g), PolicyArn: p.Policy.Arn}))
	}
	for _, arn := range []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"} {
		must(c.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("deployer"), PolicyArn: aws.String(arn)}))
	}
	bucketPolicy, err := policy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::tfstate/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}]}`, policy.ResourceKind)
	if err != nil {
		b.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("deployer")})
	must(key, err)
	_, user, err := e.svc.Authenticate(ctx, aws.ToString(key.AccessKey.AccessKeyId), "")
	if err != nil {
		b.Fatal(err)
	}
	_, root, err := e.svc.Authenticate(ctx, e.rootKey.ID, "")
	if err != nil {
		b.Fatal(err)
	}
	engine := policy.NewEngine(e.svc)
	for _, p := range []struct {
		name string
		p    *identity.Principal
	}{{"root", root}, {"user", user}} {
		b.Run("principal="+p.name, func(b *testing.B) {
			rctx := identity.NewContext(ctx, &identity.Request{Principal: p.p, SourceIP: netip.MustParseAddr("127.0.0.1"),
				Time: time.Now(), Region: "us-east-1"})
			req := &policy.Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::tfstate/env:/prod/terraform.tfstate",
				ResourceAccount: e.account.ID, ResourcePolicy: bucketPolicy,
				Keys: map[string][]string{"s3:x-amz-server-side-encryption": {"aws:kms"}}}
			if err := engine.Authorize(rctx, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := engine.Authorize(rctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
