package sigv4

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// canonicalRequest builds the canonical request exactly as the client's signer did.
func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash string, presigned bool) (string, error) {
	query, err := canonicalQuery(r.URL.RawQuery, presigned)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r))
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// canonicalURI returns the path as sent. S3 signs the raw path bytes, without normalising
// or re-escaping; the other services only ever use "/", which double-escaping leaves alone.
func canonicalURI(r *http.Request) string {
	p, _, _ := strings.Cut(r.RequestURI, "?")
	if !strings.HasPrefix(p, "/") {
		// A client-side request, or an absolute-form request target.
		p = r.URL.EscapedPath()
	}
	if p == "" {
		return "/"
	}
	return p
}

// canonicalQuery decodes the query and re-encodes it per RFC 3986, sorted by name then
// value; a valueless name becomes "name=". A presigned request's own signature is left out.
func canonicalQuery(raw string, presigned bool) (string, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return "", errorf(ErrMalformed, "query: %v", err)
	}
	if presigned {
		delete(vals, "X-Amz-Signature")
	}
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(vals))
	for k, vs := range vals {
		for _, v := range vs {
			pairs = append(pairs, pair{escape(k), escape(v)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		return cmp.Or(strings.Compare(a.k, b.k), strings.Compare(a.v, b.v))
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String(), nil
}

// escape percent-encodes every byte but the RFC 3986 unreserved characters.
func escape(s string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdig[c>>4])
			b.WriteByte(hexdig[c&15])
		}
	}
	return b.String()
}

// headerValue returns a signed header's canonical value: values trimmed, runs of spaces
// collapsed, repeated headers joined with ",".
func headerValue(r *http.Request, name string) string {
	var vs []string
	if name == "host" {
		// Go's server moves Host out of the header map.
		vs = []string{r.Host}
	} else {
		vs = r.Header.Values(name)
	}
	if len(vs) == 0 {
		switch name {
		case "content-length":
			if r.ContentLength >= 0 {
				return strconv.FormatInt(r.ContentLength, 10)
			}
		case "expect":
			// HTTP/2 and some proxies drop it; clients only ever send this value.
			return "100-continue"
		}
		return ""
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		v = strings.TrimSpace(v)
		for strings.Contains(v, "  ") {
			v = strings.ReplaceAll(v, "  ", " ")
		}
		out[i] = v
	}
	return strings.Join(out, ",")
}
