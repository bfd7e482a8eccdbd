package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stateward/stateward/internal/identity"
)

// maxActivation is the longest session activate asks for: an hour, as seed 004's role allows
// (and AWS's limit for a chained role).
const maxActivation = time.Hour

type activateOptions struct {
	role, serial, sessionName, code string
	duration                        time.Duration
}

func (m *Main) sessionActivateCommand(f *awsFlags) *cobra.Command {
	o := &activateOptions{}
	cmd := &cobra.Command{
		Use:   "activate --role ARN [flags] [-- command args…]",
		Short: "Assume a role with your MFA code; print its credentials or run a command with them",
		Long: `Assume a role with your MFA code, for the tools that cannot ask for one themselves
(Terraform's and OpenTofu's s3 backend, chamber, scripts). The code comes from --code, else a
prompt on the terminal (not echoed), else a line on stdin when it is not a terminal. The MFA
device is --serial, else the one assigned to you (iam:ListMFADevices on your user). The session
lasts --duration: at most an hour, the least 15 minutes.

Without a command, prints export lines for the session's credentials, the endpoint and the
region, for 'eval' in the current shell (unset them, or let the hour pass, to end it; 'session
revoke ID' ends it on the server). With '-- command args…', runs the command with those
variables set instead (and AWS_PROFILE removed, so that no profile shadows them) and exits
with its exit code: the credentials live only in that command's environment, never in a
file.`,
		Example: `  eval "$(stateward session activate --role arn:aws:iam::111122223333:role/terraform)"
  stateward session activate --role arn:aws:iam::111122223333:role/terraform -- terraform apply
  stateward session activate --profile alice --role arn:aws:iam::111122223333:role/terraform --code 123456 -- aws s3 ls`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch dash := cmd.ArgsLenAtDash(); {
			case dash < 0 && len(args) > 0:
				return usageError{fmt.Errorf("unexpected argument %q (the command to run goes after --)", args[0])}
			case dash > 0:
				return usageError{fmt.Errorf("unexpected argument %q before -- (the command to run goes after it)", args[0])}
			case dash == 0 && len(args) == 0:
				return usageError{errors.New("no command after --")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.role == "" {
				return usageError{errors.New("--role is required")}
			}
			if o.duration < 15*time.Minute || o.duration > maxActivation || o.duration%time.Second != 0 {
				return usageError{fmt.Errorf("--duration must be whole seconds from 15m to %s, not %s", maxActivation, o.duration)}
			}
			c, err := m.awsClient(cmd.Context(), f)
			if err != nil {
				return err
			}
			s, err := m.activate(cmd.Context(), c, o)
			if err != nil {
				return err
			}
			vars := s.variables(c)
			if len(args) == 0 {
				m.printExports(vars)
				fmt.Fprintf(m.Stderr, "Session %s (%s) until %s; 'stateward session revoke %s' ends it.\n",
					s.id, s.arn, s.expires.Format(time.RFC3339), s.id)
				return nil
			}
			return m.runWith(args, vars, shadowing)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.role, "role", "", "`ARN` of the role to assume (required)")
	fs.StringVar(&o.serial, "serial", "", "`ARN` of your MFA device (default: the one assigned to you)")
	fs.DurationVar(&o.duration, "duration", maxActivation, "how long the session lasts, 15m to 1h")
	fs.StringVar(&o.sessionName, "session-name", "", "role session `name` (default: your user name)")
	fs.StringVar(&o.code, "code", "", "the six-digit MFA `code` (default: ask on the terminal, or read a line from stdin)")
	return cmd
}

// activeSession is a session activate started: its credentials and what to say about it.
type activeSession struct {
	id      string // the access key id, which is also the session's id
	secret  identity.Secret
	token   identity.Secret
	arn     string
	expires time.Time
}

// activate finds the MFA device and the session name when not given, reads the code and
// assumes the role.
func (m *Main) activate(ctx context.Context, c *awsClient, o *activateOptions) (*activeSession, error) {
	serial, name := o.serial, o.sessionName
	if serial == "" {
		dev, err := c.iam.ListMFADevices(ctx, &iam.ListMFADevicesInput{})
		if err != nil {
			return nil, fmt.Errorf("finding your MFA device (or give --serial): %w", describe("ListMFADevices", err))
		}
		switch len(dev.MFADevices) {
		case 0:
			return nil, errors.New("no MFA device is assigned to you: give --serial")
		case 1:
		default:
			var serials []string
			for _, d := range dev.MFADevices {
				serials = append(serials, aws.ToString(d.SerialNumber))
			}
			return nil, fmt.Errorf("several MFA devices are assigned to you (%s): choose one with --serial", strings.Join(serials, ", "))
		}
		serial = aws.ToString(dev.MFADevices[0].SerialNumber)
		if name == "" {
			name = aws.ToString(dev.MFADevices[0].UserName)
		}
	}
	if name == "" {
		who, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, describe("GetCallerIdentity", err)
		}
		name = callerName(aws.ToString(who.Arn))
	}
	name = sessionName(name)
	code := o.code
	if code == "" {
		var err error
		if code, err = m.readCode(serial); err != nil {
			return nil, err
		}
	}
	if !sixDigits.MatchString(code) {
		return nil, errors.New("the MFA code is six digits")
	}
	out, err := c.sts.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(o.role),
		RoleSessionName: aws.String(name),
		DurationSeconds: aws.Int32(int32(o.duration / time.Second)),
		SerialNumber:    aws.String(serial),
		TokenCode:       aws.String(code),
	}, func(o *sts.Options) {
		o.RetryMaxAttempts = 1 // a code is good once: a retry would be refused for reusing it
	})
	if err != nil {
		return nil, describe("AssumeRole", err)
	}
	cr := out.Credentials
	return &activeSession{
		id:      aws.ToString(cr.AccessKeyId),
		secret:  identity.Secret(aws.ToString(cr.SecretAccessKey)),
		token:   identity.Secret(aws.ToString(cr.SessionToken)),
		arn:     aws.ToString(out.AssumedRoleUser.Arn),
		expires: aws.ToTime(cr.Expiration),
	}, nil
}

var (
	sixDigits = regexp.MustCompile(`^[0-9]{6}$`)
	// notInSessionName is what a role session name may not hold (AWS: [\w+=,.@-]{2,64}).
	notInSessionName = regexp.MustCompile(`[^\w+=,.@-]`)
)

// callerName is the name a session is named after by default: the user's name, or the root's
// or a session's last ARN segment.
func callerName(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	res := parts[len(parts)-1]
	if i := strings.LastIndexByte(res, '/'); i >= 0 {
		res = res[i+1:]
	}
	return res
}

// sessionName makes name a valid role session name.
func sessionName(name string) string {
	name = notInSessionName.ReplaceAllString(name, "-")
	if len(name) > 64 {
		name = name[:64]
	}
	if len(name) < 2 {
		name = "stateward"
	}
	return name
}

// readCode reads an MFA code: with a prompt and without echo when stdin is a terminal, else
// one line of stdin (and no more, so a command run afterwards reads the rest).
func (m *Main) readCode(serial string) (string, error) {
	if code, ok, err := m.promptHidden("MFA code for " + serial); ok {
		if err != nil {
			return "", fmt.Errorf("reading the MFA code: %w", err)
		}
		return strings.TrimSpace(code), nil
	}
	if m.Stdin == nil {
		return "", errors.New("no MFA code: give --code, or run on a terminal")
	}
	var line []byte
	b := make([]byte, 1)
	for len(line) < 64 {
		n, err := m.Stdin.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			line = append(line, b[0])
		}
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("reading the MFA code: %w", err)
		}
	}
	if code := strings.TrimSpace(string(line)); code != "" {
		return code, nil
	}
	return "", errors.New("no MFA code on stdin: give --code, pipe one, or run on a terminal")
}

// promptHidden asks for a line on the terminal without echo; ok is false when stdin is no
// terminal.
func (m *Main) promptHidden(prompt string) (line string, ok bool, err error) {
	f, isFile := m.Stdin.(*os.File)
	if !isFile || !term.IsTerminal(int(f.Fd())) {
		return "", false, nil
	}
	fmt.Fprintf(m.Stderr, "%s: ", prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(m.Stderr)
	return string(b), true, err
}

// sessionVariable is one environment variable activate sets.
type sessionVariable struct {
	name  string
	value identity.Secret // most are not secret, but all are printed the same way
}

// variables are the environment variables that make a tool use the session: its credentials,
// the region, and the endpoint and CA bundle when known.
func (s *activeSession) variables(c *awsClient) []sessionVariable {
	vars := []sessionVariable{
		{"AWS_ACCESS_KEY_ID", identity.Secret(s.id)},
		{"AWS_SECRET_ACCESS_KEY", s.secret},
		{"AWS_SESSION_TOKEN", s.token},
	}
	if c.endpoint != "" {
		vars = append(vars, sessionVariable{"AWS_ENDPOINT_URL", identity.Secret(c.endpoint)})
	}
	// The region the session was asked in, configured or not: tools that find none refuse to
	// start, where stateward takes any. aws CLI v1 reads only AWS_DEFAULT_REGION.
	vars = append(vars, sessionVariable{"AWS_REGION", identity.Secret(c.cfg.Region)},
		sessionVariable{"AWS_DEFAULT_REGION", identity.Secret(c.cfg.Region)})
	if c.caBundle != "" {
		vars = append(vars, sessionVariable{"AWS_CA_BUNDLE", identity.Secret(c.caBundle)})
	}
	return vars
}

// shadowing are the variables a command run with the session must not see: a profile would
// win over the session's keys in some tools, and the old keys' companions do not belong to
// the new ones.
var shadowing = []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION"}

// printExports prints the variables as shell export lines: the one place activate shows a
// secret, because the caller asked for it.
func (m *Main) printExports(vars []sessionVariable) {
	var set []string
	for _, name := range shadowing {
		if m.Getenv(name) != "" {
			set = append(set, name)
		}
	}
	if len(set) > 0 {
		fmt.Fprintf(m.Stdout, "unset %s\n", strings.Join(set, " "))
	}
	for _, v := range vars {
		fmt.Fprintf(m.Stdout, "export %s=%s\n", v.name, shellQuote(v.value.Reveal()))
	}
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runWith runs args with the variables set and those named in unset removed, and returns its
// exit code as an exitCode (nil for 0). Ctrl-C reaches the command from the terminal, as it
// reaches this process; a SIGTERM sent to this process alone is passed on.
func (m *Main) runWith(args []string, vars []sessionVariable, unset []string) error {
	environ := m.Environ
	if environ == nil {
		environ = os.Environ
	}
	drop := map[string]bool{}
	for _, name := range unset {
		drop[name] = true
	}
	for _, v := range vars {
		drop[v.name] = true
	}
	var env []string
	for _, kv := range environ() {
		if name, _, _ := strings.Cut(kv, "="); !drop[name] {
			env = append(env, kv)
		}
	}
	for _, v := range vars {
		env = append(env, v.name+"="+v.value.Reveal())
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = m.Stdin, m.Stdout, m.Stderr
	if err := cmd.Start(); err != nil {
		// The codes a shell gives a command it cannot find or run.
		switch {
		case errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist):
			fmt.Fprintln(m.Stderr, "stateward:", err)
			return exitCode(127)
		case errors.Is(err, os.ErrPermission):
			fmt.Fprintln(m.Stderr, "stateward:", err)
			return exitCode(126)
		}
		return err
	}
	sigterm := make(chan os.Signal, 1)
	signal.Notify(sigterm, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigterm:
			_ = cmd.Process.Signal(sig)
		case <-done:
		}
	}()
	err := cmd.Wait()
	close(done)
	signal.Stop(sigterm)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitCode(128 + int(ws.Signal()))
		}
		return exitCode(exit.ExitCode())
	}
	return err
}
