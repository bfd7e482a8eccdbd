package organizations_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsorg "github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"
)

// calls are one successful call of every operation by account A's root, once A manages an
// organization with member account accountM. They take what they need from fx.
type fixture struct {
	orgID, root, request string
}

type call struct {
	op string
	do func(ctx context.Context, c *awsorg.Client, fx *fixture) error
}

var calls = []call{
	{"DescribeOrganization", func(ctx context.Context, c *awsorg.Client, _ *fixture) error {
		_, err := c.DescribeOrganization(ctx, &awsorg.DescribeOrganizationInput{})
		return err
	}},
	{"CreateAccount", func(ctx context.Context, c *awsorg.Client, _ *fixture) error {
		_, err := c.CreateAccount(ctx, &awsorg.CreateAccountInput{AccountName: aws.String("qa"), Email: aws.String("qa@example.com"),
			Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("qa")}}})
		return err
	}},
	{"DescribeCreateAccountStatus", func(ctx context.Context, c *awsorg.Client, fx *fixture) error {
		_, err := c.DescribeCreateAccountStatus(ctx, &awsorg.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String(fx.request)})
		return err
	}},
	{"ListCreateAccountStatus", func(ctx context.Context, c *awsorg.Client, _ *fixture) error {
		_, err := c.ListCreateAccountStatus(ctx, &awsorg.ListCreateAccountStatusInput{})
		return err
	}},
	{"ListAccounts", func(ctx context.Context, c *awsorg.Client, _ *fixture) error {
		_, err := c.ListAccounts(ctx, &awsorg.ListAccountsInput{})
		return err
	}},
	{"DescribeAccount", func(ctx context.Context, c *awsorg.Client, _ *fixture) error {
		_, err := c.DescribeAccount(ctx, &awsorg.DescribeAccountInput{AccountId: aws.String(accountM)})
		return err
	}},
	{"ListRoots", func(ctx context.Context, c *awsorg.Client, _ *fixture) error {
		_, err := c.ListRoots(ctx, &awsorg.ListRootsInput{})
		return err
	}},
	{"ListParents", func(ctx context.Context, c *awsorg.Client, _ *fixture) error {
		_, err := c.ListParents(ctx, &awsorg.ListParentsInput{ChildId: aws.String(accountM)})
		return err
	}},
	{"ListChildren", func(ctx context.Context, c *awsorg.Client, fx *fixture) error {
		_, err := c.ListChildren(ctx, &awsorg.ListChildrenInput{ParentId: aws.String(fx.root), ChildType: types.ChildTypeAccount})
		return err
	}},
	// Last: it fails once the organization exists, after authorizing.
	{"CreateOrganization", func(ctx context.Context, c *awsorg.Client, _ *fixture) error {
		_, err := c.CreateOrganization(ctx, &awsorg.CreateOrganizationInput{})
		return err
	}},
}

func newFixture(t *testing.T, e *env) *fixture {
	t.Helper()
	org := createOrg(t, e)
	out, err := e.A.CreateAccount(context.Background(), &awsorg.CreateAccountInput{AccountName: aws.String("prod"), Email: aws.String("prod@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.CreateAccountStatus.AccountId) != accountM {
		t.Fatalf("first account is %s, want %s", aws.ToString(out.CreateAccountStatus.AccountId), accountM)
	}
	return &fixture{orgID: aws.ToString(org.Organization.Id), root: rootID(t, e), request: aws.ToString(out.CreateAccountStatus.Id)}
}

// TestAuthorizationRequests checks that every operation asks the authorizer exactly once,
// for organizations:<Op> on the resource the service authorization reference names, owned by
// the management account.
func TestAuthorizationRequests(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newFixture(t, e)
	arn := "arn:aws:organizations::" + accountA + ":"
	resources := map[string]string{
		"DescribeAccount": arn + "account/" + fx.orgID + "/" + accountM,
		"ListParents":     arn + "account/" + fx.orgID + "/" + accountM,
		"ListChildren":    arn + "root/" + fx.orgID + "/" + fx.root,
	}
	if len(calls) != 10 {
		t.Fatalf("%d operations under test, want all 10", len(calls))
	}
	for _, c := range calls {
		t.Run(c.op, func(t *testing.T) {
			e.authz.reset(false)
			err := c.do(ctx, e.A, fx)
			if c.op == "CreateOrganization" {
				wantCode(t, err, "AlreadyInOrganizationException")
			} else if err != nil {
				t.Fatal(err)
			}
			got := e.authz.requests()
			if len(got) != 1 {
				t.Fatalf("%d authorization requests, want 1: %+v", len(got), got)
			}
			r := got[0]
			wantResource := resources[c.op]
			if wantResource == "" {
				wantResource = "*"
			}
			if r.Action != "organizations:"+c.op || r.Resource != wantResource || r.ResourceAccount != accountA ||
				r.Caller == nil || r.Caller.Principal.ARN != "arn:aws:iam::"+accountA+":root" {
				t.Errorf("request = %+v, want organizations:%s on %s owned by %s", r, c.op, wantResource, accountA)
			}
		})
	}
	// CreateAccount's tags reach the authorizer as request tag keys.
	e.authz.reset(false)
	if _, err := e.A.CreateAccount(ctx, &awsorg.CreateAccountInput{AccountName: aws.String("t"), Email: aws.String("t@example.com"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}, {Key: aws.String("team"), Value: aws.String("ops")}}}); err != nil {
		t.Fatal(err)
	}
	k := e.authz.requests()[0].Keys
	if strings.Join(k["aws:RequestTag/env"], ",") != "test" || strings.Join(k["aws:TagKeys"], ",") != "env,team" {
		t.Errorf("condition keys = %v", k)
	}
}

// TestRefusals: only the management account's principals may make the management calls;
// an account in no organization is told so.
func TestRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newFixture(t, e)
	for _, c := range calls {
		t.Run(c.op, func(t *testing.T) {
			// A member account: the authorizer refuses a request for the management account's
			// resources, and the service refuses it even if the authorizer would not.
			e.authz.reset(false)
			err := c.do(ctx, e.M, fx)
			switch c.op {
			case "DescribeOrganization":
				wantCode(t, err, "")
			case "CreateOrganization":
				wantCode(t, err, "AlreadyInOrganizationException")
			default:
				wantCode(t, err, "AccessDeniedException")
				if msg := apiMessage(err); !strings.Contains(msg, "arn:aws:iam::"+accountM+":root is not authorized to perform: organizations:"+c.op) {
					t.Errorf("denial message %q", msg)
				}
				e.authz.reset(true)
				err = c.do(ctx, e.M, fx)
				wantCode(t, err, "AccessDeniedException")
				if msg := apiMessage(err); msg != "You don't have permissions to access this resource." {
					t.Errorf("refusal message %q", msg)
				}
			}
			if n := len(e.authz.requests()); n != 1 {
				t.Errorf("%d authorization requests, want 1", n)
			}

			// An account in no organization.
			e.authz.reset(false)
			err = c.do(ctx, e.B, fx)
			switch c.op {
			case "CreateOrganization":
				// B founds one; later subtests see B in it, so this runs last (see calls).
				wantCode(t, err, "")
			default:
				wantCode(t, err, "AWSOrganizationsNotInUseException")
			}
			if got := e.authz.requests(); len(got) != 1 || got[0].Resource != "*" || got[0].ResourceAccount != accountB {
				t.Errorf("authorization requests of an account in no organization: %+v", got)
			}

			// A user of the management account whom no policy allows.
			e.authz.reset(false)
			wantCode(t, c.do(ctx, e.User, fx), "AccessDeniedException")
		})
	}
	// Nothing the refused calls asked for was created.
	list, err := e.A.ListAccounts(ctx, &awsorg.ListAccountsInput{})
	if err != nil || len(list.Accounts) != 2 {
		t.Errorf("accounts after refusals: %+v, %v", list, err)
	}
	if got := e.keys(t, fakePrefix); !slices.Contains(got, fakePrefix+accountM) || len(got) != 3 {
		t.Errorf("accounts made: %v", got)
	}
}

func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}
