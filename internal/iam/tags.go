package iam

import (
	"slices"
	"strings"
)

// maxTags is the number of tags an IAM resource may carry.
const maxTags = 50

// checkNewTags refuses tags a request may not set: keys in the reserved aws: namespace, and the
// same key twice (IAM tag keys are case-insensitive).
func checkNewTags(tags []Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		k := strings.ToLower(t.Key)
		if strings.HasPrefix(k, "aws:") {
			return errInvalidInput("User-defined tag keys can't start with 'aws:'.")
		}
		if seen[k] {
			return errInvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	return nil
}

// mergeTags returns have with add applied: a key already present (in any case) takes the new
// key and value. It refuses a result of more than maxTags tags.
func mergeTags(have, add []Tag) ([]Tag, error) {
	out := slices.Clone(have)
	for _, t := range add {
		i := slices.IndexFunc(out, func(h Tag) bool { return strings.EqualFold(h.Key, t.Key) })
		if i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, errLimit("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

// removeTags returns have without the tags whose keys are in keys (case-insensitively).
func removeTags(have []Tag, keys []string) []Tag {
	return slices.DeleteFunc(slices.Clone(have), func(h Tag) bool {
		return slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(h.Key, k) })
	})
}

func tagMap(tags []Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}
