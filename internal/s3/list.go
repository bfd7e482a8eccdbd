package s3

import (
	"bytes"
	"context"
	"strings"

	"github.com/stateward/stateward/internal/storage"
)

// listQuery is a listing request over one bucket's keys.
type listQuery struct {
	Bucket    string
	Prefix    string
	Delimiter string
	// After is exclusive: listing resumes after this key, or after every key that starts with
	// it when AfterPrefix is set (a common prefix returned on the previous page).
	After       string
	AfterPrefix bool
	Max         int
}

// listPage is one page of a listing; Last names where the next page resumes.
type listPage struct {
	Items      []version
	Prefixes   []string
	Truncated  bool
	Last       string
	LastPrefix bool
}

// walk lists entries under base (a record prefix ending in "<bucket>\x00") in key order,
// folding keys into common prefixes at the delimiter and skipping past each folded prefix with
// a fresh range scan, so a page costs O(page size), not O(keys under a prefix). visit sees each
// record listed; keyOf gives the object key of a record from its key minus base.
func walk(tx storage.Tx, base []byte, q listQuery, keyOf func(rec []byte) string, visit func(key string, raw []byte) error) (listPage, error) {
	var page listPage
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
func (s *Service) listObjects(ctx context.Context, q listQuery) (listPage, error) {
	var page listPage
	err := s.store.View(ctx, func(tx storage.Tx) error {
		if _, err := getBucket(tx, q.Bucket); err != nil {
			return err
		}
		var items []version
		p, err := walk(tx, []byte(prefixCurrent+q.Bucket+"\x00"), q,
			func(rec []byte) string { return string(rec) },
			func(_ string, raw []byte) error {
				var v version
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

// versionPage is one page of ListObjectVersions.
type versionPage struct {
	listPage
	Latest        map[string]string // key → version id of its newest version
	NextVersionID string
}

// listVersions lists every version and delete marker, newest first within a key. Resuming
// inside a key (afterVersion set) starts after that version.
func (s *Service) listVersions(ctx context.Context, q listQuery, afterVersion string) (versionPage, error) {
	var out versionPage
	err := s.store.View(ctx, func(tx storage.Tx) error {
		if _, err := getBucket(tx, q.Bucket); err != nil {
			return err
		}
		base := []byte(prefixVersion + q.Bucket + "\x00")
		var items []version
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
			var v version
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
		out.listPage = p
		out.Items = items
		out.Latest = latest
		return err
	})
	return out, err
}
