package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// stmt wraps statement members into a 2012-10-17 document.
func stmt(members string) string {
	return `{"Version":"2012-10-17","Statement":{` + members + `}}`
}

func TestParseErrors(t *testing.T) {
	const (
		allow = `"Effect":"Allow","Action":"s3:GetObject","Resource":"*"`
		trust = `"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"`
		res   = `"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`
	)
	tests := []struct {
		name string
		kind Kind
		text string
		want string
	}{
		{"not JSON", IdentityKind, `{"Version":`, "Syntax errors in policy."},
		{"empty text", IdentityKind, ``, "Syntax errors in policy."},
		{"top level not an object", IdentityKind, `["Statement"]`, "Syntax errors in policy."},
		{"trailing data", IdentityKind, stmt(allow) + `{}`, "Syntax errors in policy."},
		{"unknown kind", Kind(7), stmt(allow), "Syntax errors in policy. Unknown policy kind Kind(7)."},
		{"bad version", IdentityKind, `{"Version":"2012-10-18","Statement":{` + allow + `}}`, "The policy failed legacy parsing"},
		{"version not a string", IdentityKind, `{"Version":2012,"Statement":{` + allow + `}}`, "The policy failed legacy parsing"},
		{"Id not a string", IdentityKind, `{"Id":1,"Statement":{` + allow + `}}`, "Syntax errors in policy. Id must be a string."},
		{"unknown top-level field", IdentityKind, `{"Version":"2012-10-17","Statment":[],"Statement":{` + allow + `}}`, "Syntax errors in policy. Unknown field Statment."},
		{"duplicate top-level field", IdentityKind, `{"Version":"2012-10-17","Version":"2012-10-17","Statement":{` + allow + `}}`, "Syntax errors in policy. Duplicate field Version."},
		{"no Statement", IdentityKind, `{"Version":"2012-10-17"}`, "Missing required field Statement"},
		{"empty Statement list", IdentityKind, `{"Version":"2012-10-17","Statement":[]}`, "Missing required field Statement"},
		{"Statement a string", IdentityKind, `{"Version":"2012-10-17","Statement":"x"}`, "Syntax errors in policy. Statement must be an object or a list of objects."},
		{"statement not an object", IdentityKind, `{"Version":"2012-10-17","Statement":["x"]}`, "Syntax errors in policy. Statement must be an object."},
		{"unknown statement field", IdentityKind, stmt(allow + `,"Conditions":{}`), "Syntax errors in policy. Unknown field Conditions."},
		{"duplicate statement field", IdentityKind, stmt(allow + `,"Effect":"Deny"`), "Syntax errors in policy. Duplicate field Effect."},
		{"missing Effect", IdentityKind, stmt(`"Action":"s3:GetObject","Resource":"*"`), "Missing required field Effect"},
		{"lower-case effect", IdentityKind, stmt(`"Effect":"allow","Action":"s3:GetObject","Resource":"*"`), "Invalid effect: allow"},
		{"effect not a string", IdentityKind, stmt(`"Effect":true,"Action":"s3:GetObject","Resource":"*"`), "Invalid effect: true"},
		{"Sid not a string", IdentityKind, stmt(`"Sid":1,` + allow), "Syntax errors in policy. Sid must be a string."},
		{"Sid with spaces in an IAM policy", IdentityKind, stmt(`"Sid":"a b",` + allow), "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
		{"duplicate Sids in an IAM policy", IdentityKind, `{"Statement":[{"Sid":"A",` + allow + `},{"Sid":"A",` + allow + `}]}`, "Statement IDs (SID) in a single policy must be unique."},
		{"no Action", IdentityKind, stmt(`"Effect":"Allow","Resource":"*"`), "Policy statement must contain actions."},
		{"empty Action list", IdentityKind, stmt(`"Effect":"Allow","Action":[],"Resource":"*"`), "Policy statement must contain actions."},
		{"Action not a string", IdentityKind, stmt(`"Effect":"Allow","Action":[1],"Resource":"*"`), "Policy statement must contain actions."},
		{"Action and NotAction", IdentityKind, stmt(allow + `,"NotAction":"iam:*"`), "Syntax errors in policy. Statement has both Action and NotAction."},
		{"action without vendor", IdentityKind, stmt(`"Effect":"Allow","Action":"GetObject","Resource":"*"`), msgVendor},
		{"action with empty vendor", IdentityKind, stmt(`"Effect":"Allow","Action":":GetObject","Resource":"*"`), msgVendor},
		{"action with a wildcard vendor", IdentityKind, stmt(`"Effect":"Allow","Action":"s3*:GetObject","Resource":"*"`), msgVendor},
		{"action with two colons", IdentityKind, stmt(`"Effect":"Allow","Action":"s3:Get:Object","Resource":"*"`), "Actions/Condition can contain only one colon."},
		{"action with no name", IdentityKind, stmt(`"Effect":"Allow","Action":"s3:","Resource":"*"`), `Syntax errors in policy. Invalid action "s3:".`},
		{"no Resource", IdentityKind, stmt(`"Effect":"Allow","Action":"s3:GetObject"`), "Policy statement must contain resources."},
		{"empty Resource list", IdentityKind, stmt(`"Effect":"Allow","Action":"s3:GetObject","Resource":[]`), "Policy statement must contain resources."},
		{"Resource and NotResource", IdentityKind, stmt(allow + `,"NotResource":"*"`), "Syntax errors in policy. Statement has both Resource and NotResource."},
		{"resource not an ARN", IdentityKind, stmt(`"Effect":"Allow","Action":"s3:GetObject","Resource":"bucket/*"`), `Resource bucket/* must be in ARN format or "*".`},
		{"NotResource not an ARN", IdentityKind, stmt(`"Effect":"Allow","Action":"s3:GetObject","NotResource":["*","b"]`), `Resource b must be in ARN format or "*".`},
		{"principal in an identity policy", IdentityKind, stmt(allow + `,"Principal":"*"`), "Policy document should not specify a principal."},
		{"NotPrincipal in an identity policy", IdentityKind, stmt(allow + `,"NotPrincipal":{"AWS":"*"}`), "Policy document should not specify a principal."},
		{"Resource in a trust policy", TrustKind, stmt(trust + `,"Resource":"*"`), "Has prohibited field Resource"},
		{"NotResource in a trust policy", TrustKind, stmt(trust + `,"NotResource":"*"`), "Has prohibited field NotResource"},
		{"NotPrincipal in a trust policy", TrustKind, stmt(`"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"`), "Has prohibited field NotPrincipal"},
		{"no Principal in a trust policy", TrustKind, stmt(`"Effect":"Allow","Action":"sts:AssumeRole"`), "Missing required field Principal"},
		{"no Principal in a bucket policy", ResourceKind, stmt(allow), "Missing required field Principal"},
		{"no Resource in a bucket policy", ResourceKind, stmt(`"Effect":"Allow","Principal":"*","Action":"s3:GetObject"`), "Policy statement must contain resources."},
		{"Principal and NotPrincipal", ResourceKind, stmt(res + `,"NotPrincipal":"*"`), "Syntax errors in policy. Statement has both Principal and NotPrincipal."},
		{"principal string not star", ResourceKind, stmt(`"Effect":"Allow","Principal":"111122223333","Action":"s3:*","Resource":"*"`), `Invalid principal in policy: "111122223333"`},
		{"principal a number", ResourceKind, stmt(`"Effect":"Allow","Principal":1,"Action":"s3:*","Resource":"*"`), "Syntax errors in policy."},
		{"empty principal object", ResourceKind, stmt(`"Effect":"Allow","Principal":{},"Action":"s3:*","Resource":"*"`), "Invalid principal in policy: {}"},
		{"unknown principal type", ResourceKind, stmt(`"Effect":"Allow","Principal":{"User":"bob"},"Action":"s3:*","Resource":"*"`), `Invalid principal in policy: "User"`},
		{"AWS principal not an ARN", ResourceKind, stmt(`"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:*","Resource":"*"`), `Invalid principal in policy: "AWS":"bob"`},
		{"AWS principal with a wildcard", ResourceKind, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"s3:*","Resource":"*"`), `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/*"`},
		{"AWS principal a group", ResourceKind, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/admins"},"Action":"s3:*","Resource":"*"`), `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:group/admins"`},
		{"AWS principal short account", ResourceKind, stmt(`"Effect":"Allow","Principal":{"AWS":"11112222333"},"Action":"s3:*","Resource":"*"`), `Invalid principal in policy: "AWS":"11112222333"`},
		{"AWS principal empty list", ResourceKind, stmt(`"Effect":"Allow","Principal":{"AWS":[]},"Action":"s3:*","Resource":"*"`), `Invalid principal in policy: "AWS":[]`},
		{"Service principal empty", ResourceKind, stmt(`"Effect":"Allow","Principal":{"Service":""},"Action":"s3:*","Resource":"*"`), `Invalid principal in policy: "Service":""`},
		{"Condition not an object", IdentityKind, stmt(allow + `,"Condition":[]`), "Syntax errors in policy. Condition must be an object."},
		{"unknown condition operator", IdentityKind, stmt(allow + `,"Condition":{"StringEqual":{"aws:username":"a"}}`), "Syntax errors in policy. Unknown condition operator StringEqual."},
		{"unknown operator with an empty block", IdentityKind, stmt(allow + `,"Condition":{"Foo":{}}`), "Syntax errors in policy. Unknown condition operator Foo."},
		{"operator name is case-sensitive", IdentityKind, stmt(allow + `,"Condition":{"stringequals":{"aws:username":"a"}}`), "Syntax errors in policy. Unknown condition operator stringequals."},
		{"condition key as operator", IdentityKind, stmt(allow + `,"Condition":{"servicecatalog:accountLevel":"self"}`), "Syntax errors in policy. Unknown condition operator servicecatalog:accountLevel."},
		{"NullIfExists", IdentityKind, stmt(allow + `,"Condition":{"NullIfExists":{"aws:username":"true"}}`), "Syntax errors in policy. Unknown condition operator NullIfExists."},
		{"set qualifier on Null", IdentityKind, stmt(allow + `,"Condition":{"ForAnyValue:Null":{"aws:username":"true"}}`), "Syntax errors in policy. Unknown condition operator ForAnyValue:Null."},
		{"unknown set qualifier", IdentityKind, stmt(allow + `,"Condition":{"ForSomeValues:StringEquals":{"aws:username":"a"}}`), "Syntax errors in policy. Unknown condition operator ForSomeValues:StringEquals."},
		{"operator value not an object", IdentityKind, stmt(allow + `,"Condition":{"StringEquals":"a"}`), "Syntax errors in policy. Condition operator StringEquals must hold an object."},
		{"condition key without vendor", IdentityKind, stmt(allow + `,"Condition":{"StringEquals":{"username":"a"}}`), msgVendor},
		{"condition key with a space in its vendor", IdentityKind, stmt(allow + `,"Condition":{"StringEquals":{"a b:sub":"a"}}`), msgVendor},
		{"condition key with empty vendor", IdentityKind, stmt(allow + `,"Condition":{"StringEquals":{":sub":"a"}}`), msgVendor},
		{"condition key with empty name", IdentityKind, stmt(allow + `,"Condition":{"StringEquals":{"aws:":"a"}}`), msgVendor},
		{"duplicate condition key", IdentityKind, stmt(allow + `,"Condition":{"StringEquals":{"aws:username":"a","aws:username":"b"}}`), "Syntax errors in policy. Duplicate field aws:username."},
		{"duplicate operator", IdentityKind, stmt(allow + `,"Condition":{"Bool":{"aws:SecureTransport":"true"},"Bool":{"aws:SecureTransport":"true"}}`), "Syntax errors in policy. Duplicate field Bool."},
		{"empty condition value list", IdentityKind, stmt(allow + `,"Condition":{"StringEquals":{"aws:username":[]}}`), "Syntax errors in policy. Condition StringEquals has no values for aws:username."},
		{"null condition value", IdentityKind, stmt(allow + `,"Condition":{"StringEquals":{"aws:username":null}}`), "Syntax errors in policy. Condition values must be strings, numbers or booleans."},
		{"object condition value", IdentityKind, stmt(allow + `,"Condition":{"StringEquals":{"aws:username":[{}]}}`), "Syntax errors in policy. Condition values must be strings, numbers or booleans."},
		{"bad number", IdentityKind, stmt(allow + `,"Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}`), `Syntax errors in policy. Invalid value "ten" for condition operator NumericLessThan.`},
		{"NaN is not a number", IdentityKind, stmt(allow + `,"Condition":{"NumericEquals":{"s3:max-keys":"NaN"}}`), `Syntax errors in policy. Invalid value "NaN" for condition operator NumericEquals.`},
		{"hex is not a number", IdentityKind, stmt(allow + `,"Condition":{"NumericEquals":{"s3:max-keys":"0x10"}}`), `Syntax errors in policy. Invalid value "0x10" for condition operator NumericEquals.`},
		{"variable in a numeric value", IdentityKind, stmt(allow + `,"Condition":{"NumericEquals":{"s3:max-keys":"${aws:x}"}}`), `Syntax errors in policy. Invalid value "${aws:x}" for condition operator NumericEquals.`},
		{"bad date", IdentityKind, stmt(allow + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}`), `Syntax errors in policy. Invalid value "tomorrow" for condition operator DateLessThan.`},
		{"bad month", IdentityKind, stmt(allow + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"2024-13-01"}}`), `Syntax errors in policy. Invalid value "2024-13-01" for condition operator DateLessThan.`},
		{"bad boolean", IdentityKind, stmt(allow + `,"Condition":{"Bool":{"aws:SecureTransport":"yes"}}`), `Syntax errors in policy. Invalid value "yes" for condition operator Bool.`},
		{"bad base64", IdentityKind, stmt(allow + `,"Condition":{"BinaryEquals":{"custom:b":"not base64!"}}`), `Syntax errors in policy. Invalid value "not base64!" for condition operator BinaryEquals.`},
		{"bad address", IdentityKind, stmt(allow + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.300"}}`), `Syntax errors in policy. Invalid value "10.0.0.300" for condition operator IpAddress.`},
		{"bad prefix length", IdentityKind, stmt(allow + `,"Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/33"}}`), `Syntax errors in policy. Invalid value "10.0.0.0/33" for condition operator NotIpAddress.`},
		{"address with a zone", IdentityKind, stmt(allow + `,"Condition":{"IpAddress":{"aws:SourceIp":"fe80::1%eth0"}}`), `Syntax errors in policy. Invalid value "fe80::1%eth0" for condition operator IpAddress.`},
		{"bad Null value", IdentityKind, stmt(allow + `,"Condition":{"Null":{"aws:TokenIssueTime":"yes"}}`), `Syntax errors in policy. Invalid value "yes" for condition operator Null.`},
		{"too deep", IdentityKind, stmt(allow + `,"Condition":{"StringEquals":{"aws:username":[[[[["a"]]]]]}}`), "Syntax errors in policy."},
		{"too large", IdentityKind, stmt(allow + `,"Sid":"` + strings.Repeat("a", 20<<10) + `"`), "Cannot exceed quota for PolicySize: 20480"},
		{"too large for a resource policy", ResourceKind, stmt(res + `,"Sid":"` + strings.Repeat("a", 32<<10) + `"`), "Cannot exceed quota for PolicySize: 32768"},
		{"deeply nested hostile input", IdentityKind, strings.Repeat("[", 5000) + strings.Repeat("]", 5000), "Syntax errors in policy."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.text, tt.kind)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse = %v, %v; want *SyntaxError %q", d, err, tt.want)
			}
			if se.Msg != tt.want {
				t.Errorf("Msg = %q\nwant  %q", se.Msg, tt.want)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		text string
	}{
		{"minimal identity", IdentityKind, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`},
		{"2008 version", IdentityKind, `{"Version":"2008-10-17","Statement":[{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:s3:::b"}]}`},
		{"white space does not count towards the size", IdentityKind, stmt(`"Effect":"Allow","Action":"*","Resource":"*"` + strings.Repeat(" ", 30<<10))},
		{"KMS default key policy", ResourceKind, `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`},
		{"every principal form", ResourceKind, stmt(`"Effect":"Allow","Principal":{"AWS":["*","111122223333","arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/a/b","arn:aws:iam::111122223333:role/R","arn:aws:sts::111122223333:assumed-role/R/s","arn:aws:sts::111122223333:federated-user/f"],"Service":"s3.amazonaws.com","Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"s3:*","Resource":"*"`)},
		{"trust policy", TrustKind, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`},
		{"every operator", IdentityKind, stmt(`"Effect":"Allow","Action":"*","Resource":"*","Condition":{
			"StringEquals":{"aws:a":"x"},"StringNotEquals":{"aws:a":"x"},"StringEqualsIgnoreCase":{"aws:a":"x"},"StringNotEqualsIgnoreCase":{"aws:a":"x"},
			"StringLike":{"aws:a":"x*"},"StringNotLike":{"aws:a":"x?"},"NumericEquals":{"aws:n":1},"NumericNotEquals":{"aws:n":"1.5"},
			"NumericLessThan":{"aws:n":"-1"},"NumericLessThanEquals":{"aws:n":"1e3"},"NumericGreaterThan":{"aws:n":"+2"},"NumericGreaterThanEquals":{"aws:n":".5"},
			"DateEquals":{"aws:d":"2024-01-01"},"DateNotEquals":{"aws:d":"1700000000"},"DateLessThan":{"aws:d":"2024-01-01T00:00:00Z"},
			"DateLessThanEquals":{"aws:d":"2024-01-01T00:00:00.123+02:00"},"DateGreaterThan":{"aws:d":"2024-01-01T10:00Z"},"DateGreaterThanEquals":{"aws:d":"2024-01"},
			"Bool":{"aws:b":true},"BinaryEquals":{"aws:x":"aGVsbG8="},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},"NotIpAddress":{"aws:SourceIp":"2001:db8::/32"},
			"ArnEquals":{"aws:r":"arn:aws:s3:::b"},"ArnLike":{"aws:r":"arn:*:s3:::*"},"ArnNotEquals":{"aws:r":"*"},"ArnNotLike":{"aws:r":"arn:aws:iam::*:role/${aws:username}"},
			"Null":{"aws:t":["true","false"]},"StringLikeIfExists":{"aws:a":"x"},"ForAnyValue:StringEquals":{"aws:TagKeys":"k"},"ForAllValues:NumericLessThanIfExists":{"aws:n":"3"}}`)},
		{"placeholder in an ARN", IdentityKind, stmt(`"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:eu-west-1:<account_id>:table/terraform_locks"`)},
		{"condition key with colons", IdentityKind, stmt(`"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::b"}}`)},
		{"OpenID Connect provider keys", TrustKind, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","idp.example.com:8443/realms/ci_1~x:sub":"s"}}}]}`},
		{"empty Condition", IdentityKind, stmt(`"Effect":"Allow","Action":"*","Resource":"*","Condition":{}`)},
		{"spaces in a bucket policy Sid", ResourceKind, stmt(`"Sid":"Allow read","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.text, tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			if d.Text != tt.text || d.Kind != tt.kind {
				t.Errorf("Text or Kind not kept")
			}
			d2, err := Parse(d.Canonical(), tt.kind)
			if err != nil {
				t.Fatalf("canonical form %s: %v", d.Canonical(), err)
			}
			d2.Text = d.Text
			if !reflect.DeepEqual(d, d2) {
				t.Errorf("canonical form %s parses differently", d.Canonical())
			}
		})
	}
}

func TestParseStructure(t *testing.T) {
	d, err := Parse(`{"Version":"2012-10-17","Id":"x","Statement":[
		{"Sid":"A","Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:root"]},"Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::b/*",
		 "Condition":{"StringLike":{"s3:prefix":["a/*","b/*"]},"NumericLessThan":{"s3:max-keys":10,"custom:n":"1"}}},
		{"Effect":"Deny","NotPrincipal":"*","NotAction":"s3:PutObject","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`, ResourceKind)
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != Version2012 || d.ID != "x" || len(d.Statements) != 2 {
		t.Fatalf("document = %+v", d)
	}
	s0, s1 := d.Statements[0], d.Statements[1]
	if s0.Sid != "A" || s0.Effect != "Allow" || !reflect.DeepEqual(s0.Action, []string{"s3:Get*", "s3:List*"}) ||
		!reflect.DeepEqual(s0.Resource, []string{"arn:aws:s3:::b/*"}) || s0.NotAction != nil {
		t.Errorf("statement 0 = %+v", s0)
	}
	if got := s0.Principal.AWS; !reflect.DeepEqual(got, []string{"111122223333", "arn:aws:iam::444455556666:root"}) {
		t.Errorf("principal AWS = %q", got)
	}
	if !reflect.DeepEqual(s0.Principal.accounts, []string{"111122223333", "444455556666"}) {
		t.Errorf("principal accounts = %q", s0.Principal.accounts)
	}
	var conds []string
	for _, c := range s0.Condition {
		conds = append(conds, c.Operator+" "+c.Key+"="+strings.Join(c.Values, ","))
	}
	want := []string{"StringLike s3:prefix=a/*,b/*", "NumericLessThan s3:max-keys=10", "NumericLessThan custom:n=1"}
	if !reflect.DeepEqual(conds, want) {
		t.Errorf("conditions = %q, want %q", conds, want)
	}
	if !s1.NotPrincipal.Wildcard || s1.Effect != "Deny" || !reflect.DeepEqual(s1.NotAction, []string{"s3:PutObject"}) || len(s1.NotResource) != 2 {
		t.Errorf("statement 1 = %+v", s1)
	}
}
