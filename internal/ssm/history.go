package ssm

import (
	"context"
	"slices"
	"strconv"

	"github.com/stateward/stateward/internal/storage"
)

type getParameterHistoryInput struct {
	Name           *string `json:"Name"`
	WithDecryption *bool   `json:"WithDecryption"`
	MaxResults     *int    `json:"MaxResults"`
	NextToken      *string `json:"NextToken"`
}

type getParameterHistoryOutput struct {
	Parameters []wireHistory `json:"Parameters"`
	NextToken  string        `json:"NextToken,omitempty"`
}

// getParameterHistory returns the kept versions of a parameter, oldest first as SSM lists
// them, in pages of MaxResults (50 unless told, at most 50), each with its labels. A page's
// NextToken is the version it resumes at. The caller must be allowed ssm:GetParameterHistory
// on the parameter, and with WithDecryption kms:Decrypt on the key of each SecureString
// version in the page.
func (s *Service) getParameterHistory(ctx context.Context, in *getParameterHistoryInput) (*getParameterHistoryOutput, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := requiredName(in.Name, "name")
	if err != nil {
		return nil, err
	}
	r, err := s.parseReference(raw, p.AccountID, false)
	if err != nil {
		return nil, err
	}
	limit, err := maxResults(in.MaxResults, 50, 50)
	if err != nil {
		return nil, err
	}
	from := int64(0)
	if in.NextToken != nil && *in.NextToken != "" {
		if from, err = strconv.ParseInt(*in.NextToken, 10, 64); err != nil || from < 1 {
			return nil, errInvalidNextToken()
		}
	}
	var f *found
	var versions []*versionRecord
	err = s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		if f, err = s.lookup(tx, r); err != nil || f.param == nil {
			return err
		}
		versions = versions[:0]
		// Stored newest first; a page of the oldest is a short list of at most 100 anyway.
		return storage.ScanPrefix(tx, versionsOf(r.account, s.region, f.param.Name), func(k, v []byte) error {
			var rec versionRecord
			if err := storage.DecodeJSON(k, v, &rec); err != nil {
				return err
			}
			versions = append(versions, &rec)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	arn := s.arnOf(f)
	if err := s.authorize(ctx, "GetParameterHistory", arn, r.account, f.param, nil); err != nil {
		return nil, err
	}
	if f.param == nil {
		return nil, errParameterNotFound(r.name())
	}
	slices.Reverse(versions)
	i := slices.IndexFunc(versions, func(v *versionRecord) bool { return v.Version >= from })
	if i < 0 {
		i = len(versions)
	}
	page := versions[i:]
	out := &getParameterHistoryOutput{Parameters: []wireHistory{}}
	if len(page) > limit {
		out.NextToken = strconv.FormatInt(page[limit].Version, 10)
		page = page[:limit]
	}
	decrypt := in.WithDecryption != nil && *in.WithDecryption
	for _, v := range page {
		value, err := s.valueOf(ctx, r.account, arn, v, decrypt)
		if err != nil {
			return nil, err
		}
		out.Parameters = append(out.Parameters, wireHistory{Name: f.param.Name, Type: v.Type, KeyID: v.KeyID,
			LastModifiedDate: epoch(v.Modified), LastModifiedUser: v.ModifiedBy, Description: v.Description,
			Value: value, AllowedPattern: v.AllowedPattern, Version: v.Version, Labels: f.param.labelsOf(v.Version),
			Tier: v.Tier, Policies: []wirePolicy{}, DataType: v.DataType})
	}
	return out, nil
}
