package s3

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// Record layout. Metadata and bodies live under different prefixes so listings touch no body
// bytes; every key of an object sorts by bucket, then object key, then newest version first.
//
//	s3/bucket/<bucket>                                 bucketRecord
//	s3/cur/<bucket>\x00<key>                          version (the current, non-deleted one)
//	s3/ver/<bucket>\x00<key>\x00<sortID>              version (all versions and delete markers)
//	s3/upload/<bucket>\x00<key>\x00<uploadID>         upload
//	s3/part/<uploadID>/<part number, 5 digits>        part
//	s3/seg/<dataID>/<segment index, 8 bytes BE>       sealed body segment (passthrough: already sealed)
//	s3/pending/<dataID>                               body being written; swept if never committed
//	s3/retired/<time, 16 hex digits>/<dataID>         body of a deleted or replaced version,
//	                                                  its segments deleted after a grace period
const (
	prefixBucket  = "s3/bucket/"
	prefixCurrent = "s3/cur/"
	prefixVersion = "s3/ver/"
	prefixUpload  = "s3/upload/"
	prefixPart    = "s3/part/"
	// PrefixSegment holds object body segments, sealed per version with their own data key; the
	// barrier stores them as they are.
	PrefixSegment = "s3/seg/"
	prefixPending = "s3/pending/"
	prefixRetired = "s3/retired/"
)

func bucketKey(bucket string) []byte { return []byte(prefixBucket + bucket) }

func objectPrefix(prefix, bucket, key string) []byte {
	return []byte(prefix + bucket + "\x00" + key)
}

func currentKey(bucket, key string) []byte { return objectPrefix(prefixCurrent, bucket, key) }

func versionKey(bucket, key, sortID string) []byte {
	return []byte(prefixVersion + bucket + "\x00" + key + "\x00" + sortID)
}

// versionsOf is the prefix of every version of one key.
func versionsOf(bucket, key string) []byte {
	return []byte(prefixVersion + bucket + "\x00" + key + "\x00")
}

func uploadKey(bucket, key, uploadID string) []byte {
	return []byte(prefixUpload + bucket + "\x00" + key + "\x00" + uploadID)
}

func partPrefix(uploadID string) []byte { return []byte(prefixPart + uploadID + "/") }

func partKey(uploadID string, n int) []byte {
	return []byte(fmt.Sprintf("%s%s/%05d", prefixPart, uploadID, n))
}

func segmentKey(dataID string, index uint64) []byte {
	k := make([]byte, 0, len(PrefixSegment)+len(dataID)+9)
	k = append(k, PrefixSegment...)
	k = append(k, dataID...)
	k = append(k, '/')
	return binary.BigEndian.AppendUint64(k, index)
}

func pendingKey(dataID string) []byte { return []byte(prefixPending + dataID) }

// retiredKey orders retired bodies by when they were retired, so a sweep is one range scan.
func retiredKey(at time.Time, dataID string) []byte {
	return fmt.Appendf(nil, "%s%016x/%s", prefixRetired, uint64(at.UnixNano()), dataID)
}

type Bucket struct {
	Name              string             `json:"name"`
	Owner             string             `json:"owner"`
	Region            string             `json:"region"`
	Created           time.Time          `json:"created"`
	Versioning        string             `json:"versioning,omitempty"` // "", Enabled, Suspended
	Encryption        *EncryptionRule    `json:"encryption,omitempty"`
	Policy            string             `json:"policy,omitempty"`
	PublicAccessBlock *PublicAccessBlock `json:"publicAccessBlock,omitempty"`
}

type EncryptionRule struct {
	Algorithm        string `json:"alg"` // AES256 or aws:kms
	KMSMasterKeyID   string `json:"kmsKey,omitempty"`
	BucketKeyEnabled bool   `json:"bucketKey,omitempty"`
}

type PublicAccessBlock struct {
	BlockPublicAcls       bool `xml:"BlockPublicAcls" json:"blockPublicAcls"`
	IgnorePublicAcls      bool `xml:"IgnorePublicAcls" json:"ignorePublicAcls"`
	BlockPublicPolicy     bool `xml:"BlockPublicPolicy" json:"blockPublicPolicy"`
	RestrictPublicBuckets bool `xml:"RestrictPublicBuckets" json:"restrictPublicBuckets"`
}

// body is where a version's (or part's) bytes live: parts, each a run of sealed segments.
type body struct {
	Parts []bodyPart `json:"parts,omitempty"`
	// DataKey is the version's data key, sealed by the key wrapper (SSE-S3) or by the
	// customer's key (SSE-C).
	DataKey []byte `json:"dataKey,omitempty"`
}

type bodyPart struct {
	DataID   string `json:"id"`
	Size     int64  `json:"size"`
	Segments uint64 `json:"segments"`
}

// ObjectVersion is one version of an object, or a delete marker.
type ObjectVersion struct {
	Key          string        `json:"key"`
	VersionID    string        `json:"versionId"` // "null" in unversioned buckets
	SortID       string        `json:"sortId"`
	DeleteMarker bool          `json:"deleteMarker,omitempty"`
	LastModified time.Time     `json:"lastModified"`
	Owner        string        `json:"owner"`
	Size         int64         `json:"size"`
	ETag         string        `json:"etag,omitempty"` // quoted
	Headers      ObjectHeaders `json:"headers,omitempty"`
	// Checksums maps an algorithm name (CRC32, …) to its base64 value; values of multipart
	// objects end in -N (composite).
	Checksums map[string]string `json:"checksums,omitempty"`
	SSE       sse               `json:"sse"`
	Body      body              `json:"body"`
	Tagging   string            `json:"tagging,omitempty"`
}

// ObjectHeaders are the stored representation headers and user metadata.
type ObjectHeaders struct {
	ContentType        string            `json:"ct,omitempty"`
	ContentEncoding    string            `json:"ce,omitempty"`
	ContentDisposition string            `json:"cd,omitempty"`
	ContentLanguage    string            `json:"cl,omitempty"`
	CacheControl       string            `json:"cc,omitempty"`
	Expires            string            `json:"ex,omitempty"`
	Metadata           map[string]string `json:"meta,omitempty"`
}

// sse records how a version is encrypted, as S3 reports it.
type sse struct {
	Algorithm   string `json:"alg,omitempty"` // AES256 (SSE-S3) or aws:kms
	KMSKeyID    string `json:"kmsKey,omitempty"`
	CustomerMD5 string `json:"cMD5,omitempty"` // base64 MD5 of the SSE-C key
}

type Upload struct {
	Bucket    string        `json:"bucket"`
	Key       string        `json:"key"`
	UploadID  string        `json:"uploadId"`
	Initiated time.Time     `json:"initiated"`
	Owner     string        `json:"owner"`
	Headers   ObjectHeaders `json:"headers,omitempty"`
	SSE       sse           `json:"sse"`
	DataKey   []byte        `json:"dataKey"`
	// ChecksumAlgorithm is the algorithm parts must carry, if any.
	ChecksumAlgorithm string `json:"checksumAlgorithm,omitempty"`
	Tagging           string `json:"tagging,omitempty"`
}

type Part struct {
	Number       int               `json:"n"`
	ETag         string            `json:"etag"`
	LastModified time.Time         `json:"lastModified"`
	Checksums    map[string]string `json:"checksums,omitempty"`
	MD5          []byte            `json:"md5"`
	Body         bodyPart          `json:"body"`
}

func decodeVersion(raw []byte, v *ObjectVersion) error { return decodeJSON(raw, v) }

func decodeJSON(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}
