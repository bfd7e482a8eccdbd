package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFirstStartAndRestart(t *testing.T) {
	dir := t.TempDir()
	c := &serveConfig{DataDir: dir, Region: "eu-west-1"}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	s1, err := newServer(context.Background(), c, log)
	if err != nil {
		t.Fatal(err)
	}
	if !s1.created || len(s1.account.ID) != 12 {
		t.Fatalf("first start: created=%v account=%q", s1.created, s1.account.ID)
	}
	if err := writeClientFiles(dir, s1.key, c.Region, "http://127.0.0.1:1234"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	(&Main{Stdout: &out}).printStart(c, s1.account, s1.key, true, "http://127.0.0.1:1234")
	s1.close()

	for _, want := range []string{"export AWS_ACCESS_KEY_ID=" + s1.key.ID, "export AWS_SECRET_ACCESS_KEY=",
		`backend "s3"`, `bucket         = "terraform-state"`, `region         = "eu-west-1"`, "use_lockfile   = true",
		`endpoints      = { s3 = "http://127.0.0.1:1234"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("first-start output lacks %q:\n%s", want, out.String())
		}
	}
	for _, name := range []string{"credentials", "config", "master.key", "stateward.db"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", name, fi.Mode().Perm())
		}
	}
	creds, _ := os.ReadFile(filepath.Join(dir, "credentials"))
	if !strings.Contains(string(creds), "[stateward]\naws_access_key_id = "+s1.key.ID+"\naws_secret_access_key = "+s1.key.Secret.Reveal()) {
		t.Errorf("credentials file:\n%s", creds)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "config"))
	if !strings.Contains(string(cfg), "[profile stateward]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:1234\n") {
		t.Errorf("config file:\n%s", cfg)
	}

	s2, err := newServer(context.Background(), c, log)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.close()
	if s2.created || s2.account.ID != s1.account.ID || s2.key.ID != s1.key.ID || s2.key.Secret != s1.key.Secret {
		t.Fatalf("second start made new identities: created=%v account %s→%s key %s→%s", s2.created, s1.account.ID, s2.account.ID, s1.key.ID, s2.key.ID)
	}
	if err := writeClientFiles(dir, s2.key, c.Region, "http://127.0.0.1:5678"); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "credentials")); !bytes.Equal(again, creds) {
		t.Error("second start rewrote the credentials file")
	}
	out.Reset()
	(&Main{Stdout: &out}).printStart(c, s2.account, s2.key, false, "http://127.0.0.1:5678")
	if strings.Contains(out.String(), s2.key.Secret.Reveal()) {
		t.Error("a restart printed the secret again")
	}
}

// TestServeProcess runs `serve` as the command does, with --tls-self-signed, and talks to it
// over HTTPS trusting only the certificate it wrote.
func TestServeProcess(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- (&Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}).
			Run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir, "--tls-self-signed", "--log-format", "json"})
	}()
	certPEM := waitFile(t, filepath.Join(dir, "tls", "cert.pem"))
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("cert.pem holds no certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err = client.Get("https://" + addr + "/readyz"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("readyz over TLS: %v\n%s", err, stderr.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Request-Id") == "" {
		t.Errorf("readyz: %d, request id %q", resp.StatusCode, resp.Header.Get("X-Amz-Request-Id"))
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "export AWS_CA_BUNDLE="+filepath.Join(dir, "tls", "cert.pem")) ||
		!strings.Contains(stdout.String(), "https://"+addr) {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	if strings.Contains(stderr.String(), secretOf(t, dir)) {
		t.Error("the secret access key reached the log")
	}
	if !strings.Contains(stderr.String(), `"msg":"serving"`) {
		t.Errorf("log is not JSON: %s", stderr.String())
	}
}

func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return b
		}
	}
	t.Fatalf("%s never appeared", path)
	return nil
}

func secretOf(t *testing.T, dir string) string {
	_, secret := readCredentials(t, filepath.Join(dir, "credentials"))
	return secret
}

func TestParseServeFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(*serveConfig) bool
	}{
		{name: "defaults", check: func(c *serveConfig) bool { return c.Addr == "127.0.0.1:9000" && c.Region == "us-east-1" }},
		{name: "env", env: map[string]string{"STATEWARD_ADDR": ":1", "STATEWARD_DATA_DIR": "d", "STATEWARD_TLS_SELF_SIGNED": "true"},
			check: func(c *serveConfig) bool { return c.Addr == ":1" && c.DataDir == "d" && c.TLSSelfSigned }},
		{name: "flag beats env", args: []string{"--addr", ":2"}, env: map[string]string{"STATEWARD_ADDR": ":1"},
			check: func(c *serveConfig) bool { return c.Addr == ":2" }},
		{name: "cert without key", args: []string{"--tls-cert", "c.pem"}, wantErr: "go together"},
		{name: "self-signed and cert", args: []string{"--tls-self-signed", "--tls-cert", "c", "--tls-key", "k"}, wantErr: "exclude"},
		{name: "bad log format", args: []string{"--log-format", "xml"}, wantErr: "text or json"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected argument"},
		{name: "JWKS files", args: []string{"--oidc-jwks-file", "https://a.example.com=a.json", "--oidc-jwks-file", "https://b.example.com/x=/b.json"},
			env: map[string]string{"STATEWARD_OIDC_JWKS_FILE": "https://c.example.com=c.json"},
			check: func(c *serveConfig) bool {
				return slices.Equal(c.OIDCJWKSFiles, []string{"https://a.example.com=a.json", "https://b.example.com/x=/b.json"})
			}},
		{name: "JWKS files from env", env: map[string]string{"STATEWARD_OIDC_JWKS_FILE": "https://a.example.com=a.json, https://b.example.com=b.json"},
			check: func(c *serveConfig) bool {
				return slices.Equal(c.OIDCJWKSFiles, []string{"https://a.example.com=a.json", "https://b.example.com=b.json"})
			}},
		{name: "JWKS file without a path", args: []string{"--oidc-jwks-file", "https://a.example.com"}, wantErr: "ISSUER=PATH"},
		{name: "JWKS file of an http issuer", args: []string{"--oidc-jwks-file", "http://a.example.com=a.json"}, wantErr: "ISSUER=PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Main{Stderr: io.Discard, Getenv: func(k string) string { return tt.env[k] }}
			c, err := m.parseServe(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("parseServe = %+v, %v", c, err)
			}
		})
	}
}

// TestOperatorMasterKey: a master key given by file or environment seals the store instead of
// a generated one; the same key opens it again, and a different key is refused, not taken
// for a first start.
func TestOperatorMasterKey(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	keyFile := filepath.Join(t.TempDir(), "operator.key")
	const hexKey = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	if err := os.WriteFile(keyFile, []byte(hexKey+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s1, err := newServer(context.Background(), &serveConfig{DataDir: dir, Region: "us-east-1", MasterKeyFile: keyFile}, log)
	if err != nil {
		t.Fatal(err)
	}
	s1.close()
	if _, err := os.Stat(filepath.Join(dir, "master.key")); !os.IsNotExist(err) {
		t.Errorf("a master.key was generated beside an operator's key: %v", err)
	}

	// The same key in the environment opens the same store.
	s2, err := newServer(context.Background(), &serveConfig{DataDir: dir, Region: "us-east-1", masterKey: hexKey}, log)
	if err != nil {
		t.Fatal(err)
	}
	if s2.created || s2.account.ID != s1.account.ID {
		t.Errorf("restart with the same key: created=%v account %s → %s", s2.created, s1.account.ID, s2.account.ID)
	}
	s2.close()

	// Another key, or a key file others may read, is refused.
	other := strings.Repeat("ab", 32)
	if s, err := newServer(context.Background(), &serveConfig{DataDir: dir, Region: "us-east-1", masterKey: other}, log); err == nil {
		s.close()
		t.Error("a different master key opened the store")
	} else if strings.Contains(err.Error(), other) || !strings.Contains(err.Error(), "master key does not open the store") {
		t.Errorf("error %q: want it to name the wrong key, without the key", err)
	}
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := newServer(context.Background(), &serveConfig{DataDir: dir, Region: "us-east-1", MasterKeyFile: keyFile}, log); err == nil {
		s.close()
		t.Error("a world-readable key file was accepted")
	} else if !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("error %q does not say how to fix the file", err)
	}
}
