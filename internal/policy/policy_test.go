package policy

import (
	"context"
	"errors"
	"testing"
)

func TestAuthorize(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"root in own account", Request{PrincipalAccount: "111122223333", Root: true, Action: "s3:GetObject", ResourceAccount: "111122223333"}, nil},
		{"root creating a resource", Request{PrincipalAccount: "111122223333", Root: true, Action: "s3:CreateBucket"}, nil},
		{"root in another account", Request{PrincipalAccount: "111122223333", Root: true, Action: "s3:GetObject", ResourceAccount: "444455556666"}, ErrDenied},
		{"non-root user without policies", Request{PrincipalAccount: "111122223333", Action: "s3:GetObject", ResourceAccount: "111122223333"}, ErrDenied},
		{"any caller may ask who it is", Request{PrincipalAccount: "111122223333", Action: "sts:GetCallerIdentity", Resource: "*"}, nil},
		{"anonymous", Request{Action: "s3:GetObject", ResourceAccount: "111122223333"}, ErrDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := New().Authorize(context.Background(), &tt.req)
			if !errors.Is(got, tt.want) {
				t.Fatalf("Authorize() = %v, want %v", got, tt.want)
			}
		})
	}
}
