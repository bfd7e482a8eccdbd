package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stateward/stateward/internal/identity"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The evaluation cases live in testdata/cases.json: named policies, named callers, default
// request facts, and the cases, each with the decision a reading of AWS's documentation
// expects (want). The full results (decision, reason, deciding statements, missing keys) are
// kept in testdata/cases.golden, rewritten with -update and reviewed by hand.

type caseFile struct {
	Policies map[string]json.RawMessage `json:"policies"`
	Callers  map[string]callerSpec      `json:"callers"`
	Defaults requestFacts               `json:"defaults"`
	Cases    []evalCase                 `json:"cases"`
}

type callerSpec struct {
	Type    identity.Type     `json:"type"`
	Account string            `json:"account"`
	ARN     string            `json:"arn"`
	UserID  string            `json:"userId"`
	Name    string            `json:"name"`
	RoleARN string            `json:"roleArn"`
	Tags    map[string]string `json:"tags"`
	Session *struct {
		Issued         string `json:"issued"`
		MFAAt          string `json:"mfaAt"`
		SourceIdentity string `json:"sourceIdentity"`
	} `json:"session"`
}

type requestFacts struct {
	Time      string `json:"time"`
	SourceIP  string `json:"sourceIp"`
	Secure    *bool  `json:"secure"`
	Region    string `json:"region"`
	UserAgent string `json:"userAgent"`
}

type evalCase struct {
	Name string `json:"name"`
	// Doc says where the expectation comes from.
	Doc    string `json:"doc"`
	Caller string `json:"caller"`
	// Identity are the caller's identity policies: inline documents or names of Policies.
	Identity []json.RawMessage `json:"identity"`
	// Cond is shorthand for one identity policy allowing everything under this Condition.
	Cond json.RawMessage `json:"cond"`
	// Session, when present (even empty), makes the caller a session with these policies.
	Session        *[]json.RawMessage `json:"session"`
	ResourcePolicy json.RawMessage    `json:"resourcePolicy"`
	Trust          bool               `json:"trust"` // the resource policy is a trust policy
	Required       bool               `json:"required"`
	Action         string             `json:"action"`
	Resource       string             `json:"resource"`
	ResourceAcct   string             `json:"resourceAccount"`
	Keys           map[string]strList `json:"keys"`
	Unknown        []string           `json:"unknown"`
	requestFacts
	Want string `json:"want"`
}

// strList is a JSON string or list of strings.
type strList []string

func (l *strList) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*l = strList{s}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

func loadCases(t testing.TB) *caseFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f caseFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("cases.json: %v", err)
	}
	return &f
}

// policyDoc parses a case's policy: an inline document or the name of one in f.Policies.
func (f *caseFile) policyDoc(t *testing.T, raw json.RawMessage, k Kind) (*Document, string) {
	t.Helper()
	id := "inline"
	var name string
	if json.Unmarshal(raw, &name) == nil {
		p, ok := f.Policies[name]
		if !ok {
			t.Fatalf("no policy %q", name)
		}
		raw, id = p, name
	}
	d, err := Parse(string(raw), k)
	if err != nil {
		t.Fatalf("policy %s: %v", id, err)
	}
	return d, id
}

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// request builds the Request and policies of c.
func (f *caseFile) request(t *testing.T, c *evalCase) (*Request, *PrincipalPolicies) {
	t.Helper()
	facts := f.Defaults
	for _, o := range []struct{ dst, src *string }{
		{&facts.Time, &c.Time}, {&facts.SourceIP, &c.SourceIP}, {&facts.Region, &c.Region}, {&facts.UserAgent, &c.UserAgent},
	} {
		if *o.src != "" {
			*o.dst = *o.src
		}
	}
	if c.Secure != nil {
		facts.Secure = c.Secure
	}
	ir := &identity.Request{Time: parseTime(t, facts.Time), Region: facts.Region, UserAgent: facts.UserAgent}
	if facts.Secure != nil {
		ir.SecureTransport = *facts.Secure
	}
	if facts.SourceIP != "none" {
		ir.SourceIP = netip.MustParseAddr(facts.SourceIP)
	}
	callerName := c.Caller
	if callerName == "" {
		callerName = "alice"
	}
	if callerName != "anonymous" {
		cs, ok := f.Callers[callerName]
		if !ok {
			t.Fatalf("no caller %q", callerName)
		}
		p := &identity.Principal{Type: cs.Type, AccountID: cs.Account, ARN: cs.ARN, UserID: cs.UserID,
			Name: cs.Name, RoleARN: cs.RoleARN, Tags: cs.Tags}
		if s := cs.Session; s != nil {
			p.Session = &identity.Session{Issued: parseTime(t, s.Issued), MFAAt: parseTime(t, s.MFAAt),
				SourceIdentity: s.SourceIdentity}
		}
		ir.Principal = p
	}
	r := &Request{Caller: ir, Action: c.Action, Resource: c.Resource, ResourceAccount: c.ResourceAcct,
		ResourcePolicyRequired: c.Required, Unknown: c.Unknown}
	if r.Action == "" {
		r.Action = "s3:GetObject"
	}
	if r.Resource == "" {
		r.Resource = "arn:aws:s3:::bucket/key"
	}
	if len(c.Keys) > 0 {
		r.Keys = map[string][]string{}
		for k, v := range c.Keys {
			r.Keys[k] = v
		}
	}
	if c.ResourcePolicy != nil {
		k := ResourceKind
		if c.Trust {
			k = TrustKind
		}
		r.ResourcePolicy, _ = f.policyDoc(t, c.ResourcePolicy, k)
	}
	pp := &PrincipalPolicies{}
	for _, raw := range c.Identity {
		d, id := f.policyDoc(t, raw, IdentityKind)
		pp.Identity = append(pp.Identity, Source{ID: id, Type: "user", Doc: d})
	}
	if c.Cond != nil {
		text := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":` +
			string(c.Cond) + `}}`
		d, err := Parse(text, IdentityKind)
		if err != nil {
			t.Fatalf("cond: %v", err)
		}
		pp.Identity = append(pp.Identity, Source{ID: "cond", Type: "user", Doc: d})
	}
	if c.Session != nil {
		pp.HasSession = true
		for _, raw := range *c.Session {
			d, id := f.policyDoc(t, raw, IdentityKind)
			pp.Session = append(pp.Session, Source{ID: id, Type: "session", Doc: d})
		}
	}
	return r, pp
}

var reasonNames = map[Reason]string{
	NoIdentityAllow: "NoIdentityAllow", NoResourceAllow: "NoResourceAllow", NoSessionAllow: "NoSessionAllow",
	IdentityExplicitDeny: "IdentityExplicitDeny", ResourceExplicitDeny: "ResourceExplicitDeny",
	SessionExplicitDeny: "SessionExplicitDeny", Unauthenticated: "Unauthenticated",
}

// verdict is a Result in the cases' "want" notation.
func verdict(res Result) string {
	if res.Decision == Allowed {
		return string(Allowed)
	}
	return string(res.Decision) + ":" + reasonNames[res.Reason]
}

func formatResult(res Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %s\n", verdict(res))
	for _, m := range res.Matched {
		st := m.Source.Doc.Statements[m.Statement]
		label := m.Source.Type
		if m.Source.ID != "" {
			label += "/" + m.Source.ID
		}
		fmt.Fprintf(&b, "  matched %s statement %d", label, m.Statement)
		if st.Sid != "" {
			fmt.Fprintf(&b, " (%s)", st.Sid)
		}
		fmt.Fprintf(&b, " %s\n", st.Effect)
	}
	if len(res.Missing) > 0 {
		fmt.Fprintf(&b, "  missing %s\n", strings.Join(res.Missing, ", "))
	}
	return b.String()
}

func TestEvaluateCases(t *testing.T) {
	f := loadCases(t)
	if len(f.Cases) < 200 {
		t.Errorf("%d cases; the table is meant to hold at least 200", len(f.Cases))
	}
	seen := map[string]bool{}
	var golden strings.Builder
	for i := range f.Cases {
		c := &f.Cases[i]
		if seen[c.Name] {
			t.Errorf("duplicate case name %q", c.Name)
		}
		seen[c.Name] = true
		t.Run(c.Name, func(t *testing.T) {
			r, pp := f.request(t, c)
			res := Evaluate(r, pp)
			if got := verdict(res); got != c.Want {
				t.Errorf("got %s, want %s", got, c.Want)
			}
			fmt.Fprintf(&golden, "%s\n%s", c.Name, formatResult(res))
		})
	}
	checkGolden(t, "cases.golden", golden.String())
}

// checkGolden compares got with testdata/name, or rewrites the file under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update to accept, after review)", name, i+1, g, w)
			}
		}
	}
}

// TestCaseCoverage keeps the table honest: every operator appears in it, positive and with
// each modifier it allows, so a new operator cannot go untested.
func TestCaseCoverage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	var missing []string
	for name := range operators {
		if !strings.Contains(text, strconv.Quote(name)) {
			missing = append(missing, name)
		}
		if name != "Null" && !strings.Contains(text, strconv.Quote(name+"IfExists")) && !strings.Contains(text, ":"+name+"IfExists\"") {
			missing = append(missing, name+"IfExists")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("operators no case uses: %s", strings.Join(missing, ", "))
	}
	for _, s := range []string{`"ForAnyValue:`, `"ForAllValues:`, `"NotAction"`, `"NotResource"`, `"NotPrincipal"`,
		`${aws:username}`, `${aws:userid}`, `${aws:PrincipalAccount}`, `${*}`, `${?}`, `${$}`, `, '`} {
		if !strings.Contains(text, s) {
			t.Errorf("no case uses %s", s)
		}
	}
}
