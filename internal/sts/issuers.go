package sts

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/stateward/stateward/internal/identity"
)

// The keys that web identity tokens are verified with. An issuer's keys come from its OpenID
// Connect discovery document (<iss>/.well-known/openid-configuration) and the JWKS it names,
// fetched over TLS verified against the system's roots (the trust AWS now gives most IdPs;
// IAM's thumbprints decide nothing) and cached by go-oidc's remote key set, which fetches
// again only for a key id it has not seen. An issuer configured with a key set of its own
// (serve --oidc-jwks-file, for air-gapped installs) is never contacted.

// signingAlgs are the asymmetric algorithms a token of a configured key set may use; go-jose
// checks each against its key's type. Symmetric algorithms and "none" are never accepted.
var signingAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

const (
	// idpTimeout bounds each exchange with an issuer.
	idpTimeout = 10 * time.Second
	// rediscoverAfter is how long an issuer's discovery document is used before it is read
	// again (its key set refreshes itself on an unknown key id). A failed refresh keeps the
	// last one.
	rediscoverAfter = time.Hour
	// retryAfter is how long an issuer that could not be read is not asked again, so that
	// unsigned requests cannot turn into a stream of connections to an IdP that is down.
	retryAfter = 5 * time.Second
)

// ParseJWKS reads a JSON Web Key Set (RFC 7517, as an issuer's jwks_uri serves it) and returns
// its public signing keys. Private keys are refused, so a key set cannot leak by mistake
// through this server's configuration.
func ParseJWKS(data []byte) ([]crypto.PublicKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	var keys []crypto.PublicKey
	for i, k := range set.Keys {
		switch {
		case !k.Valid():
			return nil, fmt.Errorf("key %d (%q) is not a valid key", i, k.KeyID)
		case !k.IsPublic():
			return nil, fmt.Errorf("key %d (%q) is a private key: give the public key set only", i, k.KeyID)
		case k.Use == "enc":
			continue
		}
		keys = append(keys, k.Key)
	}
	if len(keys) == 0 {
		return nil, errors.New("the key set has no signing keys")
	}
	return keys, nil
}

// issuers finds the key set of a token's issuer.
type issuers struct {
	client *http.Client
	now    func() time.Time
	// static are the configured key sets, by provider URL (identity.OIDCProviderURL).
	static map[string]*oidc.StaticKeySet

	mu         sync.Mutex
	discovered map[string]*discovered // by iss, as tokens give it
	failed     map[string]failure     // issuers not yet discovered whose last reading failed
}

type failure struct {
	at  time.Time
	err error
}

// discovered is an issuer's discovery document as far as verification needs it.
type discovered struct {
	jwksURL string
	keys    *oidc.RemoteKeySet
	algs    []string
	at      time.Time
}

func newIssuers(client *http.Client, now func() time.Time, static map[string][]crypto.PublicKey) (*issuers, error) {
	if client == nil {
		client = &http.Client{Timeout: idpTimeout}
	}
	is := &issuers{client: client, now: now, static: map[string]*oidc.StaticKeySet{}, discovered: map[string]*discovered{},
		failed: map[string]failure{}}
	for iss, keys := range static {
		u, ok := identity.OIDCProviderURL(iss)
		if !ok {
			return nil, fmt.Errorf("sts: issuer %q: want an https:// URL with a host and no query", iss)
		}
		if have := is.static[u]; have != nil {
			keys = append(slices.Clone(have.PublicKeys), keys...)
		}
		is.static[u] = &oidc.StaticKeySet{PublicKeys: keys}
	}
	return is, nil
}

// errIDP is an issuer that could not be reached or did not answer as OpenID Connect asks.
type errIDP struct{ err error }

func (e *errIDP) Error() string { return "identity provider: " + e.err.Error() }
func (e *errIDP) Unwrap() error { return e.err }

// verifier returns the verifier of tokens of iss, whose IAM provider has the URL u, checking
// expiry against now. An issuer that cannot be reached is an *errIDP.
func (is *issuers) verifier(ctx context.Context, iss, u string, now func() time.Time) (*oidc.IDTokenVerifier, error) {
	config := &oidc.Config{SkipClientIDCheck: true, Now: now} // audiences: the provider's client ids, checked by the caller
	if ks := is.static[u]; ks != nil {
		config.SupportedSigningAlgs = signingAlgs
		return oidc.NewVerifier(iss, ks, config), nil
	}
	d, err := is.discover(ctx, iss)
	if err != nil {
		return nil, err
	}
	config.SupportedSigningAlgs = d.algs
	return oidc.NewVerifier(iss, probedKeySet{d.keys}, config), nil
}

// discover returns the discovery of iss, reading it when there is none or it is old. A key
// set is kept across readings while the issuer names the same JWKS, with the keys it cached.
func (is *issuers) discover(ctx context.Context, iss string) (*discovered, error) {
	is.mu.Lock()
	old, failed := is.discovered[iss], is.failed[iss]
	is.mu.Unlock()
	if old != nil && is.now().Sub(old.at) < rediscoverAfter {
		return old, nil
	}
	if old == nil && failed.err != nil && is.now().Sub(failed.at) < retryAfter {
		return nil, &errIDP{failed.err}
	}
	jwksURL, algs, err := is.fetchDiscovery(ctx, iss)
	if err != nil {
		if old != nil {
			return old, nil // the last good one, until the issuer answers again
		}
		is.mu.Lock()
		is.failed[iss] = failure{at: is.now(), err: err}
		is.mu.Unlock()
		return nil, &errIDP{err}
	}
	d := &discovered{jwksURL: jwksURL, algs: algs, at: is.now()}
	if old != nil && old.jwksURL == jwksURL {
		d.keys = old.keys
	} else {
		// The key set fetches on behalf of whichever request first misses a key: its context
		// only carries the client.
		d.keys = oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), is.client), jwksURL)
	}
	is.mu.Lock()
	is.discovered[iss] = d
	delete(is.failed, iss)
	is.mu.Unlock()
	return d, nil
}

// fetchDiscovery reads iss's discovery document: its JWKS URL and the signing algorithms it
// names (go-oidc checks the document's issuer is iss).
func (is *issuers) fetchDiscovery(ctx context.Context, iss string) (string, []string, error) {
	ctx, cancel := context.WithTimeout(ctx, idpTimeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, is.client), iss)
	if err != nil {
		return "", nil, err
	}
	var meta struct {
		JWKSURL string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return "", nil, err
	}
	if meta.JWKSURL == "" {
		return "", nil, errors.New("the discovery document names no jwks_uri")
	}
	var algs []string
	for _, a := range meta.Algs {
		if slices.Contains(signingAlgs, a) {
			algs = append(algs, a)
		}
	}
	return meta.JWKSURL, algs, nil
}

// probedKeySet tells a failure to fetch an issuer's keys from a token no key verifies, which
// go-oidc's verifier reports alike: it notes the former in the request's fetchProbe.
type probedKeySet struct{ keys *oidc.RemoteKeySet }

type fetchProbe struct{ err error }

type probeKey struct{}

func (k probedKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.keys.VerifySignature(ctx, jwt)
	// A remote key set wraps the failure to fetch keys (an unreachable issuer, an error
	// status, a body that is no key set); a signature that no key verifies is a plain error.
	if err != nil && errors.Unwrap(err) != nil {
		if p, ok := ctx.Value(probeKey{}).(*fetchProbe); ok {
			p.err = err
		}
	}
	return payload, err
}
