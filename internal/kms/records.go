package kms

import (
	"errors"
	"fmt"
	"time"

	"github.com/stateward/stateward/internal/storage"
)

// Record layout. Keys and aliases are scoped by account and region; key ids and alias names
// stay readable in the data file, values are sealed by the storage barrier, and key material
// is sealed once more by this package before it reaches the barrier.
//
//	kms/key/<account>/<region>/<key id>                  keyRecord
//	kms/mat/<account>/<region>/<key id>/<version, 10 d>  key material, sealed with the record key as AAD
//	kms/alias/<account>/<region>/alias/<name>            aliasRecord
const (
	prefixKey      = "kms/key/"
	prefixMaterial = "kms/mat/"
	prefixAlias    = "kms/alias/"
)

// Key states as KMS names them; stateward models these three.
const (
	stateEnabled         = "Enabled"
	stateDisabled        = "Disabled"
	statePendingDeletion = "PendingDeletion"
)

const (
	managerCustomer = "CUSTOMER"
	managerAWS      = "AWS"
)

func scope(account, region string) string { return account + "/" + region + "/" }

func keyRecordKey(account, region, id string) []byte {
	return []byte(prefixKey + scope(account, region) + id)
}

func keysOf(account, region string) []byte { return []byte(prefixKey + scope(account, region)) }

func materialKey(account, region, id string, version uint32) []byte {
	return fmt.Appendf(nil, "%s%s%s/%010d", prefixMaterial, scope(account, region), id, version)
}

func materialsOf(account, region, id string) []byte {
	return []byte(prefixMaterial + scope(account, region) + id + "/")
}

func aliasRecordKey(account, region, name string) []byte {
	return []byte(prefixAlias + scope(account, region) + name)
}

func aliasesOf(account, region string) []byte { return []byte(prefixAlias + scope(account, region)) }

type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// materialVersion is one generation of a key's material; the last one encrypts.
type materialVersion struct {
	N       uint32    `json:"n"`
	Created time.Time `json:"created"`
	// Rotation is how this version came about: "", AUTOMATIC or ON_DEMAND.
	Rotation string `json:"rotation,omitempty"`
}

type keyRecord struct {
	ID          string    `json:"id"`
	Account     string    `json:"account"`
	Region      string    `json:"region"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	State       string    `json:"state"`
	Manager     string    `json:"manager"`
	Policy      string    `json:"policy"`
	Tags        []tag     `json:"tags,omitempty"`
	// DeletionDate and PendingWindow are set while the key is pending deletion.
	DeletionDate  time.Time `json:"deletionDate,omitzero"`
	PendingWindow int       `json:"pendingWindow,omitempty"`
	// Rotation is automatic rotation: on, every RotationPeriod days, next at NextRotation.
	Rotation       bool              `json:"rotation,omitempty"`
	RotationPeriod int               `json:"rotationPeriod,omitempty"`
	NextRotation   time.Time         `json:"nextRotation,omitzero"`
	Versions       []materialVersion `json:"versions"`
}

func (k *keyRecord) arn() string { return keyARN(k.Region, k.Account, k.ID) }

// current is the material version new ciphertexts use.
func (k *keyRecord) current() uint32 { return k.Versions[len(k.Versions)-1].N }

func (k *keyRecord) hasVersion(n uint32) bool {
	for _, v := range k.Versions {
		if v.N == n {
			return true
		}
	}
	return false
}

// onDemandRotations counts the rotations a caller asked for, which KMS limits.
func (k *keyRecord) onDemandRotations() int {
	n := 0
	for _, v := range k.Versions {
		if v.Rotation == rotationOnDemand {
			n++
		}
	}
	return n
}

// deleted reports whether a key's pending deletion has come due; such a key is treated as
// gone even before Tick removes its records.
func (k *keyRecord) deleted(now time.Time) bool {
	return k.State == statePendingDeletion && !now.Before(k.DeletionDate)
}

type aliasRecord struct {
	Name    string    `json:"name"`
	Target  string    `json:"target"` // key id, in the alias's account and region
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// getKey reads a key record, or returns nil and no error when there is none.
func getKey(tx storage.Tx, account, region, id string) (*keyRecord, error) {
	var k keyRecord
	err := storage.GetJSON(tx, keyRecordKey(account, region, id), &k)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// getAlias reads an alias record, or returns nil and no error when there is none.
func getAlias(tx storage.Tx, account, region, name string) (*aliasRecord, error) {
	var a aliasRecord
	err := storage.GetJSON(tx, aliasRecordKey(account, region, name), &a)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func putKey(tx storage.Tx, k *keyRecord) error {
	return storage.PutJSON(tx, keyRecordKey(k.Account, k.Region, k.ID), k)
}

// putMaterial stores material sealed under the master keyring, bound to its record key.
func (s *Service) putMaterial(tx storage.Tx, k *keyRecord, version uint32, material []byte) error {
	rk := materialKey(k.Account, k.Region, k.ID, version)
	return tx.Put(rk, s.kr.Seal(material, rk))
}

// deleteKeyRecords removes a key, all its material and every alias that names it.
func deleteKeyRecords(tx storage.Tx, k *keyRecord) error {
	var dead [][]byte
	collect := func(key, _ []byte) error {
		dead = append(dead, append([]byte(nil), key...))
		return nil
	}
	if err := storage.ScanPrefix(tx, materialsOf(k.Account, k.Region, k.ID), collect); err != nil {
		return err
	}
	err := storage.ScanPrefix(tx, aliasesOf(k.Account, k.Region), func(key, v []byte) error {
		var a aliasRecord
		if err := storage.DecodeJSON(key, v, &a); err != nil {
			return err
		}
		if a.Target == k.ID {
			return collect(key, nil)
		}
		return nil
	})
	if err != nil {
		return err
	}
	dead = append(dead, keyRecordKey(k.Account, k.Region, k.ID))
	for _, key := range dead {
		if err := tx.Delete(key); err != nil {
			return err
		}
	}
	return nil
}
