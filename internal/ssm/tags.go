package ssm

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/storage"
)

var (
	tagPattern    = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
	resourceTypes = []string{"Document", "ManagedInstance", "MaintenanceWindow", "Parameter", "PatchBaseline", "OpsItem", "OpsMetadata", "Automation", "Association"}
)

// checkTags validates the tags of a request: keys of 1 to 128 and values of up to 256 of the
// characters the model allows, no key under the reserved aws: prefix, each key once.
func checkTags(in []wireTag) ([]tag, error) {
	if len(in) > 1000 {
		return nil, errValidation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	out := make([]tag, 0, len(in))
	for i, t := range in {
		switch {
		case t.Key == nil:
			return nil, errRequired("tags." + strconv.Itoa(i+1) + ".member.key")
		case t.Value == nil:
			return nil, errRequired("tags." + strconv.Itoa(i+1) + ".member.value")
		}
		k, v := *t.Key, *t.Value
		switch {
		case k == "" || len(k) > 128:
			return nil, errLength("tags."+strconv.Itoa(i+1)+".member.key", k, 1, 128)
		case len(v) > 256:
			return nil, errLength("tags."+strconv.Itoa(i+1)+".member.value", v, 0, 256)
		case !tagPattern.MatchString(k) || !tagPattern.MatchString(v):
			return nil, errValidation("1 validation error detected: Value '%s' at 'tags.%d.member' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", k, i+1)
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, errValidation("Tag keys beginning with aws: are reserved for AWS: %s", k)
		}
		if j := slices.IndexFunc(out, func(x tag) bool { return x.Key == k }); j >= 0 {
			out[j].Value = v
			continue
		}
		out = append(out, tag{Key: k, Value: v})
	}
	if len(out) > maxTags {
		return nil, awserr.Newf(CodeTooManyTags, "A parameter can have at most %d tags.", maxTags)
	}
	return out, nil
}

// tagConditions are the condition keys of tags a request sets: aws:RequestTag/<key> and
// aws:TagKeys.
func tagConditions(tags []tag) map[string][]string {
	if len(tags) == 0 {
		return nil
	}
	c := map[string][]string{}
	var keys []string
	for _, t := range tags {
		c["aws:RequestTag/"+t.Key] = []string{t.Value}
		keys = append(keys, t.Key)
	}
	c["aws:TagKeys"] = keys
	return c
}

type tagResourceInput struct {
	ResourceType string    `json:"ResourceType"`
	ResourceID   *string   `json:"ResourceId"`
	Tags         []wireTag `json:"Tags"`
	TagKeys      []string  `json:"TagKeys"`
}

type listTagsOutput struct {
	TagList []wireTag `json:"TagList"`
}

// resource reads the parameter a tagging request names and authorizes op on it; a missing
// parameter is InvalidResourceId, as SSM answers (and chamber expects).
func (s *Service) resource(ctx context.Context, op string, in *tagResourceInput, extra map[string][]string) (account, name string, err error) {
	p, err := caller(ctx)
	if err != nil {
		return "", "", err
	}
	switch {
	case in.ResourceType == "":
		return "", "", errRequired("resourceType")
	case !slices.Contains(resourceTypes, in.ResourceType):
		return "", "", errEnum("resourceType", in.ResourceType, resourceTypes)
	case in.ResourceType != "Parameter":
		return "", "", awserr.Newf(CodeInvalidResourceType, "The resource type %s is not valid here: this server keeps Parameter Store parameters only.", in.ResourceType)
	case in.ResourceID == nil:
		return "", "", errRequired("resourceId")
	}
	account, name = p.AccountID, strings.TrimSpace(*in.ResourceID)
	if checkName(name) != nil {
		return "", "", awserr.New(CodeInvalidResourceID, "The resource ID is not valid. Verify that you entered the correct ID and try again.")
	}
	cur, err := s.head(ctx, account, name)
	if err != nil {
		return "", "", err
	}
	if err := s.authorize(ctx, op, s.parameterARN(account, name), account, cur, extra); err != nil {
		return "", "", err
	}
	if cur == nil {
		return "", "", awserr.New(CodeInvalidResourceID, "The resource ID is not valid. Verify that you entered the correct ID and try again.")
	}
	return account, name, nil
}

// updateTags applies fn to the tags of a parameter inside one write transaction.
func (s *Service) updateTags(ctx context.Context, account, name string, fn func(tags []tag) ([]tag, error)) error {
	return s.store.Update(ctx, func(tx storage.Tx) error {
		cur, err := getParam(tx, account, s.region, name)
		if err != nil {
			return err
		}
		if cur == nil {
			return awserr.New(CodeInvalidResourceID, "The resource ID is not valid. Verify that you entered the correct ID and try again.")
		}
		if cur.Tags, err = fn(slices.Clone(cur.Tags)); err != nil {
			return err
		}
		return storage.PutJSON(tx, paramKey(account, s.region, name), cur)
	})
}

func (s *Service) addTagsToResource(ctx context.Context, in *tagResourceInput) (*emptyOutput, error) {
	if in.Tags == nil {
		return nil, errRequired("tags")
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	account, name, err := s.resource(ctx, "AddTagsToResource", in, tagConditions(tags))
	if err != nil {
		return nil, err
	}
	err = s.updateTags(ctx, account, name, func(cur []tag) ([]tag, error) {
		for _, t := range tags {
			if i := slices.IndexFunc(cur, func(x tag) bool { return x.Key == t.Key }); i >= 0 {
				cur[i].Value = t.Value
			} else {
				cur = append(cur, t)
			}
		}
		if len(cur) > maxTags {
			return nil, awserr.Newf(CodeTooManyTags, "A parameter can have at most %d tags.", maxTags)
		}
		return cur, nil
	})
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

func (s *Service) removeTagsFromResource(ctx context.Context, in *tagResourceInput) (*emptyOutput, error) {
	if in.TagKeys == nil {
		return nil, errRequired("tagKeys")
	}
	account, name, err := s.resource(ctx, "RemoveTagsFromResource", in, map[string][]string{"aws:TagKeys": in.TagKeys})
	if err != nil {
		return nil, err
	}
	err = s.updateTags(ctx, account, name, func(cur []tag) ([]tag, error) {
		return slices.DeleteFunc(cur, func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) }), nil
	})
	if err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

func (s *Service) listTagsForResource(ctx context.Context, in *tagResourceInput) (*listTagsOutput, error) {
	account, name, err := s.resource(ctx, "ListTagsForResource", in, nil)
	if err != nil {
		return nil, err
	}
	cur, err := s.head(ctx, account, name)
	if err != nil {
		return nil, err
	}
	out := &listTagsOutput{TagList: []wireTag{}}
	if cur == nil {
		return out, nil
	}
	tags := slices.Clone(cur.Tags)
	slices.SortFunc(tags, func(a, b tag) int { return strings.Compare(a.Key, b.Key) })
	for _, t := range tags {
		out.TagList = append(out.TagList, wireTag{Key: &t.Key, Value: &t.Value})
	}
	return out, nil
}
