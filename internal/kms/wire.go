package kms

import (
	"strconv"
	"time"
)

// epoch is a timestamp on the JSON 1.1 wire: seconds since the Unix epoch as a number, with
// millisecond precision, as KMS sends it.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// keyMetadata is KMS's KeyMetadata for a symmetric encryption key.
type keyMetadata struct {
	AWSAccountID                string   `json:"AWSAccountId"`
	KeyID                       string   `json:"KeyId"`
	Arn                         string   `json:"Arn"`
	CreationDate                epoch    `json:"CreationDate"`
	Enabled                     bool     `json:"Enabled"`
	Description                 string   `json:"Description"`
	KeyUsage                    string   `json:"KeyUsage"`
	KeyState                    string   `json:"KeyState"`
	DeletionDate                *epoch   `json:"DeletionDate,omitempty"`
	PendingDeletionWindowInDays int      `json:"PendingDeletionWindowInDays,omitempty"`
	Origin                      string   `json:"Origin"`
	KeyManager                  string   `json:"KeyManager"`
	CustomerMasterKeySpec       string   `json:"CustomerMasterKeySpec"`
	KeySpec                     string   `json:"KeySpec"`
	EncryptionAlgorithms        []string `json:"EncryptionAlgorithms"`
	MultiRegion                 bool     `json:"MultiRegion"`
	CurrentKeyMaterialID        string   `json:"CurrentKeyMaterialId"`
}

const (
	keyUsageEncryptDecrypt = "ENCRYPT_DECRYPT"
	specSymmetricDefault   = "SYMMETRIC_DEFAULT"
	algSymmetricDefault    = "SYMMETRIC_DEFAULT"
	originAWSKMS           = "AWS_KMS"
)

func metadataOf(k *keyRecord) *keyMetadata {
	return &keyMetadata{
		AWSAccountID:                k.Account,
		KeyID:                       k.ID,
		Arn:                         k.arn(),
		CreationDate:                epoch(k.Created),
		Enabled:                     k.State == stateEnabled,
		Description:                 k.Description,
		KeyUsage:                    keyUsageEncryptDecrypt,
		KeyState:                    k.State,
		DeletionDate:                epochPtr(k.DeletionDate),
		PendingDeletionWindowInDays: k.PendingWindow,
		Origin:                      originAWSKMS,
		KeyManager:                  k.Manager,
		CustomerMasterKeySpec:       specSymmetricDefault,
		KeySpec:                     specSymmetricDefault,
		EncryptionAlgorithms:        []string{algSymmetricDefault},
		CurrentKeyMaterialID:        materialID(k.arn(), k.current()),
	}
}

type wireTag struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

// emptyOutput is the response of operations that return nothing.
type emptyOutput struct{}
