package iam_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestOpenIDConnectProviders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	const github = "token.actions.githubusercontent.com"
	const tp = "6938fd4d98bab03faadb97b34396831e3780aea1"
	created := must(e.Root.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://" + github + "/"), ClientIDList: []string{"sts.amazonaws.com", "sts.amazonaws.com"},
		ThumbprintList: []string{tp}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}}))
	arn := aws.ToString(created.OpenIDConnectProviderArn)
	if arn != "arn:aws:iam::"+acct+":oidc-provider/"+github || len(created.Tags) != 1 {
		t.Fatalf("CreateOpenIDConnectProvider = %s %+v", arn, created.Tags)
	}
	_, err := e.Root.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://" + github)})
	wantCode(t, err, "EntityAlreadyExists")
	if got := errMessage(err); got != "Provider with url https://"+github+" already exists." {
		t.Errorf("message = %q", got)
	}

	got := must(e.Root.GetOpenIDConnectProvider(ctx, &awsiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}))
	if aws.ToString(got.Url) != github || !slices.Equal(got.ClientIDList, []string{"sts.amazonaws.com"}) ||
		!slices.Equal(got.ThumbprintList, []string{tp}) || got.CreateDate == nil || !got.CreateDate.Equal(startTime) || len(got.Tags) != 1 {
		t.Errorf("GetOpenIDConnectProvider = %+v", got)
	}

	// Client ids: adding one it has, or removing one it lacks, changes nothing.
	for _, id := range []string{"infra", "infra", "sts.amazonaws.com"} {
		must(e.Root.AddClientIDToOpenIDConnectProvider(ctx, &awsiam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, ClientID: aws.String(id)}))
	}
	for _, id := range []string{"sts.amazonaws.com", "never-added"} {
		must(e.Root.RemoveClientIDFromOpenIDConnectProvider(ctx, &awsiam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, ClientID: aws.String(id)}))
	}
	tp2 := strings.Repeat("AB", 20)
	must(e.Root.UpdateOpenIDConnectProviderThumbprint(ctx, &awsiam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: &arn, ThumbprintList: []string{tp2, tp}}))
	got = must(e.Root.GetOpenIDConnectProvider(ctx, &awsiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}))
	if !slices.Equal(got.ClientIDList, []string{"infra"}) || !slices.Equal(got.ThumbprintList, []string{tp2, tp}) {
		t.Errorf("after updates: client ids %q, thumbprints %q", got.ClientIDList, got.ThumbprintList)
	}

	// Tags.
	must(e.Root.TagOpenIDConnectProvider(ctx, &awsiam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn,
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("ci")}}}))
	must(e.Root.UntagOpenIDConnectProvider(ctx, &awsiam.UntagOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, TagKeys: []string{"team"}}))
	tags := must(e.Root.ListOpenIDConnectProviderTags(ctx, &awsiam.ListOpenIDConnectProviderTagsInput{OpenIDConnectProviderArn: &arn}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Errorf("tags = %+v", tags.Tags)
	}

	// A provider with a path (and one with a port, which AWS asks for none of) next to it.
	other := must(e.Root.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://GitLab.example.com/Group/CI")}))
	if aws.ToString(other.OpenIDConnectProviderArn) != "arn:aws:iam::"+acct+":oidc-provider/gitlab.example.com/Group/CI" {
		t.Errorf("ARN with a path = %s", aws.ToString(other.OpenIDConnectProviderArn))
	}
	must(e.Root.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://idp.example.com:8443/realms/ci")}))
	list := must(e.Root.ListOpenIDConnectProviders(ctx, &awsiam.ListOpenIDConnectProvidersInput{}))
	var arns []string
	for _, p := range list.OpenIDConnectProviderList {
		arns = append(arns, aws.ToString(p.Arn))
	}
	want := []string{"arn:aws:iam::" + acct + ":oidc-provider/gitlab.example.com/Group/CI",
		"arn:aws:iam::" + acct + ":oidc-provider/idp.example.com:8443/realms/ci", arn}
	if !slices.Equal(arns, want) {
		t.Errorf("ListOpenIDConnectProviders = %q, want %q", arns, want)
	}

	// What STS asks: the provider of an issuer, as a token's iss names it.
	for iss, wantARN := range map[string]string{
		"https://" + github:                           arn,
		"https://" + github + "/":                     arn,
		"https://TOKEN.actions.githubusercontent.com": arn,
		"https://gitlab.example.com/group/ci":         "", // paths are case-sensitive
		"http://" + github:                            "",
		github:                                        "",
		"https://unknown.example.com":                 "",
	} {
		p, err := e.svc.OIDCProviderForIssuer(ctx, acct, iss)
		switch {
		case err != nil:
			t.Errorf("%s: %v", iss, err)
		case wantARN == "" && p != nil, wantARN != "" && (p == nil || p.ARN != wantARN || p.AccountID != acct || p.URL != github ||
			!slices.Equal(p.ClientIDs, []string{"infra"})):
			t.Errorf("OIDCProviderForIssuer(%s) = %+v, want %s", iss, p, wantARN)
		}
	}
	if p, err := e.svc.OIDCProviderForIssuer(ctx, "999999999999", "https://"+github); p != nil || err != nil {
		t.Errorf("another account's provider = %+v, %v", p, err)
	}

	must(e.Root.DeleteOpenIDConnectProvider(ctx, &awsiam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}))
	_, err = e.Root.GetOpenIDConnectProvider(ctx, &awsiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
	wantCode(t, err, "NoSuchEntity")
	if got := errMessage(err); got != "OpenIDConnect Provider not found for arn "+arn {
		t.Errorf("message = %q", got)
	}
	_, err = e.Root.DeleteOpenIDConnectProvider(ctx, &awsiam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
	wantCode(t, err, "NoSuchEntity")
	if p, err := e.svc.OIDCProviderForIssuer(ctx, acct, "https://"+github); p != nil || err != nil {
		t.Errorf("deleted provider = %+v, %v", p, err)
	}
}

func TestOpenIDConnectProviderInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	for _, tt := range []struct {
		name string
		in   awsiam.CreateOpenIDConnectProviderInput
		code string
	}{
		{"http", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("http://idp.example.com")}, "InvalidInput"},
		{"no scheme", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("idp.example.com")}, "InvalidInput"},
		{"query", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://idp.example.com/?a=b")}, "InvalidInput"},
		{"fragment", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://idp.example.com/#x")}, "InvalidInput"},
		{"user", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://u@idp.example.com")}, "InvalidInput"},
		{"no host", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https:///path")}, "InvalidInput"},
		{"too long", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://" + strings.Repeat("a", 250))}, "ValidationError"},
		{"thumbprint of 39", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com"), ThumbprintList: []string{strings.Repeat("a", 39)}}, "ValidationError"},
		{"thumbprint not hex", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com"), ThumbprintList: []string{strings.Repeat("g", 40)}}, "InvalidInput"},
		{"six thumbprints", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com"), ThumbprintList: []string{
			strings.Repeat("1", 40), strings.Repeat("2", 40), strings.Repeat("3", 40), strings.Repeat("4", 40), strings.Repeat("5", 40), strings.Repeat("6", 40)}}, "LimitExceeded"},
		{"empty client id", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com"), ClientIDList: []string{""}}, "ValidationError"},
		{"reserved tag", awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com"),
			Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}, "InvalidInput"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Root.CreateOpenIDConnectProvider(ctx, &tt.in)
			wantCode(t, err, tt.code)
		})
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = strings.Repeat("c", i+1)
	}
	_, err := e.Root.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com"), ClientIDList: many})
	wantCode(t, err, "LimitExceeded")
	arn := aws.ToString(must(e.Root.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://a.example.com"),
		ClientIDList: many[:100]})).OpenIDConnectProviderArn)
	_, err = e.Root.AddClientIDToOpenIDConnectProvider(ctx, &awsiam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, ClientID: aws.String("one-more")})
	wantCode(t, err, "LimitExceeded")

	for _, bad := range []string{"arn:aws:iam::" + acct + ":role/x-not-a-provider", "arn:aws:iam::" + acct + ":oidc-provider/"} {
		_, err := e.Root.GetOpenIDConnectProvider(ctx, &awsiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(bad)})
		wantCode(t, err, "InvalidInput")
	}
	// Another account's provider does not exist for this one.
	_, err = e.Root.GetOpenIDConnectProvider(ctx, &awsiam.GetOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String("arn:aws:iam::999999999999:oidc-provider/a.example.com")})
	wantCode(t, err, "NoSuchEntity")
}

// TestOpenIDConnectProviderAuthorization checks a user needs the operation's permission on the
// provider's ARN, tag conditions included.
func TestOpenIDConnectProviderAuthorization(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	arn := aws.ToString(must(e.Root.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://token.actions.githubusercontent.com"), Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("ci")}}})).OpenIDConnectProviderArn)
	must(e.Root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("oidc-reader"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetOpenIDConnectProvider","iam:AddClientIDToOpenIDConnectProvider"],"Resource":"*",` +
			`"Condition":{"StringEquals":{"iam:ResourceTag/owner":"ci"}}}]}`)}))
	u := e.userClient(t, "reader", "arn:aws:iam::"+acct+":policy/oidc-reader")
	must(u.GetOpenIDConnectProvider(ctx, &awsiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}))
	must(u.AddClientIDToOpenIDConnectProvider(ctx, &awsiam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, ClientID: aws.String("x")}))
	_, err := u.DeleteOpenIDConnectProvider(ctx, &awsiam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
	wantCode(t, err, "AccessDenied")
	if !strings.Contains(errMessage(err), "iam:DeleteOpenIDConnectProvider on resource: "+arn) {
		t.Errorf("message = %q", errMessage(err))
	}
	_, err = u.ListOpenIDConnectProviders(ctx, &awsiam.ListOpenIDConnectProvidersInput{})
	wantCode(t, err, "AccessDenied")
	must(e.Root.UntagOpenIDConnectProvider(ctx, &awsiam.UntagOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, TagKeys: []string{"owner"}}))
	_, err = u.GetOpenIDConnectProvider(ctx, &awsiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
	wantCode(t, err, "AccessDenied")
}
