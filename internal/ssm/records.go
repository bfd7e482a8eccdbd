package ssm

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/stateward/stateward/internal/storage"
)

// Record layout. Parameters are scoped by account and region and ordered by name, so a path
// listing is one range scan over its prefix; a parameter's versions sort beside it by name,
// newest first. Names stay readable in the data file (as object keys do); every value, each
// version's value above all, is sealed by the storage barrier, and a SecureString's value is
// already ciphertext under its KMS key before it gets there.
//
//	ssm/param/<account>/<region>/<name>                           parameterRecord
//	ssm/ver/<account>/<region>/<name>\x00<^version, 16 hex>       versionRecord
//	ssm/count/<account>/<region>                                  counts, by tier
const (
	prefixParam   = "ssm/param/"
	prefixVersion = "ssm/ver/"
	prefixCount   = "ssm/count/"
)

func scope(account, region string) string { return account + "/" + region + "/" }

func paramKey(account, region, name string) []byte {
	return []byte(prefixParam + scope(account, region) + name)
}

// paramsOf is the prefix of the parameters of account whose names start with namePrefix.
func paramsOf(account, region, namePrefix string) []byte {
	return []byte(prefixParam + scope(account, region) + namePrefix)
}

// versionsOf is the prefix of every version of one parameter; names never hold a NUL.
func versionsOf(account, region, name string) []byte {
	return []byte(prefixVersion + scope(account, region) + name + "\x00")
}

func versionKey(account, region, name string, version int64) []byte {
	return fmt.Appendf(versionsOf(account, region, name), "%016x", ^uint64(version))
}

func countKey(account, region string) []byte { return []byte(prefixCount + scope(account, region)) }

// Parameter types and tiers, as the API names them.
const (
	typeString       = "String"
	typeStringList   = "StringList"
	typeSecureString = "SecureString"

	tierStandard        = "Standard"
	tierAdvanced        = "Advanced"
	tierIntelligent     = "Intelligent-Tiering"
	dataTypeText        = "text"
	dataTypeImage       = "aws:ec2:image"
	dataTypeIntegration = "aws:ssm:integration"

	defaultKeyAlias = "alias/aws/ssm"
	// maxVersions is how many versions of a parameter are kept; the oldest goes first.
	maxVersions = 100
	maxTags     = 50
)

var (
	parameterTypes = []string{typeString, typeStringList, typeSecureString}
	parameterTiers = []string{tierStandard, tierAdvanced, tierIntelligent}
)

type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// versionMeta is what describes one version of a parameter.
type versionMeta struct {
	Version        int64     `json:"version"`
	Type           string    `json:"type"`
	KeyID          string    `json:"keyId,omitempty"` // as the caller named it; SecureString only
	Description    string    `json:"description,omitempty"`
	AllowedPattern string    `json:"allowedPattern,omitempty"`
	Tier           string    `json:"tier"`
	DataType       string    `json:"dataType"`
	Modified       time.Time `json:"modified"`
	ModifiedBy     string    `json:"modifiedBy"` // the caller's ARN
}

// parameterRecord is a parameter: its latest version's metadata, the labels of its versions
// and its tags. Its values live in its versionRecords.
type parameterRecord struct {
	Name string `json:"name"`
	versionMeta
	Oldest int64            `json:"oldest"` // the oldest version kept
	Labels map[string]int64 `json:"labels,omitempty"`
	Tags   []tag            `json:"tags,omitempty"`
}

// labelsOf returns the labels of version v, in name order.
func (p *parameterRecord) labelsOf(v int64) []string {
	out := []string{}
	for l, n := range p.Labels {
		if n == v {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// versionRecord is one version: its metadata and value.
type versionRecord struct {
	versionMeta
	// Value is the value of a String or StringList; Envelope that of a SecureString.
	Value    secret `json:"value,omitempty"`
	Envelope []byte `json:"envelope,omitempty"`
}

// secret is a parameter value. It never prints: String and LogValue redact it.
type secret string

func (secret) String() string       { return "[redacted]" }
func (secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// counts are the parameters of an account and region, by tier, which AWS limits.
type counts struct {
	Standard int `json:"standard"`
	Advanced int `json:"advanced"`
}

func (c *counts) add(tier string, n int) {
	if tier == tierAdvanced {
		c.Advanced += n
	} else {
		c.Standard += n
	}
}

// getParam reads a parameter, or returns nil and no error when there is none.
func getParam(tx storage.Tx, account, region, name string) (*parameterRecord, error) {
	var p parameterRecord
	err := storage.GetJSON(tx, paramKey(account, region, name), &p)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// getVersion reads version v of a parameter, or returns nil and no error when there is none.
func getVersion(tx storage.Tx, account, region, name string, v int64) (*versionRecord, error) {
	var r versionRecord
	err := storage.GetJSON(tx, versionKey(account, region, name, v), &r)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func getCounts(tx storage.Tx, account, region string) (*counts, error) {
	var c counts
	err := storage.GetJSON(tx, countKey(account, region), &c)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	return &c, nil
}

// deleteParam removes a parameter and all its versions, and counts it out.
func deleteParam(tx storage.Tx, account, region string, p *parameterRecord) error {
	var dead [][]byte
	err := storage.ScanPrefix(tx, versionsOf(account, region, p.Name), func(k, _ []byte) error {
		dead = append(dead, bytes.Clone(k))
		return nil
	})
	if err != nil {
		return err
	}
	dead = append(dead, paramKey(account, region, p.Name))
	for _, k := range dead {
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	c, err := getCounts(tx, account, region)
	if err != nil {
		return err
	}
	c.add(p.Tier, -1)
	return storage.PutJSON(tx, countKey(account, region), c)
}
