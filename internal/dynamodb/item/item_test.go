package item

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want string // canonical form
	}{
		{"0", true, "0"},
		{"-0", true, "0"},
		{"0.000", true, "0"},
		{"0e99999999999", true, "0"},
		{"1", true, "0.1e1"},
		{"+1", true, "0.1e1"},
		{"1.0", true, "0.1e1"},
		{"01.50", true, "0.15e1"},
		{"-123.45", true, "-0.12345e3"},
		{".5", true, "0.5e0"},
		{"5.", true, "0.5e1"},
		{"0.00123", true, "0.123e-2"},
		{"1E3", true, "0.1e4"},
		{"1e-3", true, "0.1e-2"},
		{"12.5e+2", true, "0.125e4"},
		{"", false, ""},
		{"-", false, ""},
		{".", false, ""},
		{"1.2.3", false, ""},
		{"1e", false, ""},
		{"1e+", false, ""},
		{"e5", false, ""},
		{" 1", false, ""},
		{"1 ", false, ""},
		{"0x10", false, ""},
		{"NaN", false, ""},
		{"Infinity", false, ""},
		{"1_000", false, ""},
	}
	for _, tt := range tests {
		d, ok := parseDecimal(tt.in)
		if ok != tt.ok {
			t.Errorf("parseDecimal(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if ok && d.canonical() != tt.want {
			t.Errorf("parseDecimal(%q) = %s, want %s", tt.in, d.canonical(), tt.want)
		}
	}
}

func TestNumberLimits(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
	}{
		{"1E-130", ""},
		{"9.9999999999999999999999999999999999999E+125", ""},
		{"-9.9999999999999999999999999999999999999E+125", ""},
		{"12345678901234567890123456789012345678", ""},      // 38 digits
		{"123456789012345678901234567890123456789", "38"},   // 39 digits
		{"1234567890123456789012345678901234567800000", ""}, // trailing zeros are not significant
		{"0.000000000000000000000000000000000000001", ""},   // leading zeros neither
		{"1E+126", "overflow"},
		{"1E-131", "underflow"},
		{"1e999999999999999999999", "overflow"},
		{"abc", "cannot be converted"},
	}
	for _, tt := range tests {
		err := checkNumber(tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("checkNumber(%q) = %v, want nil", tt.in, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("checkNumber(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
		}
	}
}

func TestDecimalString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"},
		{"1.50", "1.5"},
		{"-0.001", "-0.001"},
		{"100", "100"},
		{"1e5", "100000"},
		{"1e-20", "1E-20"},
		{"1.5e100", "1.5E+100"},
		{"123.456", "123.456"},
	}
	for _, tt := range tests {
		d, _ := parseDecimal(tt.in)
		if got := d.String(); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// Formatting never changes the value.
		if back, ok := parseDecimal(d.String()); !ok || cmpDecimal(back, d) != 0 {
			t.Errorf("String(%q) = %q does not parse back", tt.in, d.String())
		}
	}
}

func TestArithmetic(t *testing.T) {
	tests := []struct {
		a, b    string
		sub     bool
		want    string
		wantErr bool
	}{
		{"1", "2", false, "3", false},
		{"1.5", "-1.5", false, "0", false},
		{"0.1", "0.2", false, "0.3", false},
		{"10", "0.001", true, "9.999", false},
		{"-5", "5", true, "-10", false},
		{"1E+125", "9E+125", false, "", true},
		{"99999999999999999999999999999999999999", "0.1", false, "", true}, // 39 digits
		{"99999999999999999999999999999999999999", "1", false, "100000000000000000000000000000000000000", false},
		{"1E+100", "1E-100", false, "", true}, // 201 digits
		{"1E+100", "1E+100", false, "2E+100", false},
	}
	for _, tt := range tests {
		f := Add
		if tt.sub {
			f = Sub
		}
		got, err := f(Number(tt.a), Number(tt.b))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s op %s: err = %v, want error %v", tt.a, tt.b, err, tt.wantErr)
			continue
		}
		if err == nil && got.N != tt.want {
			t.Errorf("%s op %s = %s, want %s", tt.a, tt.b, got.N, tt.want)
		}
	}
	if _, err := Add(String("1"), Number("1")); err == nil {
		t.Error("Add(S, N) succeeded")
	}
}

// TestNumberKeyOrder checks that encoded numbers sort as the numbers do, over a mix of hand
// picked edge cases and random values.
func TestNumberKeyOrder(t *testing.T) {
	nums := []string{"0", "-0.0", "1", "-1", "10", "-10", "1.5", "-1.5", "0.1", "-0.1", "0.11",
		"-0.11", "0.109", "1E-130", "-1E-130", "9.9999999999999999999999999999999999999E+125",
		"-9.9999999999999999999999999999999999999E+125", "99", "100", "101", "-99", "-100",
		"12345678901234567890123456789012345678", "1.2345678901234567890123456789012345678"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
		for range 1 + r.IntN(12) {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		if r.IntN(2) == 0 {
			b.WriteByte('.')
			for range 1 + r.IntN(6) {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		if r.IntN(3) == 0 {
			b.WriteString("e" + itoa(r.IntN(200)-100))
		}
		nums = append(nums, b.String())
	}
	type enc struct {
		text string
		d    decimal
		key  []byte
	}
	var all []enc
	for _, n := range nums {
		d, ok := parseDecimal(n)
		if !ok || d.checkRange() != "" {
			continue
		}
		k, err := AppendKey(nil, Number(n))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, enc{n, d, k})
	}
	for i := range all {
		for j := range all {
			a, b := all[i], all[j]
			want := cmpDecimal(a.d, b.d)
			if got := bytes.Compare(a.key, b.key); got != want {
				t.Fatalf("order of %s (%x) vs %s (%x) = %d, want %d", a.text, a.key, b.text, b.key, got, want)
			}
			// Prefix-free: a distinct key never starts with another.
			if want != 0 && bytes.HasPrefix(a.key, b.key) {
				t.Fatalf("key of %s is a prefix of key of %s", b.text, a.text)
			}
		}
	}
}

func TestStringKeyOrder(t *testing.T) {
	strs := []string{"", "\x00", "\x00\x00", "\x00\x01", "\x01", "a", "a\x00", "a\x00b", "a\x01",
		"ab", "b", "\xff", "\xff\xff", "é", "z"}
	for _, a := range strs {
		for _, b := range strs {
			ka, _ := AppendKey(nil, String(a))
			kb, _ := AppendKey(nil, String(b))
			if got, want := bytes.Compare(ka, kb), strings.Compare(a, b); got != want {
				t.Errorf("order of %q vs %q = %d, want %d", a, b, got, want)
			}
			if a != b && bytes.HasPrefix(ka, kb) {
				t.Errorf("key of %q is a prefix of key of %q", b, a)
			}
			// begins_with is a prefix test on encodings.
			pre := AppendKeyPrefix(nil, String(b))
			if got, want := bytes.HasPrefix(ka, pre), strings.HasPrefix(a, b); got != want {
				t.Errorf("prefix(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string // canonical re-encoding; "" means same as json
	}{
		{"string", `{"S":"hello"}`, ""},
		{"string exact bytes", `{"S":"{\"ID\":\"6a1e\",\"Info\":\"\",\"Who\":\"alice@host\"}"}`, ""},
		{"string escapes", `{"S":"tab\tnl\nquote\"bs\\ctl\u0001é😀"}`, ""},
		{"html chars stay", `{"S":"<a&b>"}`, ""},
		{"empty string", `{"S":""}`, ""},
		{"number text kept", `{"N":"01.50"}`, ""},
		{"binary", `{"B":"AAEC/w=="}`, ""},
		{"empty binary", `{"B":""}`, ""},
		{"bool", `{"BOOL":false}`, ""},
		{"null", `{"NULL":true}`, ""},
		{"map sorted", `{"M":{"b":{"N":"1"},"a":{"S":"x"}}}`, `{"M":{"a":{"S":"x"},"b":{"N":"1"}}}`},
		{"empty map", `{"M":{}}`, ""},
		{"list", `{"L":[{"S":"a"},{"N":"2"},{"L":[]}]}`, ""},
		{"string set", `{"SS":["b","a"]}`, ""},
		{"number set", `{"NS":["1","2.5"]}`, ""},
		{"binary set", `{"BS":["AA==","AQ=="]}`, ""},
		{"whitespace", ` { "S" : "x" } `, `{"S":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Value
			if err := json.Unmarshal([]byte(tt.json), &v); err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(v)
			want := tt.want
			if want == "" {
				want = tt.json
			}
			// json.Marshal re-escapes <, > and & in Marshaler output; AppendJSON does not.
			if direct := string(v.AppendJSON(nil)); direct != want {
				t.Errorf("AppendJSON = %s, want %s", direct, want)
			}
			var back Value
			if err := json.Unmarshal(got, &back); err != nil || !Equal(back, v) {
				t.Errorf("re-decoding %s: %v, equal %v", got, err, Equal(back, v))
			}
		})
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct {
		name       string
		json       string
		validation string // an *Error with this text; "" means a decoding error
	}{
		{"empty", `{}`, "Supplied AttributeValue is empty"},
		{"null", `null`, "Supplied AttributeValue is empty"},
		{"unknown type", `{"X":"1"}`, "Supplied AttributeValue is empty"},
		{"two types", `{"S":"a","N":"1"}`, "more than one datatypes"},
		{"NULL false", `{"NULL":false}`, "Null attribute value types must have the value of true"},
		{"bad number", `{"N":"abc"}`, "cannot be converted to a numeric value: abc"},
		{"number overflow", `{"N":"1e200"}`, "Number overflow"},
		{"empty string set", `{"SS":[]}`, "An string set  may not be empty"},
		{"empty number set", `{"NS":[]}`, "An number set  may not be empty"},
		{"duplicate strings", `{"SS":["a","a"]}`, "contains duplicates"},
		{"duplicate numbers by value", `{"NS":["1","1.0"]}`, "contains duplicates"},
		{"bad number in set", `{"NS":["1","x"]}`, "cannot be converted"},
		{"nested bad", `{"M":{"a":{"N":"x"}}}`, "cannot be converted"},
		{"number as JSON number", `{"N":1}`, ""},
		{"string as number", `{"S":1}`, ""},
		{"bad base64", `{"B":"!!"}`, ""},
		{"not an object", `"x"`, ""},
		{"truncated", `{"S":"x"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Value
			err := json.Unmarshal([]byte(tt.json), &v)
			if err == nil {
				t.Fatalf("decoded %s as %+v", tt.json, v)
			}
			var ie *Error
			isValidation := errors.As(err, &ie)
			if tt.validation == "" {
				if isValidation {
					t.Errorf("err = %v, want a decoding error", err)
				}
				return
			}
			if !isValidation || !strings.Contains(ie.Msg, tt.validation) {
				t.Errorf("err = %v, want validation error containing %q", err, tt.validation)
			}
		})
	}
}

func TestEqualAndCompare(t *testing.T) {
	tests := []struct {
		name  string
		a, b  Value
		equal bool
		cmp   int
		cmpOK bool
	}{
		{"same string", String("a"), String("a"), true, 0, true},
		{"strings bytewise", String("B"), String("a"), false, -1, true},
		{"numbers by value", Number("1.0"), Number("1"), true, 0, true},
		{"numbers order", Number("-2"), Number("1e-5"), false, -1, true},
		{"numbers 10 > 9", Number("10"), Number("9"), false, 1, true},
		{"binary", Binary([]byte{1}), Binary([]byte{2}), false, -1, true},
		{"string vs number", String("1"), Number("1"), false, 0, false},
		{"bools", Bool(true), Bool(true), true, 0, false},
		{"null", Null(), Null(), true, 0, false},
		{"sets unordered", StringSet("a", "b"), StringSet("b", "a"), true, 0, false},
		{"number sets by value", NumberSet("1", "2"), NumberSet("2.0", "1"), true, 0, false},
		{"sets differ", StringSet("a"), StringSet("a", "b"), false, 0, false},
		{"lists ordered", List(String("a"), String("b")), List(String("b"), String("a")), false, 0, false},
		{"maps deep", Map(map[string]Value{"x": Number("1")}), Map(map[string]Value{"x": Number("1.00")}), true, 0, false},
		{"maps differ", Map(map[string]Value{"x": Number("1")}), Map(map[string]Value{"y": Number("1")}), false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.equal {
				t.Errorf("Equal = %v, want %v", got, tt.equal)
			}
			c, ok := Compare(tt.a, tt.b)
			if ok != tt.cmpOK || (ok && c != tt.cmp) {
				t.Errorf("Compare = %d, %v, want %d, %v", c, ok, tt.cmp, tt.cmpOK)
			}
		})
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		want int
	}{
		{"string bytes", String("héllo"), 6},
		{"number 1 digit", Number("7"), 2},
		{"number 38 digits", Number("12345678901234567890123456789012345678"), 20},
		{"number trailing zeros", Number("1000000"), 2},
		{"binary", Binary(make([]byte, 10)), 10},
		{"bool", Bool(true), 1},
		{"null", Null(), 1},
		{"empty list", List(), 3},
		{"list", List(String("ab"), Null()), 3 + 3 + 2},
		{"map", Map(map[string]Value{"k": String("vv")}), 3 + 1 + 2 + 1},
		{"string set", StringSet("a", "bc"), 3},
		{"number set", NumberSet("1", "22"), 4},
	}
	for _, tt := range tests {
		if got := tt.v.Size(); got != tt.want {
			t.Errorf("%s: Size = %d, want %d", tt.name, got, tt.want)
		}
	}
	it := Item{"LockID": String("b/k"), "n": Number("12")}
	if got, want := it.Size(), 6+3+1+2; got != want {
		t.Errorf("item Size = %d, want %d", got, want)
	}
}

func TestItemValidate(t *testing.T) {
	deep := String("x")
	for range MaxDepth + 1 {
		deep = List(deep)
	}
	okDeep := String("x")
	for range MaxDepth {
		okDeep = List(okDeep)
	}
	tests := []struct {
		name    string
		it      Item
		wantErr string
	}{
		{"ok", Item{"a": String("x")}, ""},
		{"at size limit", Item{"a": String(strings.Repeat("x", MaxItemSize-1))}, ""},
		{"too large", Item{"a": String(strings.Repeat("x", MaxItemSize))}, "Item size has exceeded the maximum allowed size"},
		{"max depth", Item{"a": okDeep}, ""},
		{"too deep", Item{"a": deep}, "Nesting Levels"},
		{"empty set", Item{"a": StringSet()}, "may not be empty"},
	}
	for _, tt := range tests {
		err := tt.it.Validate()
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: Validate = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestSetOps(t *testing.T) {
	u := Union(NumberSet("1", "2"), NumberSet("2.0", "3"))
	if !Equal(u, NumberSet("1", "2", "3")) {
		t.Errorf("Union = %v", u.NS)
	}
	d := Difference(StringSet("a", "b", "c"), StringSet("b", "x"))
	if !slices.Equal(d.SS, []string{"a", "c"}) {
		t.Errorf("Difference = %v", d.SS)
	}
	if !NumberSet("1.0").Contains(Number("1")) || StringSet("a").Contains(Number("1")) {
		t.Error("Contains wrong")
	}
}

func TestClone(t *testing.T) {
	orig := Item{"m": Map(map[string]Value{"l": List(Binary([]byte{1}))})}
	c := orig.Clone()
	c["m"].M["l"].L[0].B[0] = 9
	c["m"].M["x"] = Null()
	if orig["m"].M["l"].L[0].B[0] != 1 || len(orig["m"].M) != 1 {
		t.Error("Clone shares memory with the original")
	}
}
