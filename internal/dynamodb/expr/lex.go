package expr

import "strings"

type tokKind uint8

const (
	tEOF      tokKind = iota
	tIdent            // attribute name, keyword or function name
	tName             // #placeholder
	tValue            // :placeholder
	tNumber           // list index
	tLParen           // (
	tRParen           // )
	tLBracket         // [
	tRBracket         // ]
	tDot              // .
	tComma            // ,
	tEq               // =
	tNe               // <>
	tLt               // <
	tLe               // <=
	tGt               // >
	tGe               // >=
	tPlus             // +
	tMinus            // -
	tBad              // a character no token starts with
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the expression
}

// keyword reports whether an identifier is one of the expression keywords, which can never
// be attribute names without a #placeholder.
func keyword(s string) bool {
	switch strings.ToUpper(s) {
	case "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE":
		return true
	}
	return false
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lex splits s into tokens, ending with tEOF. An unknown character becomes a tBad token so
// the parser reports it as a syntax error where it stands.
func lex(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		start := i
		emit := func(k tokKind, n int) {
			toks = append(toks, token{kind: k, text: s[start : start+n], pos: start})
			i = start + n
		}
		word := func(from int) int {
			j := from
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			return j - start
		}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			emit(tNumber, j-i)
		case isWordByte(c):
			emit(tIdent, word(i))
		case c == '#' || c == ':':
			n := word(i + 1)
			k := tName
			if c == ':' {
				k = tValue
			}
			if n == 1 {
				k = tBad
			}
			emit(k, n)
		case c == '(':
			emit(tLParen, 1)
		case c == ')':
			emit(tRParen, 1)
		case c == '[':
			emit(tLBracket, 1)
		case c == ']':
			emit(tRBracket, 1)
		case c == '.':
			emit(tDot, 1)
		case c == ',':
			emit(tComma, 1)
		case c == '=':
			emit(tEq, 1)
		case c == '+':
			emit(tPlus, 1)
		case c == '-':
			emit(tMinus, 1)
		case c == '<':
			switch {
			case strings.HasPrefix(s[i:], "<>"):
				emit(tNe, 2)
			case strings.HasPrefix(s[i:], "<="):
				emit(tLe, 2)
			default:
				emit(tLt, 1)
			}
		case c == '>':
			if strings.HasPrefix(s[i:], ">=") {
				emit(tGe, 2)
			} else {
				emit(tGt, 1)
			}
		default:
			// One whole UTF-8 character, so the message quotes it intact.
			n := 1
			for n < 4 && i+n < len(s) && s[i+n]&0xc0 == 0x80 {
				n++
			}
			emit(tBad, n)
		}
	}
	return append(toks, token{kind: tEOF, text: "<EOF>", pos: len(s)})
}
