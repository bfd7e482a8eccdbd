package main

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// testEnv is an in-process stateward, wired exactly as `serve` wires it, behind a real
// listener, with SDK clients signed as the management account's root user.
type testEnv struct {
	srv     *server
	http    *httptest.Server
	URL     string
	Account string
	Creds   aws.Credentials
	Client  *http.Client // trusts the test server's certificate
	S3      *s3.Client
	STS     *sts.Client
	KMS     *kms.Client
	DDB     *dynamodb.Client
	IAM     *iam.Client
	SSM     *ssm.Client
	cfg     aws.Config
	DataDir string
}

type envOptions struct {
	TLS bool
	// S3 customises the S3 client, e.g. checksum behaviour.
	S3 func(*s3.Options)
	// Domain enables virtual-hosted-style requests, as serve's --domain does.
	Domain string
	// WrapAuthz wraps the authorizer every service is given.
	WrapAuthz func(authorizer) authorizer
	// Clock is the identity services' clock (session expiry, MFA windows).
	Clock func() time.Time
	// OIDCClient is the client STS reaches OpenID Connect issuers with; JWKSFiles are serve's
	// --oidc-jwks-file entries.
	OIDCClient *http.Client
	JWKSFiles  []string
}

func newTestEnv(t testing.TB, opts envOptions) *testEnv {
	t.Helper()
	c := &serveConfig{DataDir: t.TempDir(), Region: "us-east-1", Domain: opts.Domain, wrapAuthz: opts.WrapAuthz, identityClock: opts.Clock,
		oidcClient: opts.OIDCClient, OIDCJWKSFiles: opts.JWKSFiles}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := newServer(context.Background(), c, log)
	if err != nil {
		t.Fatal(err)
	}
	s.ready.Store(true)
	ts := httptest.NewUnstartedServer(s.handler)
	if opts.TLS {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(func() {
		ts.Close()
		s.close()
	})
	env := &testEnv{srv: s, http: ts, URL: ts.URL, Account: s.account.ID, DataDir: c.DataDir,
		Creds:  aws.Credentials{AccessKeyID: s.key.ID, SecretAccessKey: s.key.Secret.Reveal()},
		Client: ts.Client()}
	if opts.TLS {
		env.Client.Transport.(*http.Transport).TLSClientConfig.MinVersion = tls.VersionTLS12
	}
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.StaticCredentialsProvider{Value: env.Creds},
		HTTPClient:  env.Client,
		// The SDK's retries would hide the first response; tests want to see it.
		RetryMaxAttempts: 1,
	}
	env.S3 = s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(ts.URL)
		o.UsePathStyle = true
		if opts.S3 != nil {
			opts.S3(o)
		}
	})
	env.STS = sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	env.KMS = kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	env.DDB = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	env.IAM = iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	env.SSM = ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	env.cfg = cfg
	return env
}

// clients are SDK clients signing with one set of credentials.
type clients struct {
	S3  *s3.Client
	DDB *dynamodb.Client
	KMS *kms.Client
	STS *sts.Client
	IAM *iam.Client
	SSM *ssm.Client
}

// as returns clients signing with creds (a session's token included).
func (env *testEnv) as(creds aws.Credentials) *clients {
	cfg := env.cfg
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: creds}
	ep := aws.String(env.URL)
	return &clients{
		S3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = ep; o.UsePathStyle = true }),
		DDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = ep }),
		KMS: kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = ep }),
		STS: sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = ep }),
		IAM: iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = ep }),
		SSM: ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = ep }),
	}
}

// userS3 creates an IAM user with the given inline policy and returns an S3 client signing
// as it.
func (env *testEnv) userS3(t testing.TB, name, policy string) *s3.Client {
	t.Helper()
	ctx := context.Background()
	if _, err := env.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	key, err := env.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.cfg
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: aws.Credentials{
		AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(env.URL)
		o.UsePathStyle = true
	})
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func TestGetCallerIdentity(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		env := newTestEnv(t, envOptions{TLS: tlsOn})
		out, err := env.STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := aws.ToString(out.Arn), "arn:aws:iam::"+env.Account+":root"; got != want {
			t.Errorf("Arn = %q, want %q", got, want)
		}
		if got := aws.ToString(out.Account); got != env.Account || len(got) != 12 {
			t.Errorf("Account = %q, want 12-digit %q", got, env.Account)
		}
	}
}
