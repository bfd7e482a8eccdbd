package kms

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/storage"
)

const maxTags = 50

// mergeTags validates add and returns have with add applied; a key already present takes the
// new value.
func mergeTags(have []tag, add []wireTag) ([]tag, error) {
	seen := map[string]bool{}
	for i, t := range add {
		switch {
		case len(t.TagKey) < 1 || len(t.TagKey) > 128:
			return nil, errValidation("1 validation error detected: Value '%s' at 'tags.%d.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128", t.TagKey, i+1)
		case len(t.TagValue) > 256:
			return nil, errValidation("1 validation error detected: Value '%s' at 'tags.%d.member.tagValue' failed to satisfy constraint: Member must have length less than or equal to 256", t.TagValue, i+1)
		case strings.HasPrefix(strings.ToLower(t.TagKey), "aws:"):
			return nil, awserr.New(CodeTag, "Tags beginning with aws: are reserved")
		case seen[t.TagKey]:
			return nil, awserr.New(CodeTag, "Duplicate tag keys")
		}
		seen[t.TagKey] = true
	}
	out := slices.Clone(have)
	for _, t := range add {
		i := slices.IndexFunc(out, func(x tag) bool { return x.Key == t.TagKey })
		if i >= 0 {
			out[i].Value = t.TagValue
		} else {
			out = append(out, tag{Key: t.TagKey, Value: t.TagValue})
		}
	}
	if len(out) > maxTags {
		return nil, awserr.New(CodeTag, "Too many tags")
	}
	return out, nil
}

type tagResourceInput struct {
	KeyID   string    `json:"KeyId"`
	Tags    []wireTag `json:"Tags"`
	TagKeys []string  `json:"TagKeys"`
}

func (s *Service) tagResource(ctx context.Context, in *tagResourceInput) (*emptyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, errRequired("tags")
	}
	if _, err := mergeTags(nil, in.Tags); err != nil {
		return nil, err
	}
	return s.changeTags(ctx, p, in.KeyID, "TagResource", func(have []tag) ([]tag, error) {
		return mergeTags(have, in.Tags)
	})
}

func (s *Service) untagResource(ctx context.Context, in *tagResourceInput) (*emptyOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, errRequired("tagKeys")
	}
	return s.changeTags(ctx, p, in.KeyID, "UntagResource", func(have []tag) ([]tag, error) {
		return slices.DeleteFunc(slices.Clone(have), func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) }), nil
	})
}

func (s *Service) changeTags(ctx context.Context, p *identity.Principal, raw, op string, change func([]tag) ([]tag, error)) (*emptyOutput, error) {
	k, err := s.resolve(ctx, p, raw, "keyId", op, nil)
	if err != nil {
		return nil, err
	}
	_, err = s.updateKey(ctx, k, func(_ storage.Tx, k *keyRecord) error {
		if err := checkEditable(k); err != nil {
			return err
		}
		tags, err := change(k.Tags)
		k.Tags = tags
		return err
	})
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type listResourceTagsOutput struct {
	Tags       []wireTag `json:"Tags"`
	NextMarker string    `json:"NextMarker,omitempty"`
	Truncated  bool      `json:"Truncated"`
}

// listResourceTags pages through a key's tags in the order they were added; Marker is the
// index of the first tag of the next page.
func (s *Service) listResourceTags(ctx context.Context, in *listInput) (*listResourceTagsOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	limit, err := in.limit(50)
	if err != nil {
		return nil, err
	}
	start := 0
	if in.Marker != "" {
		n, err := strconv.Atoi(in.Marker)
		if err != nil || n < 0 {
			return nil, awserr.New(CodeInvalidMarker, "The marker is not valid.")
		}
		start = n
	}
	k, err := s.resolve(ctx, p, in.KeyID, "keyId", "ListResourceTags", nil)
	if err != nil {
		return nil, err
	}
	out := &listResourceTagsOutput{Tags: []wireTag{}}
	for i := start; i < len(k.Tags); i++ {
		if len(out.Tags) == limit {
			out.NextMarker, out.Truncated = fmt.Sprint(i), true
			break
		}
		out.Tags = append(out.Tags, wireTag{TagKey: k.Tags[i].Key, TagValue: k.Tags[i].Value})
	}
	return out, nil
}
