package sts

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestParseJWKS(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set := func(keys ...jose.JSONWebKey) []byte {
		b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey, KeyID: "a", Algorithm: "ES256", Use: "sig"}
	keys, err := ParseJWKS(set(pub, jose.JSONWebKey{Key: &priv.PublicKey, KeyID: "b", Use: "enc"}))
	if err != nil || len(keys) != 1 || !keys[0].(*ecdsa.PublicKey).Equal(&priv.PublicKey) {
		t.Fatalf("ParseJWKS = %v, %v", keys, err)
	}
	for name, tc := range map[string]struct {
		data []byte
		err  string
	}{
		"a private key":     {set(jose.JSONWebKey{Key: priv, KeyID: "p", Algorithm: "ES256"}), "private key"},
		"only an enc key":   {set(jose.JSONWebKey{Key: &priv.PublicKey, KeyID: "b", Use: "enc"}), "no signing keys"},
		"no keys":           {[]byte(`{"keys":[]}`), "no signing keys"},
		"not JSON":          {[]byte(`keys`), "not a JSON Web Key Set"},
		"a key of no curve": {[]byte(`{"keys":[{"kty":"EC","crv":"P-999","x":"AA","y":"AA"}]}`), "not a JSON Web Key Set"},
	} {
		if _, err := ParseJWKS(tc.data); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.err)
		}
	}
	if _, err := newIssuers(nil, time.Now, map[string][]crypto.PublicKey{"http://idp.example.com": keys}); err == nil {
		t.Error("an http issuer's keys were taken")
	}
	is, err := newIssuers(nil, time.Now, map[string][]crypto.PublicKey{"https://IdP.example.com/": keys, "https://idp.example.com": keys})
	if err != nil || len(is.static) != 1 || len(is.static["idp.example.com"].PublicKeys) != 2 {
		t.Errorf("two spellings of one issuer: %+v, %v", is, err)
	}
}
