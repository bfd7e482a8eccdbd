package policy

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// opFamily is a condition operator without its negation, IfExists suffix or set qualifier.
type opFamily uint8

const (
	opStringEquals opFamily = iota
	opStringEqualsIgnoreCase
	opStringLike
	opNumericEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opArnLike
	opNull
)

type operatorInfo struct {
	op  opFamily
	neg bool // a negated operator: true when no policy value matches, and when the key is absent
}

// operators are IAM's condition operators, by their names as written (case-sensitive).
var operators = map[string]operatorInfo{
	"StringEquals":              {opStringEquals, false},
	"StringNotEquals":           {opStringEquals, true},
	"StringEqualsIgnoreCase":    {opStringEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {opStringEqualsIgnoreCase, true},
	"StringLike":                {opStringLike, false},
	"StringNotLike":             {opStringLike, true},
	"NumericEquals":             {opNumericEquals, false},
	"NumericNotEquals":          {opNumericEquals, true},
	"NumericLessThan":           {opNumericLessThan, false},
	"NumericLessThanEquals":     {opNumericLessThanEquals, false},
	"NumericGreaterThan":        {opNumericGreaterThan, false},
	"NumericGreaterThanEquals":  {opNumericGreaterThanEquals, false},
	"DateEquals":                {opDateEquals, false},
	"DateNotEquals":             {opDateEquals, true},
	"DateLessThan":              {opDateLessThan, false},
	"DateLessThanEquals":        {opDateLessThanEquals, false},
	"DateGreaterThan":           {opDateGreaterThan, false},
	"DateGreaterThanEquals":     {opDateGreaterThanEquals, false},
	"Bool":                      {opBool, false},
	"BinaryEquals":              {opBinaryEquals, false},
	"IpAddress":                 {opIPAddress, false},
	"NotIpAddress":              {opIPAddress, true},
	// ArnEquals and ArnLike behave identically, as IAM documents; so do their negations.
	"ArnEquals":    {opArnLike, false},
	"ArnLike":      {opArnLike, false},
	"ArnNotEquals": {opArnLike, true},
	"ArnNotLike":   {opArnLike, true},
	"Null":         {opNull, false},
}

// setQualifier is the ForAnyValue: or ForAllValues: prefix of an operator.
type setQualifier uint8

const (
	setNone setQualifier = iota
	setAnyValue
	setAllValues
)

// Condition is one key of one operator of a statement's Condition element, e.g.
// {"StringEquals": {"aws:username": ["a", "b"]}} gives Operator "StringEquals", Key
// "aws:username" and Values ["a", "b"]. Numbers and booleans in the document are kept as
// their text.
type Condition struct {
	Operator string
	Key      string
	Values   []string

	op       opFamily
	neg      bool
	ifExists bool
	set      setQualifier
	key      string // Key lower-cased: key names are case-insensitive

	pats  []pattern   // string operators and Bool
	arns  [][]pattern // ARN operators: the colon-separated parts of each value
	nums  []float64
	times []time.Time
	nets  []netip.Prefix
	bins  []string // decoded BinaryEquals values
	nulls []bool
}

// parseOperator splits an operator name into its parts; ok is false for an unknown one.
func parseOperator(name string) (info operatorInfo, ifExists bool, set setQualifier, ok bool) {
	rest := name
	if r, found := strings.CutPrefix(rest, "ForAnyValue:"); found {
		rest, set = r, setAnyValue
	} else if r, found := strings.CutPrefix(rest, "ForAllValues:"); found {
		rest, set = r, setAllValues
	}
	info, ok = operators[rest]
	if !ok {
		base, found := strings.CutSuffix(rest, "IfExists")
		if !found {
			return info, false, set, false
		}
		if info, ok = operators[base]; !ok || info.op == opNull {
			return info, false, set, false
		}
		ifExists = true
	}
	if info.op == opNull && set != setNone {
		return info, false, set, false
	}
	return info, ifExists, set, true
}

// compileCondition checks and compiles the values of c, whose Operator, Key and Values are
// set; vars tells whether the document honours policy variables.
func compileCondition(c *Condition, vars bool) error {
	info, ifExists, set, ok := parseOperator(c.Operator)
	if !ok {
		return syntaxErr("Syntax errors in policy. Unknown condition operator " + c.Operator + ".")
	}
	if !validConditionKey(c.Key) {
		return syntaxErr(msgVendor)
	}
	c.op, c.neg, c.ifExists, c.set, c.key = info.op, info.neg, ifExists, set, lowerASCII(c.Key)
	bad := func(v string) error {
		return syntaxErr("Syntax errors in policy. Invalid value " + strconv.Quote(v) +
			" for condition operator " + c.Operator + ".")
	}
	for _, v := range c.Values {
		switch c.op {
		case opStringEquals, opStringEqualsIgnoreCase:
			c.pats = append(c.pats, compilePattern(v, false, vars, false))
		case opStringLike:
			c.pats = append(c.pats, compilePattern(v, true, vars, false))
		case opBool:
			p := compilePattern(v, false, vars, true)
			if !p.vars && p.text != "true" && p.text != "false" {
				return bad(v)
			}
			c.pats = append(c.pats, p)
		case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan,
			opNumericGreaterThanEquals:
			n, ok := parseNumber(v)
			if !ok {
				return bad(v)
			}
			c.nums = append(c.nums, n)
		case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan,
			opDateGreaterThanEquals:
			t, ok := parseDate(v)
			if !ok {
				return bad(v)
			}
			c.times = append(c.times, t)
		case opBinaryEquals:
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return bad(v)
			}
			c.bins = append(c.bins, string(b))
		case opIPAddress:
			p, ok := parsePrefix(v)
			if !ok {
				return bad(v)
			}
			c.nets = append(c.nets, p)
		case opArnLike:
			var parts []pattern
			for _, s := range splitARNPattern(v, 6, vars) {
				parts = append(parts, compilePattern(s, true, vars, false))
			}
			c.arns = append(c.arns, parts)
		case opNull:
			switch strings.ToLower(v) {
			case "true":
				c.nulls = append(c.nulls, true)
			case "false":
				c.nulls = append(c.nulls, false)
			default:
				return bad(v)
			}
		}
	}
	return nil
}

// eval decides the condition in ec. Values of one key are ORed (NORed for a negated
// operator); a key the request lacks makes a positive operator false, a negated one true, an
// IfExists one true, ForAllValues true and ForAnyValue false.
func (c *Condition) eval(ec *evalCtx) bool {
	vals := ec.lookup(c.key)
	if c.op == opNull {
		absent := len(vals) == 0
		for _, want := range c.nulls {
			if want == absent {
				return true
			}
		}
		return false
	}
	if len(vals) == 0 {
		ec.miss(c.Key)
		switch {
		case c.ifExists:
			return true
		case c.set == setAllValues:
			return true
		case c.set == setAnyValue:
			return false
		}
		return c.neg
	}
	switch c.set {
	case setAllValues:
		// Every request value must pass: match a policy value, or for a negated operator
		// match none.
		for _, v := range vals {
			if c.matchOne(v, ec) == c.neg {
				return false
			}
		}
		return true
	case setAnyValue:
		for _, v := range vals {
			if c.matchOne(v, ec) != c.neg {
				return true
			}
		}
		return false
	}
	// Without a qualifier a positive operator needs one request value to match; a negated one
	// needs none to.
	for _, v := range vals {
		if c.matchOne(v, ec) {
			return !c.neg
		}
	}
	return c.neg
}

// matchOne tells whether the request value v matches any of the policy's values under the
// positive form of the operator.
func (c *Condition) matchOne(v string, ec *evalCtx) bool {
	switch c.op {
	case opStringEquals, opStringLike:
		for i := range c.pats {
			if c.pats[i].match(v, false, ec) {
				return true
			}
		}
	case opBool:
		for i := range c.pats {
			if c.pats[i].match(v, true, ec) {
				return true
			}
		}
	case opStringEqualsIgnoreCase:
		for i := range c.pats {
			if s, ok := c.pats[i].resolve(ec); ok && strings.EqualFold(s, v) {
				return true
			}
		}
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan,
		opNumericGreaterThanEquals:
		x, ok := parseNumber(v)
		if !ok {
			return false
		}
		for _, n := range c.nums {
			if compareOK(c.op-opNumericEquals, cmpFloat(x, n)) {
				return true
			}
		}
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan,
		opDateGreaterThanEquals:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for _, d := range c.times {
			if compareOK(c.op-opDateEquals, t.Compare(d)) {
				return true
			}
		}
	case opBinaryEquals:
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return false
		}
		for _, want := range c.bins {
			if bytes.Equal(b, []byte(want)) {
				return true
			}
		}
	case opIPAddress:
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return false
		}
		a = a.Unmap()
		for _, p := range c.nets {
			if p.Contains(a) {
				return true
			}
		}
	case opArnLike:
		for _, parts := range c.arns {
			if matchARN(parts, v, ec) {
				return true
			}
		}
	}
	return false
}

// compareOK applies the comparison at offset rel from the family's Equals operator (Equals,
// LessThan, LessThanEquals, GreaterThan, GreaterThanEquals) to cmp, the request value compared
// with the policy's.
func compareOK(rel opFamily, cmp int) bool {
	switch rel {
	case 0:
		return cmp == 0
	case 1:
		return cmp < 0
	case 2:
		return cmp <= 0
	case 3:
		return cmp > 0
	case 4:
		return cmp >= 0
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// matchARN matches v part by part against the colon-separated parts of an ARN pattern; the
// last part takes the rest of v, colons included, as an ARN's resource part does. A value
// with fewer parts than the pattern does not match.
func matchARN(parts []pattern, v string, ec *evalCtx) bool {
	rest := v
	for i := range parts {
		seg := rest
		if i < len(parts)-1 {
			j := strings.IndexByte(rest, ':')
			if j < 0 {
				return false
			}
			seg, rest = rest[:j], rest[j+1:]
		}
		if !parts[i].match(seg, false, ec) {
			return false
		}
	}
	return true
}

// resolve returns the text of a pattern compiled without wildcards, its variables resolved.
func (p *pattern) resolve(ec *evalCtx) (string, bool) {
	if !p.vars {
		if p.kind == patExact {
			return p.text, true
		}
		var b strings.Builder
		for _, pc := range p.pieces {
			b.WriteString(pc.lit)
		}
		return b.String(), true
	}
	var b strings.Builder
	for i := range p.pieces {
		pc := &p.pieces[i]
		if pc.kind != pVar {
			b.WriteString(pc.lit)
			continue
		}
		v, ok := ec.variable(pc)
		if !ok {
			return "", false
		}
		b.WriteString(v)
	}
	return b.String(), true
}

// parseNumber parses a decimal number: an optional sign, digits with an optional fraction,
// and an optional exponent. strconv alone would also take "NaN", "Inf" and hex.
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		exp := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of range
		return 0, false
	}
	return f, true
}

// dateLayouts are the W3C profile of ISO 8601 that IAM documents for date conditions, with
// and without a zone (no zone means UTC). Fractional seconds are accepted by the seconds
// layouts.
var dateLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006-01",
}

// parseDate parses an ISO 8601 date or epoch seconds (digits only, optionally signed).
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	digits := s
	if s[0] == '-' {
		digits = s[1:]
	}
	if digits != "" && strings.Trim(digits, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	if len(s) < 7 || s[4] != '-' {
		return time.Time{}, false
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parsePrefix parses a CIDR block or a single address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}
