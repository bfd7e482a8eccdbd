// Package gateway is stateward's root http.Handler: it gives every request an id, recovers
// panics, authenticates SigV4, puts the request's identity facts into the context, dispatches
// by the signed credential scope's service to a front-end, renders the front-end's error
// (a policy denial included) in that front-end's wire format, and records logs and metrics.
// Unsigned requests are refused here, in one place, but for the few calls AWS serves unsigned,
// which a front-end declares by implementing AnonymousFrontend. It knows no service:
// front-ends declare what they serve.
package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/sigv4"
)

// Frontend serves one AWS service's wire protocol.
type Frontend interface {
	// Service is the SigV4 credential-scope service it serves: "s3", "iam", …
	Service() string
	// Protocol is the wire protocol whose error format the gateway renders.
	Protocol() awsproto.Protocol
	// TargetPrefix is the X-Amz-Target prefix of a JSON-protocol front-end, such as
	// "DynamoDB_20120810."; empty for the others. It names the front-end of a request whose
	// signature cannot be read, so its error is rendered in the format its client expects.
	TargetPrefix() string
	// ServeAWS serves an authenticated request. It returns errors rather than writing them;
	// once it has written a status, an error can only be logged.
	ServeAWS(w http.ResponseWriter, r *http.Request) error
}

// AnonymousFrontend is a front-end that serves a few calls without a signature, as AWS does:
// STS's AssumeRoleWithWebIdentity, whose caller is the web identity token it carries. The
// gateway offers it an unsigned request that looks meant for it (see guessService) before
// refusing the request; everything else unsigned stays refused in one place.
type AnonymousFrontend interface {
	Frontend
	// ServeAnonymous serves r if it is one of the calls that need no signature, and tells
	// whether it was. When it was not, it must have written nothing: the gateway then refuses
	// r as it refuses every unsigned request. r's context carries the request's facts
	// (identity.Request: source IP, TLS, time) without a principal.
	ServeAnonymous(w http.ResponseWriter, r *http.Request) (handled bool, err error)
}

// VersionedFrontend is a Query-protocol front-end that names its API version (the form's
// Version, e.g. "2011-06-15"), so that a request without a credential scope is told apart
// from the other Query services' and reaches the front-end it is meant for.
type VersionedFrontend interface {
	Frontend
	APIVersion() string
}

// KeyLookup resolves an access key id, with the session token the request carries (empty
// for long-term keys), to its secret and the principal it authenticates. Unknown or inactive
// keys are errors wrapping sigv4.ErrUnknownAccessKey; a token that does not belong to the key
// sigv4.ErrInvalidToken, an ended or revoked session sigv4.ErrExpiredToken. A KeyLookup that
// also has a method Verified(ctx, p) is told of each request whose signature verified, before
// it is served (to record the key's last use: naming a key is no use of it).
type KeyLookup interface {
	LookupAccessKey(ctx context.Context, id, sessionToken string) (secret string, p *identity.Principal, err error)
}

// Config configures a Gateway; nil fields mean defaults.
type Config struct {
	Keys KeyLookup // required
	// Frontends serve the AWS services. Requests that name none of them (unsigned, or with
	// a scope no front-end serves) are answered in the REST-XML front-end's format, as S3
	// answers anonymous requests.
	Frontends []Frontend
	Logger    *slog.Logger
	// Denials seals each policy denial into the authorization message the log carries
	// (aws sts decode-authorization-message reads it back); nil: none.
	Denials interface {
		EncodeAuthorizationMessage(ctx context.Context, d *policy.DeniedError) string
	}
	Metrics *Metrics    // nil: none
	Ready   func() bool // /readyz; nil: always ready
	Now     func() time.Time
}

// Gateway is the root handler.
type Gateway struct {
	keys    KeyLookup
	denials interface {
		EncodeAuthorizationMessage(ctx context.Context, d *policy.DeniedError) string
	}
	frontends map[string]Frontend // by service
	fallback  Frontend            // the REST-XML one, if any
	log       *slog.Logger
	metrics   *Metrics
	ready     func() bool
	now       func() time.Time
}

// New returns a Gateway.
func New(c Config) *Gateway {
	g := &Gateway{keys: c.Keys, denials: c.Denials, frontends: map[string]Frontend{}, log: c.Logger, metrics: c.Metrics, ready: c.Ready, now: c.Now}
	for _, fe := range c.Frontends {
		g.frontends[fe.Service()] = fe
		if fe.Protocol() == awsproto.RESTXML && g.fallback == nil {
			g.fallback = fe
		}
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.ready == nil {
		g.ready = func() bool { return true }
	}
	return g
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.now()
	info := &awsproto.Info{RequestID: newRequestID()}
	h := w.Header()
	h.Set("X-Amz-Request-Id", info.RequestID)
	h.Set("X-Amz-Id-2", info.RequestID)
	h.Set("X-Amzn-Requestid", info.RequestID)
	h.Set("Server", "stateward")
	rec := &recorder{ResponseWriter: w}
	r = r.WithContext(awsproto.WithInfo(r.Context(), info))
	var caller *identity.Principal
	defer func() {
		p := recover()
		if p != nil && p != http.ErrAbortHandler {
			g.log.Error("panic", "request_id", info.RequestID, "panic", p, "stack", string(debug.Stack()))
			if !rec.wrote {
				awsproto.WriteError(rec, r, g.protocol(info.Service, r), info.RequestID,
					awserr.New(awserr.InternalError, "We encountered an internal error. Please try again."))
			}
		}
		g.finish(r, rec, info, caller, start)
		if p == http.ErrAbortHandler {
			panic(p) // net/http cuts the connection; the request is logged and counted first
		}
	}()
	if g.serveOps(rec, r, info) {
		return
	}
	var err error
	caller, err = g.serveAWS(rec, r, info)
	if err == nil {
		return
	}
	e := awsproto.Classify(err, g.protocol(info.Service, r))
	var denied *policy.DeniedError
	if errors.As(err, &denied) {
		if g.metrics != nil {
			g.metrics.observeDenial(info.Service, denied.Action)
		}
		attrs := []any{"request_id", info.RequestID, "principal", denied.PrincipalARN, "action", denied.Action, "resource", denied.Resource}
		if g.denials != nil {
			attrs = append(attrs, "authorization_message", g.denials.EncodeAuthorizationMessage(r.Context(), denied))
		}
		g.log.Info("access denied", attrs...)
	}
	// A client that hangs up mid-request is routine (a cancelled `aws s3 cp`, a timeout on
	// its side), not a server fault for an operator to chase.
	level := slog.LevelError
	if clientGone(r, err) {
		level = slog.LevelInfo
	}
	if rec.wrote {
		// The status is on the wire; cut the connection so a client never takes a short body
		// for a whole one.
		g.log.Log(r.Context(), level, "response failed after headers", "request_id", info.RequestID, "err", err)
		panic(http.ErrAbortHandler)
	}
	if e.Status >= 500 {
		g.log.Log(r.Context(), level, "request failed", "request_id", info.RequestID, "code", e.Code, "err", err)
	} else if e.Cause != nil {
		g.log.Debug("request refused", "request_id", info.RequestID, "code", e.Code, "err", e.Cause)
	}
	awsproto.WriteError(rec, r, g.protocol(info.Service, r), info.RequestID, e)
}

// serveOps answers the unsigned operational endpoints. Signed requests to the same paths go
// to S3 (a bucket may be called "metrics").
func (g *Gateway) serveOps(w http.ResponseWriter, r *http.Request, info *awsproto.Info) bool {
	if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" || r.URL.Query().Has("X-Amz-Credential") {
		return false
	}
	switch r.URL.Path {
	case "/healthz":
		info.Service, info.Operation = "ops", "healthz"
		_, _ = io.WriteString(w, "ok\n")
	case "/readyz":
		info.Service, info.Operation = "ops", "readyz"
		if !g.ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return true
		}
		_, _ = io.WriteString(w, "ready\n")
	case "/metrics":
		if g.metrics == nil {
			return false
		}
		info.Service, info.Operation = "ops", "metrics"
		g.metrics.handler.ServeHTTP(w, r)
	default:
		return false
	}
	return true
}

// serveAWS authenticates r and hands it to the front-end its credential scope names.
func (g *Gateway) serveAWS(w http.ResponseWriter, r *http.Request, info *awsproto.Info) (*identity.Principal, error) {
	if strings.HasPrefix(r.Header.Get("Authorization"), "AWS ") || r.URL.Query().Has("AWSAccessKeyId") {
		// Signature Version 2, as S3 answers it for every bucket created since 2020.
		info.Service = "s3"
		return nil, awserr.New(awserr.InvalidRequest, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
	}
	claim, err := sigv4.Parse(r)
	switch {
	case errors.Is(err, sigv4.ErrMissingAuth):
		// Every service refuses anonymous callers, here and nowhere else, but for the few
		// calls AWS serves unsigned, which their front-end takes first.
		info.Service = g.guessService(r)
		if fe, ok := g.frontends[info.Service].(AnonymousFrontend); ok {
			ra := r.WithContext(identity.NewContext(r.Context(), g.facts(r, nil, "")))
			if handled, err := fe.ServeAnonymous(w, ra); handled {
				return nil, err
			}
		}
		return nil, errUnauthenticated(g.protocol(info.Service, r))
	case err != nil:
		info.Service = g.guessService(r)
		return nil, err
	}
	info.Service = claim.Service
	fe := g.frontends[claim.Service]
	if fe == nil {
		return nil, awserr.Newf(awserr.InvalidAction, "The service %q is not available on this server.", claim.Service)
	}
	var caller *identity.Principal
	res, err := claim.Verify(r, g.now(), func(id string) (string, error) {
		secret, p, err := g.keys.LookupAccessKey(r.Context(), id, claim.SessionToken())
		caller = p
		return secret, err
	})
	if err != nil {
		return nil, err
	}
	r = r.WithContext(identity.NewContext(r.Context(), g.facts(r, caller, claim.Region)))
	if v, ok := g.keys.(interface {
		Verified(ctx context.Context, p *identity.Principal)
	}); ok {
		v.Verified(r.Context(), caller)
	}
	body, _, err := res.Body(r)
	if err != nil {
		return caller, err
	}
	r.Body = body
	return caller, fe.ServeAWS(w, r)
}

// facts are what the gateway knows of r once it has authenticated it (caller nil: not at all).
func (g *Gateway) facts(r *http.Request, caller *identity.Principal, region string) *identity.Request {
	return &identity.Request{
		Principal:       caller,
		SourceIP:        sourceIP(r),
		SecureTransport: r.TLS != nil,
		Time:            g.now(),
		Region:          region,
		UserAgent:       r.UserAgent(),
	}
}

// sourceIP is the address of the connection a request came in on. Forwarding headers are not
// trusted: a client could name any address in them.
func sourceIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// guessService names the front-end of a request that carries no valid credential scope, by
// what its wire protocol looks like: a JSON target, or a Query form posted to "/" (the Query
// front-end whose API version the form names, else the first by name).
func (g *Gateway) guessService(r *http.Request) string {
	target := r.Header.Get("X-Amz-Target")
	form := r.Method == http.MethodPost && r.URL.Path == "/" &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
	var query string
	versions := map[string]string{}
	for name, fe := range g.frontends {
		if p := fe.TargetPrefix(); p != "" && strings.HasPrefix(target, p) {
			return name
		}
		if form && fe.Protocol() == awsproto.Query {
			if query == "" || name < query {
				query = name
			}
			if v, ok := fe.(VersionedFrontend); ok {
				versions[v.APIVersion()] = name
			}
		}
	}
	if len(versions) > 0 {
		if name, ok := versions[peekVersion(r)]; ok {
			return name
		}
	}
	if query != "" {
		return query
	}
	if g.fallback != nil {
		return g.fallback.Service()
	}
	return ""
}

// peekVersion reads the Version field of a Query form from the URL or the first
// awsproto.MaxQueryBody bytes of the body, and leaves the body as it was for the front-end.
func peekVersion(r *http.Request) string {
	if v := r.URL.Query().Get("Version"); v != "" {
		return v
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, awsproto.MaxQueryBody))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	if err != nil {
		return ""
	}
	form, err := url.ParseQuery(string(head))
	if err != nil {
		return ""
	}
	return form.Get("Version")
}

// readCloser reads from one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

// protocol is the wire protocol of service's front-end; REST-XML when there is none.
func (g *Gateway) protocol(service string, r *http.Request) awsproto.Protocol {
	if fe := g.frontends[service]; fe != nil {
		return fe.Protocol()
	}
	return awsproto.RESTXML
}

// errUnauthenticated is how each protocol's services refuse a request without credentials.
func errUnauthenticated(p awsproto.Protocol) error {
	switch p {
	case awsproto.RESTXML:
		return awserr.New(awserr.AccessDenied, "Access Denied")
	case awsproto.JSON10:
		return awserr.New("MissingAuthenticationTokenException", "Request is missing Authentication Token")
	}
	return awserr.New(awserr.MissingAuthenticationToken, "Request is missing Authentication Token")
}

// clientGone tells whether err came from the client closing its connection.
func clientGone(r *http.Request, err error) bool {
	return r.Context().Err() != nil || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

func (g *Gateway) finish(r *http.Request, rec *recorder, info *awsproto.Info, caller *identity.Principal, start time.Time) {
	d := g.now().Sub(start)
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	if g.metrics != nil {
		g.metrics.observeRequest(info.Service, info.Operation, status, d)
	}
	attrs := []any{"request_id", info.RequestID, "method", r.Method, "path", r.URL.Path,
		"service", info.Service, "op", info.Operation, "status", status, "bytes", rec.bytes,
		"duration_ms", float64(d.Microseconds()) / 1000}
	if caller != nil {
		attrs = append(attrs, "principal", caller.ARN)
	}
	g.log.Info("request", attrs...)
}

// recorder notes what a handler wrote.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// Metrics are the gateway's and the store's Prometheus metrics.
type Metrics struct {
	handler  http.Handler // serves /metrics
	requests *prometheus.CounterVec
	denials  *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	storeTx  *prometheus.HistogramVec
}

// NewMetrics registers stateward's metrics with a fresh registry (plus Go and process
// collectors).
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stateward_requests_total",
			Help: "Requests by service, operation and HTTP status."}, []string{"service", "operation", "status"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stateward_authorization_denials_total",
			Help: "Requests refused by the policy engine, by service and the action denied."}, []string{"service", "action"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "stateward_request_duration_seconds",
			Help: "Request latency by service and operation.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)},
			[]string{"service", "operation"}),
		storeTx: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "stateward_store_transaction_duration_seconds",
			Help: "Store transaction latency by kind (view, update, checkpoint).", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)},
			[]string{"kind"}),
	}
	reg.MustRegister(m.requests, m.denials, m.latency, m.storeTx,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observeRequest(service, op string, status int, d time.Duration) {
	if service == "" {
		service = "unknown"
	}
	m.requests.WithLabelValues(service, op, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(service, op).Observe(d.Seconds())
}

func (m *Metrics) observeDenial(service, action string) {
	if service == "" {
		service = "unknown"
	}
	m.denials.WithLabelValues(service, action).Inc()
}

// ObserveStore records one store transaction; it fits bolt.Options.Observe.
func (m *Metrics) ObserveStore(kind string, d time.Duration) {
	m.storeTx.WithLabelValues(kind).Observe(d.Seconds())
}
