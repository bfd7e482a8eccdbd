// Package tfvars reads Terraform variable definition files (.tfvars, .tfvars.json) and writes
// variable values in the form Terraform reads from TF_VAR_ environment variables.
//
// Terraform takes a TF_VAR_ value literally for a variable of type string and parses it as an
// HCL expression for any other type, so a string is kept as it is and every other value
// (number, bool, list, map, object) is written as HCL. Both directions use the HCL library
// Terraform uses, so what a file means here is what it means to Terraform.
package tfvars

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
)

// Variable is one variable of a file: its name and its value as TF_VAR_<Name> carries it.
type Variable struct {
	Name  string
	Value string
}

// Parse reads a variable definitions file; name decides the syntax as Terraform decides it
// (a name ending in .json is JSON, anything else native HCL) and appears in errors. The
// variables come back sorted by name. As in Terraform, a file holds attributes only and
// their values are constants: no references, no function calls.
func Parse(name string, src []byte) ([]Variable, error) {
	var file *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(name, ".json") {
		file, diags = hcljson.Parse(src, name)
	} else {
		file, diags = hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	}
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	attrs, diags := file.Body.JustAttributes()
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	vars := make([]Variable, 0, len(attrs))
	for _, attr := range attrs {
		// A nil context is Terraform's for these files: a reference or a function call is an
		// error, and JSON strings are taken literally.
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, diagError(diags)
		}
		s, err := Format(v)
		if err != nil {
			return nil, fmt.Errorf("%s: variable %q: %w", filepath.Base(name), attr.Name, err)
		}
		vars = append(vars, Variable{Name: attr.Name, Value: s})
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return vars, nil
}

// Format writes a value as a TF_VAR_ variable carries it: a string as itself, anything else
// as an HCL expression. A null or partly unknown value has no such form.
func Format(v cty.Value) (string, error) {
	switch {
	case v.IsNull():
		return "", fmt.Errorf("the value is null, which an environment variable cannot carry")
	case !v.IsWhollyKnown():
		return "", fmt.Errorf("the value is not known")
	case v.Type() == cty.String:
		return v.AsString(), nil
	}
	if err := checkNoNulls(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(string(hclwrite.TokensForValue(v).Bytes())), nil
}

// checkNoNulls refuses a collection with a null inside: HCL writes it as null, which
// Terraform reads back as a null, not as the value the file had.
func checkNoNulls(v cty.Value) error {
	var err error
	_ = cty.Walk(v, func(path cty.Path, v cty.Value) (bool, error) {
		if v.IsNull() && err == nil {
			err = fmt.Errorf("a null inside the value (at %s) cannot be carried", formatPath(path))
		}
		return err == nil, nil
	})
	return err
}

func formatPath(path cty.Path) string {
	var b strings.Builder
	for _, step := range path {
		switch s := step.(type) {
		case cty.GetAttrStep:
			b.WriteString("." + s.Name)
		case cty.IndexStep:
			if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else {
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			}
		}
	}
	return b.String()
}

// List writes a list of strings (an SSM StringList, say) as the HCL list a list(string)
// variable reads.
func List(items []string) string {
	if len(items) == 0 {
		return "[]"
	}
	vals := make([]cty.Value, len(items))
	for i, s := range items {
		vals[i] = cty.StringVal(s)
	}
	return strings.TrimSpace(string(hclwrite.TokensForValue(cty.ListVal(vals)).Bytes()))
}

// diagError joins the error diagnostics into one error, each with its position.
func diagError(diags hcl.Diagnostics) error {
	var msgs []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if d.Subject != nil {
			msg = fmt.Sprintf("%s:%d,%d: %s", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column, msg)
		}
		msgs = append(msgs, msg)
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}
