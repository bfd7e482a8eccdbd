package kms

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/storage"
)

const (
	rotationAutomatic = "AUTOMATIC"
	rotationOnDemand  = "ON_DEMAND"

	defaultRotationPeriod = 365
	minRotationPeriod     = 90
	maxRotationPeriod     = 2560
	// maxOnDemandRotations is KMS's limit on RotateKeyOnDemand per key.
	maxOnDemandRotations = 10
)

// errNotDue stops an automatic rotation that another one has already done.
var errNotDue = errors.New("kms: rotation not due")

type enableKeyRotationInput struct {
	KeyID                string `json:"KeyId"`
	RotationPeriodInDays *int   `json:"RotationPeriodInDays"`
}

func (s *Service) enableKeyRotation(ctx context.Context, in *enableKeyRotationInput) (*emptyOutput, error) {
	days := defaultRotationPeriod
	if in.RotationPeriodInDays != nil {
		days = *in.RotationPeriodInDays
	}
	if days < minRotationPeriod || days > maxRotationPeriod {
		return nil, errValidation("1 validation error detected: Value '%d' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value between %d and %d", days, minRotationPeriod, maxRotationPeriod)
	}
	next := s.now().UTC().AddDate(0, 0, days)
	return s.setRotation(ctx, in.KeyID, "EnableKeyRotation", func(k *keyRecord) {
		k.Rotation, k.RotationPeriod, k.NextRotation = true, days, next
	})
}

func (s *Service) disableKeyRotation(ctx context.Context, in *keyIDInput) (*emptyOutput, error) {
	return s.setRotation(ctx, in.KeyID, "DisableKeyRotation", func(k *keyRecord) {
		k.Rotation, k.RotationPeriod, k.NextRotation = false, 0, time.Time{}
	})
}

func (s *Service) setRotation(ctx context.Context, raw, op string, set func(*keyRecord)) (*emptyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.resolve(ctx, p, raw, "keyId", op, nil)
	if err != nil {
		return nil, err
	}
	_, err = s.updateKey(ctx, k, func(_ storage.Tx, k *keyRecord) error {
		if err := checkCustomerManaged(k); err != nil {
			return err
		}
		if err := checkUsable(k); err != nil {
			return err
		}
		set(k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type getKeyRotationStatusOutput struct {
	KeyRotationEnabled   bool   `json:"KeyRotationEnabled"`
	KeyID                string `json:"KeyId"`
	RotationPeriodInDays int    `json:"RotationPeriodInDays,omitempty"`
	NextRotationDate     *epoch `json:"NextRotationDate,omitempty"`
}

func (s *Service) getKeyRotationStatus(ctx context.Context, in *keyIDInput) (*getKeyRotationStatusOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", "GetKeyRotationStatus", nil)
	if err != nil {
		return nil, err
	}
	out := &getKeyRotationStatusOutput{KeyRotationEnabled: k.Rotation, KeyID: k.arn()}
	if k.Rotation {
		out.RotationPeriodInDays, out.NextRotationDate = k.RotationPeriod, epochPtr(k.NextRotation)
	}
	return out, nil
}

func (s *Service) rotateKeyOnDemand(ctx context.Context, in *keyIDInput) (*keyIDOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", "RotateKeyOnDemand", nil)
	if err != nil {
		return nil, err
	}
	k, err = s.rotate(ctx, k, rotationOnDemand)
	if err != nil {
		return nil, err
	}
	return &keyIDOutput{KeyID: k.arn()}, nil
}

// rotate adds a material version to k that new encryptions use; ciphertexts under earlier
// versions still decrypt. The material is drawn outside the transaction, which may rerun.
func (s *Service) rotate(ctx context.Context, k *keyRecord, how string) (*keyRecord, error) {
	material, err := s.newMaterial()
	if err != nil {
		return nil, err
	}
	defer keyring.Zero(material)
	now := s.now().UTC()
	return s.updateKey(ctx, k, func(tx storage.Tx, k *keyRecord) error {
		if how == rotationOnDemand {
			if err := checkCustomerManaged(k); err != nil {
				return err
			}
			if k.onDemandRotations() >= maxOnDemandRotations {
				return awserr.Newf(CodeLimitExceeded, "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: %s", k.arn())
			}
		}
		if err := checkUsable(k); err != nil {
			return err
		}
		if how == rotationAutomatic && (!k.Rotation || now.Before(k.NextRotation)) {
			return errNotDue
		}
		n := k.current() + 1
		k.Versions = append(k.Versions, materialVersion{N: n, Created: now, Rotation: how})
		if how == rotationAutomatic {
			k.NextRotation = now.AddDate(0, 0, k.RotationPeriod)
		}
		return s.putMaterial(tx, k, n, material)
	})
}

type listKeyRotationsInput struct {
	KeyID              string `json:"KeyId"`
	IncludeKeyMaterial string `json:"IncludeKeyMaterial"`
	Limit              *int   `json:"Limit"`
	Marker             string `json:"Marker"`
}

type rotationEntry struct {
	KeyID            string `json:"KeyId"`
	KeyMaterialID    string `json:"KeyMaterialId"`
	KeyMaterialState string `json:"KeyMaterialState"`
	RotationDate     *epoch `json:"RotationDate,omitempty"`
	RotationType     string `json:"RotationType,omitempty"`
}

type listKeyRotationsOutput struct {
	Rotations  []rotationEntry `json:"Rotations"`
	NextMarker string          `json:"NextMarker,omitempty"`
	Truncated  bool            `json:"Truncated"`
}

// listKeyRotations lists completed rotations oldest first (and the original material too with
// IncludeKeyMaterial ALL_KEY_MATERIAL); Marker is the material version to start at.
func (s *Service) listKeyRotations(ctx context.Context, in *listKeyRotationsInput) (*listKeyRotationsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	limit, err := (&listInput{Limit: in.Limit}).limit(100)
	if err != nil {
		return nil, err
	}
	all := false
	switch in.IncludeKeyMaterial {
	case "", "ROTATIONS_ONLY":
	case "ALL_KEY_MATERIAL":
		all = true
	default:
		return nil, errValidation("1 validation error detected: Value '%s' at 'includeKeyMaterial' failed to satisfy constraint: Member must satisfy enum value set: [ALL_KEY_MATERIAL, ROTATIONS_ONLY]", in.IncludeKeyMaterial)
	}
	var start uint32
	if in.Marker != "" {
		n, err := strconv.ParseUint(in.Marker, 10, 32)
		if err != nil {
			return nil, awserr.New(CodeInvalidMarker, "The marker is not valid.")
		}
		start = uint32(n)
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", "ListKeyRotations", nil)
	if err != nil {
		return nil, err
	}
	out := &listKeyRotationsOutput{Rotations: []rotationEntry{}}
	for _, v := range k.Versions {
		if v.N < start || (v.Rotation == "" && !all) {
			continue
		}
		if len(out.Rotations) == limit {
			out.NextMarker, out.Truncated = fmt.Sprint(v.N), true
			break
		}
		e := rotationEntry{KeyID: k.ID, KeyMaterialID: materialID(k.arn(), v.N),
			KeyMaterialState: "NON_CURRENT", RotationType: v.Rotation}
		if v.N == k.current() {
			e.KeyMaterialState = "CURRENT"
		}
		if v.Rotation != "" {
			e.RotationDate = epochPtr(v.Created)
		}
		out.Rotations = append(out.Rotations, e)
	}
	return out, nil
}

// Tick does the work KMS does on its own schedule: it rotates keys whose automatic rotation
// is due and removes keys whose deletion date has passed, with their material and aliases.
// Call it periodically; it is safe to run concurrently with requests.
func (s *Service) Tick(ctx context.Context) (rotated, deleted int, err error) {
	now := s.now()
	var due, dead []*keyRecord
	err = s.store.View(ctx, func(tx storage.Tx) error {
		due, dead = nil, nil
		return storage.ScanPrefix(tx, []byte(prefixKey), func(key, v []byte) error {
			var k keyRecord
			if err := storage.DecodeJSON(key, v, &k); err != nil {
				return err
			}
			switch {
			case k.deleted(now):
				dead = append(dead, &k)
			case k.Rotation && k.State == stateEnabled && !now.Before(k.NextRotation):
				due = append(due, &k)
			}
			return nil
		})
	})
	if err != nil {
		return 0, 0, err
	}
	for _, k := range dead {
		err := s.store.Update(ctx, func(tx storage.Tx) error {
			cur, err := getKey(tx, k.Account, k.Region, k.ID)
			if err != nil || cur == nil || !cur.deleted(now) {
				return err // gone already, or deletion cancelled meanwhile
			}
			return deleteKeyRecords(tx, cur)
		})
		if err != nil {
			return rotated, deleted, err
		}
		s.log.Info("kms key deleted", "key", k.arn())
		deleted++
	}
	for _, k := range due {
		var e *awserr.Error
		switch _, err := s.rotate(ctx, k, rotationAutomatic); {
		case err == nil:
			rotated++
		case errors.Is(err, errNotDue), errors.As(err, &e):
			// Changed since the scan: rotated, disabled, deleted or rescheduled meanwhile.
		default:
			return rotated, deleted, err
		}
	}
	return rotated, deleted, nil
}
