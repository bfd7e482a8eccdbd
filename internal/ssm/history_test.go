package ssm_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func TestParameterHistory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := e.clock.Now()
	for i := 1; i <= 5; i++ {
		// As chamber writes: the version counter in Description.
		put(t, e.A, "/svc/key", fmt.Sprint("secret-", i), types.ParameterTypeSecureString, func(in *awsssm.PutParameterInput) {
			in.Description = aws.String(fmt.Sprint(i))
			in.KeyId = aws.String("alias/aws/ssm")
		})
		e.clock.Advance(time.Hour)
	}
	if _, err := e.A.LabelParameterVersion(ctx, &awsssm.LabelParameterVersionInput{Name: aws.String("/svc/key"), ParameterVersion: aws.Int64(2),
		Labels: []string{"stable", "prod"}}); err != nil {
		t.Fatal(err)
	}
	for _, decrypt := range []bool{false, true} {
		var got []types.ParameterHistory
		pages := 0
		pg := awsssm.NewGetParameterHistoryPaginator(e.A, &awsssm.GetParameterHistoryInput{Name: aws.String("/svc/key"), MaxResults: aws.Int32(2),
			WithDecryption: aws.Bool(decrypt)})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			got = append(got, page.Parameters...)
		}
		if len(got) != 5 || pages != 3 {
			t.Fatalf("history: %d versions in %d pages", len(got), pages)
		}
		for i, h := range got {
			v := int64(i + 1)
			if h.Version != v || aws.ToString(h.Description) != fmt.Sprint(v) || aws.ToString(h.Name) != "/svc/key" ||
				aws.ToString(h.LastModifiedUser) != "arn:aws:iam::"+accountA+":root" || !h.LastModifiedDate.Equal(start.Add(time.Duration(i)*time.Hour)) ||
				aws.ToString(h.KeyId) != "alias/aws/ssm" || h.Type != types.ParameterTypeSecureString || h.Tier != types.ParameterTierStandard {
				t.Errorf("version %d = %+v", v, h)
			}
			if plain := aws.ToString(h.Value) == fmt.Sprint("secret-", v); plain != decrypt {
				t.Errorf("version %d value %q with decryption %v", v, aws.ToString(h.Value), decrypt)
			}
			wantLabels := []string{}
			if v == 2 {
				wantLabels = []string{"prod", "stable"}
			}
			if !slices.Equal(h.Labels, wantLabels) {
				t.Errorf("version %d labels %q", v, h.Labels)
			}
		}
	}
	for _, tc := range []struct {
		name string
		in   awsssm.GetParameterHistoryInput
		code string
	}{
		{"missing", awsssm.GetParameterHistoryInput{Name: aws.String("/svc/nope")}, "ParameterNotFound"},
		{"selector", awsssm.GetParameterHistoryInput{Name: aws.String("/svc/key:1")}, "ValidationException"},
		{"MaxResults 0", awsssm.GetParameterHistoryInput{Name: aws.String("/svc/key"), MaxResults: aws.Int32(0)}, "ValidationException"},
		{"bad token", awsssm.GetParameterHistoryInput{Name: aws.String("/svc/key"), NextToken: aws.String("x")}, "InvalidNextToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.A.GetParameterHistory(ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}
}

func TestLabels(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	put(t, e.A, "/l", "1", types.ParameterTypeString)
	put(t, e.A, "/l", "2", "")
	label := func(v *int64, labels ...string) (*awsssm.LabelParameterVersionOutput, error) {
		return e.A.LabelParameterVersion(ctx, &awsssm.LabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: v, Labels: labels})
	}
	out, err := label(nil, "latest", "1bad", "awsy", "has space", "ok_1.2-3")
	if err != nil {
		t.Fatal(err)
	}
	if out.ParameterVersion != 2 || !slices.Equal(out.InvalidLabels, []string{"1bad", "awsy", "has space"}) {
		t.Errorf("LabelParameterVersion = %+v", out)
	}
	// Moving a label to another version.
	if _, err := label(aws.Int64(1), "latest"); err != nil {
		t.Fatal(err)
	}
	if p := get(t, e.A, "/l:latest"); aws.ToString(p.Value) != "1" {
		t.Errorf("moved label reads %+v", p)
	}
	_, err = label(aws.Int64(3), "x")
	wantCode(t, err, "ParameterVersionNotFound")
	_, err = e.A.LabelParameterVersion(ctx, &awsssm.LabelParameterVersionInput{Name: aws.String("/nope"), Labels: []string{"x"}})
	wantCode(t, err, "ParameterNotFound")
	_, err = label(nil, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k")
	wantCode(t, err, "ValidationException")
	if _, err := label(aws.Int64(1), "a", "b", "c", "d", "e", "f", "g", "h", "i"); err != nil {
		t.Fatal(err)
	}
	_, err = label(aws.Int64(1), "j") // an eleventh on version 1
	wantCode(t, err, "ParameterVersionLabelLimitExceeded")

	un, err := e.A.UnlabelParameterVersion(ctx, &awsssm.UnlabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: aws.Int64(1),
		Labels: []string{"latest", "ok_1.2-3", "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(un.RemovedLabels, []string{"latest"}) || !slices.Equal(un.InvalidLabels, []string{"ok_1.2-3", "nope"}) {
		t.Errorf("UnlabelParameterVersion = %+v", un)
	}
	_, err = e.A.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/l:latest")})
	wantCode(t, err, "ParameterVersionNotFound")
	_, err = e.A.UnlabelParameterVersion(ctx, &awsssm.UnlabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: aws.Int64(9), Labels: []string{"a"}})
	wantCode(t, err, "ParameterVersionNotFound")
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	put(t, e.A, "/t", "v", types.ParameterTypeString, func(in *awsssm.PutParameterInput) {
		in.Overwrite = nil
		in.Tags = []types.Tag{{Key: aws.String("owner"), Value: aws.String("ops")}}
	})
	list := func(id string) ([]string, error) {
		out, err := e.A.ListTagsForResource(ctx, &awsssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String(id)})
		if err != nil {
			return nil, err
		}
		var tags []string
		for _, t := range out.TagList {
			tags = append(tags, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
		}
		return tags, nil
	}
	if _, err := e.A.AddTagsToResource(ctx, &awsssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/t"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("owner"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if got, err := list("/t"); err != nil || !slices.Equal(got, []string{"env=prod", "owner=dev"}) {
		t.Errorf("tags = %q, %v", got, err)
	}
	if _, err := e.A.RemoveTagsFromResource(ctx, &awsssm.RemoveTagsFromResourceInput{ResourceType: types.ResourceTypeForTaggingParameter,
		ResourceId: aws.String("/t"), TagKeys: []string{"owner", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := list("/t"); err != nil || !slices.Equal(got, []string{"env=prod"}) {
		t.Errorf("tags after removal = %q, %v", got, err)
	}
	// Tags survive new versions.
	put(t, e.A, "/t", "v2", "")
	if got, _ := list("/t"); !slices.Equal(got, []string{"env=prod"}) {
		t.Errorf("tags after overwrite = %q", got)
	}
	// chamber reads InvalidResourceId as "no such secret".
	_, err := list("/missing")
	wantCode(t, err, "InvalidResourceId")
	_, err = e.A.AddTagsToResource(ctx, &awsssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/missing"),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	wantCode(t, err, "InvalidResourceId")
	_, err = e.A.ListTagsForResource(ctx, &awsssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingDocument, ResourceId: aws.String("/t")})
	wantCode(t, err, "InvalidResourceType")
	_, err = e.A.AddTagsToResource(ctx, &awsssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/t"),
		Tags: manyTags(50)})
	wantCode(t, err, "TooManyTagsError")
	_, err = e.A.AddTagsToResource(ctx, &awsssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/t"),
		Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("b")}}})
	wantCode(t, err, "ValidationException")
	// Tags are condition keys: aws:ResourceTag on the parameter, aws:RequestTag and aws:TagKeys
	// on the request.
	e.authz.reset(nil)
	get(t, e.A, "/t")
	if reqs := e.authz.requests(); len(reqs) != 1 || !slices.Equal(reqs[0].Keys["aws:ResourceTag/env"], []string{"prod"}) {
		t.Errorf("GetParameter asked %+v", reqs)
	}
	e.authz.reset(nil)
	if _, err := e.A.AddTagsToResource(ctx, &awsssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/t"),
		Tags: []types.Tag{{Key: aws.String("cost"), Value: aws.String("42")}}}); err != nil {
		t.Fatal(err)
	}
	if reqs := e.authz.requests(); len(reqs) != 1 || !slices.Equal(reqs[0].Keys["aws:RequestTag/cost"], []string{"42"}) ||
		!slices.Equal(reqs[0].Keys["aws:TagKeys"], []string{"cost"}) {
		t.Errorf("AddTagsToResource asked %+v", reqs)
	}
}
