package iam

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/storage"
)

// Markers are opaque to clients: a scan's marker is the record key suffix of the next item,
// an in-memory list's the index of the next item, both base64url-encoded.

const defaultMaxItems = 100

func maxItems(n *int32) int {
	if n == nil {
		return defaultMaxItems
	}
	return int(*n)
}

func encodeMarker(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeMarker(m string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || len(b) == 0 {
		return "", errValidation("Invalid Marker.")
	}
	return string(b), nil
}

// scanPage returns at most limit records under prefix that keep accepts, starting at marker,
// and the marker of the next page ("" when this one is the last).
func scanPage[T any](tx storage.Tx, prefix, marker string, limit int, keep func(*T) bool) ([]*T, string, error) {
	var start []byte
	if marker != "" {
		suffix, err := decodeMarker(marker)
		if err != nil {
			return nil, "", err
		}
		start = []byte(prefix + suffix)
	}
	var out []*T
	next := ""
	err := scanJSON(tx, prefix, start, func(k []byte, v *T) error {
		if keep != nil && !keep(v) {
			return nil
		}
		if len(out) == limit {
			next = encodeMarker(strings.TrimPrefix(string(k), prefix))
			return storage.ErrStop
		}
		out = append(out, v)
		return nil
	})
	return out, next, err
}

// pageSlice returns at most limit items of all from marker on, and the next marker.
func pageSlice[T any](all []T, marker string, limit int) ([]T, string, error) {
	start := 0
	if marker != "" {
		s, err := decodeMarker(marker)
		if err != nil {
			return nil, "", err
		}
		if start, err = strconv.Atoi(s); err != nil || start < 0 || start > len(all) {
			return nil, "", errValidation("Invalid Marker.")
		}
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = encodeMarker(strconv.Itoa(end))
	}
	return all[start:end], next, nil
}
