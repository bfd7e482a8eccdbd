package policy

import (
	"strings"
	"unicode/utf8"
)

// patKind picks how a pattern is matched; the common shapes skip the general matcher.
type patKind uint8

const (
	patExact   patKind = iota // no wildcard and no variable: plain comparison with text
	patAll                    // "*"
	patPrefix                 // "text*"
	patGeneral                // anything else: matched piece by piece
)

type pieceKind uint8

const (
	pLit  pieceKind = iota // literal text
	pStar                  // * : any run of characters, including none
	pOne                   // ? : exactly one character
	pVar                   // ${key} or ${key, 'default'}
)

type piece struct {
	kind       pieceKind
	lit        string // pLit: the text; pVar: the default
	key        string // pVar: the condition key, lower-cased
	name       string // pVar: the key as written, for Result.Missing
	hasDefault bool
}

// pattern is one compiled element value: an Action or Resource entry, or a string condition
// value. It is split once at parse time so that evaluation neither scans for wildcards nor
// allocates.
type pattern struct {
	kind   patKind
	text   string // patExact, patPrefix: the literal
	pieces []piece
	vars   bool // pieces hold variables, resolved per request
}

// compilePattern compiles s. wild makes * and ? wildcards; vars makes ${…} a policy variable
// (only documents of version 2012-10-17 have them; older ones read ${…} literally, as IAM
// does); fold lower-cases the pattern's ASCII letters, for case-insensitive matching against
// foldMatch.
func compilePattern(s string, wild, vars, fold bool) pattern {
	if fold {
		s = lowerASCII(s)
	}
	var ps []piece
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			ps = append(ps, piece{kind: pLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case wild && c == '*':
			flush()
			// ** matches what * matches; collapsing keeps the matcher's backtracking linear.
			if len(ps) == 0 || ps[len(ps)-1].kind != pStar {
				ps = append(ps, piece{kind: pStar})
			}
			i++
			continue
		case wild && c == '?':
			flush()
			ps = append(ps, piece{kind: pOne})
			i++
			continue
		case vars && c == '$' && strings.HasPrefix(s[i:], "${"):
			if v, n, ok := parseVariable(s[i:]); ok {
				if v.kind == pLit {
					lit.WriteString(v.lit)
				} else {
					flush()
					ps = append(ps, v)
				}
				i += n
				continue
			}
		}
		lit.WriteByte(c)
		i++
	}
	flush()
	p := pattern{pieces: ps}
	for _, pc := range ps {
		if pc.kind == pVar {
			p.vars = true
		}
	}
	switch {
	case len(ps) == 0:
		p.kind, p.pieces = patExact, nil
	case len(ps) == 1 && ps[0].kind == pLit:
		p.kind, p.text, p.pieces = patExact, ps[0].lit, nil
	case len(ps) == 1 && ps[0].kind == pStar:
		p.kind, p.pieces = patAll, nil
	case len(ps) == 2 && ps[0].kind == pLit && ps[1].kind == pStar:
		p.kind, p.text, p.pieces = patPrefix, ps[0].lit, nil
	default:
		p.kind = patGeneral
	}
	return p
}

// parseVariable reads the policy variable at the start of s ("${…}") and returns it with its
// length. ${*}, ${?} and ${$} are the literal characters. ok is false when s does not hold a
// well-formed variable, and the text is then literal.
func parseVariable(s string) (v piece, n int, ok bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return piece{}, 0, false
	}
	body := s[2:end]
	switch body {
	case "*", "?", "$":
		return piece{kind: pLit, lit: body}, end + 1, true
	}
	key, def, hasDef := strings.Cut(body, ",")
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsAny(key, " \t'${") {
		return piece{}, 0, false
	}
	v = piece{kind: pVar, key: lowerASCII(key), name: key}
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' || strings.Count(def, "'") != 2 {
			return piece{}, 0, false
		}
		v.lit, v.hasDefault = def[1:len(def)-1], true
	}
	return v, end + 1, true
}

// match tells whether s matches p; variables are resolved in ec (nil when p has none). fold
// compares ASCII letters case-insensitively (p was compiled with fold).
func (p *pattern) match(s string, fold bool, ec *evalCtx) bool {
	switch p.kind {
	case patAll:
		return true
	case patExact:
		if fold {
			return equalFoldASCII(s, p.text)
		}
		return s == p.text
	case patPrefix:
		if fold {
			return len(s) >= len(p.text) && equalFoldASCII(s[:len(p.text)], p.text)
		}
		return strings.HasPrefix(s, p.text)
	}
	ps := p.pieces
	if p.vars {
		var buf [16]piece
		rs := buf[:0]
		for i := range p.pieces {
			pc := &p.pieces[i]
			if pc.kind != pVar {
				rs = append(rs, *pc)
				continue
			}
			v, ok := ec.variable(pc)
			if !ok {
				return false
			}
			rs = append(rs, piece{kind: pLit, lit: v})
		}
		ps = rs
	}
	return matchPieces(ps, s, fold)
}

// matchPieces matches s against literal, * and ? pieces. On a mismatch it returns to the last
// * and lets it take one more character, which is enough: a later * can take over anything an
// earlier one would have. ? and the extension of * step one UTF-8 character (an invalid byte
// counts as one), so a multi-byte character is never split.
func matchPieces(ps []piece, s string, fold bool) bool {
	pi, si := 0, 0
	starPi, starSi := -1, 0
	for {
		if pi < len(ps) {
			switch pc := &ps[pi]; pc.kind {
			case pStar:
				starPi, starSi = pi, si
				pi++
				continue
			case pOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			case pLit:
				if hasPrefixFold(s[si:], pc.lit, fold) {
					si += len(pc.lit)
					pi++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starPi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		pi, si = starPi+1, starSi
	}
}

func hasPrefixFold(s, prefix string, fold bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	if fold {
		return equalFoldASCII(s[:len(prefix)], prefix)
	}
	return s[:len(prefix)] == prefix
}

// equalFoldASCII compares s with lower, which holds no ASCII upper-case letters, folding only
// ASCII letters: action names are ASCII, and a Unicode fold could change byte lengths.
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases ASCII letters only; s is returned as it is when it has none.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// splitARNPattern splits an ARN pattern into at most n colon-separated parts, the last taking
// the rest, without splitting inside a policy variable (whose key has a colon of its own).
func splitARNPattern(s string, n int, vars bool) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s) && len(parts) < n-1; i++ {
		switch {
		case vars && s[i] == '$' && strings.HasPrefix(s[i:], "${"):
			if _, m, ok := parseVariable(s[i:]); ok {
				i += m - 1
			}
		case s[i] == ':':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
