package organizations_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsorg "github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

func TestListParentsAndChildren(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createOrg(t, e)
	member := createAccount(t, e, "prod", "prod@example.com")
	root := rootID(t, e)

	for _, child := range []string{accountA, member} {
		out, err := e.A.ListParents(ctx, &awsorg.ListParentsInput{ChildId: aws.String(child)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Parents) != 1 || aws.ToString(out.Parents[0].Id) != root || out.Parents[0].Type != types.ParentTypeRoot || out.NextToken != nil {
			t.Errorf("ListParents(%s) = %+v", child, out)
		}
	}

	kids, err := e.A.ListChildren(ctx, &awsorg.ListChildrenInput{ParentId: aws.String(root), ChildType: types.ChildTypeAccount})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range kids.Children {
		if c.Type != types.ChildTypeAccount {
			t.Errorf("child %+v", c)
		}
		ids = append(ids, aws.ToString(c.Id))
	}
	if want := []string{accountA, member}; !slices.Equal(ids, want) {
		t.Errorf("children = %v, want %v", ids, want)
	}
	ous, err := e.A.ListChildren(ctx, &awsorg.ListChildrenInput{ParentId: aws.String(root), ChildType: types.ChildTypeOrganizationalUnit})
	if err != nil || len(ous.Children) != 0 || ous.NextToken != nil {
		t.Errorf("OUs under the root = %+v, %v", ous, err)
	}

	const ou = "ou-ab12-abcdefgh"
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"parents of an account outside", func() error {
			_, err := e.A.ListParents(ctx, &awsorg.ListParentsInput{ChildId: aws.String(accountB)})
			return err
		}, "ChildNotFoundException"},
		{"parents of an OU", func() error {
			_, err := e.A.ListParents(ctx, &awsorg.ListParentsInput{ChildId: aws.String(ou)})
			return err
		}, "ChildNotFoundException"},
		{"parents of the root", func() error {
			_, err := e.A.ListParents(ctx, &awsorg.ListParentsInput{ChildId: aws.String(root)})
			return err
		}, "InvalidInputException"},
		{"parents of nothing", func() error {
			_, err := e.A.ListParents(ctx, &awsorg.ListParentsInput{ChildId: aws.String("")})
			return err
		}, "InvalidInputException"},
		{"children of another root", func() error {
			other := "r-0000"
			if root == other {
				other = "r-0001"
			}
			_, err := e.A.ListChildren(ctx, &awsorg.ListChildrenInput{ParentId: aws.String(other), ChildType: types.ChildTypeAccount})
			return err
		}, "ParentNotFoundException"},
		{"children of an OU", func() error {
			_, err := e.A.ListChildren(ctx, &awsorg.ListChildrenInput{ParentId: aws.String(ou), ChildType: types.ChildTypeOrganizationalUnit})
			return err
		}, "ParentNotFoundException"},
		{"children of an account", func() error {
			_, err := e.A.ListChildren(ctx, &awsorg.ListChildrenInput{ParentId: aws.String(member), ChildType: types.ChildTypeAccount})
			return err
		}, "InvalidInputException"},
		{"children of an unknown type", func() error {
			_, err := e.A.ListChildren(ctx, &awsorg.ListChildrenInput{ParentId: aws.String(root), ChildType: "POLICY"})
			return err
		}, "InvalidInputException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.want) })
	}
}

// TestPagination pages through every list operation with small pages, by hand and with the
// SDK's paginators, and checks tokens are bound to their operation.
func TestPagination(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createOrg(t, e)
	want := []string{accountA}
	for i := range 5 {
		want = append(want, createAccount(t, e, fmt.Sprintf("a%d", i), fmt.Sprintf("a%d@example.com", i)))
	}
	// Two failed requests among the statuses.
	for range 2 {
		if _, err := e.A.CreateAccount(ctx, &awsorg.CreateAccountInput{AccountName: aws.String("again"), Email: aws.String("a0@example.com")}); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	root := rootID(t, e)

	// By hand: 6 accounts in pages of 4 and 2.
	first, err := e.A.ListAccounts(ctx, &awsorg.ListAccountsInput{MaxResults: aws.Int32(4)})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Accounts) != 4 || first.NextToken == nil {
		t.Fatalf("first page: %d accounts, token %v", len(first.Accounts), first.NextToken)
	}
	second, err := e.A.ListAccounts(ctx, &awsorg.ListAccountsInput{MaxResults: aws.Int32(4), NextToken: first.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Accounts) != 2 || second.NextToken != nil {
		t.Fatalf("second page: %d accounts, token %v", len(second.Accounts), second.NextToken)
	}
	var got []string
	for _, a := range append(first.Accounts, second.Accounts...) {
		got = append(got, aws.ToString(a.Id))
	}
	if !slices.Equal(got, want) {
		t.Errorf("accounts by page = %v, want %v", got, want)
	}

	// With the paginators, one item a page.
	got = nil
	pa := awsorg.NewListAccountsPaginator(e.A, &awsorg.ListAccountsInput{MaxResults: aws.Int32(1)})
	for pa.HasMorePages() {
		page, err := pa.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Accounts {
			got = append(got, aws.ToString(a.Id))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("accounts one a page = %v, want %v", got, want)
	}
	got = nil
	pc := awsorg.NewListChildrenPaginator(e.A, &awsorg.ListChildrenInput{ParentId: aws.String(root),
		ChildType: types.ChildTypeAccount, MaxResults: aws.Int32(2)})
	for pc.HasMorePages() {
		page, err := pc.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Children {
			got = append(got, aws.ToString(c.Id))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("children two a page = %v, want %v", got, want)
	}

	count := func(states ...types.CreateAccountState) int {
		t.Helper()
		n := 0
		p := awsorg.NewListCreateAccountStatusPaginator(e.A, &awsorg.ListCreateAccountStatusInput{States: states, MaxResults: aws.Int32(2)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range page.CreateAccountStatuses {
				if len(states) > 0 && !slices.Contains(states, st.State) {
					t.Errorf("status %+v listed for states %v", st, states)
				}
			}
			n += len(page.CreateAccountStatuses)
		}
		return n
	}
	if all, ok, failed, pending := count(), count(types.CreateAccountStateSucceeded), count(types.CreateAccountStateFailed),
		count(types.CreateAccountStateInProgress); all != 7 || ok != 5 || failed != 2 || pending != 0 {
		t.Errorf("statuses: %d in all, %d succeeded, %d failed, %d in progress; want 7, 5, 2, 0", all, ok, failed, pending)
	}

	tests := []struct {
		name string
		call func() error
	}{
		{"MaxResults 0", func() error {
			_, err := e.A.ListAccounts(ctx, &awsorg.ListAccountsInput{MaxResults: aws.Int32(0)})
			return err
		}},
		{"MaxResults 21", func() error {
			_, err := e.A.ListAccounts(ctx, &awsorg.ListAccountsInput{MaxResults: aws.Int32(21)})
			return err
		}},
		{"garbage token", func() error {
			_, err := e.A.ListAccounts(ctx, &awsorg.ListAccountsInput{NextToken: aws.String("%%%")})
			return err
		}},
		{"ListAccounts token to ListChildren", func() error {
			_, err := e.A.ListChildren(ctx, &awsorg.ListChildrenInput{ParentId: aws.String(root), ChildType: types.ChildTypeAccount, NextToken: first.NextToken})
			return err
		}},
		{"ListAccounts token to ListCreateAccountStatus", func() error {
			_, err := e.A.ListCreateAccountStatus(ctx, &awsorg.ListCreateAccountStatusInput{NextToken: first.NextToken})
			return err
		}},
		{"unknown state", func() error {
			_, err := e.A.ListCreateAccountStatus(ctx, &awsorg.ListCreateAccountStatusInput{States: []types.CreateAccountState{"DONE"}})
			return err
		}},
		{"roots MaxResults 25", func() error {
			_, err := e.A.ListRoots(ctx, &awsorg.ListRootsInput{MaxResults: aws.Int32(25)})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), "InvalidInputException") })
	}
}
