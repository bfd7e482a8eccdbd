package expr

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stateward/stateward/internal/dynamodb/item"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func testNames() map[string]string {
	return map[string]string{"#n": "name", "#weird": "x.y", "#info": "Info"}
}

func testValues() map[string]item.Value {
	return map[string]item.Value{
		":s": item.String("x"), ":info": item.String(`{"ID":"1"}`), ":empty": item.String(""),
		":n": item.Number("5"), ":n2": item.Number("10"), ":b": item.Binary([]byte{1, 2}),
		":bool": item.Bool(true), ":null": item.Null(),
		":l": item.List(item.String("z")), ":m": item.Map(map[string]item.Value{"k": item.String("v")}),
		":ss": item.StringSet("a", "b"), ":ns": item.NumberSet("1", "2"),
		":type": item.String("S"), ":badtype": item.String("Q"),
	}
}

func newTestEnv(t testing.TB) *Env {
	env, err := NewEnv(testNames(), testValues())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// parseOne parses src as kind and renders the result or the error.
func parseOne(env *Env, kind, src string) string {
	var (
		out fmt.Stringer
		err error
	)
	switch kind {
	case "cond":
		out, err = env.ParseCondition("ConditionExpression", src)
	case "update":
		out, err = env.ParseUpdate(src)
	case "proj":
		out, err = env.ParseProjection(src)
	case "key":
		var kcs []KeyCondition
		kcs, err = env.ParseKeyCondition(src)
		if err == nil {
			var parts []string
			for _, kc := range kcs {
				vals := make([]string, len(kc.Values))
				for i, v := range kc.Values {
					vals[i] = string(v.AppendJSON(nil))
				}
				parts = append(parts, kc.Attribute+" "+kc.Op+" "+strings.Join(vals, " "))
			}
			return strings.Join(parts, "; ")
		}
	default:
		return "unknown kind " + kind
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return "NON-VALIDATION ERROR: " + err.Error()
		}
		return "error: " + e.Msg
	}
	return out.String()
}

// TestParseGolden parses every case in testdata/parse.txt and compares the canonical
// rendering (or the error message) with testdata/parse.golden. Run with -update to rewrite.
func TestParseGolden(t *testing.T) {
	in, err := os.Open("testdata/parse.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var got strings.Builder
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		kind, src, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		fmt.Fprintf(&got, "%s %q\n\t%s\n", kind, src, parseOne(newTestEnv(t), kind, src))
	}
	const golden = "testdata/parse.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("line %d:\n got: %s\nwant: %s\n(run with -update after checking)", i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("output has %d lines, golden %d", len(gl), len(wl))
	}
}

func mustItem(t testing.TB, js string) item.Item {
	t.Helper()
	var it item.Item
	if err := json.Unmarshal([]byte(js), &it); err != nil {
		t.Fatalf("item %s: %v", js, err)
	}
	return it
}

const evalItem = `{
	"LockID": {"S": "bucket/key"},
	"Info": {"S": "{\"ID\":\"1\"}"},
	"s": {"S": "xylophone"},
	"n": {"N": "5"},
	"big": {"N": "10.0"},
	"b": {"B": "AQID"},
	"t": {"BOOL": true},
	"nil": {"NULL": true},
	"l": {"L": [{"S": "z"}, {"N": "2"}, {"M": {"c": {"S": "x"}}}]},
	"m": {"M": {"k": {"S": "v"}, "inner": {"M": {"deep": {"N": "1"}}}}},
	"ss": {"SS": ["a", "b", "c"]},
	"ns": {"NS": ["1", "2"]},
	"x.y": {"S": "x"},
	"name": {"M": {"name": {"S": "x"}}}
}`

func TestConditionEval(t *testing.T) {
	it := mustItem(t, evalItem)
	tests := []struct {
		expr string
		want bool
	}{
		{"attribute_not_exists(LockID)", false},
		{"attribute_not_exists(Other)", true},
		{"attribute_exists(LockID)", true},
		{"attribute_exists(m.inner.deep)", true},
		{"attribute_exists(m.inner.none)", false},
		{"attribute_exists(l[2].c)", true},
		{"attribute_exists(l[3])", false},
		{"attribute_exists(s[0])", false},
		{"Info = :info", true},
		{"#info = :info", true},
		{"Info = :s", false},
		{"Info <> :s", true},
		{"missing <> :s", true},
		{"missing = :s", false},
		{"missing < :n", false},
		{"n = :n", true},
		{"big = :n2", true}, // numbers by value: 10.0 = 10
		{"n < :n2", true},
		{"n <= :n", true},
		{"n > :n", false},
		{"n >= :n", true},
		{"s > :s", true}, // "xylophone" > "x"
		{"s < :n", false},
		{"n BETWEEN :n AND :n2", true},
		{"big BETWEEN :n AND :n2", true},
		{"s BETWEEN :n AND :n2", false},
		{"n IN (:s, :n)", true},
		{"n IN (:s, :n2)", false},
		{"begins_with(s, :s)", true},
		{"begins_with(s, :empty)", true},
		{"begins_with(n, :s)", false},
		{"contains(s, :s)", true},
		{"contains(ss, :s)", false},
		{"contains(l, :s)", false},
		{"contains(ns, :n)", false},
		{"size(s) = :n", false},
		{"size(ss) < :n", true},
		{"size(l) > :n", false},
		{"size(n) = :n", false},
		{"size(missing) = :n", false},
		{"attribute_type(s, :type)", true},
		{"attribute_type(n, :type)", false},
		{"#weird = :s", true},
		{"#n.#n = :s", true},
		{"t = :bool", true},
		{"nil = :null", true},
		{"l[0] = :s", false},
		{"m = :m", false},
		{"s = s", true},
		{"n = big", false},
		{"NOT attribute_exists(LockID)", false},
		{"attribute_exists(LockID) AND Info = :info", true},
		{"attribute_exists(LockID) AND Info = :s", false},
		{"attribute_not_exists(LockID) OR Info = :info", true},
		{"NOT n = :s AND n = :n", true},
		{"n = :s AND n = :n OR n = :n", true},
		{"n = :s AND (n = :n OR n = :n)", false},
		{"ss = :ss", false},
	}
	for _, tt := range tests {
		env := newTestEnv(t)
		c, err := env.ParseCondition("ConditionExpression", tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if got := c.Eval(it); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
		}
	}
	// Against an absent item only attribute_not_exists and <> hold.
	for _, expr := range []string{"attribute_not_exists(LockID)", "Info <> :info", "NOT attribute_exists(a)"} {
		c, err := newTestEnv(t).ParseCondition("ConditionExpression", expr)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Eval(nil) {
			t.Errorf("%s on absent item = false", expr)
		}
	}
	// Value types in contains and sets.
	it2 := mustItem(t, `{"ss":{"SS":["x","y"]},"ns":{"NS":["5"]},"l":{"L":[{"N":"5.0"}]},"b":{"B":"AQID"}}`)
	for _, tt := range []struct {
		expr string
		vals map[string]item.Value
		want bool
	}{
		{"contains(ss, :v)", map[string]item.Value{":v": item.String("x")}, true},
		{"contains(ns, :v)", map[string]item.Value{":v": item.Number("5.00")}, true},
		{"contains(l, :v)", map[string]item.Value{":v": item.Number("5")}, true},
		{"contains(b, :v)", map[string]item.Value{":v": item.Binary([]byte{2, 3})}, true},
		{"begins_with(b, :v)", map[string]item.Value{":v": item.Binary([]byte{1})}, true},
		{"begins_with(b, :v)", map[string]item.Value{":v": item.String("\x01")}, false},
	} {
		env, _ := NewEnv(nil, tt.vals)
		c, err := env.ParseCondition("ConditionExpression", tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Eval(it2); got != tt.want {
			t.Errorf("%s with %v = %v, want %v", tt.expr, tt.vals, got, tt.want)
		}
	}
}

func TestUpdateApply(t *testing.T) {
	base := `{"k":{"S":"key"},"n":{"N":"5"},"s":{"S":"x"},"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"}]},` +
		`"m":{"M":{"a":{"S":"1"},"list":{"L":[]}}},"ss":{"SS":["a","b"]},"ns":{"NS":["1"]}}`
	tests := []struct {
		name    string
		expr    string
		vals    string
		want    string // changed attributes only, as JSON; other attributes must be unchanged
		removed []string
		wantErr string
	}{
		{name: "set new", expr: "SET x = :v", vals: `{":v":{"S":"new"}}`, want: `{"x":{"S":"new"}}`},
		{name: "set replace", expr: "SET s = :v", vals: `{":v":{"N":"1"}}`, want: `{"s":{"N":"1"}}`},
		{name: "set plus", expr: "SET n = n + :v", vals: `{":v":{"N":"1.5"}}`, want: `{"n":{"N":"6.5"}}`},
		{name: "set minus", expr: "SET x = :v - n", vals: `{":v":{"N":"1"}}`, want: `{"x":{"N":"-4"}}`},
		{name: "copy attribute", expr: "SET x = s", want: `{"x":{"S":"x"}}`},
		{name: "swap reads old values", expr: "SET s = n, n = s", want: `{"s":{"N":"5"},"n":{"S":"x"}}`},
		{name: "if_not_exists missing", expr: "SET c = if_not_exists(c, :z) + :one", vals: `{":z":{"N":"0"},":one":{"N":"1"}}`, want: `{"c":{"N":"1"}}`},
		{name: "if_not_exists present", expr: "SET n = if_not_exists(n, :z)", vals: `{":z":{"N":"0"}}`, want: `{}`},
		{name: "list_append", expr: "SET l = list_append(l, :v)", vals: `{":v":{"L":[{"N":"4"}]}}`, want: `{"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"},{"N":"4"}]}}`},
		{name: "list_prepend", expr: "SET m.list = list_append(:v, m.list)", vals: `{":v":{"L":[{"S":"p"}]}}`, want: `{"m":{"M":{"a":{"S":"1"},"list":{"L":[{"S":"p"}]}}}}`},
		{name: "list_append if_not_exists", expr: "SET q = list_append(if_not_exists(q, :e), :v)", vals: `{":e":{"L":[]},":v":{"L":[{"S":"p"}]}}`, want: `{"q":{"L":[{"S":"p"}]}}`},
		{name: "nested set", expr: "SET m.b = :v", vals: `{":v":{"S":"2"}}`, want: `{"m":{"M":{"a":{"S":"1"},"b":{"S":"2"},"list":{"L":[]}}}}`},
		{name: "list index set", expr: "SET l[1] = :v", vals: `{":v":{"S":"one"}}`, want: `{"l":{"L":[{"N":"0"},{"S":"one"},{"N":"2"},{"N":"3"}]}}`},
		{name: "list index past end appends", expr: "SET l[10] = :v", vals: `{":v":{"S":"end"}}`, want: `{"l":{"L":[{"N":"0"},{"N":"1"},{"N":"2"},{"N":"3"},{"S":"end"}]}}`},
		{name: "remove", expr: "REMOVE s, missing", removed: []string{"s"}, want: `{}`},
		{name: "remove nested", expr: "REMOVE m.a", want: `{"m":{"M":{"list":{"L":[]}}}}`},
		{name: "remove list elements", expr: "REMOVE l[0], l[2]", want: `{"l":{"L":[{"N":"1"},{"N":"3"}]}}`},
		{name: "remove list out of range", expr: "REMOVE l[9]", want: `{}`},
		{name: "add number", expr: "ADD n :v", vals: `{":v":{"N":"-5"}}`, want: `{"n":{"N":"0"}}`},
		{name: "add new number", expr: "ADD c :v", vals: `{":v":{"N":"3"}}`, want: `{"c":{"N":"3"}}`},
		{name: "add set", expr: "ADD ss :v", vals: `{":v":{"SS":["b","c"]}}`, want: `{"ss":{"SS":["a","b","c"]}}`},
		{name: "add new set", expr: "ADD t :v", vals: `{":v":{"NS":["7"]}}`, want: `{"t":{"NS":["7"]}}`},
		{name: "delete from set", expr: "DELETE ss :v", vals: `{":v":{"SS":["a","z"]}}`, want: `{"ss":{"SS":["b"]}}`},
		{name: "delete last members removes", expr: "DELETE ns :v", vals: `{":v":{"NS":["1.0"]}}`, removed: []string{"ns"}, want: `{}`},
		{name: "delete from missing", expr: "DELETE zz :v", vals: `{":v":{"SS":["a"]}}`, want: `{}`},
		{name: "all clauses", expr: "SET a = :v REMOVE s ADD n :one DELETE ss :d", vals: `{":v":{"S":"A"},":one":{"N":"1"},":d":{"SS":["a"]}}`,
			removed: []string{"s"}, want: `{"a":{"S":"A"},"n":{"N":"6"},"ss":{"SS":["b"]}}`},
		{name: "plus on string", expr: "SET s = s + :v", vals: `{":v":{"N":"1"}}`, wantErr: "incorrect data type"},
		{name: "plus on missing", expr: "SET z = z + :v", vals: `{":v":{"N":"1"}}`, wantErr: "does not exist in the item"},
		{name: "list_append on string", expr: "SET s = list_append(s, :v)", vals: `{":v":{"L":[]}}`, wantErr: "incorrect data type"},
		{name: "nested under missing", expr: "SET nope.a = :v", vals: `{":v":{"S":"1"}}`, wantErr: "document path provided in the update expression is invalid"},
		{name: "nested under scalar", expr: "SET s.a = :v", vals: `{":v":{"S":"1"}}`, wantErr: "document path provided in the update expression is invalid"},
		{name: "index on map", expr: "SET m[0] = :v", vals: `{":v":{"S":"1"}}`, wantErr: "document path provided in the update expression is invalid"},
		{name: "add set to number", expr: "ADD n :v", vals: `{":v":{"SS":["a"]}}`, wantErr: "incorrect data type"},
		{name: "delete wrong set type", expr: "DELETE ss :v", vals: `{":v":{"NS":["1"]}}`, wantErr: "incorrect data type"},
		{name: "number overflow", expr: "SET n = :v + :v", vals: `{":v":{"N":"9E+125"}}`, wantErr: "Number overflow"},
		{name: "too many digits", expr: "SET n = n + :v", vals: `{":v":{"N":"1E+100"}}`, wantErr: "38 significant digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var vals map[string]item.Value
			if tt.vals != "" {
				if err := json.Unmarshal([]byte(tt.vals), &vals); err != nil {
					t.Fatal(err)
				}
			}
			env, err := NewEnv(nil, vals)
			if err != nil {
				t.Fatal(err)
			}
			u, err := env.ParseUpdate(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if err := env.CheckUnused(); err != nil {
				t.Fatal(err)
			}
			old := mustItem(t, base)
			got, err := u.Apply(old)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalItems(old, mustItem(t, base)) {
				t.Error("Apply modified its input")
			}
			want := mustItem(t, base)
			for k, v := range mustItem(t, tt.want) {
				want[k] = v
			}
			for _, k := range tt.removed {
				delete(want, k)
			}
			if !equalItems(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

func equalItems(a, b item.Item) bool { return item.Equal(item.Map(a), item.Map(b)) }

func TestProjectionApply(t *testing.T) {
	it := mustItem(t, evalItem)
	tests := []struct{ expr, want string }{
		{"LockID, Info", `{"Info":{"S":"{\"ID\":\"1\"}"},"LockID":{"S":"bucket/key"}}`},
		{"LockID, Digest", `{"LockID":{"S":"bucket/key"}}`},
		{"missing", `{}`},
		{"m.k", `{"m":{"M":{"k":{"S":"v"}}}}`},
		{"m.inner.deep, m.k", `{"m":{"M":{"inner":{"M":{"deep":{"N":"1"}}},"k":{"S":"v"}}}}`},
		{"l[2].c, l[0]", `{"l":{"L":[{"S":"z"},{"M":{"c":{"S":"x"}}}]}}`},
		{"l[7]", `{}`},
		{"s.x", `{}`},
		{"#weird", `{"x.y":{"S":"x"}}`},
	}
	for _, tt := range tests {
		p, err := newTestEnv(t).ParseProjection(tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		got := p.Apply(it)
		if want := mustItem(t, tt.want); !equalItems(got, want) {
			g, _ := json.Marshal(got)
			t.Errorf("%s = %s, want %s", tt.expr, g, tt.want)
		}
	}
	if got := NewProjection([]string{"LockID", "nope"}).Apply(it); len(got) != 1 {
		t.Errorf("NewProjection: %v", got)
	}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name    string
		names   map[string]string
		values  map[string]item.Value
		exprs   []string // conditions parsed with the env
		wantErr string
	}{
		{name: "all used", names: map[string]string{"#a": "a"}, values: map[string]item.Value{":v": item.String("x")},
			exprs: []string{"#a = :v"}},
		{name: "unused value", values: map[string]item.Value{":v": item.String("x"), ":x": item.String("y")},
			exprs: []string{"a = :v"}, wantErr: "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"},
		{name: "unused values sorted", values: map[string]item.Value{":v": item.String("x"), ":z": item.Null(), ":b": item.Null()},
			exprs: []string{"a = :v"}, wantErr: "unused in expressions: keys: {:b, :z}"},
		{name: "unused name", names: map[string]string{"#a": "a", "#b": "b"},
			exprs: []string{"#a = c"}, wantErr: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"},
		{name: "used across expressions", values: map[string]item.Value{":v": item.String("x"), ":w": item.String("y")},
			exprs: []string{"a = :v", "b = :w"}},
		{name: "empty names", names: map[string]string{}, wantErr: "ExpressionAttributeNames must not be empty"},
		{name: "empty values", values: map[string]item.Value{}, wantErr: "ExpressionAttributeValues must not be empty"},
		{name: "bad value key", values: map[string]item.Value{"v": item.Null()}, wantErr: `ExpressionAttributeValues contains invalid key: Syntax error; key: "v"`},
		{name: "bad name key", names: map[string]string{"a": "a"}, wantErr: `ExpressionAttributeNames contains invalid key: Syntax error; key: "a"`},
		{name: "empty name value", names: map[string]string{"#a": ""}, wantErr: "Empty attribute name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := NewEnv(tt.names, tt.values)
			if err == nil {
				for _, e := range tt.exprs {
					if _, err = env.ParseCondition("ConditionExpression", e); err != nil {
						break
					}
				}
			}
			if err == nil {
				err = env.CheckUnused()
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestExpressionTooLong(t *testing.T) {
	long := "a = :s" + strings.Repeat(" ", MaxExpressionSize)
	_, err := newTestEnv(t).ParseCondition("ConditionExpression", long)
	if err == nil || !strings.Contains(err.Error(), "Expression size has exceeded the maximum allowed size") {
		t.Errorf("err = %v", err)
	}
	// Deep nesting within the size limit parses without trouble.
	deep := strings.Repeat("(", 1000) + "a = :s" + strings.Repeat(")", 1000)
	if _, err := newTestEnv(t).ParseCondition("ConditionExpression", deep); err != nil {
		t.Error(err)
	}
}

func TestConditionPaths(t *testing.T) {
	c, err := newTestEnv(t).ParseCondition("FilterExpression", "a.b = :s AND (size(c) > :n OR contains(d[1], :s)) AND e IN (:s, f)")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.Paths() {
		got = append(got, p.String())
	}
	if want := "[a, b] [c] [d, [1]] [e] [f]"; strings.Join(got, " ") != want {
		t.Errorf("Paths = %v, want %s", got, want)
	}
}

// FuzzParse feeds arbitrary text to every parser and evaluates what parses: nothing may panic.
func FuzzParse(f *testing.F) {
	in, err := os.ReadFile("testdata/parse.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(in), "\n") {
		if _, src, ok := strings.Cut(line, "\t"); ok {
			f.Add(src)
		}
	}
	it := mustItem(f, evalItem)
	f.Fuzz(func(t *testing.T, src string) {
		if c, err := newTestEnv(t).ParseCondition("ConditionExpression", src); err == nil {
			c.Eval(it)
			c.Eval(nil)
			_ = c.String()
			_ = c.Paths()
		} else if !isExprError(err) {
			t.Fatalf("condition %q: non-validation error %v", src, err)
		}
		if u, err := newTestEnv(t).ParseUpdate(src); err == nil {
			_, _ = u.Apply(it)
			_, _ = u.Apply(nil)
			_ = u.String()
		} else if !isExprError(err) {
			t.Fatalf("update %q: non-validation error %v", src, err)
		}
		if p, err := newTestEnv(t).ParseProjection(src); err == nil {
			p.Apply(it)
			_ = p.String()
		} else if !isExprError(err) {
			t.Fatalf("projection %q: non-validation error %v", src, err)
		}
		if _, err := newTestEnv(t).ParseKeyCondition(src); err != nil && !isExprError(err) {
			t.Fatalf("key condition %q: non-validation error %v", src, err)
		}
	})
}

func isExprError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
