package iam_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/stateward/stateward/internal/iam"
	"github.com/stateward/stateward/internal/identity"
)

// totpCode is RFC 6238's TOTP (HMAC-SHA1, 6 digits, 30 s steps) of a base32 secret at step n,
// written here independently of the library the Service uses.
func totpCode(t testing.TB, secret string, n int64) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha1.New, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(n))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

func step(t time.Time) int64 { return t.Unix() / 30 }

// otpauthURI is the URI an authenticator app must find in a device's QR code.
func otpauthURI(name, acct, secret string) string {
	return "otpauth://totp/stateward:" + name + "@" + acct + "?issuer=stateward&secret=" + secret
}

// createMFA creates a virtual MFA device and returns its serial and its seed, checked to be
// the one its QR code carries.
func createMFA(t testing.TB, e *env, name string) (serial, secret string) {
	t.Helper()
	out := must(e.Root.CreateVirtualMFADevice(context.Background(), &awsiam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(name)}))
	d := out.VirtualMFADevice
	secret = string(d.Base32StringSeed)
	checkQR(t, d.QRCodePNG, otpauthURI(name, e.account.ID, secret))
	return aws.ToString(d.SerialNumber), secret
}

// enableMFA creates a device and enables it for user with two consecutive codes.
func enableMFA(t testing.TB, e *env, user, device string) error {
	t.Helper()
	serial, secret := createMFA(t, e, device)
	n := step(e.clock.Now())
	_, err := e.Root.EnableMFADevice(context.Background(), &awsiam.EnableMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(totpCode(t, secret, n-1)), AuthenticationCode2: aws.String(totpCode(t, secret, n))})
	return err
}

func TestVirtualMFADevice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("martin")}))

	out := must(e.Root.CreateVirtualMFADevice(ctx, &awsiam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("martin"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	d := out.VirtualMFADevice
	serial := aws.ToString(d.SerialNumber)
	if want := "arn:aws:iam::" + acct + ":mfa/martin"; serial != want {
		t.Fatalf("SerialNumber = %q, want %q", serial, want)
	}
	secret := string(d.Base32StringSeed)
	if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret); err != nil || len(raw) != 20 {
		t.Fatalf("Base32StringSeed %q: want a 160-bit base32 secret (%v)", secret, err)
	}
	uri := otpauthURI("martin", acct, secret)
	if _, err := url.Parse(uri); err != nil {
		t.Fatal(err)
	}
	checkQR(t, d.QRCodePNG, uri)

	_, err := e.Root.CreateVirtualMFADevice(ctx, &awsiam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("martin")})
	wantCode(t, err, "EntityAlreadyExists")

	unassigned := must(e.Root.ListVirtualMFADevices(ctx, &awsiam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeUnassigned}))
	if len(unassigned.VirtualMFADevices) != 1 || unassigned.VirtualMFADevices[0].User != nil || unassigned.VirtualMFADevices[0].Base32StringSeed != nil {
		t.Errorf("unassigned devices = %+v", unassigned.VirtualMFADevices)
	}

	n := step(e.clock.Now())
	enable := func(c1, c2 string) error {
		_, err := e.Root.EnableMFADevice(ctx, &awsiam.EnableMFADeviceInput{UserName: aws.String("martin"), SerialNumber: aws.String(serial),
			AuthenticationCode1: aws.String(c1), AuthenticationCode2: aws.String(c2)})
		return err
	}
	for _, tt := range []struct {
		name   string
		c1, c2 string
	}{
		{"swapped", totpCode(t, secret, n), totpCode(t, secret, n-1)},
		{"same code twice", totpCode(t, secret, n), totpCode(t, secret, n)},
		{"too old", totpCode(t, secret, n-10), totpCode(t, secret, n-9)},
		{"wrong", "000000", "000000"},
	} {
		err := enable(tt.c1, tt.c2)
		wantCode(t, err, "InvalidAuthenticationCode")
		if got := errMessage(err); got != "Authentication code for device is not valid." {
			t.Errorf("%s: message %q", tt.name, got)
		}
	}
	_, err = e.Root.EnableMFADevice(ctx, &awsiam.EnableMFADeviceInput{UserName: aws.String("martin"), SerialNumber: aws.String(serial + "x"),
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("123456")})
	wantCode(t, err, "NoSuchEntity")
	_, err = e.Root.EnableMFADevice(ctx, &awsiam.EnableMFADeviceInput{UserName: aws.String("martin"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String("12345"), AuthenticationCode2: aws.String("123456")})
	wantCode(t, err, "ValidationError")

	// The first code one step before the current one, the second the current one.
	if err := enable(totpCode(t, secret, n-1), totpCode(t, secret, n)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, enable(totpCode(t, secret, n), totpCode(t, secret, n+1)), "EntityAlreadyExists")

	devices := must(e.Root.ListMFADevices(ctx, &awsiam.ListMFADevicesInput{UserName: aws.String("martin")}))
	if len(devices.MFADevices) != 1 || aws.ToString(devices.MFADevices[0].SerialNumber) != serial || !devices.MFADevices[0].EnableDate.Equal(startTime) {
		t.Errorf("ListMFADevices = %+v", devices.MFADevices)
	}
	assigned := must(e.Root.ListVirtualMFADevices(ctx, &awsiam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAssigned}))
	if len(assigned.VirtualMFADevices) != 1 || assigned.VirtualMFADevices[0].User == nil ||
		aws.ToString(assigned.VirtualMFADevices[0].User.UserName) != "martin" || assigned.VirtualMFADevices[0].EnableDate == nil {
		t.Errorf("assigned devices = %+v", assigned.VirtualMFADevices)
	}
	if len(assigned.VirtualMFADevices[0].Tags) != 1 {
		t.Errorf("device tags = %+v", assigned.VirtualMFADevices[0].Tags)
	}
	none := must(e.Root.ListVirtualMFADevices(ctx, &awsiam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeUnassigned}))
	if len(none.VirtualMFADevices) != 0 {
		t.Errorf("unassigned after enabling: %+v", none.VirtualMFADevices)
	}

	_, err = e.Root.DeleteVirtualMFADevice(ctx, &awsiam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
	wantCode(t, err, "DeleteConflict")
	_, err = e.Root.DeactivateMFADevice(ctx, &awsiam.DeactivateMFADeviceInput{UserName: aws.String("martin"), SerialNumber: aws.String("arn:aws:iam::" + acct + ":mfa/other")})
	wantCode(t, err, "NoSuchEntity")
	must(e.Root.DeactivateMFADevice(ctx, &awsiam.DeactivateMFADeviceInput{UserName: aws.String("martin"), SerialNumber: aws.String(serial)}))
	devices = must(e.Root.ListMFADevices(ctx, &awsiam.ListMFADevicesInput{UserName: aws.String("martin")}))
	if len(devices.MFADevices) != 0 {
		t.Errorf("devices after deactivation: %+v", devices.MFADevices)
	}
	must(e.Root.DeleteVirtualMFADevice(ctx, &awsiam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)}))
	_, err = e.Root.DeleteVirtualMFADevice(ctx, &awsiam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
	wantCode(t, err, "NoSuchEntity")
}

func TestEnableMFADeviceClockDrift(t *testing.T) {
	tests := []struct {
		name    string
		first   int64 // step of the first code, relative to the server's current step
		wantErr string
	}{
		{"pair ends now", -1, ""},
		{"pair ends a step ago", -2, ""},
		{"client a step ahead", 0, ""},
		{"too far behind", -5, "InvalidAuthenticationCode"},
		{"too far ahead", 2, "InvalidAuthenticationCode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			must(e.Root.CreateUser(context.Background(), &awsiam.CreateUserInput{UserName: aws.String("u")}))
			serial, secret := createMFA(t, e, "d")
			n := step(e.clock.Now()) + tt.first
			_, err := e.Root.EnableMFADevice(context.Background(), &awsiam.EnableMFADeviceInput{UserName: aws.String("u"), SerialNumber: aws.String(serial),
				AuthenticationCode1: aws.String(totpCode(t, secret, n)), AuthenticationCode2: aws.String(totpCode(t, secret, n+1))})
			wantCode(t, err, tt.wantErr)
		})
	}
}

func TestCheckMFACode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct := e.account.ID
	must(e.Root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("martin")}))
	serial, secret := createMFA(t, e, "martin")
	// Not assigned yet: refused.
	if _, err := e.svc.CheckMFACode(ctx, acct, serial, totpCode(t, secret, step(e.clock.Now()))); !errors.Is(err, iam.ErrInvalidMFACode) {
		t.Fatalf("unassigned device: err = %v", err)
	}
	n := step(e.clock.Now())
	must(e.Root.EnableMFADevice(ctx, &awsiam.EnableMFADeviceInput{UserName: aws.String("martin"), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(totpCode(t, secret, n-1)), AuthenticationCode2: aws.String(totpCode(t, secret, n))}))
	// The codes that enabled the device are spent.
	if _, err := e.svc.CheckMFACode(ctx, acct, serial, totpCode(t, secret, n)); !errors.Is(err, iam.ErrInvalidMFACode) {
		t.Fatalf("code used by EnableMFADevice accepted again: %v", err)
	}

	e.clock.Advance(60 * time.Second)
	n = step(e.clock.Now())
	at, err := e.svc.CheckMFACode(ctx, acct, serial, totpCode(t, secret, n))
	if err != nil {
		t.Fatal(err)
	}
	if !at.Equal(e.clock.Now()) {
		t.Errorf("checked at %v, want %v", at, e.clock.Now())
	}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		acct string
		code string
	}{
		{"replayed", ctx, acct, totpCode(t, secret, n)},
		{"older than a used one", ctx, acct, totpCode(t, secret, n-1)},
		{"two steps ahead", ctx, acct, totpCode(t, secret, n+2)},
		{"wrong", ctx, acct, "000000"},
		{"other account", ctx, "999999999999", totpCode(t, secret, n+1)},
		{"caller is not the device's user", identity.WithPrincipal(ctx, &identity.Principal{Type: identity.User, AccountID: acct, UserID: "AIDAOTHER", Name: "other"}), acct, totpCode(t, secret, n+1)},
	} {
		if _, err := e.svc.CheckMFACode(tt.ctx, tt.acct, serial, tt.code); !errors.Is(err, iam.ErrInvalidMFACode) {
			t.Errorf("%s: err = %v, want ErrInvalidMFACode", tt.name, err)
		}
	}
	// A step ahead (the client's clock runs fast) is accepted, once.
	if _, err := e.svc.CheckMFACode(ctx, acct, serial, totpCode(t, secret, n+1)); err != nil {
		t.Errorf("next step's code refused: %v", err)
	}
	if _, err := e.svc.CheckMFACode(ctx, acct, serial, totpCode(t, secret, n+1)); !errors.Is(err, iam.ErrInvalidMFACode) {
		t.Errorf("next step's code accepted twice: %v", err)
	}
}
