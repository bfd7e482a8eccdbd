package policy

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stateward/stateward/internal/identity"
)

// fuzzRequest is a request every parsed document is evaluated against, so the fuzzer also
// drives the matchers and the condition operators.
func fuzzRequest(d *Document) *Request {
	p := &identity.Principal{Type: identity.AssumedRole, AccountID: "111122223333", ARN: "arn:aws:sts::111122223333:assumed-role/R/s",
		RoleARN: "arn:aws:iam::111122223333:role/R", UserID: "AROAR:s", Name: "R", Tags: map[string]string{"team": "a"},
		Session: &identity.Session{Issued: time.Unix(1700000000, 0), MFAAt: time.Unix(1700000000, 0)}}
	return &Request{
		Caller: &identity.Request{Principal: p, SourceIP: netip.MustParseAddr("203.0.113.7"), SecureTransport: true,
			Time: time.Unix(1700003600, 0), Region: "us-east-1", UserAgent: "fuzz"},
		Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/key",
		Keys:           map[string][]string{"s3:prefix": {"home/"}, "aws:TagKeys": {"a", "b"}, "custom:n": {"10"}, "custom:d": {"2024-01-01T00:00:00Z"}},
		ResourcePolicy: d,
	}
}

// FuzzParse checks that Parse never panics, that what it accepts re-parses to the same
// document from its Text and from its canonical form, and that evaluating it never panics.
func FuzzParse(f *testing.F) {
	var cf caseFile
	if b, err := os.ReadFile(filepath.Join("testdata", "cases.json")); err == nil && json.Unmarshal(b, &cf) == nil {
		for _, p := range cf.Policies {
			f.Add(string(p), uint8(IdentityKind))
			f.Add(string(p), uint8(ResourceKind))
		}
	}
	f.Add(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, uint8(IdentityKind))
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}`, uint8(TrustKind))
	f.Fuzz(func(t *testing.T, text string, kind uint8) {
		k := Kind(kind % 3)
		d, err := Parse(text, k)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Msg == "" {
				t.Fatalf("error %v is not a *SyntaxError with a message", err)
			}
			return
		}
		again, err := Parse(d.Text, k)
		if err != nil || !reflect.DeepEqual(d, again) {
			t.Fatalf("re-parsing the Text gives %v, %v", again, err)
		}
		canon := d.Canonical()
		d2, err := Parse(canon, k)
		if err != nil {
			if strings.HasPrefix(err.(*SyntaxError).Msg, "Cannot exceed quota") {
				return // the canonical form may be longer (lists, escapes)
			}
			t.Fatalf("canonical form %s: %v", canon, err)
		}
		d2.Text = d.Text
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("canonical form %s parses to another document", canon)
		}
		r := fuzzRequest(d)
		pp := &PrincipalPolicies{Identity: []Source{{ID: "fuzz", Doc: d}}, Session: []Source{{ID: "fuzz", Doc: d}}, HasSession: true}
		if k != IdentityKind {
			pp = nil
		}
		Evaluate(r, pp)
	})
}

// wildcardRegexp is the reference matcher: the pattern as a regular expression.
func wildcardRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// FuzzMatch compares the wildcard matcher with regexp, case-sensitively (Resource,
// StringLike) and case-insensitively (Action).
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"s3:Get*", "s3:GetObject"}, {"*AccessKey*", "iam:CreateAccessKey"}, {"a?c", "abc"}, {"a*b*c", "aXbYbZc"},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y"}, {"*", ""}, {"**", "x"}, {"?", "é"}, {"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaa"},
		{"S3:*OBJECT", "s3:getobject"}, {"x*", "x"}, {"*x", "yx"},
	} {
		f.Add(s[0], s[1], false)
		f.Add(s[0], s[1], true)
	}
	f.Fuzz(func(t *testing.T, pat, s string, fold bool) {
		if !utf8.ValidString(pat) || !utf8.ValidString(s) || len(pat) > 64 || len(s) > 256 {
			return
		}
		p := compilePattern(pat, true, false, fold)
		refPat, refS := pat, s
		if fold {
			refPat, refS = lowerASCII(pat), lowerASCII(s)
		}
		want := wildcardRegexp(refPat).MatchString(refS)
		if got := p.match(s, fold, nil); got != want {
			t.Fatalf("match(%q, %q, fold %v) = %v, regexp says %v", pat, s, fold, got, want)
		}
	})
}
