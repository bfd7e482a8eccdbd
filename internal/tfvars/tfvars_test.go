package tfvars

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, file, src string
		want            []Variable
	}{
		{"strings kept literally", "a.tfvars", `
db_password = "p@ss word \"quoted\" $${not_a_ref} %%{x}"
empty = ""
`, []Variable{{"db_password", `p@ss word "quoted" ${not_a_ref} %{x}`}, {"empty", ""}}},
		{"heredoc", "a.tfvars", "cert = <<EOT\nline one\nline two\nEOT\n", []Variable{{"cert", "line one\nline two\n"}}},
		{"numbers and bools", "a.tfvars", "count = 3\nratio = 0.25\nbig = 12345678901234567890\non = true\n",
			[]Variable{{"big", "12345678901234567890"}, {"count", "3"}, {"on", "true"}, {"ratio", "0.25"}}},
		{"a list", "a.tfvars", `zones = ["a", "b"]`, []Variable{{"zones", `["a", "b"]`}}},
		{"a map", "a.tfvars", `tags = { team = "platform", "cost-center" = "42" }`,
			[]Variable{{"tags", "{\n  cost-center = \"42\"\n  team        = \"platform\"\n}"}}},
		{"nested", "a.tfvars", `db = { users = ["a"], port = 5432, opts = { ssl = true } }`,
			[]Variable{{"db", "{\n  opts = {\n    ssl = true\n  }\n  port  = 5432\n  users = [\"a\"]\n}"}}},
		{"a string inside a list keeps its template characters", "a.tfvars", `x = ["$${a}"]`, []Variable{{"x", `["$${a}"]`}}},
		{"JSON", "a.tfvars.json", `{"db_password": "${literal}", "zones": ["a"], "n": 2}`,
			[]Variable{{"db_password", "${literal}"}, {"n", "2"}, {"zones", `["a"]`}}},
		{"no variables", "a.tfvars", "# nothing\n", []Variable{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.file, []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("variable %d: got %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestValuesReadBack checks the round trip Terraform makes: each non-string value, parsed as
// an HCL expression as Terraform parses a TF_VAR_ value of a complex type, is the file's value.
func TestValuesReadBack(t *testing.T) {
	src := `
zones = ["a", "b\n\"c\"", "$${d}", "%%{e}"]
tags = { "with space" = "x", n = "1" }
db = { users = ["a"], port = 5432, opts = { ssl = true, ratio = 0.5 } }
n = -7
`
	vars, err := Parse("a.tfvars", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	file, diags := hclsyntax.ParseConfig([]byte(src), "a.tfvars", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	attrs, _ := file.Body.JustAttributes()
	for _, v := range vars {
		want, _ := attrs[v.Name].Expr.Value(nil)
		expr, diags := hclsyntax.ParseExpression([]byte(v.Value), v.Name, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s = %s: %v", v.Name, v.Value, diags)
		}
		got, diags := expr.Value(nil)
		if diags.HasErrors() {
			t.Fatalf("%s = %s: %v", v.Name, v.Value, diags)
		}
		if !got.RawEquals(want) {
			t.Errorf("%s: %s reads back as %#v, want %#v", v.Name, v.Value, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file, src, want string
	}{
		{"a reference", "a.tfvars", "x = var.y\n", "a.tfvars:1,5: Variables not allowed"},
		{"a function call", "a.tfvars", `x = upper("a")` + "\n", "a.tfvars:1,5: Function calls not allowed"},
		{"a block", "a.tfvars", "x {\n}\n", "a.tfvars:1,1: Unexpected \"x\" block"},
		{"bad syntax", "a.tfvars", "x = \n", "a.tfvars:1,5: Invalid expression"},
		{"a duplicate", "a.tfvars", "x = 1\nx = 2\n", "a.tfvars:2,1: Attribute redefined"},
		{"null", "a.tfvars", "x = null\n", `variable "x": the value is null`},
		{"null inside", "a.tfvars", "x = { a = [1, null] }\n", `variable "x": a null inside the value (at .a[1])`},
		{"bad JSON", "a.tfvars.json", `{"x": }`, "a.tfvars.json:1,7"},
		{"JSON not an object", "a.tfvars.json", `["x"]`, "a.tfvars.json:1,1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file, []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, "[]"},
		{[]string{"a"}, `["a"]`},
		{[]string{"a b", `"q"`, "${x}"}, `["a b", "\"q\"", "$${x}"]`},
	}
	for _, tt := range tests {
		if got := List(tt.in); got != tt.want {
			t.Errorf("List(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestFormatUnknown(t *testing.T) {
	if _, err := Format(cty.UnknownVal(cty.String)); err == nil {
		t.Fatal("an unknown value was formatted")
	}
}
