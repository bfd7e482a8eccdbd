package s3

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/storage"
)

// A sort id orders the versions of a key newest first: 16 hex digits of the inverted creation
// time in nanoseconds, then 16 random hex digits. Versioned buckets use it as the version id.
const sortIDLen = 32

func newSortID(t time.Time, random []byte) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], math.MaxUint64-uint64(t.UnixNano()))
	copy(b[8:], random)
	return hex.EncodeToString(b[:])
}

func sortIDTime(id string) (int64, bool) {
	if len(id) != sortIDLen {
		return 0, false
	}
	raw, err := hex.DecodeString(id[:16])
	if err != nil {
		return 0, false
	}
	return int64(math.MaxUint64 - binary.BigEndian.Uint64(raw)), true
}

func validVersionID(id string) bool {
	if id == "null" {
		return true
	}
	_, err := hex.DecodeString(id)
	return len(id) == sortIDLen && err == nil
}

// latestVersion returns the newest version (or delete marker) of key, or nil.
func latestVersion(tx storage.Tx, bucket, key string) (*ObjectVersion, error) {
	var v *ObjectVersion
	err := storage.ScanPrefix(tx, versionsOf(bucket, key), func(_, raw []byte) error {
		v = new(ObjectVersion)
		if err := decodeVersion(raw, v); err != nil {
			return err
		}
		return storage.ErrStop
	})
	return v, err
}

// findVersion returns the version of key with the given version id ("null" included).
func findVersion(tx storage.Tx, bucket, key, versionID string) (*ObjectVersion, error) {
	notFound := awserr.New(awserr.NoSuchVersion, "The specified version does not exist.").With("Key", key).With("VersionId", versionID)
	if versionID != "null" {
		var v ObjectVersion
		if err := storage.GetJSON(tx, versionKey(bucket, key, versionID), &v); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return nil, notFound
			}
			return nil, err
		}
		return &v, nil
	}
	var found *ObjectVersion
	err := storage.ScanPrefix(tx, versionsOf(bucket, key), func(_, raw []byte) error {
		var v ObjectVersion
		if err := decodeVersion(raw, &v); err != nil {
			return err
		}
		if v.VersionID == "null" {
			found = &v
			return storage.ErrStop
		}
		return nil
	})
	if err == nil && found == nil {
		err = notFound
	}
	return found, err
}

// nextSortID returns a sort id for a new version of key created at now that sorts before
// (is newer than) every existing version, even if the clock stepped back.
func nextSortID(tx storage.Tx, bucket, key string, now time.Time, random []byte) (string, error) {
	latest, err := latestVersion(tx, bucket, key)
	if err != nil {
		return "", err
	}
	if latest != nil {
		if ns, ok := sortIDTime(latest.SortID); ok && now.UnixNano() <= ns {
			now = time.Unix(0, ns+1)
		}
	}
	return newSortID(now, random), nil
}

// putVersion makes v the newest version of its key: in versioned buckets it is added, in
// unversioned or suspended ones it replaces the "null" version (whose body is freed). The
// current pointer follows. v.SortID and v.VersionID are set here.
func putVersion(tx storage.Tx, b *Bucket, v *ObjectVersion, random []byte) error {
	sortID, err := nextSortID(tx, b.Name, v.Key, v.LastModified, random)
	if err != nil {
		return err
	}
	v.SortID = sortID
	if b.Versioning == "Enabled" {
		v.VersionID = sortID
	} else {
		v.VersionID = "null"
		old, err := findVersion(tx, b.Name, v.Key, "null")
		switch {
		case err == nil:
			if err := retireBody(tx, old.Body, v.LastModified); err != nil {
				return err
			}
			if err := tx.Delete(versionKey(b.Name, v.Key, old.SortID)); err != nil {
				return err
			}
		case !isCode(err, awserr.NoSuchVersion):
			return err
		}
	}
	if err := storage.PutJSON(tx, versionKey(b.Name, v.Key, v.SortID), v); err != nil {
		return err
	}
	if v.DeleteMarker {
		return tx.Delete(currentKey(b.Name, v.Key))
	}
	return storage.PutJSON(tx, currentKey(b.Name, v.Key), v)
}

// removeVersion deletes one version as of now, retiring its body, and repoints the current
// pointer at the newest remaining version.
func removeVersion(tx storage.Tx, bucket string, v *ObjectVersion, now time.Time) error {
	if err := retireBody(tx, v.Body, now); err != nil {
		return err
	}
	if err := tx.Delete(versionKey(bucket, v.Key, v.SortID)); err != nil {
		return err
	}
	latest, err := latestVersion(tx, bucket, v.Key)
	if err != nil {
		return err
	}
	if latest == nil || latest.DeleteMarker {
		return tx.Delete(currentKey(bucket, v.Key))
	}
	return storage.PutJSON(tx, currentKey(bucket, v.Key), latest)
}

func isCode(err error, code string) bool {
	var e *awserr.Error
	return errors.As(err, &e) && e.Code == code
}
