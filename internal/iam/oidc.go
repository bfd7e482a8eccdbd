package iam

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/storage"
)

// OpenID Connect identity providers: an account's statement that tokens of an issuer (GitHub
// Actions, GitLab, a cluster's service accounts, a company IdP) may be exchanged for role
// sessions with sts:AssumeRoleWithWebIdentity, for the audiences (client ids) it lists. A
// provider is named by its issuer URL without the scheme, host[:port][/path]:
//
//	arn:aws:iam::<acct>:oidc-provider/token.actions.githubusercontent.com
//
// which is also how a role's trust policy names it ({"Federated": "<ARN>"}) and the prefix of
// its claims' condition keys (token.actions.githubusercontent.com:sub).
//
// Thumbprints are stored and returned as given, but nothing is decided by them: STS reaches
// the issuer over TLS verified against the system's trusted roots, as AWS now does for most
// identity providers, so a certificate rotation at the IdP needs no update here. (IAM's
// CreateOpenIDConnectProvider fetches a thumbprint when none is given; this server does not
// contact the issuer at all until a token of it is presented.)

const (
	kindOIDC = "oidc"
	// maxClientIDs and maxThumbprints are IAM's quotas per provider.
	maxClientIDs   = 100
	maxThumbprints = 5
)

// oidcRecord is one provider, at entityPrefix(acct, "oidc") + its URL.
type oidcRecord struct {
	URL         string    `json:"url"` // host[:port][/path]
	ClientIDs   []string  `json:"clientIds,omitempty"`
	Thumbprints []string  `json:"thumbprints,omitempty"`
	Created     time.Time `json:"created"`
	Tags        []Tag     `json:"tags,omitempty"`
}

// oidcKey is a provider's record key. The URL keeps its case: an issuer's path is
// case-sensitive (its host was lower-cased by providerURL).
func oidcKey(acct, u string) []byte { return []byte(entityPrefix(acct, kindOIDC) + u) }

func oidcARN(acct, u string) string { return "arn:aws:iam::" + acct + ":oidc-provider/" + u }

// providerURL is identity.OIDCProviderURL. AWS asks for no port; one is accepted here, since
// self-hosted identity providers often listen on one, and then appears in the ARN and condition
// keys as it does in the tokens' iss.
func providerURL(raw string) (string, bool) { return identity.OIDCProviderURL(raw) }

// parseOIDCARN reads arn:aws:iam::<acct>:oidc-provider/<url>.
func parseOIDCARN(arn string) (acct, u string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok {
		return "", "", false
	}
	acct, u, ok = strings.Cut(rest, ":oidc-provider/")
	if !ok || acct == "" || strings.Contains(acct, ":") || u == "" {
		return "", "", false
	}
	return acct, u, true
}

func errNoSuchOIDC(arn string) error {
	return errNoSuchEntity("OpenIDConnect Provider not found for arn %s", arn)
}

// readOIDC reads the provider arn names in acct, or returns NoSuchEntity (InvalidInput for an
// ARN that is not a provider's).
func readOIDC(tx storage.Tx, acct, arn string) (*oidcRecord, error) {
	a, u, ok := parseOIDCARN(arn)
	if !ok {
		return nil, errInvalidARN(arn)
	}
	if a != acct {
		return nil, errNoSuchOIDC(arn)
	}
	var r oidcRecord
	found, err := get(tx, oidcKey(acct, u), &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNoSuchOIDC(arn)
	}
	return &r, nil
}

// authorizeOIDC authorizes iam:<op> on the provider arn, with its tags when it exists. An ARN
// that names nothing is authorized as given; the operation then answers NoSuchEntity.
func (s *Service) authorizeOIDC(ctx context.Context, p *identity.Principal, op, arn string, extra map[string][]string) error {
	var tags []Tag
	err := s.store.View(ctx, func(tx storage.Tx) error {
		r, err := readOIDC(tx, p.AccountID, arn)
		if isClassified(err) {
			return nil
		}
		if err == nil {
			tags = r.Tags
		}
		return err
	})
	if err != nil {
		return err
	}
	return s.authorize(ctx, p, op, arn, merge(resourceTagKeys(tags), extra))
}

// updateOIDC applies fn to the provider arn of acct in one write transaction.
func (s *Service) updateOIDC(ctx context.Context, acct, arn string, fn func(*oidcRecord) error) error {
	return s.write(ctx, acct, func(tx storage.Tx) error {
		r, err := readOIDC(tx, acct, arn)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		return putJSON(tx, oidcKey(acct, r.URL), r)
	})
}

// checkClientIDs refuses more client ids than a provider may have; repeats are dropped.
func checkClientIDs(ids []string) ([]string, error) {
	out := orderedUnique(ids)
	if len(out) > maxClientIDs {
		return nil, errQuota("ClientIdsPerOpenIdConnectProvider", maxClientIDs)
	}
	return out, nil
}

// orderedUnique is ids without repeats, in the order given.
func orderedUnique(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func checkThumbprints(tps []string) ([]string, error) {
	for _, tp := range tps {
		for i := 0; i < len(tp); i++ {
			if c := tp[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return nil, errInvalidInput("Thumbprint %s is not a 40-digit hexadecimal SHA-1 fingerprint.", tp)
			}
		}
	}
	out := orderedUnique(tps)
	if len(out) > maxThumbprints {
		return nil, errQuota("ThumbprintsPerOpenIdConnectProvider", maxThumbprints)
	}
	return out, nil
}

// CreateOpenIDConnectProviderInput is CreateOpenIDConnectProvider's request.
type CreateOpenIDConnectProviderInput struct {
	Url            string   `iam:"Url,oidcURL,required"`
	ClientIDList   []string `iam:"ClientIDList,clientIDs"`
	ThumbprintList []string `iam:"ThumbprintList,thumbprints"`
	Tags           []Tag    `iam:"Tags,tags"`
}

// CreateOpenIDConnectProviderOutput is CreateOpenIDConnectProvider's response.
type CreateOpenIDConnectProviderOutput struct {
	OpenIDConnectProviderArn string    `xml:"OpenIDConnectProviderArn"`
	Tags                     List[Tag] `xml:"Tags,omitempty"`
}

// CreateOpenIDConnectProvider registers an issuer whose tokens the account's roles may trust.
// Each issuer URL may be registered once per account (EntityAlreadyExists).
func (s *Service) CreateOpenIDConnectProvider(ctx context.Context, in *CreateOpenIDConnectProviderInput) (*CreateOpenIDConnectProviderOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	u, ok := providerURL(in.Url)
	if !ok {
		return nil, errInvalidInput("Invalid Open ID Connect Provider URL %s: it must begin with https:// and name a host, with an optional path and no query or fragment.", in.Url)
	}
	arn := oidcARN(p.AccountID, u)
	if err := s.authorize(ctx, p, "CreateOpenIDConnectProvider", arn, requestTagKeys(nil, in.Tags)); err != nil {
		return nil, err
	}
	if err := checkNewTags(in.Tags); err != nil {
		return nil, err
	}
	ids, err := checkClientIDs(in.ClientIDList)
	if err != nil {
		return nil, err
	}
	tps, err := checkThumbprints(in.ThumbprintList)
	if err != nil {
		return nil, err
	}
	r := &oidcRecord{URL: u, ClientIDs: ids, Thumbprints: tps, Created: s.timestamp(), Tags: in.Tags}
	err = s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		var have oidcRecord
		if found, err := get(tx, oidcKey(p.AccountID, u), &have); err != nil {
			return err
		} else if found {
			return errAlreadyExists("Provider with url https://%s already exists.", u)
		}
		return putJSON(tx, oidcKey(p.AccountID, u), r)
	})
	if err != nil {
		return nil, err
	}
	return &CreateOpenIDConnectProviderOutput{OpenIDConnectProviderArn: arn, Tags: in.Tags}, nil
}

// OIDCProviderARNInput names a provider.
type OIDCProviderARNInput struct {
	OpenIDConnectProviderArn string `iam:"OpenIDConnectProviderArn,arn,required"`
}

// GetOpenIDConnectProviderOutput is GetOpenIDConnectProvider's response.
type GetOpenIDConnectProviderOutput struct {
	Url            string       `xml:"Url"` // without https://, as IAM answers it
	ClientIDList   List[string] `xml:"ClientIDList"`
	ThumbprintList List[string] `xml:"ThumbprintList"`
	CreateDate     time.Time    `xml:"CreateDate"`
	Tags           List[Tag]    `xml:"Tags"`
}

// GetOpenIDConnectProvider describes a provider.
func (s *Service) GetOpenIDConnectProvider(ctx context.Context, in *OIDCProviderARNInput) (*GetOpenIDConnectProviderOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeOIDC(ctx, p, "GetOpenIDConnectProvider", in.OpenIDConnectProviderArn, nil); err != nil {
		return nil, err
	}
	var r *oidcRecord
	err = s.store.View(ctx, func(tx storage.Tx) (err error) {
		r, err = readOIDC(tx, p.AccountID, in.OpenIDConnectProviderArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &GetOpenIDConnectProviderOutput{Url: r.URL, ClientIDList: append(List[string]{}, r.ClientIDs...),
		ThumbprintList: append(List[string]{}, r.Thumbprints...), CreateDate: r.Created, Tags: append(List[Tag]{}, r.Tags...)}, nil
}

// ListOpenIDConnectProvidersInput is ListOpenIDConnectProviders' request: it takes nothing.
type ListOpenIDConnectProvidersInput struct{}

// OpenIDConnectProviderListEntry is one listed provider.
type OpenIDConnectProviderListEntry struct {
	Arn string `xml:"Arn"`
}

// ListOpenIDConnectProvidersOutput is ListOpenIDConnectProviders' response.
type ListOpenIDConnectProvidersOutput struct {
	OpenIDConnectProviderList List[OpenIDConnectProviderListEntry] `xml:"OpenIDConnectProviderList"`
}

// ListOpenIDConnectProviders lists the account's providers, by URL. IAM does not page it.
func (s *Service) ListOpenIDConnectProviders(ctx context.Context, in *ListOpenIDConnectProvidersInput) (*ListOpenIDConnectProvidersOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "ListOpenIDConnectProviders", "*", nil); err != nil {
		return nil, err
	}
	out := &ListOpenIDConnectProvidersOutput{OpenIDConnectProviderList: List[OpenIDConnectProviderListEntry]{}}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		out.OpenIDConnectProviderList = out.OpenIDConnectProviderList[:0]
		return scanJSON(tx, entityPrefix(p.AccountID, kindOIDC), nil, func(_ []byte, r *oidcRecord) error {
			out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList, OpenIDConnectProviderListEntry{Arn: oidcARN(p.AccountID, r.URL)})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteOpenIDConnectProvider deletes a provider. Roles that trust it are left as they are,
// as IAM leaves them: their trust policies name a provider that no longer vouches for anyone.
func (s *Service) DeleteOpenIDConnectProvider(ctx context.Context, in *OIDCProviderARNInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeOIDC(ctx, p, "DeleteOpenIDConnectProvider", in.OpenIDConnectProviderArn, nil); err != nil {
		return nil, err
	}
	return empty(s.write(ctx, p.AccountID, func(tx storage.Tx) error {
		r, err := readOIDC(tx, p.AccountID, in.OpenIDConnectProviderArn)
		if err != nil {
			return err
		}
		return tx.Delete(oidcKey(p.AccountID, r.URL))
	}))
}

// OIDCClientIDInput is the request of AddClientIDToOpenIDConnectProvider and
// RemoveClientIDFromOpenIDConnectProvider.
type OIDCClientIDInput struct {
	OpenIDConnectProviderArn string `iam:"OpenIDConnectProviderArn,arn,required"`
	ClientID                 string `iam:"ClientID,clientID,required"`
}

// AddClientIDToOpenIDConnectProvider adds an audience to a provider; adding one it has
// already changes nothing, as on IAM.
func (s *Service) AddClientIDToOpenIDConnectProvider(ctx context.Context, in *OIDCClientIDInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeOIDC(ctx, p, "AddClientIDToOpenIDConnectProvider", in.OpenIDConnectProviderArn, nil); err != nil {
		return nil, err
	}
	return empty(s.updateOIDC(ctx, p.AccountID, in.OpenIDConnectProviderArn, func(r *oidcRecord) (err error) {
		r.ClientIDs, err = checkClientIDs(append(r.ClientIDs, in.ClientID))
		return err
	}))
}

// RemoveClientIDFromOpenIDConnectProvider removes an audience from a provider; removing one
// it does not have changes nothing, as on IAM.
func (s *Service) RemoveClientIDFromOpenIDConnectProvider(ctx context.Context, in *OIDCClientIDInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeOIDC(ctx, p, "RemoveClientIDFromOpenIDConnectProvider", in.OpenIDConnectProviderArn, nil); err != nil {
		return nil, err
	}
	return empty(s.updateOIDC(ctx, p.AccountID, in.OpenIDConnectProviderArn, func(r *oidcRecord) error {
		r.ClientIDs = slices.DeleteFunc(r.ClientIDs, func(id string) bool { return id == in.ClientID })
		return nil
	}))
}

// UpdateOpenIDConnectProviderThumbprintInput is UpdateOpenIDConnectProviderThumbprint's
// request.
type UpdateOpenIDConnectProviderThumbprintInput struct {
	OpenIDConnectProviderArn string   `iam:"OpenIDConnectProviderArn,arn,required"`
	ThumbprintList           []string `iam:"ThumbprintList,thumbprints,required"`
}

// UpdateOpenIDConnectProviderThumbprint replaces a provider's thumbprints. They are kept for
// the IAM API's sake only; see the top of this file.
func (s *Service) UpdateOpenIDConnectProviderThumbprint(ctx context.Context, in *UpdateOpenIDConnectProviderThumbprintInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeOIDC(ctx, p, "UpdateOpenIDConnectProviderThumbprint", in.OpenIDConnectProviderArn, nil); err != nil {
		return nil, err
	}
	tps, err := checkThumbprints(in.ThumbprintList)
	if err != nil {
		return nil, err
	}
	return empty(s.updateOIDC(ctx, p.AccountID, in.OpenIDConnectProviderArn, func(r *oidcRecord) error {
		r.Thumbprints = tps
		return nil
	}))
}

// TagOpenIDConnectProviderInput is TagOpenIDConnectProvider's request.
type TagOpenIDConnectProviderInput struct {
	OpenIDConnectProviderArn string `iam:"OpenIDConnectProviderArn,arn,required"`
	Tags                     []Tag  `iam:"Tags,tags,required"`
}

// TagOpenIDConnectProvider adds tags to a provider, replacing the values of keys it has.
func (s *Service) TagOpenIDConnectProvider(ctx context.Context, in *TagOpenIDConnectProviderInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeOIDC(ctx, p, "TagOpenIDConnectProvider", in.OpenIDConnectProviderArn, requestTagKeys(nil, in.Tags)); err != nil {
		return nil, err
	}
	if err := checkNewTags(in.Tags); err != nil {
		return nil, err
	}
	return empty(s.updateOIDC(ctx, p.AccountID, in.OpenIDConnectProviderArn, func(r *oidcRecord) (err error) {
		r.Tags, err = mergeTags(r.Tags, in.Tags)
		return err
	}))
}

// UntagOpenIDConnectProviderInput is UntagOpenIDConnectProvider's request.
type UntagOpenIDConnectProviderInput struct {
	OpenIDConnectProviderArn string   `iam:"OpenIDConnectProviderArn,arn,required"`
	TagKeys                  []string `iam:"TagKeys,tagKeys,required"`
}

// UntagOpenIDConnectProvider removes tags from a provider.
func (s *Service) UntagOpenIDConnectProvider(ctx context.Context, in *UntagOpenIDConnectProviderInput) (*Empty, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeOIDC(ctx, p, "UntagOpenIDConnectProvider", in.OpenIDConnectProviderArn, withKey(nil, "aws:TagKeys", in.TagKeys...)); err != nil {
		return nil, err
	}
	return empty(s.updateOIDC(ctx, p.AccountID, in.OpenIDConnectProviderArn, func(r *oidcRecord) error {
		r.Tags = removeTags(r.Tags, in.TagKeys)
		return nil
	}))
}

// ListOpenIDConnectProviderTagsInput is ListOpenIDConnectProviderTags' request.
type ListOpenIDConnectProviderTagsInput struct {
	OpenIDConnectProviderArn string `iam:"OpenIDConnectProviderArn,arn,required"`
	Marker                   string `iam:"Marker,marker"`
	MaxItems                 *int32 `iam:"MaxItems,maxItems"`
}

// ListOpenIDConnectProviderTags lists a provider's tags.
func (s *Service) ListOpenIDConnectProviderTags(ctx context.Context, in *ListOpenIDConnectProviderTagsInput) (*ListTagsOutput, error) {
	p, err := s.begin(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeOIDC(ctx, p, "ListOpenIDConnectProviderTags", in.OpenIDConnectProviderArn, nil); err != nil {
		return nil, err
	}
	var r *oidcRecord
	err = s.store.View(ctx, func(tx storage.Tx) (err error) {
		r, err = readOIDC(tx, p.AccountID, in.OpenIDConnectProviderArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return pageTags(r.Tags, in.Marker, in.MaxItems)
}

// OIDCProviderForIssuer returns the provider of account whose URL is the issuer iss (a token's
// iss claim, https://…), or nil without an error when the account has none. It serves STS's
// AssumeRoleWithWebIdentity, which has authorized nothing yet: it reveals only what the
// caller's token already names.
func (s *Service) OIDCProviderForIssuer(ctx context.Context, account, iss string) (*identity.OIDCProvider, error) {
	u, ok := providerURL(iss)
	if !ok {
		return nil, nil
	}
	var r oidcRecord
	var found bool
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		found, err = get(tx, oidcKey(account, u), &r)
		return err
	})
	if err != nil || !found {
		return nil, err
	}
	return &identity.OIDCProvider{ARN: oidcARN(account, r.URL), AccountID: account, URL: r.URL,
		ClientIDs: slices.Clone(r.ClientIDs)}, nil
}
