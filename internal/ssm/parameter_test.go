package ssm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func TestPutAndGet(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, value string
		typ         types.ParameterType
	}{
		{"/app/prod/db_host", "db.internal", types.ParameterTypeString},
		{"/app/prod/zones", "a,b,c", types.ParameterTypeStringList},
		{"/app/prod/db_password", "hunter2", types.ParameterTypeSecureString},
		{"plain-name.v1", "flat", types.ParameterTypeString},
	} {
		out, err := e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String(tc.name), Value: aws.String(tc.value), Type: tc.typ,
			Description: aws.String("first")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Version != 1 || out.Tier != types.ParameterTierStandard {
			t.Errorf("PutParameter %s = version %d, tier %s", tc.name, out.Version, out.Tier)
		}
		p := get(t, e.A, tc.name)
		wantARN := "arn:aws:ssm:" + region + ":" + accountA + ":parameter/" + strings.TrimPrefix(tc.name, "/")
		if aws.ToString(p.Name) != tc.name || aws.ToString(p.Value) != tc.value || p.Type != tc.typ || p.Version != 1 ||
			aws.ToString(p.ARN) != wantARN || aws.ToString(p.DataType) != "text" || !p.LastModifiedDate.Equal(e.clock.Now()) {
			t.Errorf("GetParameter %s = %+v", tc.name, p)
		}
	}
	// Without decryption a SecureString reads as its ciphertext; other types as they are.
	out, err := e.A.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/app/prod/db_password")})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(out.Parameter.Value); v == "hunter2" || len(v) < 100 {
		t.Errorf("SecureString without decryption reads %q", v)
	}
	// Names lose surrounding spaces, as on SSM.
	if p := get(t, e.A, "  /app/prod/db_host "); aws.ToString(p.Value) != "db.internal" {
		t.Errorf("name with spaces read %+v", p)
	}
	// Account B has its own parameters.
	_, err = e.B.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/app/prod/db_host")})
	wantCode(t, err, "ParameterNotFound")
}

func TestOverwriteAndVersions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	put(t, e.A, "/svc/key", "v1", types.ParameterTypeString, func(in *awsssm.PutParameterInput) {
		in.Overwrite, in.Description, in.AllowedPattern = nil, aws.String("kept"), aws.String("^v[0-9]+$")
	})
	_, err := e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/svc/key"), Value: aws.String("v2"), Type: types.ParameterTypeString})
	wantCode(t, err, "ParameterAlreadyExists")
	e.clock.Advance(time.Minute)
	// Type, description and pattern carry over when an overwrite leaves them out.
	if v := put(t, e.A, "/svc/key", "v2", ""); v != 2 {
		t.Fatalf("overwrite made version %d", v)
	}
	_, err = e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/svc/key"), Value: aws.String("x3"), Overwrite: aws.Bool(true)})
	wantCode(t, err, "ParameterPatternMismatchException")
	desc, err := e.A.DescribeParameters(ctx, &awsssm.DescribeParametersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Parameters) != 1 {
		t.Fatalf("DescribeParameters = %+v", desc.Parameters)
	}
	m := desc.Parameters[0]
	if aws.ToString(m.Description) != "kept" || aws.ToString(m.AllowedPattern) != "^v[0-9]+$" || m.Version != 2 || m.Type != types.ParameterTypeString ||
		aws.ToString(m.LastModifiedUser) != "arn:aws:iam::"+accountA+":root" || !m.LastModifiedDate.Equal(e.clock.Now()) {
		t.Errorf("metadata after overwrite = %+v", m)
	}
	// Selectors: a version number or a label after a colon.
	if _, err := e.A.LabelParameterVersion(ctx, &awsssm.LabelParameterVersionInput{Name: aws.String("/svc/key"), ParameterVersion: aws.Int64(1),
		Labels: []string{"prod"}}); err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{"1": "v1", "2": "v2", "prod": "v1"} {
		p := get(t, e.A, "/svc/key:"+sel)
		if aws.ToString(p.Value) != want || aws.ToString(p.Selector) != ":"+sel || aws.ToString(p.Name) != "/svc/key" {
			t.Errorf("GetParameter /svc/key:%s = %+v", sel, p)
		}
	}
	for _, sel := range []string{"3", "staging"} {
		_, err := e.A.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/svc/key:" + sel)})
		wantCode(t, err, "ParameterVersionNotFound")
	}
	// A type change is refused in a hierarchy, allowed for a flat name.
	_, err = e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/svc/key"), Value: aws.String("v3"), Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(true)})
	wantCode(t, err, "HierarchyTypeMismatchException")
	put(t, e.A, "flat", "a", types.ParameterTypeString)
	put(t, e.A, "flat", "b", types.ParameterTypeSecureString)
	if p := get(t, e.A, "flat"); p.Type != types.ParameterTypeSecureString || aws.ToString(p.Value) != "b" {
		t.Errorf("flat after type change = %+v", p)
	}
}

// TestVersionLimit: the 100 most recent versions are kept; the oldest goes, unless it has a
// label, as on SSM.
func TestVersionLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := 1; i <= 100; i++ {
		put(t, e.A, "/many", fmt.Sprint(i), types.ParameterTypeString)
	}
	if _, err := e.A.LabelParameterVersion(ctx, &awsssm.LabelParameterVersionInput{Name: aws.String("/many"), ParameterVersion: aws.Int64(1),
		Labels: []string{"first"}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/many"), Value: aws.String("101"), Overwrite: aws.Bool(true)})
	wantCode(t, err, "ParameterMaxVersionLimitExceeded")
	// Move the label: now version 1 goes.
	if _, err := e.A.LabelParameterVersion(ctx, &awsssm.LabelParameterVersionInput{Name: aws.String("/many"), Labels: []string{"first"}}); err != nil {
		t.Fatal(err)
	}
	if v := put(t, e.A, "/many", "101", ""); v != 101 {
		t.Fatalf("version %d", v)
	}
	_, err = e.A.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/many:1")})
	wantCode(t, err, "ParameterVersionNotFound")
	var versions []int64
	pages := awsssm.NewGetParameterHistoryPaginator(e.A, &awsssm.GetParameterHistoryInput{Name: aws.String("/many")})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range page.Parameters {
			versions = append(versions, h.Version)
		}
	}
	if len(versions) != 100 || versions[0] != 2 || versions[99] != 101 {
		t.Errorf("history holds %d versions, %v … %v", len(versions), versions[:1], versions[len(versions)-1:])
	}
}

func TestTiersAndLimits(t *testing.T) {
	e := newEnv(t, envOptions{maxStandard: 2, maxAdvanced: 1})
	ctx := context.Background()
	big := strings.Repeat("x", 5000)
	_, err := e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/big"), Value: aws.String(big), Type: types.ParameterTypeString})
	wantCode(t, err, "ValidationException")
	out, err := e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/big"), Value: aws.String(big), Type: types.ParameterTypeString,
		Tier: types.ParameterTierIntelligentTiering})
	if err != nil || out.Tier != types.ParameterTierAdvanced {
		t.Fatalf("Intelligent-Tiering with 5000 bytes: %+v, %v", out, err)
	}
	// An advanced parameter stays advanced.
	_, err = e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/big"), Value: aws.String("small"), Overwrite: aws.Bool(true),
		Tier: types.ParameterTierStandard})
	wantCode(t, err, "ValidationException")
	if out, err := e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/big"), Value: aws.String("small"), Overwrite: aws.Bool(true)}); err != nil || out.Tier != types.ParameterTierAdvanced {
		t.Errorf("overwrite without a tier: %+v, %v", out, err)
	}
	_, err = e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/big"), Value: aws.String(strings.Repeat("y", 8193)), Overwrite: aws.Bool(true)})
	wantCode(t, err, "ValidationException")
	// The account's limits by tier: two standard parameters, one advanced.
	put(t, e.A, "/s1", "1", types.ParameterTypeString)
	put(t, e.A, "/s2", "2", types.ParameterTypeString)
	_, err = e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/s3"), Value: aws.String("3"), Type: types.ParameterTypeString})
	wantCode(t, err, "ParameterLimitExceeded")
	_, err = e.A.PutParameter(ctx, &awsssm.PutParameterInput{Name: aws.String("/a2"), Value: aws.String("3"), Type: types.ParameterTypeString,
		Tier: types.ParameterTierAdvanced})
	wantCode(t, err, "ParameterLimitExceeded")
	// Overwrites are not new parameters; a deletion makes room.
	put(t, e.A, "/s2", "2b", "")
	if _, err := e.A.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String("/s1")}); err != nil {
		t.Fatal(err)
	}
	put(t, e.A, "/s3", "3", types.ParameterTypeString)
	// Account B counts its own.
	put(t, e.B, "/s1", "1", types.ParameterTypeString)
}

func TestPutParameterValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	put(t, e.A, "/exists", "x", types.ParameterTypeString)
	deep := strings.Repeat("/l", 16)
	for _, tc := range []struct {
		name string
		in   awsssm.PutParameterInput
		code string
	}{
		{"no type on create", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v")}, "ValidationException"},
		{"empty value", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String(""), Type: "String"}, "ValidationException"},
		{"unknown type", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "Secret"}, "ValidationException"},
		{"unknown tier", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "String", Tier: "Gold"}, "ValidationException"},
		{"space inside the name", awsssm.PutParameterInput{Name: aws.String("/a b"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		{"character outside the set", awsssm.PutParameterInput{Name: aws.String("/a$b"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		{"sub-path without a leading slash", awsssm.PutParameterInput{Name: aws.String("a/b"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		{"empty sub-path", awsssm.PutParameterInput{Name: aws.String("/a//b"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		{"reserved aws prefix", awsssm.PutParameterInput{Name: aws.String("/aws/mine"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		{"reserved ssm prefix", awsssm.PutParameterInput{Name: aws.String("SSM-thing"), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		{"16 levels", awsssm.PutParameterInput{Name: aws.String(deep), Value: aws.String("v"), Type: "String"}, "HierarchyLevelLimitExceededException"},
		{"name too long for its ARN", awsssm.PutParameterInput{Name: aws.String("/" + strings.Repeat("n", 1000)), Value: aws.String("v"), Type: "String"}, "ValidationException"},
		{"KeyId on a String", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "String", KeyId: aws.String("alias/aws/ssm")}, "ValidationException"},
		{"tags with overwrite", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "String", Overwrite: aws.Bool(true),
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, "ValidationException"},
		{"bad allowed pattern", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "String", AllowedPattern: aws.String("(")}, "InvalidAllowedPatternException"},
		{"value against pattern", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "String", AllowedPattern: aws.String(`^\d+$`)}, "ParameterPatternMismatchException"},
		{"nested parameter reference", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("{{ssm:/x}}"), Type: "String"}, "ValidationException"},
		{"unknown data type", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "String", DataType: aws.String("json")}, "ValidationException"},
		{"AMI data type with another value", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "String", DataType: aws.String("aws:ec2:image")}, "ValidationException"},
		{"policies", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "String", Policies: aws.String(`[]`)}, "ValidationException"},
		{"exists", awsssm.PutParameterInput{Name: aws.String("/exists"), Value: aws.String("v"), Type: "String"}, "ParameterAlreadyExists"},
		{"too many tags", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "String", Tags: manyTags(51)}, "TooManyTagsError"},
		{"unknown KMS key", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "SecureString", KeyId: aws.String("alias/nope")}, "InvalidKeyId"},
		{"malformed KMS key id", awsssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v"), Type: "SecureString", KeyId: aws.String("not a key")}, "ValidationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.A.PutParameter(ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}
	// Nothing refused was written.
	desc, err := e.A.DescribeParameters(ctx, &awsssm.DescribeParametersInput{})
	if err != nil || len(desc.Parameters) != 1 {
		t.Errorf("after refused writes: %+v, %v", desc, err)
	}
	// An AMI id is a valid aws:ec2:image String.
	put(t, e.A, "/ami", "ami-0abcdef1234567890", types.ParameterTypeString, func(in *awsssm.PutParameterInput) { in.DataType = aws.String("aws:ec2:image") })
	if p := get(t, e.A, "/ami"); aws.ToString(p.DataType) != "aws:ec2:image" {
		t.Errorf("AMI parameter = %+v", p)
	}
}

func manyTags(n int) []types.Tag {
	var tags []types.Tag
	for i := range n {
		tags = append(tags, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	return tags
}

func TestGetParameters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	put(t, e.A, "/b", "B", types.ParameterTypeString)
	put(t, e.A, "/a", "A", types.ParameterTypeSecureString)
	put(t, e.A, "/a", "A2", "")
	out, err := e.A.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{"/b", "/missing", "/a", "/a:1", "/a:7", "bad name", "/b"},
		WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range out.Parameters {
		got = append(got, aws.ToString(p.Name)+"="+aws.ToString(p.Value)+aws.ToString(p.Selector))
	}
	if want := []string{"/a=A2", "/a=A:1", "/b=B"}; !slices.Equal(got, want) {
		t.Errorf("Parameters = %q, want %q", got, want)
	}
	slices.Sort(out.InvalidParameters)
	if want := []string{"/a:7", "/missing", "bad name"}; !slices.Equal(out.InvalidParameters, want) {
		t.Errorf("InvalidParameters = %q, want %q", out.InvalidParameters, want)
	}
	_, err = e.A.GetParameters(ctx, &awsssm.GetParametersInput{Names: strings.Fields("/1 /2 /3 /4 /5 /6 /7 /8 /9 /10 /11")})
	wantCode(t, err, "ValidationException")
	// Only missing names: still a 200 with everything in InvalidParameters, as chamber needs.
	status, _, body := e.rawCall(t, "AKIDROOTA", "AmazonSSM.GetParameters", `{"Names":["/terraform/db_password"],"WithDecryption":true}`)
	if status != 200 || body != `{"Parameters":[],"InvalidParameters":["/terraform/db_password"]}` {
		t.Errorf("GetParameters of a missing name: %d %s", status, body)
	}
}

func TestParameterByARN(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	put(t, e.A, "/app/x", "deep", types.ParameterTypeString)
	put(t, e.A, "flat", "flat", types.ParameterTypeString)
	put(t, e.A, "/top", "top", types.ParameterTypeString)
	prefix := "arn:aws:ssm:" + region + ":" + accountA + ":parameter/"
	for arn, want := range map[string]string{prefix + "app/x": "deep", prefix + "flat": "flat", prefix + "top": "top", prefix + "app/x:1": "deep"} {
		if p := get(t, e.A, arn); aws.ToString(p.Value) != want {
			t.Errorf("GetParameter %s = %+v", arn, p)
		}
	}
	// Another account's parameter by ARN: nothing is shared, so the policy engine refuses it.
	_, err := e.B.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(prefix + "app/x")})
	wantCode(t, err, "AccessDeniedException")
	_, err = e.B.GetParameterHistory(ctx, &awsssm.GetParameterHistoryInput{Name: aws.String(prefix + "app/x")})
	wantCode(t, err, "AccessDeniedException")
	out, err := e.B.GetParameters(ctx, &awsssm.GetParametersInput{Names: []string{prefix + "app/x"}})
	if errCode(err) != "AccessDeniedException" {
		t.Errorf("GetParameters across accounts: %+v, %v", out, err)
	}
	// An ARN of another region names nothing here.
	_, err = e.A.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("arn:aws:ssm:eu-west-1:" + accountA + ":parameter/app/x")})
	wantCode(t, err, "ValidationException")
}

func TestDeleteParameters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	put(t, e.A, "/d/1", "1", types.ParameterTypeString)
	put(t, e.A, "/d/1", "1b", types.ParameterTypeString)
	put(t, e.A, "/d/2", "2", types.ParameterTypeSecureString)
	put(t, e.A, "/d/3", "3", types.ParameterTypeString)
	if _, err := e.A.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String("/d/1")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.A.DeleteParameter(ctx, &awsssm.DeleteParameterInput{Name: aws.String("/d/1")})
	wantCode(t, err, "ParameterNotFound")
	_, err = e.A.GetParameterHistory(ctx, &awsssm.GetParameterHistoryInput{Name: aws.String("/d/1")})
	wantCode(t, err, "ParameterNotFound")
	out, err := e.A.DeleteParameters(ctx, &awsssm.DeleteParametersInput{Names: []string{"/d/2", "/d/nope", "/d/3", "bad name"}})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out.InvalidParameters)
	if !slices.Equal(out.DeletedParameters, []string{"/d/2", "/d/3"}) || !slices.Equal(out.InvalidParameters, []string{"/d/nope", "bad name"}) {
		t.Errorf("DeleteParameters = %+v", out)
	}
	// A name is free again once deleted: a new parameter starts at version 1.
	if v := put(t, e.A, "/d/1", "again", types.ParameterTypeString); v != 1 {
		t.Errorf("recreated parameter has version %d", v)
	}
}

// TestConcurrentOverwrites races writers of one parameter: every write gets its own version.
func TestConcurrentOverwrites(t *testing.T) {
	e := newEnv(t)
	put(t, e.A, "/race", "0", types.ParameterTypeSecureString)
	const n = 8
	versions := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := e.A.PutParameter(context.Background(), &awsssm.PutParameterInput{Name: aws.String("/race"), Value: aws.String(fmt.Sprint(i)),
				Overwrite: aws.Bool(true)})
			if err != nil {
				t.Error(err)
				return
			}
			versions[i] = out.Version
		})
	}
	wg.Wait()
	slices.Sort(versions)
	for i, v := range versions {
		if v != int64(i+2) {
			t.Fatalf("versions %v, want 2 to %d once each", versions, n+1)
		}
	}
}

// TestWireErrors checks SSM's JSON error shape: HTTP 400 with __type, and unknown operations.
func TestWireErrors(t *testing.T) {
	e := newEnv(t)
	status, typ, body := e.rawCall(t, "AKIDROOTA", "AmazonSSM.GetParameter", `{"Name":"/nope"}`)
	var msg struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil || status != 400 || typ != "ParameterNotFound" || msg.Type != "ParameterNotFound" {
		t.Errorf("missing parameter: %d %s %s", status, typ, body)
	}
	status, typ, _ = e.rawCall(t, "AKIDROOTA", "AmazonSSM.SendCommand", `{}`)
	if status != 400 || typ != "UnknownOperationException" {
		t.Errorf("unknown operation: %d %s", status, typ)
	}
	status, typ, _ = e.rawCall(t, "AKIDROOTA", "AmazonSSM.PutParameter", `{"Name":`)
	if status != 400 || typ != "SerializationException" {
		t.Errorf("malformed body: %d %s", status, typ)
	}
}
