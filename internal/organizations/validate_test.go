package organizations

import (
	"bytes"
	"errors"
	"regexp"
	"testing"

	"github.com/stateward/stateward/internal/awserr"
)

// reasonOf is the Reason an InvalidInputException carries, "" for nil.
func reasonOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *awserr.Error
	if !errors.As(err, &e) || e.Code != CodeInvalidInput {
		t.Fatalf("error %v is not an InvalidInputException", err)
	}
	return e.Extra["Reason"]
}

func TestFieldCheck(t *testing.T) {
	tests := []struct {
		name  string
		f     field
		value string
		want  string
	}{
		{"required, absent", fieldAccountID, "", reasonInputRequired},
		{"account id", fieldAccountID, "123456789012", ""},
		{"account id too long", fieldAccountID, "1234567890123", reasonMaxLength},
		{"account id with a letter", fieldAccountID, "12345678901a", reasonInvalidPattern},
		{"optional, absent", fieldRoleName, "", ""},
		{"role name", fieldRoleName, "Org+Admin=1,2.@-_", ""},
		{"role name too long", fieldRoleName, string(bytes.Repeat([]byte("r"), 65)), reasonMaxLength},
		{"email too short", fieldEmail, "a@b.c", reasonMinLength},
		{"email", fieldEmail, "a@b.co", ""},
		{"email, two @", fieldEmail, "a@b@c.de", reasonInvalidPattern},
		{"email with a newline", fieldEmail, "a\n@bc.de", reasonInvalidPattern},
		{"name counted in characters", fieldTagValue, string(bytes.Repeat([]byte("é"), 256)), ""},
		{"name of printable ASCII", fieldAccountName, "Prod ~ 1", ""},
		{"name with a tab", fieldAccountName, "Prod\t1", reasonInvalidPattern},
		{"request id", fieldRequestID, "car-0123456789abcdef0123456789abcdef", ""},
		{"request id, upper case", fieldRequestID, "car-0123456789ABCDEF", reasonInvalidPattern},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reasonOf(t, tt.f.check(tt.value)); got != tt.want {
				t.Errorf("check(%q) reason %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}

func TestPageLimit(t *testing.T) {
	n := func(v int32) *int32 { return &v }
	tests := []struct {
		name   string
		max    *int32
		limit  int
		reason string
	}{
		{"absent", nil, 20, ""},
		{"1", n(1), 1, ""},
		{"20", n(20), 20, ""},
		{"0", n(0), 0, reasonMinValue},
		{"-1", n(-1), 0, reasonMinValue},
		{"21", n(21), 0, reasonMaxValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pageLimit(tt.max)
			if got != tt.limit || reasonOf(t, err) != tt.reason {
				t.Errorf("pageLimit = %d, %v; want %d, %q", got, err, tt.limit, tt.reason)
			}
		})
	}
}

func TestPageStart(t *testing.T) {
	s := func(v string) *string { return &v }
	valid := nextToken("ListAccounts", "123456789012")
	tests := []struct {
		name   string
		op     string
		token  *string
		start  string
		reason string
	}{
		{"absent", "ListAccounts", nil, "", ""},
		{"empty", "ListAccounts", s(""), "", ""},
		{"issued", "ListAccounts", &valid, "123456789012", ""},
		{"another operation's", "ListChildren", &valid, "", reasonInvalidNextToken},
		{"not base64", "ListAccounts", s("!!"), "", reasonInvalidNextToken},
		{"naming no account", "ListAccounts", s(nextToken("ListAccounts", "../../x")), "", reasonInvalidNextToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pageStart(tt.op, tt.token, patAccountID)
			if got != tt.start || reasonOf(t, err) != tt.reason {
				t.Errorf("pageStart = %q, %v; want %q, %q", got, err, tt.start, tt.reason)
			}
		})
	}
}

func TestRandomID(t *testing.T) {
	s := New(Config{})
	re := regexp.MustCompile(`^o-[a-z0-9]{10}$`)
	seen := map[string]bool{}
	for range 100 {
		id, err := s.randomID("o-", lowerAlnum, 10)
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("id %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
	// A source that runs dry is an error, not a short id.
	s.rand = bytes.NewReader(make([]byte, 8))
	if _, err := s.randomID("car-", lowerHex, 32); err == nil {
		t.Error("randomID from an exhausted source succeeded")
	}
}
