// Command stateward serves Terraform and OpenTofu state over the S3, DynamoDB, KMS, IAM, STS
// and SSM APIs from one binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := (&Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}).Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Main runs one invocation of the command.
type Main struct {
	// Stdin is where an MFA code is read from when no flag gives it (nil: nothing to read),
	// and what a command run by `session activate` reads.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Environ is the environment a command run by `session activate` starts from; nil means
	// the process's own (os.Environ). Tests set it together with Getenv.
	Environ func() []string
}

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

// usageError is a command line that does not parse: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode ends the command with a code and no message of its own (a child's exit code).
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// Run executes args and returns the process exit code: 0 on success, 1 when the command
// failed, 2 for a command line that does not parse, or the exit code of a command run by
// `session activate`.
func (m *Main) Run(ctx context.Context, args []string) int {
	root := m.rootCommand()
	if args == nil {
		args = []string{} // cobra reads os.Args for nil
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	var code exitCode
	var usage usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.As(err, &usage):
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(m.Stderr, "stateward: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
		return 2
	}
	fmt.Fprintln(m.Stderr, "stateward:", err)
	return 1
}

func (m *Main) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "stateward",
		Short: "Terraform and OpenTofu state on your own machines, over the AWS APIs",
		Long: `stateward is one binary that serves Terraform and OpenTofu state over the S3, DynamoDB,
KMS, IAM, STS, Organizations and SSM APIs ('stateward serve'), and the operator's commands
that talk to a running server with your AWS credentials ('stateward session …', 'stateward
secrets …').`,
		Example: `  stateward serve
  eval "$(stateward session activate --role arn:aws:iam::111122223333:role/terraform)"
  stateward session ls
  stateward secrets exec --path /app/prod -- tofu apply`,
		Version:       Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without a command: the usage, on stderr, and exit code 2.
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(m.Stderr)
			_ = cmd.Usage()
			return exitCode(2)
		},
	}
	root.SetVersionTemplate("stateward {{.Version}}\n")
	root.SetIn(stdinOrEmpty(m.Stdin))
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(m.serveCommand(), m.versionCommand(), m.sessionCommand(), m.secretsCommand())
	return root
}

func (m *Main) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version",
		Example: "  stateward version",
		Args:    noArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(m.Stdout, "stateward", Version)
		},
	}
}

// group makes cmd a command that only holds subcommands: alone it prints its usage to stderr
// and exits 2, and an unknown subcommand is a usage error (cobra would print help and exit 0).
func group(cmd *cobra.Command, m *Main) *cobra.Command {
	cmd.Args = noArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cmd.SetOut(m.Stderr)
		_ = cmd.Usage()
		return exitCode(2)
	}
	return cmd
}

// noArgs refuses positional arguments as an unknown command.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
	}
	return nil
}

// usageArgs turns cobra's argument checks into usage errors.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func stdinOrEmpty(r io.Reader) io.Reader {
	if r == nil {
		return eofReader{}
	}
	return r
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
