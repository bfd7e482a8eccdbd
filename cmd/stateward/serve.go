package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stateward/stateward/internal/dynamodb"
	"github.com/stateward/stateward/internal/gateway"
	"github.com/stateward/stateward/internal/iam"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/kms"
	"github.com/stateward/stateward/internal/organizations"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/s3"
	"github.com/stateward/stateward/internal/ssm"
	"github.com/stateward/stateward/internal/storage/bolt"
	"github.com/stateward/stateward/internal/storage/sealed"
	"github.com/stateward/stateward/internal/sts"
)

// serveConfig is the server's configuration, from flags with STATEWARD_* environment defaults.
type serveConfig struct {
	Addr          string
	DataDir       string
	Region        string
	Domain        string
	TLSCert       string
	TLSKey        string
	TLSSelfSigned bool
	LogFormat     string
	LogLevel      string
	MasterKeyFile string
	masterKey     string // STATEWARD_MASTER_KEY only: never a flag, so it stays out of ps
	// OIDCJWKSFiles are ISSUER=PATH entries: the key set of that OpenID Connect issuer is
	// read from PATH, and the issuer is never contacted (air-gapped installs).
	OIDCJWKSFiles []string
	// wrapAuthz, when set, wraps the authorizer every service uses (tests record decisions).
	wrapAuthz func(authorizer) authorizer
	// identityClock, when set, is the identity and session services' clock: session expiry
	// and MFA windows (tests move it; signatures keep real time).
	identityClock func() time.Time
	// oidcClient, when set, is the client STS reaches OpenID Connect issuers with (tests give
	// it their test issuer's CA).
	oidcClient *http.Client
}

// authorizer is the one policy decision point every service is given.
type authorizer interface {
	Authorize(ctx context.Context, req *policy.Request) error
}

// serveFlags registers serve's flags on fs, each defaulting to its STATEWARD_* variable, and
// returns the configuration they fill.
func (m *Main) serveFlags(fs *pflag.FlagSet) *serveConfig {
	env := func(name, def string) string {
		if v := m.Getenv("STATEWARD_" + name); v != "" {
			return v
		}
		return def
	}
	c := &serveConfig{masterKey: m.Getenv("STATEWARD_MASTER_KEY")}
	fs.SortFlags = false
	fs.StringVar(&c.Addr, "addr", env("ADDR", "127.0.0.1:9000"), "listen address `host:port` ($STATEWARD_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", env("DATA_DIR", "stateward-data"), "data `directory` ($STATEWARD_DATA_DIR)")
	fs.StringVar(&c.Region, "region", env("REGION", "us-east-1"), "region reported to clients ($STATEWARD_REGION)")
	fs.StringVar(&c.Domain, "domain", env("DOMAIN", ""), "base `domain` for virtual-hosted-style S3 requests ($STATEWARD_DOMAIN)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("TLS_CERT", ""), "TLS certificate `file` ($STATEWARD_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("TLS_KEY", ""), "TLS key `file` ($STATEWARD_TLS_KEY)")
	fs.BoolVar(&c.TLSSelfSigned, "tls-self-signed", env("TLS_SELF_SIGNED", "") == "true",
		"serve HTTPS with a self-signed certificate kept in <data-dir>/tls ($STATEWARD_TLS_SELF_SIGNED=true)")
	fs.StringVar(&c.LogFormat, "log-format", env("LOG_FORMAT", "text"), "log format: text or json ($STATEWARD_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", env("LOG_LEVEL", "info"), "log level: debug, info, warn, error ($STATEWARD_LOG_LEVEL)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", env("MASTER_KEY_FILE", ""),
		"master key `file` (default <data-dir>/master.key, created on first start; $STATEWARD_MASTER_KEY_FILE, or the key itself in $STATEWARD_MASTER_KEY)")
	var jwks []string
	if v := env("OIDC_JWKS_FILE", ""); v != "" {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				jwks = append(jwks, e)
			}
		}
	}
	fs.StringArrayVar(&c.OIDCJWKSFiles, "oidc-jwks-file", jwks,
		"`ISSUER=PATH`: verify web identity tokens of the OpenID Connect issuer ISSUER (https://…) with the JSON Web Key Set in PATH, "+
			"never contacting it; repeatable ($STATEWARD_OIDC_JWKS_FILE, entries separated by commas)")
	return c
}

// parseServe parses serve's arguments (flags only) into a checked configuration.
func (m *Main) parseServe(args []string) (*serveConfig, error) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	c := m.serveFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := serveArgs(nil, fs.Args()); err != nil {
		return nil, err
	}
	return c, c.check()
}

// serveArgs refuses positional arguments: serve takes flags only.
func serveArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("serve: unexpected argument %q", args[0])}
	}
	return nil
}

// check reports flags that contradict each other.
func (c *serveConfig) check() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return usageError{errors.New("serve: --tls-cert and --tls-key go together")}
	}
	if c.TLSSelfSigned && c.TLSCert != "" {
		return usageError{errors.New("serve: --tls-self-signed and --tls-cert exclude each other")}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return usageError{fmt.Errorf("serve: --log-format must be text or json, not %q", c.LogFormat)}
	}
	for _, e := range c.OIDCJWKSFiles {
		iss, path, ok := strings.Cut(e, "=")
		if _, valid := identity.OIDCProviderURL(iss); !ok || !valid || path == "" {
			return usageError{fmt.Errorf("serve: --oidc-jwks-file %q: want ISSUER=PATH with ISSUER an https:// URL, as the tokens' iss gives it", e)}
		}
	}
	return nil
}

func (m *Main) serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Run the server",
		Long: `Run the server: S3, DynamoDB, KMS, IAM, STS and Organizations on one address, with the
store in the data directory. The first start creates an account, its root access key and the
versioned bucket "terraform-state", writes <data-dir>/credentials and <data-dir>/config
(profile stateward) and prints export lines and a ready backend block. Every flag can also be
set with its STATEWARD_* variable; a flag wins over the variable.`,
		Example: `  stateward serve
  stateward serve --addr 0.0.0.0:9443 --tls-self-signed --data-dir /var/lib/stateward
  STATEWARD_MASTER_KEY_FILE=/run/secrets/stateward.key stateward serve --log-format json`,
		Args: serveArgs,
	}
	c := m.serveFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := c.check(); err != nil {
			return err
		}
		return m.serve(cmd.Context(), c)
	}
	return cmd
}

func (c *serveConfig) logger(m *Main) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("serve: --log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(m.Stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(m.Stderr, opts)), nil
}

func (c *serveConfig) keyring() (*keyring.Keyring, error) {
	switch {
	case c.masterKey != "":
		k, err := keyring.ParseKey(c.masterKey)
		if err != nil {
			return nil, fmt.Errorf("STATEWARD_MASTER_KEY: %w", err)
		}
		return keyring.FromKey(k)
	case c.MasterKeyFile != "":
		return keyring.Load(c.MasterKeyFile)
	}
	kr, _, err := keyring.LoadOrCreate(filepath.Join(c.DataDir, "master.key"))
	return kr, err
}

// server is stateward wired together: the store, the services and the gateway over them.
type server struct {
	handler http.Handler
	objects *s3.Service
	keys    *kms.Service
	tables  *dynamodb.Service
	params  *ssm.Service
	// identities are the accounts, users, groups, roles and their policies.
	identities *iam.Service
	sessions   *sts.Service
	orgs       *organizations.Service
	account    *iam.Account
	key        *iam.AccessKey
	created    bool // first start: the account and key were made now
	ready      atomic.Bool
	close      func() error
}

// newServer opens the data directory and wires every package. It is the only place they meet.
func newServer(ctx context.Context, c *serveConfig, log *slog.Logger) (*server, error) {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	kr, err := c.keyring()
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	metrics := gateway.NewMetrics()
	db, err := bolt.Open(filepath.Join(c.DataDir, "stateward.db"), &bolt.Options{Observe: metrics.ObserveStore})
	if err != nil {
		return nil, err
	}
	store := sealed.New(db, kr, []byte(s3.PrefixSegment))
	// The one authorizer: the policy engine over the identities' policies. The identity
	// service is itself authorized by it, so it gets the engine once both exist.
	var authz authorizer
	identities := iam.NewService(iam.Config{Store: store, Authorizer: deferredAuthorizer{&authz}, Region: c.Region, Logger: log,
		Now: c.identityClock})
	srv := &server{close: func() error {
		identities.Close() // last-use records still being written
		return db.Close()
	}}
	fail := func(err error) (*server, error) {
		srv.close()
		return nil, err
	}
	if srv.account, srv.key, srv.created, err = identities.Bootstrap(ctx); errors.Is(err, keyring.ErrDecrypt) {
		// The first record read is the account's: this is where a wrong key shows.
		return fail(fmt.Errorf("the master key does not open the store in %s (was it started with another key?): %w", c.DataDir, err))
	} else if err != nil {
		return fail(fmt.Errorf("bootstrap: %w", err))
	}
	authz = policy.NewEngine(identities)
	if c.wrapAuthz != nil {
		authz = c.wrapAuthz(authz)
	}
	srv.keys = kms.New(kms.Config{Store: store, Keyring: kr, Authorizer: authz, Region: c.Region, Logger: log})
	srv.objects = s3.New(s3.Config{Store: store, Keys: kr, KMS: srv.keys, Authorizer: authz, Region: c.Region, Domain: c.Domain, Logger: log})
	// Lock-table items are authorized as the states they lock.
	srv.tables = dynamodb.New(dynamodb.Config{Store: store, Authorizer: authz, StateLocks: srv.objects, Region: c.Region, Logger: log})
	// SecureString values are encrypted by KMS on the caller's behalf.
	srv.params = ssm.New(ssm.Config{Store: store, Authorizer: authz, KMS: srv.keys, Region: c.Region, Logger: log})
	if srv.created {
		if err := srv.objects.EnsureBucket(ctx, srv.account.ID, defaultBucket, true); err != nil {
			return fail(fmt.Errorf("bootstrap: %w", err))
		}
	}
	if n, err := srv.tables.SweepDroppedTables(ctx); err != nil {
		return fail(fmt.Errorf("finish deleting tables: %w", err))
	} else if n > 0 {
		log.Info("finished deleting tables interrupted by the last stop", "count", n)
	}
	// Nothing is in flight yet: every pending body is left over from an interrupted run, and
	// no read can still be streaming a retired one.
	if n, err := srv.objects.SweepPending(ctx, time.Now()); err != nil {
		return fail(fmt.Errorf("sweep unfinished uploads: %w", err))
	} else if n > 0 {
		log.Info("removed bodies of uploads interrupted by the last stop", "count", n)
	}
	if _, err := srv.objects.SweepRetired(ctx, time.Now()); err != nil {
		return fail(fmt.Errorf("sweep retired bodies: %w", err))
	}
	srv.identities = identities
	issuerKeys, err := c.issuerKeys()
	if err != nil {
		return fail(err)
	}
	if srv.sessions, err = sts.New(sts.Config{Identities: identities, Authorizer: authz, Sealer: kr, Logger: log, Now: c.identityClock,
		HTTPClient: c.oidcClient, IssuerKeys: issuerKeys}); err != nil {
		return fail(err)
	}
	srv.orgs = organizations.New(organizations.Config{Store: store, Accounts: identities, Authorizer: authz, Logger: log})
	srv.handler = gateway.New(gateway.Config{
		Keys: iam.GatewayKeys{Service: identities},
		Frontends: []gateway.Frontend{
			s3.NewHandler(srv.objects),
			sts.NewHandler(srv.sessions),
			kms.NewHandler(srv.keys),
			dynamodb.NewHandler(srv.tables),
			ssm.NewHandler(srv.params),
			iam.NewHandler(identities),
			organizations.NewHandler(srv.orgs),
		},
		Logger:  log,
		Denials: srv.sessions,
		Metrics: metrics,
		Ready:   srv.ready.Load,
	})
	return srv, nil
}

// The STS front-end serves AssumeRoleWithWebIdentity unsigned, and names its Query version so
// that the gateway can tell its unsigned calls from IAM's.
var (
	_ gateway.AnonymousFrontend = (*sts.Handler)(nil)
	_ gateway.VersionedFrontend = (*sts.Handler)(nil)
	_ gateway.VersionedFrontend = (*iam.Handler)(nil)
)

// issuerKeys reads the key sets of --oidc-jwks-file, by issuer.
func (c *serveConfig) issuerKeys() (map[string][]crypto.PublicKey, error) {
	keys := map[string][]crypto.PublicKey{}
	for _, e := range c.OIDCJWKSFiles {
		iss, path, _ := strings.Cut(e, "=")
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--oidc-jwks-file %s: %w", iss, err)
		}
		k, err := sts.ParseJWKS(b)
		if err != nil {
			return nil, fmt.Errorf("--oidc-jwks-file %s: %s: %w", iss, path, err)
		}
		keys[iss] = append(keys[iss], k...)
	}
	return keys, nil
}

// serve runs the server configured by c until ctx is done.
func (m *Main) serve(ctx context.Context, c *serveConfig) error {
	log, err := c.logger(m)
	if err != nil {
		return err
	}
	tlsConfig, err := c.tlsConfig()
	if err != nil {
		return err
	}
	s, err := newServer(ctx, c, log)
	if err != nil {
		return err
	}
	defer s.close()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	endpoint := endpointURL(ln.Addr(), tlsConfig != nil)
	if err := writeClientFiles(c.DataDir, s.key, c.Region, endpoint); err != nil {
		ln.Close()
		return err
	}
	m.printStart(c, s.account, s.key, s.created, endpoint)
	httpServer := &http.Server{
		Handler:           s.handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// No overall read or write timeout: state and CLI uploads of any size stream through.
	}
	go m.maintain(ctx, s, log)
	errc := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			errc <- httpServer.ServeTLS(ln, "", "")
		} else {
			errc <- httpServer.Serve(ln)
		}
	}()
	s.ready.Store(true)
	log.Info("serving", "endpoint", endpoint, "data_dir", c.DataDir, "account", s.account.ID)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.ready.Store(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	log.Info("shutting down")
	return httpServer.Shutdown(shutdownCtx)
}

// bodyGrace is how long the bodies of deleted or replaced versions, and of uploads that stopped
// making progress, are kept before their segments are deleted: longer than any read or upload
// is expected to stream.
const bodyGrace = time.Hour

// maintain runs periodic housekeeping: it deletes bodies of replaced or deleted versions once
// no read can still be streaming them and bodies of uploads abandoned mid-stream, and runs due
// KMS key rotations and scheduled deletions.
func (m *Main) maintain(ctx context.Context, s *server, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.objects.SweepPending(ctx, time.Now().Add(-bodyGrace)); err != nil && ctx.Err() == nil {
			log.Warn("sweep unfinished uploads", "err", err)
		}
		if _, err := s.objects.SweepRetired(ctx, time.Now().Add(-bodyGrace)); err != nil && ctx.Err() == nil {
			log.Warn("sweep retired bodies", "err", err)
		}
		if _, err := s.identities.SweepSessions(ctx, time.Now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			log.Warn("sweep expired sessions", "err", err)
		}
		if rotated, deleted, err := s.keys.Tick(ctx); err != nil && ctx.Err() == nil {
			log.Warn("kms housekeeping", "err", err)
		} else if rotated+deleted > 0 {
			log.Info("kms housekeeping", "rotated", rotated, "deleted", deleted)
		}
	}
}

func (c *serveConfig) tlsConfig() (*tls.Config, error) {
	certFile, keyFile := c.TLSCert, c.TLSKey
	if c.TLSSelfSigned {
		var err error
		if certFile, keyFile, err = ensureSelfSigned(filepath.Join(c.DataDir, "tls")); err != nil {
			return nil, fmt.Errorf("self-signed certificate: %w", err)
		}
	}
	if certFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// endpointURL is the URL clients use for a listener: a wildcard address is shown as loopback.
func endpointURL(addr net.Addr, https bool) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// deferredAuthorizer passes decisions to the authorizer *a, set once the services it depends
// on exist.
type deferredAuthorizer struct{ a *authorizer }

func (d deferredAuthorizer) Authorize(ctx context.Context, req *policy.Request) error {
	return (*d.a).Authorize(ctx, req)
}
