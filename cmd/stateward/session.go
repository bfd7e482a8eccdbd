package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func (m *Main) sessionCommand() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "session",
		Short: "Start, list and revoke STS sessions on a running server",
		Long: `Start, list and revoke STS sessions on a running server, with your AWS credentials, found
as the aws CLI finds them: --profile (else the keys in AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, else AWS_PROFILE) in the shared config and credentials files
(AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE), and the server's URL from --endpoint-url,
AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL or the profile's endpoint_url. The profile 'stateward'
that serve writes into its data directory works as it is.`,
		Example: `  export AWS_CONFIG_FILE=$PWD/stateward-data/config AWS_SHARED_CREDENTIALS_FILE=$PWD/stateward-data/credentials
  stateward session ls --profile stateward`,
	}, m)
	f := &awsFlags{}
	f.register(cmd.PersistentFlags())
	cmd.AddCommand(m.sessionActivateCommand(f), m.sessionListCommand(f), m.sessionRevokeCommand(f))
	return cmd
}

// listedSession is a session as ListSessions answers and `session ls --output json` prints it.
type listedSession struct {
	SessionID      string `xml:"SessionId" json:"SessionId"`
	Arn            string `xml:"Arn" json:"Arn"`
	PrincipalArn   string `xml:"PrincipalArn" json:"PrincipalArn"`
	ParentArn      string `xml:"ParentArn" json:"ParentArn"`
	SourceIdentity string `xml:"SourceIdentity" json:"SourceIdentity,omitempty"`
	MFA            bool   `xml:"MFA" json:"MFA"`
	Issued         string `xml:"Issued" json:"Issued"`
	Expiration     string `xml:"Expiration" json:"Expiration"`
	LastUsed       string `xml:"LastUsed" json:"LastUsed,omitempty"`
	Revoked        string `xml:"Revoked" json:"Revoked,omitempty"`
}

func (m *Main) sessionListCommand(f *awsFlags) *cobra.Command {
	var role, user, output string
	var all bool
	cmd := &cobra.Command{
		Use:     "ls [--role ARN | --user NAME] [--all]",
		Aliases: []string{"list"},
		Short:   "List the live sessions of your account",
		Long: `List the live sessions of your account: all of them, a role's (--role) or those a user
started (--user), with --all also the expired and revoked ones still on record. For each: its
id (the session's access key id), the principal it acts as, the role or user, the source
identity, whether it was started with MFA, when it was issued, when it expires, when it was
last used and, with --all, when it was revoked. The table shortens ARNs to their resource
(role/terraform); --output json prints them whole.

Listing needs sts:ListSessions on "*", except that a user may always list the sessions it
started itself (--user with its own name).`,
		Example: `  stateward session ls
  stateward session ls --role arn:aws:iam::111122223333:role/terraform
  stateward session ls --user alice --all --output json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return usageError{fmt.Errorf("--output must be table or json, not %q", output)}
			}
			c, err := m.awsClient(cmd.Context(), f)
			if err != nil {
				return err
			}
			form := url.Values{}
			if role != "" {
				form.Set("RoleArn", role)
			}
			if user != "" {
				form.Set("UserName", user)
			}
			if all {
				form.Set("All", "true")
			}
			var out struct {
				Sessions []listedSession `xml:"ListSessionsResult>Sessions>member"`
			}
			if err := c.query(cmd.Context(), "ListSessions", form, &out); err != nil {
				return err
			}
			if out.Sessions == nil {
				out.Sessions = []listedSession{}
			}
			if output == "json" {
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "    ")
				return enc.Encode(out)
			}
			if len(out.Sessions) == 0 {
				fmt.Fprintln(m.Stderr, "No sessions.")
				return nil
			}
			return m.printSessions(out.Sessions, all)
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "only the sessions of the role with this `ARN`")
	cmd.Flags().StringVar(&user, "user", "", "only the sessions the IAM user with this `name` started")
	cmd.Flags().BoolVar(&all, "all", false, "also the expired and revoked sessions still on record")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output `format`: table or json")
	return cmd
}

func (m *Main) printSessions(sessions []listedSession, revoked bool) error {
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	header := "SESSION\tPRINCIPAL\tROLE/USER\tSOURCE IDENTITY\tMFA\tISSUED\tEXPIRES\tLAST USED"
	if revoked {
		header += "\tREVOKED"
	}
	fmt.Fprintln(w, header)
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, s := range sessions {
		mfa := "no"
		if s.MFA {
			mfa = "yes"
		}
		row := strings.Join([]string{s.SessionID, shortARN(s.Arn), shortARN(s.PrincipalArn), dash(s.SourceIdentity), mfa,
			dash(s.Issued), dash(s.Expiration), dash(s.LastUsed)}, "\t")
		if revoked {
			row += "\t" + dash(s.Revoked)
		}
		fmt.Fprintln(w, row)
	}
	return w.Flush()
}

// shortARN is an IAM or STS ARN's resource (role/terraform, assumed-role/terraform/alice,
// user/alice): every session listed is in the caller's account.
func shortARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && (parts[2] == "iam" || parts[2] == "sts") && parts[5] != "" {
		return parts[5]
	}
	if arn == "" {
		return "-"
	}
	return arn
}

func (m *Main) sessionRevokeCommand(f *awsFlags) *cobra.Command {
	var role, user string
	cmd := &cobra.Command{
		Use:   "revoke ID | --role ARN | --user NAME",
		Short: "Revoke live sessions: one, a role's, or those a user started",
		Long: `Revoke live sessions: the session with this id (its access key id, as 'session ls' and
'session activate' print it), all live sessions of a role (--role), or all those a user
started (--user). From the next request on, on every replica, their credentials are refused
with ExpiredToken. Prints the ids of the sessions revoked.

Revoking needs sts:RevokeSession on the session's ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/NAME,
or the user's ARN for a GetSessionToken session), on the role's ARN or on the user's ARN; a
user may always revoke the sessions it started itself.`,
		Example: `  stateward session revoke ASIAEXAMPLE7EXAMPLE2
  stateward session revoke --role arn:aws:iam::111122223333:role/terraform
  stateward session revoke --user alice`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			form := url.Values{}
			if len(args) == 1 {
				form.Set("SessionId", args[0])
			}
			if role != "" {
				form.Set("RoleArn", role)
			}
			if user != "" {
				form.Set("UserName", user)
			}
			if len(form) != 1 {
				return usageError{errors.New("give exactly one of a session id, --role and --user")}
			}
			c, err := m.awsClient(cmd.Context(), f)
			if err != nil {
				return err
			}
			var out struct {
				Revoked []string `xml:"RevokeSessionResult>Revoked>member"`
			}
			if err := c.query(cmd.Context(), "RevokeSession", form, &out); err != nil {
				return err
			}
			if len(out.Revoked) == 0 {
				fmt.Fprintln(m.Stderr, "No live sessions to revoke.")
			}
			for _, id := range out.Revoked {
				fmt.Fprintln(m.Stdout, id)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "revoke every live session of the role with this `ARN`")
	cmd.Flags().StringVar(&user, "user", "", "revoke every live session the IAM user with this `name` started")
	return cmd
}
