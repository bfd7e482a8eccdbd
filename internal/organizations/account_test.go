package organizations_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsorg "github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

var (
	requestIDPattern = regexp.MustCompile(`^car-[0-9a-f]{32}$`)
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
)

func TestCreateAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	org := createOrg(t, e).Organization
	orgID := aws.ToString(org.Id)
	requested := e.clock.Now()

	out, err := e.A.CreateAccount(ctx, &awsorg.CreateAccountInput{
		AccountName:            aws.String("production"),
		Email:                  aws.String("aws-prod@example.com"),
		RoleName:               aws.String("Admin"),
		IamUserAccessToBilling: types.IAMUserAccessToBillingDeny,
		Tags:                   []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	st := out.CreateAccountStatus
	reqID, acct := aws.ToString(st.Id), aws.ToString(st.AccountId)
	if !requestIDPattern.MatchString(reqID) || !accountIDPattern.MatchString(acct) || st.State != types.CreateAccountStateSucceeded ||
		aws.ToString(st.AccountName) != "production" || st.FailureReason != "" ||
		!aws.ToTime(st.RequestedTimestamp).Equal(requested) || !aws.ToTime(st.CompletedTimestamp).Equal(requested) {
		t.Fatalf("CreateAccount status = %+v", st)
	}
	// The account was made by iam (here its fake) with the role for the management account.
	made, err := e.accounts.account(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if *made != (fakeAccount{Name: "production", Email: "aws-prod@example.com", Role: "Admin", TrustedAccount: accountA}) {
		t.Errorf("account made as %+v", made)
	}

	e.clock.Advance(time.Hour)
	desc, err := e.A.DescribeCreateAccountStatus(ctx, &awsorg.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String(reqID)})
	if err != nil {
		t.Fatal(err)
	}
	if d := desc.CreateAccountStatus; aws.ToString(d.Id) != reqID || aws.ToString(d.AccountId) != acct ||
		d.State != types.CreateAccountStateSucceeded || !aws.ToTime(d.CompletedTimestamp).Equal(requested) {
		t.Errorf("DescribeCreateAccountStatus = %+v", d)
	}

	got, err := e.A.DescribeAccount(ctx, &awsorg.DescribeAccountInput{AccountId: aws.String(acct)})
	if err != nil {
		t.Fatal(err)
	}
	want := types.Account{
		Id: aws.String(acct), Arn: aws.String("arn:aws:organizations::" + accountA + ":account/" + orgID + "/" + acct),
		Email: aws.String("aws-prod@example.com"), Name: aws.String("production"),
		Status: types.AccountStatusActive, State: types.AccountStateActive, JoinedMethod: types.AccountJoinedMethodCreated,
		JoinedTimestamp: aws.Time(requested), Paths: []string{orgID + "/" + rootID(t, e) + "/" + acct + "/"},
	}
	if d := fmt.Sprintf("%+v", accountString(got.Account)); d != fmt.Sprintf("%+v", accountString(&want)) {
		t.Errorf("DescribeAccount =\n%s\nwant\n%s", d, accountString(&want))
	}

	// The management account is listed too, as invited when the organization was made.
	list, err := e.A.ListAccounts(ctx, &awsorg.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Accounts) != 2 || list.NextToken != nil {
		t.Fatalf("ListAccounts = %+v", list)
	}
	byID := map[string]types.Account{}
	for _, a := range list.Accounts {
		byID[aws.ToString(a.Id)] = a
	}
	if m := byID[accountA]; m.JoinedMethod != types.AccountJoinedMethodInvited || aws.ToString(m.Name) != "management" ||
		m.State != types.AccountStateActive || aws.ToString(m.Arn) != aws.ToString(org.MasterAccountArn) ||
		!aws.ToTime(m.JoinedTimestamp).Equal(requested) {
		t.Errorf("management account listed as %s", accountString(&m))
	}
	if m := byID[acct]; accountString(&m) != accountString(&want) {
		t.Errorf("member listed as %s", accountString(&m))
	}
	if _, err := e.A.DescribeAccount(ctx, &awsorg.DescribeAccountInput{AccountId: aws.String(accountA)}); err != nil {
		t.Errorf("DescribeAccount(management): %v", err)
	}
}

func accountString(a *types.Account) string {
	return fmt.Sprintf("{Id:%s Arn:%s Email:%s Name:%s Status:%s State:%s Method:%s Joined:%s Paths:%v}",
		aws.ToString(a.Id), aws.ToString(a.Arn), aws.ToString(a.Email), aws.ToString(a.Name), a.Status, a.State,
		a.JoinedMethod, aws.ToTime(a.JoinedTimestamp).UTC().Format(time.RFC3339Nano), a.Paths)
}

func rootID(t testing.TB, e *env) string {
	t.Helper()
	out, err := e.A.ListRoots(context.Background(), &awsorg.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Roots[0].Id)
}

// TestCreateAccountDuplicateEmail: AWS reports a taken email in the request's status, and
// creates nothing.
func TestCreateAccountDuplicateEmail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createOrg(t, e)
	createAccount(t, e, "staging", "team@example.com")
	before := e.keys(t, fakePrefix)

	out, err := e.A.CreateAccount(ctx, &awsorg.CreateAccountInput{AccountName: aws.String("staging2"), Email: aws.String("Team@Example.com")})
	if err != nil {
		t.Fatal(err)
	}
	st := out.CreateAccountStatus
	if st.State != types.CreateAccountStateFailed || st.FailureReason != types.CreateAccountFailureReasonEmailAlreadyExists ||
		st.AccountId != nil || st.CompletedTimestamp == nil || !requestIDPattern.MatchString(aws.ToString(st.Id)) {
		t.Fatalf("status = %+v", st)
	}
	desc, err := e.A.DescribeCreateAccountStatus(ctx, &awsorg.DescribeCreateAccountStatusInput{CreateAccountRequestId: st.Id})
	if err != nil {
		t.Fatal(err)
	}
	if d := desc.CreateAccountStatus; d.State != types.CreateAccountStateFailed || d.FailureReason != types.CreateAccountFailureReasonEmailAlreadyExists ||
		aws.ToString(d.AccountName) != "staging2" {
		t.Errorf("DescribeCreateAccountStatus = %+v", d)
	}
	if after := e.keys(t, fakePrefix); !slices.Equal(after, before) {
		t.Errorf("accounts after a refused email: %v, before %v", after, before)
	}
	// Emails are unique across organizations too.
	if _, err := e.B.CreateOrganization(ctx, &awsorg.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	out, err = e.B.CreateAccount(ctx, &awsorg.CreateAccountInput{AccountName: aws.String("x"), Email: aws.String("team@example.com")})
	if err != nil || out.CreateAccountStatus.FailureReason != types.CreateAccountFailureReasonEmailAlreadyExists {
		t.Errorf("B's CreateAccount with A's member's email = %+v, %v", out, err)
	}
}

func TestCreateAccountErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := func(name, email string) *awsorg.CreateAccountInput {
		return &awsorg.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(email)}
	}
	// Outside an organization.
	_, err := e.A.CreateAccount(ctx, in("dev", "dev@example.com"))
	wantCode(t, err, "AWSOrganizationsNotInUseException")
	createOrg(t, e)
	tests := []struct {
		name string
		in   *awsorg.CreateAccountInput
	}{
		// The SDK refuses a missing required member itself; an empty one reaches the server.
		{"empty email", in("dev", "")},
		{"empty name", in("", "dev@example.com")},
		{"email without @", in("dev", "dev.example.com")},
		{"email with a space", in("dev", "d v@example.com")},
		{"email too short", in("dev", "a@b.c")},
		{"email too long", in("dev", fmt.Sprintf("%060d@example.com", 0))},
		{"name too long", in(fmt.Sprintf("%051d", 0), "dev@example.com")},
		{"name not printable ASCII", in("dév", "dev@example.com")},
		{"role name with a slash", &awsorg.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com"), RoleName: aws.String("a/b")}},
		{"reserved role name", &awsorg.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com"), RoleName: aws.String("AWSServiceRoleForX")}},
		{"billing access not an enum value", &awsorg.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com"), IamUserAccessToBilling: "MAYBE"}},
		{"system tag", &awsorg.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com"),
			Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}}},
		{"duplicate tag key", &awsorg.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com"),
			Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("2")}}}},
		{"empty tag key", &awsorg.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com"),
			Tags: []types.Tag{{Key: aws.String(""), Value: aws.String("1")}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.A.CreateAccount(ctx, tt.in)
			wantCode(t, err, "InvalidInputException")
		})
	}
	if got := e.keys(t, fakePrefix); len(got) != 2 {
		t.Errorf("accounts after refused requests: %v", got)
	}

	_, err = e.A.DescribeCreateAccountStatus(ctx, &awsorg.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("car-0123456789abcdef0123456789abcdef")})
	wantCode(t, err, "CreateAccountStatusNotFoundException")
	_, err = e.A.DescribeCreateAccountStatus(ctx, &awsorg.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("0123")})
	wantCode(t, err, "InvalidInputException")
	_, err = e.A.DescribeAccount(ctx, &awsorg.DescribeAccountInput{AccountId: aws.String(accountB)})
	wantCode(t, err, "AccountNotFoundException")
	_, err = e.A.DescribeAccount(ctx, &awsorg.DescribeAccountInput{AccountId: aws.String("12345")})
	wantCode(t, err, "InvalidInputException")
}

// TestCreateAccountAtomic fails the account's transaction after this package's records were
// written in it: neither the account nor any trace of it in the organization may remain.
func TestCreateAccountAtomic(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createOrg(t, e)
	orgBefore, iamBefore := e.keys(t, "org/"), e.keys(t, fakePrefix)

	e.accounts.failWith(errors.New("disk on fire"))
	_, err := e.A.CreateAccount(ctx, &awsorg.CreateAccountInput{AccountName: aws.String("dev"), Email: aws.String("dev@example.com")})
	wantCode(t, err, "InternalError")

	if got := e.keys(t, "org/"); !slices.Equal(got, orgBefore) {
		t.Errorf("organization records after a failed CreateAccount:\n%v\nbefore:\n%v", got, orgBefore)
	}
	if got := e.keys(t, fakePrefix); !slices.Equal(got, iamBefore) {
		t.Errorf("accounts after a failed CreateAccount: %v, before %v", got, iamBefore)
	}
	list, err := e.A.ListAccounts(ctx, &awsorg.ListAccountsInput{})
	if err != nil || len(list.Accounts) != 1 {
		t.Errorf("ListAccounts after a failed CreateAccount = %+v, %v", list, err)
	}
	statuses, err := e.A.ListCreateAccountStatus(ctx, &awsorg.ListCreateAccountStatusInput{})
	if err != nil || len(statuses.CreateAccountStatuses) != 0 {
		t.Errorf("ListCreateAccountStatus after a failed CreateAccount = %+v, %v", statuses, err)
	}

	// Nothing held the email: the same request succeeds once the store does.
	e.accounts.failWith(nil)
	createAccount(t, e, "dev", "dev@example.com")
}

// TestConcurrentCreateAccount creates accounts from many clients at once: each gets its own
// account, and of requests for one email exactly one succeeds.
func TestConcurrentCreateAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createOrg(t, e)
	const n = 8
	type result struct {
		st  *types.CreateAccountStatus
		err error
	}
	run := func(email func(i int) string) []result {
		res := make([]result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := e.A.CreateAccount(ctx, &awsorg.CreateAccountInput{
					AccountName: aws.String(fmt.Sprintf("acct-%d", i)), Email: aws.String(email(i))})
				res[i].err = err
				if err == nil {
					res[i].st = out.CreateAccountStatus
				}
			}()
		}
		wg.Wait()
		return res
	}

	accounts, requests := map[string]bool{}, map[string]bool{}
	for i, r := range run(func(i int) string { return fmt.Sprintf("user%d@example.com", i) }) {
		if r.err != nil || r.st.State != types.CreateAccountStateSucceeded {
			t.Fatalf("request %d: %+v, %v", i, r.st, r.err)
		}
		accounts[aws.ToString(r.st.AccountId)] = true
		requests[aws.ToString(r.st.Id)] = true
	}
	if len(accounts) != n || len(requests) != n {
		t.Errorf("%d distinct accounts and %d distinct requests from %d calls", len(accounts), len(requests), n)
	}

	succeeded := 0
	for i, r := range run(func(int) string { return "shared@example.com" }) {
		switch {
		case r.err != nil:
			t.Errorf("request %d: %v", i, r.err)
		case r.st.State == types.CreateAccountStateSucceeded:
			succeeded++
		case r.st.FailureReason != types.CreateAccountFailureReasonEmailAlreadyExists:
			t.Errorf("request %d: %+v", i, r.st)
		}
	}
	if succeeded != 1 {
		t.Errorf("%d requests for one email succeeded, want 1", succeeded)
	}

	p := awsorg.NewListAccountsPaginator(e.A, &awsorg.ListAccountsInput{})
	total := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += len(page.Accounts)
	}
	if total != 1+n+1 {
		t.Errorf("%d accounts listed, want %d", total, 1+n+1)
	}
}
