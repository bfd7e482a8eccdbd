package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestCommandLine: exit codes and where the text goes, for the commands that need no server.
func TestCommandLine(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // a part of stdout
		stderr     string // a part of stderr
		emptyOut   bool
		emptyError bool
	}{
		{name: "no command", code: 2, stderr: "Available Commands:", emptyOut: true},
		{name: "unknown command", args: []string{"bogus"}, code: 2, stderr: `unknown command "bogus"`, emptyOut: true},
		{name: "unknown flag", args: []string{"serve", "--bogus"}, code: 2, stderr: "Run 'stateward serve --help' for usage.", emptyOut: true},
		{name: "serve argument", args: []string{"serve", "extra"}, code: 2, stderr: `unexpected argument "extra"`},
		{name: "serve flags that conflict", args: []string{"serve", "--tls-cert", "c.pem"}, code: 2, stderr: "go together"},
		{name: "version", args: []string{"version"}, stdout: "stateward " + Version + "\n", emptyError: true},
		{name: "--version", args: []string{"--version"}, stdout: "stateward " + Version + "\n", emptyError: true},
		{name: "help", args: []string{"help"}, stdout: "serve", emptyError: true},
		{name: "serve help", args: []string{"serve", "--help"}, stdout: "$STATEWARD_DATA_DIR", emptyError: true},
		{name: "completion bash", args: []string{"completion", "bash"}, stdout: "bash completion", emptyError: true},
		{name: "completion zsh", args: []string{"completion", "zsh"}, stdout: "#compdef stateward", emptyError: true},
		{name: "completion fish", args: []string{"completion", "fish"}, stdout: "complete -c stateward", emptyError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
			if code := m.Run(context.Background(), tt.args); code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, &stdout, &stderr)
			}
			if !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stdout %q, want %q in it\nstderr %q, want %q in it", &stdout, tt.stdout, &stderr, tt.stderr)
			}
			if tt.emptyOut && stdout.Len() > 0 {
				t.Errorf("stdout not empty: %s", &stdout)
			}
			if tt.emptyError && stderr.Len() > 0 {
				t.Errorf("stderr not empty: %s", &stderr)
			}
		})
	}
}
