package iam

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Inputs are plain structs whose fields carry an `iam` tag: the member name on the Query wire,
// then options: a shape name from the shapes table (its constraints), and "required". The same
// tags drive decoding a form (Handler) and validating an input (every exported operation), so a
// caller that does not come through the wire is held to the model too.
//
//	UserName string `iam:"UserName,userName,required"`
//
// Lists are `Name.member.N` (N from 1), structures in lists `Name.member.N.Field`, as the
// Query protocol sends them.

// shape is a member's constraints from the IAM model.
type shape struct {
	min, max int    // string length or list size; max 0 means none
	pattern  string // as the model writes it, for the message
	re       *regexp.Regexp
	enum     []string
	lo, hi   int // integer range, when hi > 0
	secret   bool
	elem     string // a list of scalars: its elements' shape
}

func pat(display, goRE string) (string, *regexp.Regexp) {
	return display, regexp.MustCompile(`^(?:` + goRE + `)$`)
}

func mk(min, max int, display, goRE string) shape {
	s := shape{min: min, max: max}
	if display != "" {
		s.pattern, s.re = pat(display, goRE)
	}
	return s
}

const (
	namePattern   = `[\w+=,.@-]+`
	docPattern    = `[\u0009\u000A\u000D\u0020-\u00FF]+`
	docGoPattern  = `[\x{0009}\x{000A}\x{000D}\x{0020}-\x{00FF}]+`
	pathPattern   = `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`
	pathGoPattern = `(/)|(/[\x{0021}-\x{007E}]+/)`
)

// shapes are the IAM model's string, integer and list constraints, by a short name.
var shapes = map[string]shape{
	"userName":         mk(1, 64, namePattern, namePattern),
	"existingUserName": mk(1, 128, namePattern, namePattern),
	"groupName":        mk(1, 128, namePattern, namePattern),
	"roleName":         mk(1, 64, namePattern, namePattern),
	"policyName":       mk(1, 128, namePattern, namePattern),
	"mfaName":          mk(1, 0, namePattern, namePattern),
	"path":             mk(1, 512, pathPattern, pathGoPattern),
	"pathPrefix":       mk(1, 512, `\u002F[\u0021-\u007F]*`, `/[\x{0021}-\x{007F}]*`),
	"policyPath":       mk(1, 512, `((/[A-Za-z0-9\.,\+@=_-]+)*)/`, `((/[A-Za-z0-9\.,\+@=_-]+)*)/`),
	"policyDocument":   mk(1, 131072, docPattern, docGoPattern),
	"policyDescription": {
		max: 1000,
	},
	"roleDescription": mk(0, 1000, `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`,
		`[\x{0009}\x{000A}\x{000D}\x{0020}-\x{007E}\x{00A1}-\x{00FF}]*`),
	"arn":           {min: 20, max: 2048},
	"marker":        mk(1, 320, `[\u0020-\u00FF]+`, `[\x{0020}-\x{00FF}]+`),
	"maxItems":      {lo: 1, hi: 1000},
	"sessionDur":    {lo: 3600, hi: 43200},
	"tags":          {max: 50},
	"tagKeys":       {max: 50, elem: "tagKey"},
	"actionNames":   {elem: "actionName"},
	"resources":     {elem: "resourceName"},
	"documents":     {elem: "policyDocument"},
	"entityTypes":   {elem: "entityType"},
	"contextValues": {},
	"tagKey":        mk(1, 128, `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`, `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`),
	"tagValue":      mk(0, 256, `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`),
	"accessKeyId":   mk(16, 128, `[\w]+`, `[\w]+`),
	"oidcURL":       {min: 1, max: 255},
	"clientIDs":     {elem: "clientID"},
	"clientID":      {min: 1, max: 255},
	"thumbprints":   {elem: "thumbprint"},
	"thumbprint":    {min: 40, max: 40},
	"statusType":    {enum: []string{"Active", "Inactive", "Expired"}},
	"versionId":     mk(0, 0, `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`, `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`),
	"policyScope":   {enum: []string{"All", "AWS", "Local"}},
	"policyUsage":   {enum: []string{"PermissionsPolicy", "PermissionsBoundary"}},
	"entityType":    {enum: []string{"User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"}},
	"assignment":    {enum: []string{"Assigned", "Unassigned", "Any"}},
	"serialNumber":  mk(9, 256, `[\w+=/:,.@-]+`, `[\w+=/:,.@-]+`),
	"authCode":      mk(6, 6, `[\d]+`, `[\d]+`),
	"password": func() shape {
		s := mk(1, 128, docPattern, docGoPattern)
		s.secret = true
		return s
	}(),
	"actionName":   {min: 3, max: 128},
	"resourceName": {min: 1, max: 2048},
	"resourceOpt":  {min: 1, max: 64},
	"contextKey":   {min: 5, max: 256},
	"contextType": {enum: []string{"string", "stringList", "numeric", "numericList", "boolean", "booleanList",
		"ip", "ipList", "binary", "binaryList", "date", "dateList"}},
}

// maxListMembers bounds a decoded list, so a form cannot make the decoder loop for long.
const maxListMembers = 1000

type fieldTag struct {
	name     string
	shape    string
	required bool
}

func parseTag(tag string) (fieldTag, bool) {
	if tag == "" || tag == "-" {
		return fieldTag{}, false
	}
	parts := strings.Split(tag, ",")
	ft := fieldTag{name: parts[0]}
	for _, p := range parts[1:] {
		if p == "required" {
			ft.required = true
		} else {
			ft.shape = p
		}
	}
	return ft, true
}

// decodeForm fills the struct v points to from a Query form.
func decodeForm(form url.Values, v any) error {
	return decodeStruct(form, "", reflect.ValueOf(v).Elem())
}

func decodeStruct(form url.Values, prefix string, rv reflect.Value) error {
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		ft, ok := parseTag(rt.Field(i).Tag.Get("iam"))
		if !ok {
			continue
		}
		if err := decodeValue(form, prefix+ft.name, rv.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

func decodeValue(form url.Values, key string, fv reflect.Value) error {
	if fv.Kind() == reflect.Slice {
		return decodeList(form, key, fv)
	}
	vals, ok := form[key]
	if !ok || len(vals) == 0 {
		return nil
	}
	raw := vals[0]
	if fv.Kind() == reflect.Pointer {
		p := reflect.New(fv.Type().Elem())
		if err := setScalar(p.Elem(), key, raw); err != nil {
			return err
		}
		fv.Set(p)
		return nil
	}
	return setScalar(fv, key, raw)
}

func setScalar(fv reflect.Value, key, raw string) error {
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", raw, memberName(key))
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 32)
		if err != nil {
			return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a number", raw, memberName(key))
		}
		fv.SetInt(n)
	default:
		return errorf("decode %s: unsupported kind %s", key, fv.Kind())
	}
	return nil
}

func decodeList(form url.Values, key string, fv reflect.Value) error {
	// An empty list is sent as the bare member name with no value.
	_, bare := form[key]
	memberPrefix := key + ".member."
	count := 0
	for k := range form {
		rest, ok := strings.CutPrefix(k, memberPrefix)
		if !ok {
			continue
		}
		idx, _, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 {
			continue
		}
		if n > maxListMembers {
			return errValidation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", memberName(key), maxListMembers)
		}
		count = max(count, n)
	}
	if count == 0 {
		if bare {
			fv.Set(reflect.MakeSlice(fv.Type(), 0, 0))
		}
		return nil
	}
	out := reflect.MakeSlice(fv.Type(), 0, count)
	for n := 1; n <= count; n++ {
		ek := memberPrefix + strconv.Itoa(n)
		ev := reflect.New(fv.Type().Elem()).Elem()
		if ev.Kind() == reflect.Struct {
			if err := decodeStruct(form, ek+".", ev); err != nil {
				return err
			}
		} else if vals, ok := form[ek]; ok && len(vals) > 0 {
			if err := setScalar(ev, ek, vals[0]); err != nil {
				return err
			}
		} else {
			continue // a gap in the numbering
		}
		out = reflect.Append(out, ev)
	}
	fv.Set(out)
	return nil
}

// memberName turns a wire key such as "Tags.member.1.Key" into the name IAM's validation
// messages use: "tags.1.member.key".
func memberName(key string) string {
	parts := strings.Split(key, ".")
	var out []string
	for i := 0; i < len(parts); i++ {
		if parts[i] == "member" && i+1 < len(parts) {
			out = append(out, parts[i+1], "member")
			i++
			continue
		}
		out = append(out, lowerFirst(parts[i]))
	}
	return strings.Join(out, ".")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToLower(string(r)) + s[n:]
}

// validate checks the input v points to against its tags' constraints, and returns every
// violation in one ValidationError as IAM words it.
func validate(v any) error {
	var errs []string
	validateStruct(reflect.ValueOf(v).Elem(), "", &errs)
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errValidation("1 validation error detected: %s", errs[0])
	}
	return errValidation("%d validation errors detected: %s", len(errs), strings.Join(errs, "; "))
}

func validateStruct(rv reflect.Value, prefix string, errs *[]string) {
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		ft, ok := parseTag(rt.Field(i).Tag.Get("iam"))
		if !ok {
			continue
		}
		name := prefix + lowerFirst(ft.name)
		validateValue(rv.Field(i), name, ft, errs)
	}
}

func validateValue(fv reflect.Value, name string, ft fieldTag, errs *[]string) {
	sh, known := shapes[ft.shape]
	if ft.shape != "" && !known {
		panic("iam: unknown shape " + ft.shape) // a tag naming no shape is a programming error
	}
	isNull := func() bool {
		switch fv.Kind() {
		case reflect.Pointer, reflect.Slice:
			return fv.IsNil()
		case reflect.String:
			return fv.Len() == 0
		}
		return false
	}
	if isNull() {
		if ft.required {
			*errs = append(*errs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", name))
		}
		return
	}
	if fv.Kind() == reflect.Pointer {
		fv = fv.Elem()
	}
	switch fv.Kind() {
	case reflect.String:
		checkString(fv.String(), name, sh, errs)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n := int(fv.Int())
		if sh.hi > 0 && n < sh.lo {
			*errs = append(*errs, fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, name, sh.lo))
		} else if sh.hi > 0 && n > sh.hi {
			*errs = append(*errs, fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, name, sh.hi))
		}
	case reflect.Slice:
		if sh.max > 0 && fv.Len() > sh.max {
			*errs = append(*errs, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", name, sh.max))
		}
		for i := 0; i < fv.Len(); i++ {
			ev := fv.Index(i)
			en := fmt.Sprintf("%s.%d.member", name, i+1)
			switch {
			case ev.Kind() == reflect.Struct:
				validateStruct(ev, en+".", errs)
			case sh.elem != "" && ev.Kind() == reflect.String:
				// A member sent empty is there, not null: its length counts.
				checkString(ev.String(), en, shapes[sh.elem], errs)
			case sh.elem != "":
				validateValue(ev, en, fieldTag{shape: sh.elem}, errs)
			}
		}
	}
}

func checkString(s, name string, sh shape, errs *[]string) {
	shown := s
	if sh.secret {
		shown = "******"
	}
	n := utf8.RuneCountInString(s)
	switch {
	case sh.min > 0 && n < sh.min:
		*errs = append(*errs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", shown, name, sh.min))
		return
	case sh.max > 0 && n > sh.max:
		*errs = append(*errs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", shown, name, sh.max))
		return
	}
	if sh.re != nil && !sh.re.MatchString(s) {
		*errs = append(*errs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", shown, name, sh.pattern))
	}
	if sh.enum != nil && !slices.Contains(sh.enum, s) {
		*errs = append(*errs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", shown, name, strings.Join(sh.enum, ", ")))
	}
}

// List is a list member of a response: <Name><member>…</member></Name>. A List field without
// omitempty is written even when empty, as IAM writes its required lists.
type List[T any] []T

// MarshalXML writes l as Query-protocol members.
func (l List[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	member := xml.StartElement{Name: xml.Name{Local: "member"}}
	for i := range l {
		if err := e.EncodeElement(l[i], member); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// Document is a policy document. Responses carry it URL-encoded, as IAM sends documents; the
// CLI decodes them and SDK users call url.QueryUnescape.
type Document string

// MarshalText percent-encodes every byte but the unreserved ones, spaces as %20.
func (d Document) MarshalText() ([]byte, error) {
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(d)*2)
	for i := 0; i < len(d); i++ {
		c := d[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hex[c>>4], hex[c&15])
	}
	return out, nil
}

// SecretBlob is secret binary data on the wire (a virtual MFA device's seed and QR code):
// base64 in XML, and never printed in logs.
type SecretBlob []byte

// MarshalText encodes b as base64, as Query responses carry blobs.
func (b SecretBlob) MarshalText() ([]byte, error) {
	out := make([]byte, base64.StdEncoding.EncodedLen(len(b)))
	base64.StdEncoding.Encode(out, b)
	return out, nil
}

func (SecretBlob) String() string       { return "[redacted]" }
func (SecretBlob) LogValue() slog.Value { return slog.StringValue("[redacted]") }
