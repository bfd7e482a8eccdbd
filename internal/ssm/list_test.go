package ssm_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// tree writes a small hierarchy into account A.
func tree(t *testing.T, e *env) {
	t.Helper()
	for _, p := range []struct {
		name string
		typ  types.ParameterType
	}{
		{"/app/prod/db_password", types.ParameterTypeSecureString},
		{"/app/prod/db_user", types.ParameterTypeString},
		{"/app/prod/cache/ttl", types.ParameterTypeString},
		{"/app/prod/cache/deep/x", types.ParameterTypeString},
		{"/app/prodigy", types.ParameterTypeString},
		{"/app/staging/db_password", types.ParameterTypeSecureString},
		{"/other/v", types.ParameterTypeStringList},
		{"flat", types.ParameterTypeString},
	} {
		put(t, e.A, p.name, "value of "+p.name, p.typ)
	}
}

func byPath(t *testing.T, c *awsssm.Client, in *awsssm.GetParametersByPathInput) (names []string, values map[string]string, pages int) {
	t.Helper()
	values = map[string]string{}
	pg := awsssm.NewGetParametersByPathPaginator(c, in)
	for pg.HasMorePages() {
		page, err := pg.NextPage(context.Background())
		if err != nil {
			t.Fatalf("GetParametersByPath %s: %v", aws.ToString(in.Path), err)
		}
		pages++
		for _, p := range page.Parameters {
			names = append(names, aws.ToString(p.Name))
			values[aws.ToString(p.Name)] = aws.ToString(p.Value)
		}
	}
	return names, values, pages
}

func TestGetParametersByPath(t *testing.T) {
	e := newEnv(t)
	tree(t, e)
	for _, tc := range []struct {
		name string
		in   awsssm.GetParametersByPathInput
		want []string
	}{
		{"one level", awsssm.GetParametersByPathInput{Path: aws.String("/app/prod")}, []string{"/app/prod/db_password", "/app/prod/db_user"}},
		{"one level, trailing slash (chamber)", awsssm.GetParametersByPathInput{Path: aws.String("/app/prod/")}, []string{"/app/prod/db_password", "/app/prod/db_user"}},
		{"recursive", awsssm.GetParametersByPathInput{Path: aws.String("/app/prod"), Recursive: aws.Bool(true)},
			[]string{"/app/prod/cache/deep/x", "/app/prod/cache/ttl", "/app/prod/db_password", "/app/prod/db_user"}},
		{"root, one level", awsssm.GetParametersByPathInput{Path: aws.String("/")}, nil},
		{"root, recursive", awsssm.GetParametersByPathInput{Path: aws.String("/"), Recursive: aws.Bool(true)},
			[]string{"/app/prod/cache/deep/x", "/app/prod/cache/ttl", "/app/prod/db_password", "/app/prod/db_user", "/app/prodigy", "/app/staging/db_password", "/other/v"}},
		{"type filter", awsssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"SecureString"}}}},
			[]string{"/app/prod/db_password", "/app/staging/db_password"}},
		{"key filter", awsssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("KeyId"), Option: aws.String("BeginsWith"), Values: []string{"alias/aws/"}}}},
			[]string{"/app/prod/db_password", "/app/staging/db_password"}},
		{"no such path", awsssm.GetParametersByPathInput{Path: aws.String("/nope")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, max := range []int32{1, 2, 10} {
				in := tc.in
				in.MaxResults = aws.Int32(max)
				in.WithDecryption = aws.Bool(true)
				names, values, pages := byPath(t, e.A, &in)
				if !slices.Equal(names, tc.want) {
					t.Fatalf("MaxResults %d: %q, want %q", max, names, tc.want)
				}
				for _, n := range names {
					if values[n] != "value of "+n {
						t.Errorf("%s = %q", n, values[n])
					}
				}
				// NextToken only when more exist: exactly ceil(n/max) pages, one when empty.
				if want := max32(1, (len(tc.want)+int(max)-1)/int(max)); pages != want {
					t.Errorf("MaxResults %d: %d pages, want %d", max, pages, want)
				}
			}
		})
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		in   awsssm.GetParametersByPathInput
		code string
	}{
		{"relative path", awsssm.GetParametersByPathInput{Path: aws.String("app")}, "ValidationException"},
		{"MaxResults 11", awsssm.GetParametersByPathInput{Path: aws.String("/app"), MaxResults: aws.Int32(11)}, "ValidationException"},
		{"Name filter", awsssm.GetParametersByPathInput{Path: aws.String("/app"),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"x"}}}}, "InvalidFilterKey"},
		{"Label BeginsWith", awsssm.GetParametersByPathInput{Path: aws.String("/app"),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Option: aws.String("BeginsWith"), Values: []string{"x"}}}}, "InvalidFilterOption"},
		{"bad type", awsssm.GetParametersByPathInput{Path: aws.String("/app"),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"Number"}}}}, "InvalidFilterValue"},
		{"bad token", awsssm.GetParametersByPathInput{Path: aws.String("/app"), NextToken: aws.String("%%%")}, "InvalidNextToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.A.GetParametersByPath(ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}
}

func max32(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// TestLabelFilter: GetParametersByPath with a Label filter (chamber's service:label) returns
// the labeled version of each parameter that has the label.
func TestLabelFilter(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	put(t, e.A, "/svc/a", "a1", types.ParameterTypeSecureString)
	put(t, e.A, "/svc/a", "a2", "")
	put(t, e.A, "/svc/b", "b1", types.ParameterTypeString)
	put(t, e.A, "/svc/c", "c1", types.ParameterTypeString)
	for _, l := range []struct {
		name string
		v    int64
	}{{"/svc/a", 1}, {"/svc/b", 1}} {
		if _, err := e.A.LabelParameterVersion(ctx, &awsssm.LabelParameterVersionInput{Name: aws.String(l.name), ParameterVersion: aws.Int64(l.v),
			Labels: []string{"release"}}); err != nil {
			t.Fatal(err)
		}
	}
	_, values, _ := byPath(t, e.A, &awsssm.GetParametersByPathInput{Path: aws.String("/svc/"), WithDecryption: aws.Bool(true),
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Label"), Option: aws.String("Equals"), Values: []string{"release"}}}})
	if len(values) != 2 || values["/svc/a"] != "a1" || values["/svc/b"] != "b1" {
		t.Errorf("labeled versions = %v", values)
	}
}

func TestDescribeParameters(t *testing.T) {
	e := newEnv(t)
	tree(t, e)
	ctx := context.Background()
	if _, err := e.A.AddTagsToResource(ctx, &awsssm.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter,
		ResourceId: aws.String("/other/v"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}}); err != nil {
		t.Fatal(err)
	}
	f := func(key, option string, values ...string) types.ParameterStringFilter {
		out := types.ParameterStringFilter{Key: aws.String(key), Values: values}
		if option != "" {
			out.Option = aws.String(option)
		}
		return out
	}
	all := []string{"/app/prod/cache/deep/x", "/app/prod/cache/ttl", "/app/prod/db_password", "/app/prod/db_user", "/app/prodigy", "/app/staging/db_password", "/other/v", "flat"}
	for _, tc := range []struct {
		name    string
		filters []types.ParameterStringFilter
		legacy  []types.ParametersFilter
		want    []string
	}{
		{"all", nil, nil, all},
		{"path one level (chamber list)", []types.ParameterStringFilter{f("Path", "OneLevel", "/app/prod")}, nil, []string{"/app/prod/db_password", "/app/prod/db_user"}},
		{"path default option", []types.ParameterStringFilter{f("Path", "", "/app/prod/")}, nil, []string{"/app/prod/db_password", "/app/prod/db_user"}},
		{"path recursive", []types.ParameterStringFilter{f("Path", "Recursive", "/app/prod")}, nil,
			[]string{"/app/prod/cache/deep/x", "/app/prod/cache/ttl", "/app/prod/db_password", "/app/prod/db_user"}},
		{"name begins with (chamber list-services)", []types.ParameterStringFilter{f("Name", "BeginsWith", "/app/prod")}, nil,
			[]string{"/app/prod/cache/deep/x", "/app/prod/cache/ttl", "/app/prod/db_password", "/app/prod/db_user", "/app/prodigy"}},
		{"name equals", []types.ParameterStringFilter{f("Name", "Equals", "flat", "/other/v")}, nil, []string{"/other/v", "flat"}},
		{"name contains", []types.ParameterStringFilter{f("Name", "Contains", "db_")}, nil,
			[]string{"/app/prod/db_password", "/app/prod/db_user", "/app/staging/db_password"}},
		{"type", []types.ParameterStringFilter{f("Type", "Equals", "SecureString")}, nil, []string{"/app/prod/db_password", "/app/staging/db_password"}},
		{"type and path", []types.ParameterStringFilter{f("Type", "", "String"), f("Path", "Recursive", "/app/prod")}, nil,
			[]string{"/app/prod/cache/deep/x", "/app/prod/cache/ttl", "/app/prod/db_user"}},
		{"key id", []types.ParameterStringFilter{f("KeyId", "Equals", "alias/aws/ssm")}, nil, []string{"/app/prod/db_password", "/app/staging/db_password"}},
		{"tier", []types.ParameterStringFilter{f("Tier", "Equals", "Advanced")}, nil, nil},
		{"data type", []types.ParameterStringFilter{f("DataType", "Equals", "text"), f("Name", "BeginsWith", "/other")}, nil, []string{"/other/v"}},
		{"tag value", []types.ParameterStringFilter{f("tag:team", "Equals", "platform")}, nil, []string{"/other/v"}},
		{"tag key", []types.ParameterStringFilter{f("tag:team", "")}, nil, []string{"/other/v"}},
		{"legacy name prefix (chamber v2)", nil, []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"/app/s"}}}, []string{"/app/staging/db_password"}},
		{"legacy type", nil, []types.ParametersFilter{{Key: types.ParametersFilterKeyType, Values: []string{"StringList"}}}, []string{"/other/v"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, max := range []int32{1, 3, 50} {
				var names []string
				pages := 0
				pg := awsssm.NewDescribeParametersPaginator(e.A, &awsssm.DescribeParametersInput{ParameterFilters: tc.filters, Filters: tc.legacy, MaxResults: aws.Int32(max)})
				for pg.HasMorePages() {
					page, err := pg.NextPage(ctx)
					if err != nil {
						t.Fatal(err)
					}
					pages++
					for _, m := range page.Parameters {
						if m.LastModifiedDate == nil || m.LastModifiedUser == nil || m.Name == nil || m.ARN == nil {
							t.Errorf("metadata without what chamber needs: %+v", m)
						}
						names = append(names, aws.ToString(m.Name))
					}
				}
				if !slices.Equal(names, tc.want) {
					t.Fatalf("MaxResults %d: %q, want %q", max, names, tc.want)
				}
				if want := max32(1, (len(tc.want)+int(max)-1)/int(max)); pages != want {
					t.Errorf("MaxResults %d: %d pages, want %d", max, pages, want)
				}
			}
		})
	}
	// A page without MaxResults holds 10.
	for i := range 12 {
		put(t, e.A, fmt.Sprintf("/bulk/p%02d", i), "x", types.ParameterTypeString)
	}
	out, err := e.A.DescribeParameters(ctx, &awsssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Path", "", "/bulk")}})
	if err != nil || len(out.Parameters) != 10 || out.NextToken == nil {
		t.Errorf("default page: %d parameters, token %v, %v", len(out.Parameters), out.NextToken, err)
	}
	for _, tc := range []struct {
		name string
		in   awsssm.DescribeParametersInput
		code string
	}{
		{"label filter", awsssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Label", "", "x")}}, "InvalidFilterKey"},
		{"unknown key", awsssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Color", "", "x")}}, "ValidationException"},
		{"path BeginsWith", awsssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Path", "BeginsWith", "/app")}}, "InvalidFilterOption"},
		{"type Contains", awsssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Type", "Contains", "String")}}, "InvalidFilterOption"},
		{"relative path", awsssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Path", "", "app")}}, "InvalidFilterValue"},
		{"duplicate key", awsssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Name", "", "a"), f("Name", "", "b")}}, "ValidationException"},
		{"both filter kinds", awsssm.DescribeParametersInput{ParameterFilters: []types.ParameterStringFilter{f("Name", "", "a")},
			Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"a"}}}}, "ValidationException"},
		{"MaxResults 51", awsssm.DescribeParametersInput{MaxResults: aws.Int32(51)}, "ValidationException"},
		{"bad token", awsssm.DescribeParametersInput{NextToken: aws.String("!")}, "InvalidNextToken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.A.DescribeParameters(ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}
	// Account B sees none of A's parameters.
	if out, err := e.B.DescribeParameters(ctx, &awsssm.DescribeParametersInput{}); err != nil || len(out.Parameters) != 0 {
		t.Errorf("account B describes %+v, %v", out, err)
	}
}
