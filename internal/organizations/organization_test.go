package organizations_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsorg "github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

var (
	orgIDPattern  = regexp.MustCompile(`^o-[a-z0-9]{10}$`)
	rootIDPattern = regexp.MustCompile(`^r-[a-z0-9]{4}$`)
)

func TestCreateAndDescribeOrganization(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	_, err := e.A.DescribeOrganization(ctx, &awsorg.DescribeOrganizationInput{})
	wantCode(t, err, "AWSOrganizationsNotInUseException")

	created := createOrg(t, e).Organization
	id := aws.ToString(created.Id)
	if !orgIDPattern.MatchString(id) {
		t.Fatalf("organization id %q", id)
	}
	checks := []struct{ name, got, want string }{
		{"Arn", aws.ToString(created.Arn), "arn:aws:organizations::" + accountA + ":organization/" + id},
		{"MasterAccountId", aws.ToString(created.MasterAccountId), accountA},
		{"MasterAccountArn", aws.ToString(created.MasterAccountArn), "arn:aws:organizations::" + accountA + ":account/" + id + "/" + accountA},
		{"FeatureSet", string(created.FeatureSet), "ALL"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if p := created.AvailablePolicyTypes; len(p) != 1 || p[0].Type != types.PolicyTypeServiceControlPolicy || p[0].Status != types.PolicyTypeStatusEnabled {
		t.Errorf("AvailablePolicyTypes = %+v", p)
	}

	described, err := e.A.DescribeOrganization(ctx, &awsorg.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if d := described.Organization; aws.ToString(d.Id) != id || aws.ToString(d.Arn) != aws.ToString(created.Arn) ||
		aws.ToString(d.MasterAccountId) != accountA || d.FeatureSet != types.OrganizationFeatureSetAll {
		t.Errorf("DescribeOrganization = %+v, created %+v", d, created)
	}

	// An account belongs to one organization at a time.
	_, err = e.A.CreateOrganization(ctx, &awsorg.CreateOrganizationInput{})
	wantCode(t, err, "AlreadyInOrganizationException")
	// A member account may read its organization, but not found one of its own.
	createAccount(t, e, "prod", "prod@example.com") // gets id accountM
	if out, err := e.M.DescribeOrganization(ctx, &awsorg.DescribeOrganizationInput{}); err != nil || aws.ToString(out.Organization.Id) != id {
		t.Errorf("member's DescribeOrganization = %+v, %v", out, err)
	}
	_, err = e.M.CreateOrganization(ctx, &awsorg.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetAll})
	wantCode(t, err, "AlreadyInOrganizationException")

	// Another account founds an organization of its own, with consolidated billing only.
	other, err := e.B.CreateOrganization(ctx, &awsorg.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling})
	if err != nil {
		t.Fatal(err)
	}
	if o := other.Organization; aws.ToString(o.Id) == id || o.FeatureSet != types.OrganizationFeatureSetConsolidatedBilling ||
		len(o.AvailablePolicyTypes) != 0 || aws.ToString(o.MasterAccountId) != accountB {
		t.Errorf("B's organization = %+v", o)
	}
	// B's organization holds B alone.
	list, err := e.B.ListAccounts(ctx, &awsorg.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Accounts) != 1 || aws.ToString(list.Accounts[0].Id) != accountB {
		t.Errorf("B's accounts = %+v", list.Accounts)
	}
}

func TestCreateOrganizationInvalidFeatureSet(t *testing.T) {
	e := newEnv(t)
	_, err := e.A.CreateOrganization(context.Background(), &awsorg.CreateOrganizationInput{FeatureSet: "SOME"})
	wantCode(t, err, "InvalidInputException")
	_, err = e.A.DescribeOrganization(context.Background(), &awsorg.DescribeOrganizationInput{})
	wantCode(t, err, "AWSOrganizationsNotInUseException")
}

func TestListRoots(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	org := createOrg(t, e).Organization
	out, err := e.A.ListRoots(ctx, &awsorg.ListRootsInput{MaxResults: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Roots) != 1 || out.NextToken != nil {
		t.Fatalf("ListRoots = %+v", out)
	}
	r := out.Roots[0]
	id := aws.ToString(r.Id)
	if !rootIDPattern.MatchString(id) || aws.ToString(r.Name) != "Root" ||
		aws.ToString(r.Arn) != "arn:aws:organizations::"+accountA+":root/"+aws.ToString(org.Id)+"/"+id {
		t.Errorf("root = %+v", r)
	}
	if len(r.PolicyTypes) != 1 || r.PolicyTypes[0].Type != types.PolicyTypeServiceControlPolicy {
		t.Errorf("root policy types = %+v", r.PolicyTypes)
	}
}
