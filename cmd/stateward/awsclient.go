package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/spf13/pflag"
)

// defaultClientRegion signs requests when neither a flag, the environment nor the profile
// names a region: stateward's own default.
const defaultClientRegion = "us-east-1"

// awsFlags are the flags of the commands that talk to a running server, spelled as the aws
// CLI spells them. Each falls back to what the aws CLI falls back to.
type awsFlags struct {
	Profile     string
	Region      string
	EndpointURL string
	CABundle    string
}

func (f *awsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Profile, "profile", "", "AWS `profile` from the shared config and credentials files ($AWS_PROFILE)")
	fs.StringVar(&f.Region, "region", "", "`region` to sign for ($AWS_REGION, $AWS_DEFAULT_REGION, the profile's region, else "+defaultClientRegion+")")
	fs.StringVar(&f.EndpointURL, "endpoint-url", "", "the server's `URL` ($AWS_ENDPOINT_URL_<SERVICE>, $AWS_ENDPOINT_URL, the profile's endpoint_url)")
	fs.StringVar(&f.CABundle, "ca-bundle", "", "PEM `file` of the certificates to trust for HTTPS, such as <data-dir>/tls/cert.pem ($AWS_CA_BUNDLE)")
}

// awsClient talks to a running server with the caller's credentials, found as the aws CLI
// finds them.
type awsClient struct {
	cfg aws.Config
	sts *sts.Client
	iam *iam.Client
	ssm *ssm.Client
	// endpoint is the STS endpoint, empty when nothing configures one (AWS's own).
	endpoint string
	// caBundle is the CA bundle file given by flag or environment, if any.
	caBundle string
}

// awsClient resolves the caller's configuration: the profile (--profile, else keys in the
// environment, else $AWS_PROFILE, else the default profile) from $AWS_CONFIG_FILE and
// $AWS_SHARED_CREDENTIALS_FILE (or ~/.aws), the region, the endpoint and the CA bundle; the
// profile may also give credentials through the SDK's other providers (role_arn,
// credential_process, SSO). The environment is read through m.Getenv; what the SDK reads
// beyond the variables named here comes from the process environment.
func (m *Main) awsClient(ctx context.Context, f *awsFlags) (*awsClient, error) {
	getenv := m.Getenv
	var opts []func(*config.LoadOptions) error
	if v := getenv("AWS_CONFIG_FILE"); v != "" {
		opts = append(opts, config.WithSharedConfigFiles([]string{v}))
	}
	if v := getenv("AWS_SHARED_CREDENTIALS_FILE"); v != "" {
		opts = append(opts, config.WithSharedCredentialsFiles([]string{v}))
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	switch {
	case f.Profile != "":
		opts = append(opts, config.WithSharedConfigProfile(f.Profile))
	case id != "" && secret != "":
		// As with the aws CLI, keys in the environment win over $AWS_PROFILE, which still
		// gives the region and endpoint.
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))))
		if p := getenv("AWS_PROFILE"); p != "" {
			opts = append(opts, config.WithSharedConfigProfile(p))
		}
	case getenv("AWS_PROFILE") != "":
		opts = append(opts, config.WithSharedConfigProfile(getenv("AWS_PROFILE")))
	}
	region := f.Region
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if region == "" {
			region = getenv(name)
		}
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	caBundle := f.CABundle
	if caBundle == "" {
		caBundle = getenv("AWS_CA_BUNDLE")
	}
	if caBundle != "" {
		pem, err := os.ReadFile(caBundle)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		if abs, err := filepath.Abs(caBundle); err == nil {
			caBundle = abs
		}
		opts = append(opts, config.WithCustomCABundle(bytes.NewReader(pem)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	c := &awsClient{cfg: cfg, caBundle: caBundle}
	if c.cfg.HTTPClient == nil {
		// Set only for a CA bundle; query needs one too, shared with the SDK's clients.
		c.cfg.HTTPClient = awshttp.NewBuildableClient()
	}
	if c.cfg.Region == "" {
		c.cfg.Region = defaultClientRegion
	}
	ignore := strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true")
	endpoint := func(service string) *string {
		v := f.EndpointURL
		if v == "" && !ignore {
			if v = getenv("AWS_ENDPOINT_URL_" + service); v == "" {
				v = getenv("AWS_ENDPOINT_URL")
			}
		}
		if v == "" {
			return nil // the profile's, if any: the SDK resolves it
		}
		return aws.String(v)
	}
	c.sts = sts.NewFromConfig(c.cfg, func(o *sts.Options) {
		if e := endpoint("STS"); e != nil {
			o.BaseEndpoint = e
		}
	})
	c.iam = iam.NewFromConfig(c.cfg, func(o *iam.Options) {
		if e := endpoint("IAM"); e != nil {
			o.BaseEndpoint = e
		}
	})
	c.ssm = ssm.NewFromConfig(c.cfg, func(o *ssm.Options) {
		if e := endpoint("SSM"); e != nil {
			o.BaseEndpoint = e
		}
	})
	c.endpoint = aws.ToString(c.sts.Options().BaseEndpoint)
	return c, nil
}

// apiError is an error the server answered with.
type apiError struct {
	Op, Code, Message string
}

func (e *apiError) Error() string {
	if e.Message == "" {
		return e.Op + ": " + e.Code
	}
	return e.Op + ": " + e.Code + ": " + e.Message
}

// describe shortens an SDK error the server answered with to its operation, code and message.
func describe(op string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &apiError{Op: op, Code: ae.ErrorCode(), Message: ae.ErrorMessage()}
	}
	return err
}

// query calls one of stateward's own STS Query actions, which have no SDK method: a POST form
// signed with the caller's credentials. A 200 response is decoded into out; any other is
// returned as an *apiError with the server's code and message.
func (c *awsClient) query(ctx context.Context, action string, form url.Values, out any) error {
	if c.endpoint == "" {
		return fmt.Errorf("%s is stateward's own: give the server's URL with --endpoint-url, AWS_ENDPOINT_URL or the profile's endpoint_url", action)
	}
	form.Set("Action", action)
	form.Set("Version", "2011-06-15")
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.endpoint, "/")+"/", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("%s: credentials: %w", action, err)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sts", c.cfg.Region, time.Now()); err != nil {
		return err
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if resp.StatusCode != http.StatusOK {
		return queryError(action, resp.StatusCode, raw)
	}
	if err := xml.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: response: %w", action, err)
	}
	return nil
}

// queryError reads a Query error response (<ErrorResponse><Error><Code/><Message/>…), or the
// bare <Error> other front-ends answer with.
func queryError(action string, status int, raw []byte) error {
	var body struct {
		Code    string `xml:"Error>Code"`
		Message string `xml:"Error>Message"`
	}
	if xml.Unmarshal(raw, &body) != nil || body.Code == "" {
		var bare struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		}
		if xml.Unmarshal(raw, &bare) != nil || bare.Code == "" {
			return &apiError{Op: action, Code: http.StatusText(status), Message: fmt.Sprintf("HTTP %d", status)}
		}
		body.Code, body.Message = bare.Code, bare.Message
	}
	return &apiError{Op: action, Code: body.Code, Message: body.Message}
}
