package s3

import (
	"bytes"
	"context"
	"strings"

	"github.com/stateward/stateward/internal/storage"
)

// ListQuery is a listing request over one bucket's keys.
type ListQuery struct {
	Bucket    string
	Prefix    string
	Delimiter string
	// After is exclusive: listing resumes after this key, or after every key that starts with
	// it when AfterPrefix is set (a common prefix returned on the previous page).
	After       string
	AfterPrefix bool
	Max         int
	// MaxKeys is max-keys as the request gave it (s3:max-keys); "" when it gave none.
	MaxKeys string
}

// ListPage is one page of a listing; Last names where the next page resumes.
type ListPage struct {
	Items      []ObjectVersion
	Prefixes   []string
	Truncated  bool
	Last       string
	LastPrefix bool
}

// listKeys are a listing's condition keys: s3:prefix, s3:delimiter and s3:max-keys, each
// present when the request gave it.
func listKeys(q ListQuery) map[string][]string {
	keys := map[string][]string{}
	if q.Prefix != "" {
		keys["s3:prefix"] = []string{q.Prefix}
	}
	if q.Delimiter != "" {
		keys["s3:delimiter"] = []string{q.Delimiter}
	}
	if q.MaxKeys != "" {
		keys["s3:max-keys"] = []string{q.MaxKeys}
	}
	return keys
}

// ListObjects lists a bucket's current objects (ListObjects and ListObjectsV2), authorized as
// s3:ListBucket with s3:prefix, s3:delimiter and s3:max-keys.
func (s *Service) ListObjects(ctx context.Context, q ListQuery) (ListPage, error) {
	if _, err := s.authorize(ctx, access{action: "s3:ListBucket", bucket: q.Bucket, keys: listKeys(q)}); err != nil {
		return ListPage{}, err
	}
	return s.listObjects(ctx, q)
}

// ListObjectVersions lists every version and delete marker (s3:ListBucketVersions, with the
// listing's condition keys).
func (s *Service) ListObjectVersions(ctx context.Context, q ListQuery, afterVersion string) (VersionPage, error) {
	if _, err := s.authorize(ctx, access{action: "s3:ListBucketVersions", bucket: q.Bucket, keys: listKeys(q)}); err != nil {
		return VersionPage{}, err
	}
	return s.listVersions(ctx, q, afterVersion)
}

// walk lists entries under base (a record prefix ending in "<bucket>\x00") in key order,
// folding keys into common prefixes at the delimiter and skipping past each folded prefix with
// a fresh range scan, so a page costs O(page size), not O(keys under a prefix). visit sees each
// record listed; keyOf gives the object key of a record from its key minus base.
func walk(tx storage.Tx, base []byte, q ListQuery, keyOf func(rec []byte) string, visit func(key string, raw []byte) error) (ListPage, error) {
	var page ListPage
	pos := append(bytes.Clone(base), q.Prefix...)
	end := storage.PrefixEnd(pos)
	if q.After != "" {
		after := append(bytes.Clone(base), q.After...)
		if q.AfterPrefix {
			after = storage.PrefixEnd(after)
		} else {
			after = append(after, 0x01) // past every record of that key (keys hold no NUL)
		}
		if bytes.Compare(after, pos) > 0 {
			pos = after
		}
	}
	count := 0
	full := func() bool {
		if count == q.Max {
			page.Truncated = true
			return true
		}
		return false
	}
	for {
		var folded string
		err := tx.Scan(pos, end, func(k, raw []byte) error {
			key := keyOf(k[len(base):])
			if q.Delimiter != "" {
				rest := key[len(q.Prefix):]
				if i := strings.Index(rest, q.Delimiter); i >= 0 {
					if full() {
						return storage.ErrStop
					}
					folded = q.Prefix + rest[:i+len(q.Delimiter)]
					return storage.ErrStop
				}
			}
			if full() {
				return storage.ErrStop
			}
			if err := visit(key, raw); err != nil {
				return err
			}
			count++
			page.Last, page.LastPrefix = key, false
			return nil
		})
		if err != nil || page.Truncated || folded == "" {
			return page, err
		}
		page.Prefixes = append(page.Prefixes, folded)
		count++
		page.Last, page.LastPrefix = folded, true
		pos = storage.PrefixEnd(append(bytes.Clone(base), folded...))
		if pos == nil || (end != nil && bytes.Compare(pos, end) >= 0) {
			return page, nil
		}
	}
}

// listObjects lists current versions (ListObjectsV2 and ListObjects).
func (s *Service) listObjects(ctx context.Context, q ListQuery) (ListPage, error) {
	var page ListPage
	err := s.store.View(ctx, func(tx storage.Tx) error {
		if _, err := getBucket(tx, q.Bucket); err != nil {
			return err
		}
		var items []ObjectVersion
		p, err := walk(tx, []byte(prefixCurrent+q.Bucket+"\x00"), q,
			func(rec []byte) string { return string(rec) },
			func(_ string, raw []byte) error {
				var v ObjectVersion
				if err := decodeVersion(raw, &v); err != nil {
					return err
				}
				items = append(items, v)
				return nil
			})
		page = p
		page.Items = items
		return err
	})
	return page, err
}

// VersionPage is one page of ListObjectVersions.
type VersionPage struct {
	ListPage
	Latest        map[string]string // key → version id of its newest version
	NextVersionID string
}

// listVersions lists every version and delete marker, newest first within a key. Resuming
// inside a key (afterVersion set) starts after that version.
func (s *Service) listVersions(ctx context.Context, q ListQuery, afterVersion string) (VersionPage, error) {
	var out VersionPage
	err := s.store.View(ctx, func(tx storage.Tx) error {
		if _, err := getBucket(tx, q.Bucket); err != nil {
			return err
		}
		base := []byte(prefixVersion + q.Bucket + "\x00")
		var items []ObjectVersion
		latest := map[string]string{}
		seen := map[string]bool{}
		if q.After != "" && afterVersion != "" {
			if v, err := findVersion(tx, q.Bucket, q.After, afterVersion); err == nil {
				// Resume inside the key, after that version's record.
				seen[q.After] = true
				q.After += "\x00" + v.SortID
			}
		}
		keyOf := func(rec []byte) string {
			return string(rec[:len(rec)-sortIDLen-1])
		}
		p, err := walk(tx, base, q, keyOf, func(key string, raw []byte) error {
			var v ObjectVersion
			if err := decodeVersion(raw, &v); err != nil {
				return err
			}
			if !seen[key] {
				seen[key] = true
				latest[key] = v.VersionID
			}
			items = append(items, v)
			out.NextVersionID = v.VersionID
			return nil
		})
		out.ListPage = p
		out.Items = items
		out.Latest = latest
		return err
	})
	return out, err
}
