// Command stateward serves Terraform and OpenTofu state over the S3, DynamoDB, KMS, IAM, STS
// and SSM APIs from one binary.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := (&Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}).Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Main runs one invocation of the command.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

const usage = `usage: stateward <command> [flags]

commands:
  serve     run the server (see 'stateward serve -h')
  version   print the version
`

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

// Run executes args and returns the process exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		if err := m.serve(ctx, args[1:]); err != nil {
			fmt.Fprintln(m.Stderr, "stateward:", err)
			return 1
		}
		return 0
	case "version":
		fmt.Fprintln(m.Stdout, "stateward", Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return 0
	}
	fmt.Fprintf(m.Stderr, "stateward: unknown command %q\n\n%s", args[0], usage)
	return 2
}
