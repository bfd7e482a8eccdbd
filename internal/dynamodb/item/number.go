package item

import (
	"cmp"
	"math/big"
	"strconv"
	"strings"
)

// DynamoDB numbers: up to 38 significant digits, magnitudes from 1E-130 to
// 9.9999999999999999999999999999999999999E+125, and zero.
const (
	maxDigits = 38
	// In the form 0.d1d2… × 10^exp used here, 1E-130 has exp -129 and 9.99…E+125 has exp 126.
	minExp = -129
	maxExp = 126
)

// decimal is a parsed number in normalized scientific form: value = ±0.digits × 10^exp, with
// digits free of leading and trailing zeros. Zero has empty digits.
type decimal struct {
	neg    bool
	digits string
	exp    int
}

func (d decimal) isZero() bool { return d.digits == "" }

// parseDecimal parses a DynamoDB number literal: optional sign, digits with an optional
// decimal point, optional exponent. It checks syntax only; see checkRange for limits.
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	var mant strings.Builder
	intDigits, seenDigit, seenPoint := 0, false, false
mantissa:
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			seenDigit = true
			mant.WriteByte(c)
			if !seenPoint {
				intDigits++
			}
		case c == '.' && !seenPoint:
			seenPoint = true
		default:
			break mantissa
		}
	}
	if !seenDigit {
		return decimal{}, false
	}
	exp := 0
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return decimal{}, false
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return decimal{}, false
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return decimal{}, false
			}
			// Saturate: anything this large is out of range anyway (unless the mantissa is
			// zero, which the saturated value does not change).
			if exp < 1_000_000 {
				exp = exp*10 + int(c-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	m := mant.String()
	lead := len(m) - len(strings.TrimLeft(m, "0"))
	m = m[lead:]
	m = strings.TrimRight(m, "0")
	if m == "" {
		return decimal{}, true // zero, whatever its sign or exponent
	}
	d.digits = m
	d.exp = intDigits - lead + exp
	return d, true
}

// checkRange reports why d cannot be stored, or "".
func (d decimal) checkRange() string {
	if d.isZero() {
		return ""
	}
	if len(d.digits) > maxDigits {
		return "Attempting to store more than 38 significant digits in a Number"
	}
	if d.exp > maxExp {
		return "Number overflow. Attempting to store a number with magnitude larger than supported range"
	}
	if d.exp < minExp {
		return "Number underflow. Attempting to store a number with magnitude smaller than supported range"
	}
	return ""
}

// cmpDecimal compares two numbers by value.
func cmpDecimal(a, b decimal) int {
	sa, sb := a.sign(), b.sign()
	if sa != sb {
		return cmp.Compare(sa, sb)
	}
	if sa == 0 {
		return 0
	}
	c := cmp.Compare(a.exp, b.exp)
	if c == 0 {
		c = strings.Compare(a.digits, b.digits) // equal exponents: digit strings order by value
	}
	if a.neg {
		return -c
	}
	return c
}

func (d decimal) sign() int {
	switch {
	case d.isZero():
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// canonical is a string equal for equal numbers, for set membership.
func (d decimal) canonical() string {
	if d.isZero() {
		return "0"
	}
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	b.WriteString("0.")
	b.WriteString(d.digits)
	b.WriteString("e")
	b.WriteString(itoa(d.exp))
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// String formats d plainly when the exponent is modest, else in scientific notation.
func (d decimal) String() string {
	if d.isZero() {
		return "0"
	}
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	n := len(d.digits)
	switch {
	case d.exp > 0 && d.exp <= maxDigits+2:
		if d.exp >= n {
			b.WriteString(d.digits)
			b.WriteString(strings.Repeat("0", d.exp-n))
		} else {
			b.WriteString(d.digits[:d.exp])
			b.WriteByte('.')
			b.WriteString(d.digits[d.exp:])
		}
	case d.exp <= 0 && d.exp > -10:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -d.exp))
		b.WriteString(d.digits)
	default:
		b.WriteString(d.digits[:1])
		if n > 1 {
			b.WriteByte('.')
			b.WriteString(d.digits[1:])
		}
		b.WriteByte('E')
		e := d.exp - 1
		if e >= 0 {
			b.WriteByte('+')
		}
		b.WriteString(itoa(e))
	}
	return b.String()
}

// coefficient returns d as c × 10^scale with c an integer.
func (d decimal) coefficient() (*big.Int, int) {
	c, _ := new(big.Int).SetString(d.digits, 10)
	if c == nil {
		c = new(big.Int)
	}
	if d.neg {
		c.Neg(c)
	}
	return c, d.exp - len(d.digits)
}

// addDecimal returns a+b exactly; the caller checks the result's range and precision.
func addDecimal(a, b decimal) decimal {
	if a.isZero() {
		return b
	}
	if b.isZero() {
		return a
	}
	ca, sa := a.coefficient()
	cb, sb := b.coefficient()
	// Align to the smaller scale; the exponent range keeps the shift in the hundreds of digits.
	scale := min(sa, sb)
	ten := big.NewInt(10)
	ca.Mul(ca, new(big.Int).Exp(ten, big.NewInt(int64(sa-scale)), nil))
	cb.Mul(cb, new(big.Int).Exp(ten, big.NewInt(int64(sb-scale)), nil))
	sum := ca.Add(ca, cb)
	return fromCoefficient(sum, scale)
}

func fromCoefficient(c *big.Int, scale int) decimal {
	if c.Sign() == 0 {
		return decimal{}
	}
	neg := c.Sign() < 0
	s := new(big.Int).Abs(c).String()
	trimmed := strings.TrimRight(s, "0")
	return decimal{neg: neg, digits: trimmed, exp: len(s) + scale}
}

func (d decimal) negate() decimal {
	if !d.isZero() {
		d.neg = !d.neg
	}
	return d
}

// appendKey appends an order-preserving, prefix-free encoding of d: a sign byte, then the
// exponent, then one byte per digit and a terminator, each inverted for negative numbers so
// that bytewise order is numeric order.
//
//	negative: 0x01, ^uint16(exp+0x8000), (0xfe-digit)…, 0xff
//	zero:     0x02
//	positive: 0x03, uint16(exp+0x8000),  (digit+1)…,    0x00
func (d decimal) appendKey(dst []byte) []byte {
	if d.isZero() {
		return append(dst, 0x02)
	}
	e := uint16(d.exp + 0x8000)
	if d.neg {
		e = ^e
		dst = append(dst, 0x01, byte(e>>8), byte(e))
		for i := 0; i < len(d.digits); i++ {
			dst = append(dst, 0xfe-(d.digits[i]-'0'))
		}
		return append(dst, 0xff)
	}
	dst = append(dst, 0x03, byte(e>>8), byte(e))
	for i := 0; i < len(d.digits); i++ {
		dst = append(dst, d.digits[i]-'0'+1)
	}
	return append(dst, 0x00)
}

// numberSize is DynamoDB's storage size of a number: one byte per two significant digits,
// plus one.
func numberSize(s string) int {
	d, ok := parseDecimal(s)
	if !ok {
		return len(s)
	}
	return (len(d.digits)+1)/2 + 1
}
