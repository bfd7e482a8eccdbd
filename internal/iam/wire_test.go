package iam_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func form(action string, kv ...string) url.Values {
	f := url.Values{"Action": {action}, "Version": {"2010-05-08"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func TestQueryProtocol(t *testing.T) {
	e := newEnv(t)
	acct := e.account.ID
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   []string // substrings of the body, in order
		absent []string
	}{
		{"unknown action", form("FlyToTheMoon"), 400,
			[]string{"<Code>InvalidAction</Code>", "<Message>Could not find operation FlyToTheMoon for version 2010-05-08</Message>"}, nil},
		{"no action", url.Values{"Version": {"2010-05-08"}}, 400, []string{"<Code>InvalidAction</Code>"}, nil},
		{"other version", url.Values{"Action": {"ListUsers"}, "Version": {"2011-06-15"}}, 400, []string{"<Code>InvalidAction</Code>"}, nil},
		{"missing member", form("CreateUser"), 400, []string{"<Type>Sender</Type>", "<Code>ValidationError</Code>",
			"<Message>1 validation error detected: Value null at &#39;userName&#39; failed to satisfy constraint: Member must not be null</Message>"}, nil},
		{"pattern", form("CreateUser", "UserName", "no spaces"), 400, []string{
			"<Message>1 validation error detected: Value &#39;no spaces&#39; at &#39;userName&#39; failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+</Message>"}, nil},
		{"length", form("CreateUser", "UserName", strings.Repeat("a", 65)), 400, []string{
			"Member must have length less than or equal to 64"}, nil},
		{"several", form("CreateUser", "UserName", "a b", "Path", "nopath"), 400, []string{
			"2 validation errors detected: ", "at &#39;path&#39;", "; Value &#39;a b&#39; at &#39;userName&#39;"}, nil},
		{"nested", form("CreateUser", "UserName", "a", "Tags.member.1.Key", "bad key!", "Tags.member.1.Value", "v"), 400, []string{
			"at &#39;tags.1.member.key&#39; failed to satisfy constraint"}, nil},
		{"enum", form("ListPolicies", "Scope", "Mine"), 400, []string{
			"Value &#39;Mine&#39; at &#39;scope&#39; failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]"}, nil},
		{"range", form("ListUsers", "MaxItems", "0"), 400, []string{
			"Value &#39;0&#39; at &#39;maxItems&#39; failed to satisfy constraint: Member must have value greater than or equal to 1"}, nil},
		{"not a number", form("ListUsers", "MaxItems", "many"), 400, []string{"<Code>ValidationError</Code>"}, nil},
		{"password not echoed", form("CreateLoginProfile", "UserName", "u", "Password", "\x01secret"), 400, []string{"&#39;******&#39; at &#39;password&#39;"}, []string{"secret"}},
		{"not found", form("GetUser", "UserName", "ghost"), 404, []string{"<Code>NoSuchEntity</Code>",
			"<Message>The user with name ghost cannot be found.</Message>", "<RequestId>"}, nil},
		{"envelope", form("CreateUser", "UserName", "alice"), 200, []string{
			`<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateUserResult><User>`,
			"<Path>/</Path><UserName>alice</UserName><UserId>AIDA", "<Arn>arn:aws:iam::" + acct + ":user/alice</Arn>",
			"<CreateDate>2026-03-01T12:00:00Z</CreateDate>", "</User></CreateUserResult><ResponseMetadata><RequestId>",
			"</RequestId></ResponseMetadata></CreateUserResponse>"}, nil},
		{"no result", form("PutUserPolicy", "UserName", "alice", "PolicyName", "p", "PolicyDocument", allowAll), 200, []string{
			`<PutUserPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata>`}, []string{"Result"}},
		{"documents URL-encoded", form("GetUserPolicy", "UserName", "alice", "PolicyName", "p"), 200, []string{
			"<PolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22"}, nil},
		{"empty list", form("ListGroups"), 200, []string{"<Groups></Groups><IsTruncated>false</IsTruncated>"}, []string{"<Marker>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := e.rawCall(t, tt.form)
			if status != tt.status {
				t.Errorf("status %d, want %d: %s", status, tt.status, body)
			}
			rest := body
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("body lacks %q (in order):\n%s", w, body)
					break
				}
				rest = rest[i+len(w):]
			}
			for _, a := range tt.absent {
				if strings.Contains(body, a) {
					t.Errorf("body has %q:\n%s", a, body)
				}
			}
		})
	}
}

// TestSDKDecodesEverything reads back, through the SDK, the fields of each kind of response
// element: dates, URL-encoded documents, blobs, booleans, integers, nested lists.
func TestSDKDecodesEverything(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("u"), Tags: []types.Tag{{Key: aws.String("a b"), Value: aws.String("c:d/e")}}}))
	got := must(e.Root.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("u")}))
	if len(got.User.Tags) != 1 || aws.ToString(got.User.Tags[0].Key) != "a b" || aws.ToString(got.User.Tags[0].Value) != "c:d/e" {
		t.Errorf("tags = %+v", got.User.Tags)
	}
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"arn:aws:s3:::b/a+b c&d=e?%\"}]\n}"
	must(e.Root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}))
	p := must(e.Root.GetUserPolicy(ctx, &awsiam.GetUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p")}))
	if d := decodeDoc(t, p.PolicyDocument); d != doc {
		t.Errorf("document round trip:\n%q\n%q", d, doc)
	}
	pol := must(e.Root.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})).Policy
	if pol.CreateDate == nil || pol.UpdateDate == nil || pol.CreateDate.Year() != 2015 || !pol.IsAttachable || pol.AttachmentCount == nil {
		t.Errorf("policy = %+v", pol)
	}
}
