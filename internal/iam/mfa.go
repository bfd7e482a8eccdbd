package iam

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/storage"
)

const (
	// mfaIssuer names stateward in authenticator apps.
	mfaIssuer = "stateward"
	// seedBytes is the TOTP secret's size: 160 bits, as RFC 4226 recommends.
	seedBytes = 20
	// totpPeriod is the TOTP time step.
	totpPeriod = 30
	// maxMFAPerUser is IAM's MFADevicesPerUser quota.
	maxMFAPerUser = 8
)

// ErrInvalidMFACode is matched (errors.Is) by CheckMFACode's refusals.
var ErrInvalidMFACode = errors.New("iam: invalid MFA code")

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// VirtualMFADevice is IAM's VirtualMFADevice. The seed and QR code are only sent by
// CreateVirtualMFADevice.
type VirtualMFADevice struct {
	SerialNumber     string     `xml:"SerialNumber"`
	Base32StringSeed SecretBlob `xml:"Base32StringSeed,omitempty"`
	QRCodePNG        SecretBlob `xml:"QRCodePNG,omitempty"`
	User             *User      `xml:"User,omitempty"`
	EnableDate       *time.Time `xml:"EnableDate,omitempty"`
	Tags             List[Tag]  `xml:"Tags,omitempty"`
}

// MFADevice is an MFA device assigned to a user.
type MFADevice struct {
	UserName     string    `xml:"UserName"`
	SerialNumber string    `xml:"SerialNumber"`
	EnableDate   time.Time `xml:"EnableDate"`
}

func (m *mfaRecord) serial(acct string) string { return mfaARN(acct, m.Path, m.Name) }

// readMFA reads the virtual MFA device serial of acct, or returns NoSuchEntity.
func readMFA(tx storage.Tx, acct, serial string) (*mfaRecord, error) {
	a, ok := parseARN(serial)
	if ok && a.Kind == "mfa" && a.Account == acct {
		var m mfaRecord
		found, err := get(tx, entityKey(acct, kindMFA, a.Name), &m)
		if err != nil {
			return nil, err
		}
		if found && m.Path == a.Path && m.Name == a.Name {
			return &m, nil
		}
	}
	return nil, errNoSuchEntity("VirtualMFADevice with serial number %s doesn't exist.", serial)
}

func putMFA(tx storage.Tx, acct string, m *mfaRecord) error {
	return putJSON(tx, entityKey(acct, kindMFA, m.Name), m)
}

// otpauthURI is what authenticator apps scan: otpauth://totp/<issuer>:<name>@<account>.
func otpauthURI(acct, name, seed string) string {
	label := url.PathEscape(mfaIssuer + ":" + name + "@" + acct)
	q := url.Values{"secret": {seed}, "issuer": {mfaIssuer}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// CreateVirtualMFADeviceInput is CreateVirtualMFADevice's request.
type CreateVirtualMFADeviceInput struct {
	Path                 string `iam:"Path,path"`
	VirtualMFADeviceName string `iam:"VirtualMFADeviceName,mfaName,required"`
	Tags                 []Tag  `iam:"Tags,tags"`
}

// CreateVirtualMFADeviceOutput is CreateVirtualMFADevice's response.
type CreateVirtualMFADeviceOutput struct {
	VirtualMFADevice VirtualMFADevice `xml:"VirtualMFADevice"`
}

// CreateVirtualMFADevice creates an unassigned virtual MFA device with a fresh 160-bit TOTP
// seed, returned once: as base32 text and as a QR code PNG of its otpauth:// URI.
func (s *Service) CreateVirtualMFADevice(ctx context.Context, in *CreateVirtualMFADeviceInput) (*CreateVirtualMFADeviceOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	path := defaultPath(in.Path)
	acct := p.AccountID
	if err := s.authorize(ctx, p, "CreateVirtualMFADevice", mfaARN(acct, path, in.VirtualMFADeviceName), requestTagKeys(nil, in.Tags)); err != nil {
		return nil, err
	}
	if err := checkNewTags(in.Tags); err != nil {
		return nil, err
	}
	raw := make([]byte, seedBytes)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return nil, errorf("mfa seed: %w", err)
	}
	seed := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	clear(raw)
	// Whole pixels per module (a fixed image size would scale modules unevenly, which some
	// readers fail on).
	png, err := qrcode.Encode(otpauthURI(acct, in.VirtualMFADeviceName, seed), qrcode.Medium, -6)
	if err != nil {
		return nil, errorf("mfa QR code: %w", err)
	}
	m := &mfaRecord{Name: in.VirtualMFADeviceName, Path: path, Seed: Secret(seed), Created: s.timestamp(), Tags: in.Tags}
	err = s.write(ctx, acct, func(tx storage.Tx) error {
		var have mfaRecord
		if found, err := get(tx, entityKey(acct, kindMFA, m.Name), &have); err != nil {
			return err
		} else if found {
			return errAlreadyExists("MFADevice entity at the same path and name already exists.")
		}
		return putMFA(tx, acct, m)
	})
	if err != nil {
		return nil, err
	}
	return &CreateVirtualMFADeviceOutput{VirtualMFADevice: VirtualMFADevice{SerialNumber: m.serial(acct),
		Base32StringSeed: SecretBlob(seed), QRCodePNG: png, Tags: in.Tags}}, nil
}

// EnableMFADeviceInput is EnableMFADevice's request.
type EnableMFADeviceInput struct {
	UserName            string `iam:"UserName,existingUserName,required"`
	SerialNumber        string `iam:"SerialNumber,serialNumber,required"`
	AuthenticationCode1 string `iam:"AuthenticationCode1,authCode,required"`
	AuthenticationCode2 string `iam:"AuthenticationCode2,authCode,required"`
}

// enableWindow is how far from the current step the first of EnableMFADevice's two codes may
// be: a user reads one code, waits for the next, then sends both, so the pair usually ends at
// the current step or the one before; the rest is clock drift.
const enableWindowBefore, enableWindowAfter = 3, 1

// EnableMFADevice assigns a virtual MFA device to a user once two consecutive codes from it
// prove the user has its seed.
func (s *Service) EnableMFADevice(ctx context.Context, in *EnableMFADeviceInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeUser(ctx, p, "EnableMFADevice", in.UserName, nil); err != nil {
		return nil, err
	}
	now := s.now()
	acct := p.AccountID
	return empty(s.write(ctx, acct, func(tx storage.Tx) error {
		u, err := readUser(tx, acct, in.UserName)
		if err != nil {
			return err
		}
		m, err := readMFA(tx, acct, in.SerialNumber)
		if err != nil {
			return err
		}
		if m.User != "" {
			return errAlreadyExists("MFA Device is already in use.")
		}
		if len(u.MFA) >= maxMFAPerUser {
			return errQuota("MFADevicesPerUser", maxMFAPerUser)
		}
		cur := now.Unix() / totpPeriod
		matched := int64(-1)
		for n := cur - enableWindowBefore; n <= cur+enableWindowAfter; n++ {
			if codeMatches(m.Seed, n, in.AuthenticationCode1) && codeMatches(m.Seed, n+1, in.AuthenticationCode2) {
				matched = n
				break
			}
		}
		if matched < 0 {
			return errInvalidCode()
		}
		m.User, m.UserID, m.Enabled, m.LastStep = u.Name, u.ID, now.UTC().Truncate(time.Second), matched+1
		u.MFA = append(u.MFA, m.Name)
		if err := putUser(tx, acct, u); err != nil {
			return err
		}
		return putMFA(tx, acct, m)
	}))
}

// codeMatches tells whether code is the TOTP code of seed for time step n.
func codeMatches(seed Secret, n int64, code string) bool {
	want, err := totp.GenerateCodeCustom(seed.Reveal(), time.Unix(n*totpPeriod, 0), totpOpts)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
}

// CheckMFACode checks a code from the MFA device serial of accountID, for STS sessions and
// console sign-in: the device must be assigned, and when ctx carries a caller it must be an
// IAM user of accountID to whom the device is assigned. Codes of the current 30-second step
// and the one before or after are accepted, each once: a code of a step no later than the
// last accepted one is refused. It returns when the code was checked; refusals match
// ErrInvalidMFACode and are InvalidAuthenticationCode on the wire.
func (s *Service) CheckMFACode(ctx context.Context, accountID, serial, code string) (time.Time, error) {
	now := s.now()
	caller := identity.FromContext(ctx)
	refuse := func(why string) error {
		e := errInvalidCode()
		e.Cause = errors.Join(ErrInvalidMFACode, errors.New(why))
		return e
	}
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		m, err := readMFA(tx, accountID, serial)
		if isClassified(err) {
			return refuse("no such device")
		}
		if err != nil {
			return err
		}
		if m.User == "" {
			return refuse("device not assigned")
		}
		if caller != nil && (caller.Type != identity.User || caller.AccountID != accountID || caller.UserID != m.UserID) {
			return refuse("device not assigned to the caller")
		}
		cur := now.Unix() / totpPeriod
		for n := cur - 1; n <= cur+1; n++ {
			if n > m.LastStep && codeMatches(m.Seed, n, code) {
				m.LastStep = n
				// A code's use is no IAM configuration change: the generation stays.
				return putMFA(tx, accountID, m)
			}
		}
		return refuse("wrong or reused code")
	})
	if err != nil {
		return time.Time{}, err
	}
	return now, nil
}

// ListMFADevicesInput is ListMFADevices' request; an empty UserName means the caller.
type ListMFADevicesInput struct {
	UserName string `iam:"UserName,existingUserName"`
	Marker   string `iam:"Marker,marker"`
	MaxItems *int32 `iam:"MaxItems,maxItems"`
}

// ListMFADevicesOutput is ListMFADevices' response.
type ListMFADevicesOutput struct {
	MFADevices  List[MFADevice] `xml:"MFADevices"`
	IsTruncated bool            `xml:"IsTruncated"`
	Marker      string          `xml:"Marker,omitempty"`
}

// ListMFADevices lists the MFA devices assigned to a user. The root user has none here:
// stateward assigns devices to IAM users only.
func (s *Service) ListMFADevices(ctx context.Context, in *ListMFADevicesInput) (*ListMFADevicesOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	o, err := resolveKeyOwner(p, in.UserName)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeKeyOwner(ctx, p, "ListMFADevices", o); err != nil {
		return nil, err
	}
	var all []MFADevice
	if o.user != "" {
		err = s.store.View(ctx, func(tx storage.Tx) error {
			u, err := readUser(tx, p.AccountID, o.user)
			if err != nil {
				return err
			}
			for _, name := range u.MFA {
				var m mfaRecord
				if found, err := get(tx, entityKey(p.AccountID, kindMFA, name), &m); err != nil {
					return err
				} else if found {
					all = append(all, MFADevice{UserName: u.Name, SerialNumber: m.serial(p.AccountID), EnableDate: m.Enabled})
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	page, next, err := pageSlice(all, in.Marker, maxItems(in.MaxItems))
	if err != nil {
		return nil, err
	}
	return &ListMFADevicesOutput{MFADevices: append(List[MFADevice]{}, page...), IsTruncated: next != "", Marker: next}, nil
}

// ListVirtualMFADevicesInput is ListVirtualMFADevices' request.
type ListVirtualMFADevicesInput struct {
	AssignmentStatus string `iam:"AssignmentStatus,assignment"`
	Marker           string `iam:"Marker,marker"`
	MaxItems         *int32 `iam:"MaxItems,maxItems"`
}

// ListVirtualMFADevicesOutput is ListVirtualMFADevices' response.
type ListVirtualMFADevicesOutput struct {
	VirtualMFADevices List[VirtualMFADevice] `xml:"VirtualMFADevices"`
	IsTruncated       bool                   `xml:"IsTruncated"`
	Marker            string                 `xml:"Marker,omitempty"`
}

// ListVirtualMFADevices lists the account's virtual MFA devices, by name; an assigned one
// names its user.
func (s *Service) ListVirtualMFADevices(ctx context.Context, in *ListVirtualMFADevicesInput) (*ListVirtualMFADevicesOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "ListVirtualMFADevices", "*", nil); err != nil {
		return nil, err
	}
	out := &ListVirtualMFADevicesOutput{VirtualMFADevices: List[VirtualMFADevice]{}}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		keep := func(m *mfaRecord) bool {
			switch in.AssignmentStatus {
			case "Assigned":
				return m.User != ""
			case "Unassigned":
				return m.User == ""
			}
			return true
		}
		list, next, err := scanPage(tx, entityPrefix(p.AccountID, kindMFA), in.Marker, maxItems(in.MaxItems), keep)
		if err != nil {
			return err
		}
		for _, m := range list {
			d := VirtualMFADevice{SerialNumber: m.serial(p.AccountID), Tags: m.Tags}
			if m.User != "" {
				u, err := readUser(tx, p.AccountID, m.User)
				if err != nil {
					return err
				}
				w := u.wire(p.AccountID, false)
				t := m.Enabled
				d.User, d.EnableDate = &w, &t
			}
			out.VirtualMFADevices = append(out.VirtualMFADevices, d)
		}
		out.Marker, out.IsTruncated = next, next != ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeactivateMFADeviceInput is DeactivateMFADevice's request.
type DeactivateMFADeviceInput struct {
	UserName     string `iam:"UserName,existingUserName"`
	SerialNumber string `iam:"SerialNumber,serialNumber,required"`
}

// DeactivateMFADevice unassigns an MFA device from its user; the device remains, unassigned.
func (s *Service) DeactivateMFADevice(ctx context.Context, in *DeactivateMFADeviceInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	name, ok := selfUser(p, in.UserName)
	if !ok {
		return nil, errValidation("Must specify userName when calling with non-User credentials")
	}
	if err := s.authorizeUser(ctx, p, "DeactivateMFADevice", name, nil); err != nil {
		return nil, err
	}
	acct := p.AccountID
	return empty(s.write(ctx, acct, func(tx storage.Tx) error {
		u, err := readUser(tx, acct, name)
		if err != nil {
			return err
		}
		m, err := readMFA(tx, acct, in.SerialNumber)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(u.MFA, func(n string) bool { return strings.EqualFold(n, m.Name) })
		if i < 0 || m.UserID != u.ID {
			return errNoSuchEntity("MFA Device with serial number %s does not exist.", in.SerialNumber)
		}
		u.MFA = slices.Delete(u.MFA, i, i+1)
		m.User, m.UserID, m.Enabled, m.LastStep = "", "", time.Time{}, 0
		if err := putUser(tx, acct, u); err != nil {
			return err
		}
		return putMFA(tx, acct, m)
	}))
}

// DeleteVirtualMFADeviceInput is DeleteVirtualMFADevice's request.
type DeleteVirtualMFADeviceInput struct {
	SerialNumber string `iam:"SerialNumber,serialNumber,required"`
}

// DeleteVirtualMFADevice deletes an unassigned virtual MFA device and its seed.
func (s *Service) DeleteVirtualMFADevice(ctx context.Context, in *DeleteVirtualMFADeviceInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "DeleteVirtualMFADevice", in.SerialNumber, nil); err != nil {
		return nil, err
	}
	acct := p.AccountID
	return empty(s.write(ctx, acct, func(tx storage.Tx) error {
		m, err := readMFA(tx, acct, in.SerialNumber)
		if err != nil {
			return err
		}
		if m.User != "" {
			return errDeleteConflict("MFA VirtualDevice in use. Must deactivate first.")
		}
		return tx.Delete(entityKey(acct, kindMFA, m.Name))
	}))
}
