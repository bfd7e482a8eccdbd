package iam

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/stateward/stateward/internal/storage"
)

// minPasswordLength is stateward's password policy: IAM's default minimum length.
const minPasswordLength = 8

// Errors of CheckPassword.
var (
	// ErrInvalidPassword is a wrong password, or a user without a login profile.
	ErrInvalidPassword = errors.New("iam: invalid user name or password")
	// ErrPasswordResetRequired is a right password that must be changed before use.
	ErrPasswordResetRequired = errors.New("iam: password reset required")
)

// argon2id parameters for new hashes: OWASP's minimum recommendation (19 MiB, 2 passes, one
// lane). Each hash records its own parameters, so these can grow without breaking old ones.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashPassword returns password's argon2id hash in the PHC string format:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash (base64 without padding).
func (s *Service) hashPassword(password string) (Secret, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := io.ReadFull(s.rand, salt); err != nil {
		return "", errorf("password salt: %w", err)
	}
	sum := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return Secret(fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(sum))), nil
}

// verifyPassword tells whether password matches hash, comparing in constant time.
func verifyPassword(hash Secret, password string) (bool, error) {
	parts := strings.Split(hash.Reveal(), "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errorf("unknown password hash format")
	}
	var version int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errorf("unknown argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, errorf("bad argon2 parameters %q", parts[3])
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, errorf("bad argon2 salt: %w", err)
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil {
		return false, errorf("bad argon2 hash: %w", err)
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func checkPasswordPolicy(password string) error {
	if len([]rune(password)) < minPasswordLength {
		return errPasswordPolicy("Password should have a minimum length of %d", minPasswordLength)
	}
	return nil
}

// LoginProfile is IAM's LoginProfile: that a user has a console password, never the password.
type LoginProfile struct {
	UserName              string    `xml:"UserName"`
	CreateDate            time.Time `xml:"CreateDate"`
	PasswordResetRequired bool      `xml:"PasswordResetRequired"`
}

func readLogin(tx storage.Tx, acct, user string) (*loginRecord, error) {
	var l loginRecord
	found, err := get(tx, entityKey(acct, kindLogin, user), &l)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNoSuchEntity("Login Profile for User %s cannot be found.", user)
	}
	return &l, nil
}

// CreateLoginProfileInput is CreateLoginProfile's request; an empty UserName means the caller.
type CreateLoginProfileInput struct {
	UserName              string `iam:"UserName,userName"`
	Password              Secret `iam:"Password,password,required"`
	PasswordResetRequired bool   `iam:"PasswordResetRequired"`
}

// LoginProfileOutput is the response of CreateLoginProfile and GetLoginProfile.
type LoginProfileOutput struct {
	LoginProfile LoginProfile `xml:"LoginProfile"`
}

// CreateLoginProfile gives a user a console password, stored as an argon2id hash.
func (s *Service) CreateLoginProfile(ctx context.Context, in *CreateLoginProfileInput) (*LoginProfileOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	name, ok := selfUser(p, in.UserName)
	if !ok {
		return nil, errValidation("Must specify userName when calling with non-User credentials")
	}
	if err := s.authorizeUser(ctx, p, "CreateLoginProfile", name, nil); err != nil {
		return nil, err
	}
	if err := checkPasswordPolicy(in.Password.Reveal()); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(in.Password.Reveal())
	if err != nil {
		return nil, err
	}
	acct := p.AccountID
	var out *LoginProfileOutput
	err = s.write(ctx, acct, func(tx storage.Tx) error {
		u, err := readUser(tx, acct, name)
		if err != nil {
			return err
		}
		if _, err := tx.Get(entityKey(acct, kindLogin, u.Name)); err == nil {
			return errAlreadyExists("Login Profile for user %s already exists.", u.Name)
		} else if !isNotFound(err) {
			return err
		}
		l := &loginRecord{User: u.Name, Created: s.timestamp(), ResetRequired: in.PasswordResetRequired, Hash: hash}
		out = &LoginProfileOutput{LoginProfile: LoginProfile{UserName: u.Name, CreateDate: l.Created, PasswordResetRequired: l.ResetRequired}}
		return putJSON(tx, entityKey(acct, kindLogin, u.Name), l)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LoginProfileInput is the request of GetLoginProfile and DeleteLoginProfile; an empty
// UserName means the caller.
type LoginProfileInput struct {
	UserName string `iam:"UserName,userName"`
}

// GetLoginProfile tells whether a user has a console password, and since when.
func (s *Service) GetLoginProfile(ctx context.Context, in *LoginProfileInput) (*LoginProfileOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	name, ok := selfUser(p, in.UserName)
	if !ok {
		return nil, errValidation("Must specify userName when calling with non-User credentials")
	}
	if err := s.authorizeUser(ctx, p, "GetLoginProfile", name, nil); err != nil {
		return nil, err
	}
	var out *LoginProfileOutput
	err = s.store.View(ctx, func(tx storage.Tx) error {
		u, err := readUser(tx, p.AccountID, name)
		if err != nil {
			return err
		}
		l, err := readLogin(tx, p.AccountID, u.Name)
		if err != nil {
			return err
		}
		out = &LoginProfileOutput{LoginProfile: LoginProfile{UserName: u.Name, CreateDate: l.Created, PasswordResetRequired: l.ResetRequired}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateLoginProfileInput is UpdateLoginProfile's request; absent members are left as they are.
type UpdateLoginProfileInput struct {
	UserName              string `iam:"UserName,userName,required"`
	Password              Secret `iam:"Password,password"`
	PasswordResetRequired *bool  `iam:"PasswordResetRequired"`
}

// UpdateLoginProfile changes a user's password or whether it must be reset.
func (s *Service) UpdateLoginProfile(ctx context.Context, in *UpdateLoginProfileInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeUser(ctx, p, "UpdateLoginProfile", in.UserName, nil); err != nil {
		return nil, err
	}
	var hash Secret
	if in.Password != "" {
		if err := checkPasswordPolicy(in.Password.Reveal()); err != nil {
			return nil, err
		}
		if hash, err = s.hashPassword(in.Password.Reveal()); err != nil {
			return nil, err
		}
	}
	acct := p.AccountID
	return empty(s.write(ctx, acct, func(tx storage.Tx) error {
		u, err := readUser(tx, acct, in.UserName)
		if err != nil {
			return err
		}
		l, err := readLogin(tx, acct, u.Name)
		if err != nil {
			return err
		}
		if hash != "" {
			l.Hash = hash
		}
		if in.PasswordResetRequired != nil {
			l.ResetRequired = *in.PasswordResetRequired
		}
		return putJSON(tx, entityKey(acct, kindLogin, u.Name), l)
	}))
}

// DeleteLoginProfile removes a user's console password.
func (s *Service) DeleteLoginProfile(ctx context.Context, in *LoginProfileInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	name, ok := selfUser(p, in.UserName)
	if !ok {
		return nil, errValidation("Must specify userName when calling with non-User credentials")
	}
	if err := s.authorizeUser(ctx, p, "DeleteLoginProfile", name, nil); err != nil {
		return nil, err
	}
	acct := p.AccountID
	return empty(s.write(ctx, acct, func(tx storage.Tx) error {
		u, err := readUser(tx, acct, name)
		if err != nil {
			return err
		}
		if _, err := readLogin(tx, acct, u.Name); err != nil {
			return err
		}
		return tx.Delete(entityKey(acct, kindLogin, u.Name))
	}))
}

// dummyHash is checked against when a user has no login profile, so a wrong user name takes
// as long to refuse as a wrong password.
var dummyHash = Secret("$argon2id$v=19$m=19456,t=2,p=1$c3RhdGV3YXJkc3RhdGV3YQ$QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI")

// CheckPassword checks userName's console password in accountID. A wrong password, or a user
// without a login profile, is ErrInvalidPassword; a right password that must be reset first is
// ErrPasswordResetRequired. Success records the user's PasswordLastUsed.
func (s *Service) CheckPassword(ctx context.Context, accountID, userName, password string) error {
	var l *loginRecord
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		l, err = readLogin(tx, accountID, userName)
		return err
	})
	if isClassified(err) {
		_, _ = verifyPassword(dummyHash, password)
		return ErrInvalidPassword
	}
	if err != nil {
		return err
	}
	ok, err := verifyPassword(l.Hash, password)
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidPassword
	}
	now := s.timestamp()
	// Sign-in is no IAM configuration change: the generation stays.
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		u, err := readUser(tx, accountID, userName)
		if err != nil {
			return err
		}
		u.PasswordLastUsed = now
		return putUser(tx, accountID, u)
	})
	if err != nil {
		return err
	}
	if l.ResetRequired {
		return ErrPasswordResetRequired
	}
	return nil
}
