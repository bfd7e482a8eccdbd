package organizations_test

import (
	"encoding/json"
	"regexp"
	"testing"
)

// TestWireErrors sends raw JSON 1.1 requests and checks the error type in the header and in
// the body's __type, which clients switch on.
func TestWireErrors(t *testing.T) {
	e := newEnv(t)
	const p = "AWSOrganizationsV20161128."
	tests := []struct {
		name, akid, target, body string
		status                   int
		want                     string
	}{
		{"malformed JSON", "AKIDROOTA", p + "CreateOrganization", `{"FeatureSet":`, 400, "SerializationException"},
		{"wrong member type", "AKIDROOTA", p + "ListAccounts", `{"MaxResults":"ten"}`, 400, "SerializationException"},
		{"unknown operation", "AKIDROOTA", p + "Frobnicate", `{}`, 400, "UnknownOperationException"},
		{"operation not served", "AKIDROOTA", p + "DeleteOrganization", `{}`, 400, "UnknownOperationException"},
		{"no target", "AKIDROOTA", "", `{}`, 400, "UnknownOperationException"},
		{"another service's target", "AKIDROOTA", "TrentService.ListKeys", `{}`, 400, "UnknownOperationException"},
		{"missing AccountId", "AKIDROOTA", p + "DescribeAccount", `{}`, 400, "InvalidInputException"},
		{"missing ChildType", "AKIDROOTA", p + "ListChildren", `{"ParentId":"r-abcd"}`, 400, "InvalidInputException"},
		{"missing email", "AKIDROOTA", p + "CreateAccount", `{"AccountName":"x"}`, 400, "InvalidInputException"},
		{"unsigned", "", p + "ListAccounts", `{}`, 403, "MissingAuthenticationToken"},
		{"empty body, no organization", "AKIDROOTA", p + "DescribeOrganization", ``, 400, "AWSOrganizationsNotInUseException"},
		{"empty body", "AKIDROOTA", p + "CreateOrganization", ``, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, errType, body := e.rawCall(t, tt.akid, tt.target, tt.body)
			if status != tt.status || errType != tt.want {
				t.Fatalf("status %d, X-Amzn-ErrorType %q; want %d, %q (body %s)", status, errType, tt.status, tt.want, body)
			}
			if tt.want == "" {
				return
			}
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Type != tt.want || e.Message == "" {
				t.Errorf("body %s: __type %q, want %q", body, e.Type, tt.want)
			}
		})
	}
}

// TestWireShapes checks members whose encoding the SDK would hide: timestamps are epoch
// seconds, lists are never null, and absent optional members are left out.
func TestWireShapes(t *testing.T) {
	e := newEnv(t)
	const p = "AWSOrganizationsV20161128."
	if status, _, body := e.rawCall(t, "AKIDROOTA", p+"CreateOrganization", `{"FeatureSet":"CONSOLIDATED_BILLING"}`); status != 200 ||
		!regexp.MustCompile(`"AvailablePolicyTypes":\[\]`).MatchString(body) || regexp.MustCompile(`MasterAccountEmail`).MatchString(body) {
		t.Errorf("CreateOrganization: %d %s", status, body)
	}
	_, _, body := e.rawCall(t, "AKIDROOTA", p+"ListAccounts", `{}`)
	if !regexp.MustCompile(`"JoinedTimestamp":1772366400[,}]`).MatchString(body) || regexp.MustCompile(`null|"Email"|NextToken`).MatchString(body) {
		t.Errorf("ListAccounts: %s", body)
	}
	_, _, body = e.rawCall(t, "AKIDROOTA", p+"CreateAccount", `{"AccountName":"dev","Email":"dev@example.com"}`)
	if !regexp.MustCompile(`"RequestedTimestamp":1772366400,"CompletedTimestamp":1772366400,"AccountId":"\d{12}"`).MatchString(body) ||
		regexp.MustCompile(`FailureReason`).MatchString(body) {
		t.Errorf("CreateAccount: %s", body)
	}
	_, _, body = e.rawCall(t, "AKIDROOTA", p+"ListCreateAccountStatus", `{"States":["FAILED"]}`)
	if body != `{"CreateAccountStatuses":[]}` {
		t.Errorf("ListCreateAccountStatus: %s", body)
	}
}
