package kms_test

import (
	"encoding/json"
	"testing"
)

// TestWireErrors sends raw JSON 1.1 requests and checks the error type in the header and in
// the body's __type, which clients switch on.
func TestWireErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, akid, target, body string
		status                   int
		want                     string
	}{
		{"malformed JSON", "AKIDROOTA", "TrentService.CreateKey", `{"Description":`, 400, "SerializationException"},
		{"wrong member type", "AKIDROOTA", "TrentService.ListKeys", `{"Limit":"ten"}`, 400, "SerializationException"},
		{"blob not base64", "AKIDROOTA", "TrentService.Decrypt", `{"CiphertextBlob":"%%%"}`, 400, "SerializationException"},
		{"unknown operation", "AKIDROOTA", "TrentService.Frobnicate", `{}`, 400, "UnknownOperationException"},
		{"no target", "AKIDROOTA", "", `{}`, 400, "UnknownOperationException"},
		{"another service's target", "AKIDROOTA", "AmazonSSM.GetParameter", `{}`, 400, "UnknownOperationException"},
		{"missing KeyId", "AKIDROOTA", "TrentService.DescribeKey", `{}`, 400, "ValidationException"},
		{"missing alias target", "AKIDROOTA", "TrentService.CreateAlias", `{"AliasName":"alias/x"}`, 400, "ValidationException"},
		{"empty plaintext", "AKIDROOTA", "TrentService.Encrypt", `{"KeyId":"alias/x","Plaintext":""}`, 400, "ValidationException"},
		{"unsigned", "", "TrentService.ListKeys", `{}`, 403, "MissingAuthenticationToken"},
		{"empty body", "AKIDROOTA", "TrentService.ListKeys", ``, 200, ""},
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
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Type != tt.want {
				t.Errorf("body %s: __type %q, want %q", body, e.Type, tt.want)
			}
		})
	}
}
