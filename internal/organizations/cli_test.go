package organizations_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI runs the seed's habits with the real aws CLI (botocore), when it is installed:
// found an organization, create an account per environment, wait for it, and read the tree
// back, with small pages so the CLI follows NextToken. botocore parses every member by the
// model, so a shape mistake fails here.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the aws CLI")
	}
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	e := newEnv(t)
	home := t.TempDir()
	exec1 := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoint-url", e.url, "--output", "json"}, args...)...)
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env,
			"HOME="+home,
			"AWS_CONFIG_FILE="+filepath.Join(home, "config"),
			"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
			"AWS_ACCESS_KEY_ID=AKIDROOTA",
			"AWS_SECRET_ACCESS_KEY="+secret,
			"AWS_DEFAULT_REGION="+region,
			"AWS_MAX_ATTEMPTS=1",
		)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	run := func(v any, args ...string) {
		t.Helper()
		out, err := exec1(args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if v != nil {
			if err := json.Unmarshal([]byte(out), v); err != nil {
				t.Fatalf("aws %s printed %s: %v", strings.Join(args, " "), out, err)
			}
		}
	}

	var org struct {
		Organization struct{ Id, MasterAccountId, FeatureSet string }
	}
	run(&org, "organizations", "create-organization", "--feature-set", "ALL")
	if org.Organization.MasterAccountId != accountA || org.Organization.FeatureSet != "ALL" {
		t.Fatalf("create-organization = %+v", org)
	}
	accounts := map[string]string{}
	for _, env := range []string{"staging", "production"} {
		var created struct{ CreateAccountStatus struct{ Id, State string } }
		run(&created, "organizations", "create-account", "--email", "aws-"+env+"@example.com", "--account-name", env,
			"--iam-user-access-to-billing", "DENY", "--tags", "Key=env,Value="+env)
		var st struct {
			CreateAccountStatus struct {
				State, AccountId   string
				CompletedTimestamp float64
			}
		}
		run(&st, "organizations", "describe-create-account-status", "--create-account-request-id", created.CreateAccountStatus.Id)
		if st.CreateAccountStatus.State != "SUCCEEDED" || st.CreateAccountStatus.AccountId == "" {
			t.Fatalf("describe-create-account-status = %+v", st)
		}
		accounts[env] = st.CreateAccountStatus.AccountId
	}

	var list struct {
		Accounts []struct {
			Id, Name, Email, JoinedMethod, State string
			JoinedTimestamp                      float64
		}
	}
	run(&list, "organizations", "list-accounts", "--page-size", "1")
	if len(list.Accounts) != 3 {
		t.Fatalf("list-accounts = %+v", list)
	}
	for _, a := range list.Accounts {
		if a.State != "ACTIVE" || a.JoinedTimestamp == 0 || (a.Id == accountA) != (a.JoinedMethod == "INVITED") {
			t.Errorf("listed %+v", a)
		}
	}
	var one struct{ Account struct{ Name, Email string } }
	run(&one, "organizations", "describe-account", "--account-id", accounts["production"])
	if one.Account.Name != "production" || one.Account.Email != "aws-production@example.com" {
		t.Errorf("describe-account = %+v", one)
	}
	var roots struct{ Roots []struct{ Id, Name string } }
	run(&roots, "organizations", "list-roots")
	if len(roots.Roots) != 1 || roots.Roots[0].Name != "Root" {
		t.Fatalf("list-roots = %+v", roots)
	}
	var kids struct{ Children []struct{ Id, Type string } }
	run(&kids, "organizations", "list-children", "--parent-id", roots.Roots[0].Id, "--child-type", "ACCOUNT", "--page-size", "2")
	if len(kids.Children) != 3 {
		t.Errorf("list-children = %+v", kids)
	}
	var parents struct{ Parents []struct{ Id, Type string } }
	run(&parents, "organizations", "list-parents", "--child-id", accounts["staging"])
	if len(parents.Parents) != 1 || parents.Parents[0].Id != roots.Roots[0].Id || parents.Parents[0].Type != "ROOT" {
		t.Errorf("list-parents = %+v", parents)
	}
	var statuses struct{ CreateAccountStatuses []struct{ State string } }
	run(&statuses, "organizations", "list-create-account-status", "--states", "SUCCEEDED")
	if len(statuses.CreateAccountStatuses) != 2 {
		t.Errorf("list-create-account-status = %+v", statuses)
	}
	run(nil, "organizations", "describe-organization")

	out, err := exec1("organizations", "describe-account", "--account-id", accountB)
	if err == nil || !strings.Contains(out, "(AccountNotFoundException) when calling the DescribeAccount operation: You specified an account that doesn't exist.") {
		t.Errorf("describe-account of an account outside: %v\n%s", err, out)
	}
}
