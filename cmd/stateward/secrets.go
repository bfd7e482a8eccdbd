package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/spf13/cobra"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/tfvars"
)

// ssmBatch is the most names GetParameters and DeleteParameters take in one call.
const ssmBatch = 10

func (m *Main) secretsCommand() *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "secrets",
		Short: "Keep Terraform's secret variables in SSM Parameter Store and run commands with them",
		Long: `Keep Terraform's secret variables in SSM Parameter Store, as SecureStrings under a KMS key,
instead of in .tfvars files: import a .tfvars file once, then run Terraform or OpenTofu with
each parameter of a path as a TF_VAR_ environment variable, set for that command only.

Each variable is one parameter, named <path>/<variable>. A string is stored as it is; a number,
bool, list, map or object as the HCL expression Terraform parses a TF_VAR_ value of that type
from (so declare such variables with their type). These commands use the SSM API with your
AWS credentials, found as the aws CLI finds them (see 'stateward session --help'), so they
work against stateward and against AWS alike.`,
		Example: `  stateward secrets import --path /app/prod --delete prod.tfvars
  stateward secrets exec --path /app/prod -- tofu apply
  stateward secrets ls --path /app/prod
  stateward secrets put --path /app/prod db_password     # the value from a prompt or stdin`,
	}, m)
	f := &awsFlags{}
	f.register(cmd.PersistentFlags())
	cmd.AddCommand(m.secretsImportCommand(f), m.secretsExecCommand(f), m.secretsListCommand(f),
		m.secretsGetCommand(f), m.secretsPutCommand(f), m.secretsRemoveCommand(f))
	return cmd
}

// secretsPath checks a --path: absolute, without a trailing slash (but "/").
func secretsPath(path string) (string, error) {
	if path == "" {
		return "", usageError{errors.New("--path is required")}
	}
	if !strings.HasPrefix(path, "/") {
		return "", usageError{fmt.Errorf("--path must begin with /, not %q", path)}
	}
	if path != "/" {
		path = strings.TrimRight(path, "/")
	}
	return path, nil
}

// parameterName is the parameter a command's NAME argument means: an absolute name as it is,
// else the name under --path.
func parameterName(path, name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return name, nil
	}
	if name == "" || strings.Contains(name, "/") {
		return "", usageError{fmt.Errorf("%q is not a variable name (or an absolute parameter name)", name)}
	}
	path, err := secretsPath(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(path, "/") + "/" + name, nil
}

// baseName is the last element of a parameter name: the variable it holds.
func baseName(name string) string { return name[strings.LastIndex(name, "/")+1:] }

func (m *Main) secretsImportCommand(f *awsFlags) *cobra.Command {
	var path, key string
	var overwrite, del bool
	cmd := &cobra.Command{
		Use:   "import --path PATH [--key KEY] [--overwrite] [--delete] FILE",
		Short: "Store each variable of a .tfvars file as a SecureString parameter",
		Long: `Store each variable of a .tfvars (or .tfvars.json) file as a SecureString parameter
<path>/<variable>, encrypted under --key (a KMS key id, ARN, alias name or alias ARN; without
it, the account's AWS managed key alias/aws/ssm). The file is read as Terraform reads it: a
variable holding a reference or a function call is an error, and nothing is written.

Existing parameters are replaced only with --overwrite; without it, if any exists, nothing is
written. Afterwards every value is read back and compared; then the file holds nothing the
store does not, and --delete removes it (only when every value read back).`,
		Example: `  stateward secrets import --path /app/prod prod.tfvars
  stateward secrets import --path /app/prod --key alias/terraform --overwrite --delete prod.tfvars`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := secretsPath(path)
			if err != nil {
				return err
			}
			file := args[0]
			src, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			vars, err := tfvars.Parse(file, src)
			if err != nil {
				return err
			}
			if len(vars) == 0 {
				return fmt.Errorf("%s defines no variables", file)
			}
			names := make([]string, len(vars))
			for i, v := range vars {
				if names[i], err = parameterName(path, v.Name); err != nil {
					return err
				}
			}
			c, err := m.awsClient(cmd.Context(), f)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if !overwrite {
				found, _, err := getParameters(ctx, c, names, false)
				if err != nil {
					return err
				}
				if len(found) > 0 {
					existing := keysSorted(found)
					return fmt.Errorf("%s already exist(s); nothing was written (--overwrite replaces them)", strings.Join(existing, ", "))
				}
			}
			for i, v := range vars {
				in := &ssm.PutParameterInput{Name: aws.String(names[i]), Value: aws.String(v.Value),
					Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(overwrite)}
				if key != "" {
					in.KeyId = aws.String(key)
				}
				out, err := c.ssm.PutParameter(ctx, in)
				if err != nil {
					return fmt.Errorf("%s: %w (the variables before it were written)", names[i], describe("PutParameter", err))
				}
				fmt.Fprintf(m.Stderr, "%s (version %d)\n", names[i], out.Version)
			}
			// Read back what was written before the file is called redundant.
			found, _, err := getParameters(ctx, c, names, true)
			if err != nil {
				return fmt.Errorf("reading the parameters back: %w", err)
			}
			for i, v := range vars {
				p, ok := found[names[i]]
				if !ok || aws.ToString(p.Value) != v.Value {
					return fmt.Errorf("%s does not read back as written; %s is kept", names[i], file)
				}
			}
			if del {
				if err := os.Remove(file); err != nil {
					return err
				}
				fmt.Fprintf(m.Stderr, "Imported %d variables into %s; every value read back, and %s is deleted.\n", len(vars), path, file)
				return nil
			}
			fmt.Fprintf(m.Stderr, "Imported %d variables into %s; every value read back, so %s may be deleted.\n", len(vars), path, file)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "the parameter `path` to store the variables under (required)")
	cmd.Flags().StringVar(&key, "key", "", "the KMS `key` to encrypt with (default: alias/aws/ssm)")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace parameters that exist (each gets a new version)")
	cmd.Flags().BoolVar(&del, "delete", false, "delete the file once every value reads back")
	return cmd
}

// getParameters reads the named parameters, ten a call, and returns those found by name and
// the names not found.
func getParameters(ctx context.Context, c *awsClient, names []string, decrypt bool) (map[string]types.Parameter, []string, error) {
	found := map[string]types.Parameter{}
	var missing []string
	for i := 0; i < len(names); i += ssmBatch {
		out, err := c.ssm.GetParameters(ctx, &ssm.GetParametersInput{Names: names[i:min(i+ssmBatch, len(names))], WithDecryption: aws.Bool(decrypt)})
		if err != nil {
			return nil, nil, describe("GetParameters", err)
		}
		for _, p := range out.Parameters {
			found[aws.ToString(p.Name)] = p
		}
		missing = append(missing, out.InvalidParameters...)
	}
	return found, missing, nil
}

func keysSorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (m *Main) secretsExecCommand(f *awsFlags) *cobra.Command {
	var paths []string
	cmd := &cobra.Command{
		Use:   "exec --path PATH [--path PATH…] -- command args…",
		Short: "Run a command with each parameter of a path as a TF_VAR_ variable",
		Long: `Run a command with TF_VAR_<name> set to the value of each parameter <path>/<name>
(decrypted; the parameters directly under the path, not deeper). A StringList parameter
becomes an HCL list of strings; every other value is passed as stored. With several --path,
a later path's parameter wins over an earlier one of the same name.

The values live only in the command's environment: nothing is written to disk and nothing
is printed. The command's exit code is this command's. A path without parameters is an
error (a mistyped path would otherwise run Terraform without its secrets).`,
		Example: `  stateward secrets exec --path /app/prod -- tofu apply
  stateward secrets exec --path /app/common --path /app/prod -- terraform plan`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch dash := cmd.ArgsLenAtDash(); {
			case dash < 0 && len(args) > 0:
				return usageError{fmt.Errorf("unexpected argument %q (the command to run goes after --)", args[0])}
			case dash > 0:
				return usageError{fmt.Errorf("unexpected argument %q before -- (the command to run goes after it)", args[0])}
			case len(args) == 0:
				return usageError{errors.New("no command to run: give it after --")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(paths) == 0 {
				return usageError{errors.New("--path is required")}
			}
			for i := range paths {
				p, err := secretsPath(paths[i])
				if err != nil {
					return err
				}
				paths[i] = p
			}
			c, err := m.awsClient(cmd.Context(), f)
			if err != nil {
				return err
			}
			values := map[string]identity.Secret{}
			for _, path := range paths {
				params, err := parametersByPath(cmd.Context(), c, path)
				if err != nil {
					return err
				}
				if len(params) == 0 {
					return fmt.Errorf("no parameters under %s", path)
				}
				for _, p := range params {
					v := aws.ToString(p.Value)
					if p.Type == types.ParameterTypeStringList {
						v = tfvars.List(strings.Split(v, ","))
					}
					values[baseName(aws.ToString(p.Name))] = identity.Secret(v)
				}
			}
			vars := make([]sessionVariable, 0, len(values))
			for _, name := range keysSorted(values) {
				vars = append(vars, sessionVariable{"TF_VAR_" + name, values[name]})
			}
			return m.runWith(args, vars, nil)
		},
	}
	cmd.Flags().StringArrayVar(&paths, "path", nil, "a parameter `path` whose parameters become TF_VAR_ variables (required; repeatable)")
	return cmd
}

// parametersByPath reads, decrypted, every parameter directly under path.
func parametersByPath(ctx context.Context, c *awsClient, path string) ([]types.Parameter, error) {
	var params []types.Parameter
	pages := ssm.NewGetParametersByPathPaginator(c.ssm, &ssm.GetParametersByPathInput{
		Path: aws.String(path), WithDecryption: aws.Bool(true), Recursive: aws.Bool(false)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, describe("GetParametersByPath", err)
		}
		params = append(params, out.Parameters...)
	}
	return params, nil
}

// listedSecret is a parameter as `secrets ls --output json` prints it.
type listedSecret struct {
	Name             string
	Type             string
	Version          int64
	LastModifiedDate time.Time
	LastModifiedUser string `json:",omitempty"`
	KeyId            string `json:",omitempty"`
}

func (m *Main) secretsListCommand(f *awsFlags) *cobra.Command {
	var path, output string
	cmd := &cobra.Command{
		Use:     "ls --path PATH",
		Aliases: []string{"list"},
		Short:   "List the parameters directly under a path (names and versions, not values)",
		Example: `  stateward secrets ls --path /app/prod
  stateward secrets ls --path /app/prod --output json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return usageError{fmt.Errorf("--output must be table or json, not %q", output)}
			}
			path, err := secretsPath(path)
			if err != nil {
				return err
			}
			c, err := m.awsClient(cmd.Context(), f)
			if err != nil {
				return err
			}
			listed := []listedSecret{}
			pages := ssm.NewDescribeParametersPaginator(c.ssm, &ssm.DescribeParametersInput{
				ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Path"), Option: aws.String("OneLevel"), Values: []string{path}}}})
			for pages.HasMorePages() {
				out, err := pages.NextPage(cmd.Context())
				if err != nil {
					return describe("DescribeParameters", err)
				}
				for _, p := range out.Parameters {
					listed = append(listed, listedSecret{Name: aws.ToString(p.Name), Type: string(p.Type), Version: p.Version,
						LastModifiedDate: aws.ToTime(p.LastModifiedDate).UTC(), LastModifiedUser: aws.ToString(p.LastModifiedUser), KeyId: aws.ToString(p.KeyId)})
				}
			}
			sort.Slice(listed, func(i, j int) bool { return listed[i].Name < listed[j].Name })
			if output == "json" {
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "    ")
				return enc.Encode(listed)
			}
			if len(listed) == 0 {
				fmt.Fprintf(m.Stderr, "No parameters under %s.\n", path)
				return nil
			}
			w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tTYPE\tVERSION\tMODIFIED\tBY")
			for _, p := range listed {
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", baseName(p.Name), p.Type, p.Version, p.LastModifiedDate.Format(time.RFC3339), shortARN(p.LastModifiedUser))
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "the parameter `path` to list (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output `format`: table or json")
	return cmd
}

func (m *Main) secretsGetCommand(f *awsFlags) *cobra.Command {
	var path string
	var version int64
	cmd := &cobra.Command{
		Use:   "get [--path PATH] NAME",
		Short: "Print a parameter's decrypted value",
		Long: `Print the decrypted value of the parameter NAME under --path (or of the absolute
parameter name NAME), the newest version or --version.`,
		Example: `  stateward secrets get --path /app/prod db_password
  stateward secrets get /app/prod/db_password --version 2`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := parameterName(path, args[0])
			if err != nil {
				return err
			}
			selector := name
			if version > 0 {
				selector = fmt.Sprintf("%s:%d", name, version)
			}
			c, err := m.awsClient(cmd.Context(), f)
			if err != nil {
				return err
			}
			out, err := c.ssm.GetParameter(cmd.Context(), &ssm.GetParameterInput{Name: aws.String(selector), WithDecryption: aws.Bool(true)})
			if err != nil {
				return describe("GetParameter", err)
			}
			fmt.Fprintln(m.Stdout, aws.ToString(out.Parameter.Value))
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "the parameter `path` NAME is under")
	cmd.Flags().Int64Var(&version, "version", 0, "the `version` to print (default: the newest)")
	return cmd
}

func (m *Main) secretsPutCommand(f *awsFlags) *cobra.Command {
	var path, key, typ string
	cmd := &cobra.Command{
		Use:   "put [--path PATH] [--key KEY] NAME [VALUE]",
		Short: "Store a value as a new version of a parameter",
		Long: `Store a value as a new version of the parameter NAME under --path (or of the absolute
parameter name NAME), creating it if needed: a SecureString under --key (default
alias/aws/ssm), or --type String. Without VALUE, the value is read from a prompt on the
terminal (not echoed), else from stdin (one trailing newline removed), so that it stays out
of the shell's history.`,
		Example: `  stateward secrets put --path /app/prod db_password
  printf %s "$PASSWORD" | stateward secrets put --path /app/prod --key alias/terraform db_password`,
		Args: usageArgs(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := parameterName(path, args[0])
			if err != nil {
				return err
			}
			var ptype types.ParameterType
			switch typ {
			case "SecureString", "String":
				ptype = types.ParameterType(typ)
			default:
				return usageError{fmt.Errorf("--type must be SecureString or String, not %q", typ)}
			}
			var value string
			if len(args) == 2 {
				value = args[1]
			} else if value, err = m.readValue(name); err != nil {
				return err
			}
			c, err := m.awsClient(cmd.Context(), f)
			if err != nil {
				return err
			}
			in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: ptype, Overwrite: aws.Bool(true)}
			if key != "" {
				in.KeyId = aws.String(key)
			}
			out, err := c.ssm.PutParameter(cmd.Context(), in)
			if err != nil {
				return describe("PutParameter", err)
			}
			fmt.Fprintf(m.Stderr, "%s (version %d)\n", name, out.Version)
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "the parameter `path` NAME is under")
	cmd.Flags().StringVar(&key, "key", "", "the KMS `key` to encrypt with (default: alias/aws/ssm)")
	cmd.Flags().StringVar(&typ, "type", "SecureString", "the parameter `type`: SecureString or String")
	return cmd
}

// maxValue bounds what put reads from stdin: more than SSM's largest (advanced) parameter.
const maxValue = 64 << 10

// readValue reads a value to store: from a prompt without echo on a terminal, else all of
// stdin, less one trailing newline.
func (m *Main) readValue(name string) (string, error) {
	if v, ok, err := m.promptHidden("Value for " + name); ok {
		if err != nil {
			return "", fmt.Errorf("reading the value: %w", err)
		}
		return v, nil
	}
	if m.Stdin == nil {
		return "", errors.New("no value: give it as an argument, or on stdin")
	}
	b, err := io.ReadAll(io.LimitReader(m.Stdin, maxValue+1))
	if err != nil {
		return "", fmt.Errorf("reading the value: %w", err)
	}
	if len(b) > maxValue {
		return "", fmt.Errorf("the value on stdin is longer than %d bytes", maxValue)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", errors.New("no value on stdin")
	}
	return s, nil
}

func (m *Main) secretsRemoveCommand(f *awsFlags) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:     "rm [--path PATH] NAME…",
		Aliases: []string{"delete"},
		Short:   "Delete parameters, with all their versions",
		Example: `  stateward secrets rm --path /app/prod db_password api_token`,
		Args:    usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			names := make([]string, len(args))
			for i, a := range args {
				n, err := parameterName(path, a)
				if err != nil {
					return err
				}
				names[i] = n
			}
			c, err := m.awsClient(cmd.Context(), f)
			if err != nil {
				return err
			}
			var missing []string
			for i := 0; i < len(names); i += ssmBatch {
				out, err := c.ssm.DeleteParameters(cmd.Context(), &ssm.DeleteParametersInput{Names: names[i:min(i+ssmBatch, len(names))]})
				if err != nil {
					return describe("DeleteParameters", err)
				}
				for _, n := range out.DeletedParameters {
					fmt.Fprintf(m.Stderr, "deleted %s\n", n)
				}
				missing = append(missing, out.InvalidParameters...)
			}
			if len(missing) > 0 {
				return fmt.Errorf("not found: %s", strings.Join(missing, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "the parameter `path` the names are under")
	return cmd
}
