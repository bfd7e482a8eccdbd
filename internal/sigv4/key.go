package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
)

// maxKeys bounds the signing-key cache: a handful of keys per active access key and day.
const maxKeys = 256

type keyScope struct{ secret, date, region, service string }

// keys caches derived signing keys: a key takes four HMACs and is valid for a whole day.
var keys = struct {
	sync.Mutex
	m map[keyScope][]byte
}{m: make(map[keyScope][]byte)}

// signingKey returns HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
// "aws4_request"). The returned slice is shared: callers must not modify it.
func signingKey(secret, date, region, service string) []byte {
	s := keyScope{secret, date, region, service}
	keys.Lock()
	k, ok := keys.m[s]
	keys.Unlock()
	if ok {
		return k
	}
	k = hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "aws4_request")

	keys.Lock()
	defer keys.Unlock()
	if len(keys.m) >= maxKeys {
		// Evicting an arbitrary entry is enough: a miss costs only four HMACs.
		for old := range keys.m {
			delete(keys.m, old)
			break
		}
	}
	keys.m[s] = k
	return k
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}
