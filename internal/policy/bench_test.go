package policy

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stateward/stateward/internal/identity"
)

// fixedSource is a PolicySource with the same policies for everyone, as a store that has them
// cached would answer.
type fixedSource struct{ pp *PrincipalPolicies }

func (s fixedSource) PoliciesFor(context.Context, *identity.Principal) (*PrincipalPolicies, error) {
	return s.pp, nil
}

func mustParse(tb testing.TB, text string, k Kind) *Document {
	tb.Helper()
	d, err := Parse(text, k)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// benchPolicies are a user's ten policies: two of its own and eight from three groups, with
// wildcards, variables and conditions, the way a Terraform team's account looks.
func benchPolicies(tb testing.TB) *PrincipalPolicies {
	texts := []struct{ id, typ, text string }{
		{"self-service", "user", `{"Version":"2012-10-17","Statement":[{"Sid":"OwnKeys","Effect":"Allow","Action":["iam:*AccessKey*","iam:*MFADevice*"],"Resource":"arn:aws:iam::111122223333:user/${aws:username}"}]}`},
		{"arn:aws:iam::111122223333:policy/home", "user-managed", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::home","Condition":{"StringLike":{"s3:prefix":["","home/${aws:username}/*"]}}},{"Effect":"Allow","Action":"s3:*Object","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}`},
		{"admins-readonly", "group", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","cloudwatch:Get*","cloudwatch:List*","logs:Get*"],"Resource":"*"}]}`},
		{"admins-assume", "group", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":["arn:aws:iam::*:role/UpdateApp","arn:aws:iam::*:role/Terraform"],"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`},
		{"arn:aws:iam::111122223333:policy/deny-without-mfa", "user-managed", `{"Version":"2012-10-17","Statement":{"Sid":"DenyWithoutMFA","Effect":"Deny","NotAction":["iam:*MFADevice*","iam:ListUsers","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"},"NumericGreaterThan":{"aws:EpochTime":"1"}}}}`},
		{"terraform-state", "group", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::tf-state"},{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject"],"Resource":["arn:aws:s3:::tf-state/env:/*","arn:aws:s3:::tf-state/*.tfstate*"]}]}`},
		{"terraform-locks", "group", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:DeleteItem"],"Resource":"arn:aws:dynamodb:*:*:table/terraform_locks"}]}`},
		{"terraform-kms", "group", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"arn:aws:kms:*:111122223333:key/*","Condition":{"StringLike":{"kms:ViaService":"s3.*.amazonaws.com"}}}]}`},
		{"deny-outside-corp", "group", `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24","2001:db8::/32"]},"Bool":{"aws:ViaAWSService":"false"}}}}`},
		{"arn:aws:iam::aws:policy/ReadOnlyAccess", "aws-managed", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["acm:Describe*","acm:Get*","acm:List*","apigateway:GET","autoscaling:Describe*","dynamodb:Describe*","dynamodb:List*","iam:Get*","iam:List*","kms:Describe*","kms:Get*","kms:List*","s3:Get*","s3:List*","sts:GetCallerIdentity"],"Resource":"*"}]}`},
	}
	pp := &PrincipalPolicies{}
	for _, x := range texts {
		pp.Identity = append(pp.Identity, Source{ID: x.id, Type: x.typ, Doc: mustParse(tb, x.text, IdentityKind)})
	}
	return pp
}

const benchBucketPolicy = `{"Version":"2012-10-17","Id":"PutObjPolicy","Statement":[
	{"Sid":"DenyIncorrectEncryptionHeader","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::tf-state/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}},
	{"Sid":"DenyUnEncryptedObjectUploads","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::tf-state/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}},
	{"Sid":"AllowSSLRequestsOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::tf-state","arn:aws:s3:::tf-state/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},
	{"Sid":"Readers","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:role/Reader","444455556666"]},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::tf-state","arn:aws:s3:::tf-state/*"]}]}`

func benchRequest(tb testing.TB) (context.Context, *Request) {
	p := &identity.Principal{Type: identity.User, AccountID: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice",
		UserID: "AIDAALICE", Name: "alice", Tags: map[string]string{"team": "infra"},
		Session: &identity.Session{Issued: time.Unix(1700000000, 0), MFAAt: time.Unix(1700000000, 0)}}
	ctx := identity.NewContext(context.Background(), &identity.Request{Principal: p, SourceIP: netip.MustParseAddr("203.0.113.7"),
		SecureTransport: true, Time: time.Unix(1700000600, 0), Region: "us-east-1", UserAgent: "Terraform/1.9.0"})
	return ctx, &Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::tf-state/env:/prod/network.tfstate",
		ResourcePolicy: mustParse(tb, benchBucketPolicy, ResourceKind),
		Keys:           map[string][]string{"s3:x-amz-server-side-encryption": {"aws:kms"}, "s3:x-amz-server-side-encryption-aws-kms-key-id": {"arn:aws:kms:us-east-1:111122223333:key/1"}}}
}

// BenchmarkAuthorize decides a Terraform state write: ten identity policies, a bucket policy
// that requires KMS encryption and TLS, and a decision that reads a dozen condition keys.
func BenchmarkAuthorize(b *testing.B) {
	e := NewEngine(fixedSource{benchPolicies(b)})
	ctx, req := benchRequest(b)
	if err := e.Authorize(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Authorize(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorizeDenied is the same principal reading state outside its prefixes.
func BenchmarkAuthorizeDenied(b *testing.B) {
	e := NewEngine(fixedSource{benchPolicies(b)})
	ctx, req := benchRequest(b)
	req.Action, req.Resource = "s3:DeleteObject", "arn:aws:s3:::other/key"
	if err := e.Authorize(ctx, req); err == nil {
		b.Fatal("allowed")
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = e.Authorize(ctx, req)
	}
}

// BenchmarkParseCached is the cost a service pays to turn a bucket policy's text into a
// Document on every request.
func BenchmarkParseCached(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCached(benchBucketPolicy, ResourceKind); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchBucketPolicy, ResourceKind); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchPoliciesDecide(t *testing.T) {
	// The benchmark's decision must be the one it claims to measure.
	pp := benchPolicies(t)
	ctx, req := benchRequest(t)
	r := *req
	r.Caller = identity.RequestFrom(ctx)
	res := Evaluate(&r, pp)
	if res.Decision != Allowed || len(res.Matched) != 1 || res.Matched[0].Source.ID != "terraform-state" {
		t.Fatalf("result = %+v", res)
	}
	r.Keys = nil
	if res := Evaluate(&r, pp); res.Decision != ExplicitDeny || res.Reason != ResourceExplicitDeny {
		t.Errorf("without SSE: %s", fmt.Sprint(res.Decision, res.Reason))
	}
}
