package s3

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/storage"
)

// S3's limits on object tags.
const (
	maxObjectTags  = 10
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  []Tag    `xml:"TagSet>Tag"`
}

// encodeTags validates tags as S3 does and returns their stored form: the query-string
// encoding of the x-amz-tagging header, keys sorted.
func encodeTags(tags []Tag) (string, error) {
	if len(tags) > maxObjectTags {
		return "", awserr.New(awserr.BadRequest, "Object tags cannot be greater than 10")
	}
	q := url.Values{}
	for _, t := range tags {
		switch {
		case t.Key == "" || !validTagText(t.Key):
			return "", awserr.New(awserr.InvalidTag, "The TagKey you have provided is invalid")
		case !validTagText(t.Value):
			return "", awserr.New(awserr.InvalidTag, "The TagValue you have provided is invalid")
		case utf8.RuneCountInString(t.Key) > maxTagKeyLen:
			return "", awserr.New(awserr.InvalidTag, "The TagKey you have provided is too long, max 128")
		case utf8.RuneCountInString(t.Value) > maxTagValueLen:
			return "", awserr.New(awserr.InvalidTag, "The TagValue you have provided is too long, max 256")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return "", awserr.New(awserr.InvalidTag, "Your TagKey cannot be prefixed with aws:")
		case q.Has(t.Key):
			return "", awserr.New(awserr.InvalidTag, "Cannot provide multiple Tags with the same key")
		}
		q.Set(t.Key, t.Value)
	}
	return q.Encode(), nil
}

// validTagText tells whether s is valid UTF-8 made only of what S3 allows in a tag: letters,
// digits, spaces, and + - = . _ : / @.
func validTagText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Zs, r) && !strings.ContainsRune("+-=._:/@", r) {
			return false
		}
	}
	return true
}

// decodeTags returns the tags of a stored tagging string, sorted by key.
func decodeTags(stored string) []Tag {
	q, _ := url.ParseQuery(stored) // written by encodeTags
	tags := make([]Tag, 0, len(q))
	for k, v := range q {
		tags = append(tags, Tag{Key: k, Value: v[0]})
	}
	slices.SortFunc(tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	return tags
}

// taggingHeader validates an x-amz-tagging header (PutObject, CopyObject, multipart uploads)
// and returns its stored form.
func taggingHeader(h http.Header) (string, error) {
	v := h.Get("X-Amz-Tagging")
	if v == "" {
		return "", nil
	}
	bad := awserr.New(awserr.InvalidArgument, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.").
		With("ArgumentName", "x-amz-tagging")
	q, err := url.ParseQuery(v)
	if err != nil {
		return "", bad
	}
	tags := make([]Tag, 0, len(q))
	for k, vs := range q {
		if len(vs) != 1 {
			return "", bad
		}
		tags = append(tags, Tag{Key: k, Value: vs[0]})
	}
	return encodeTags(tags)
}

// setTagging replaces the tags of one version (the current one when versionID is empty).
func (s *Service) setTagging(ctx context.Context, bucket, key, versionID, tags string) (*ObjectVersion, error) {
	if versionID != "" && !validVersionID(versionID) {
		return nil, errInvalidVersionID(versionID)
	}
	var v *ObjectVersion
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		var err error
		if v, err = lookupVersion(tx, bucket, key, versionID); err != nil {
			return err
		}
		v.Tagging = tags
		if err := storage.PutJSON(tx, versionKey(bucket, key, v.SortID), v); err != nil {
			return err
		}
		// The current pointer holds a copy of the newest version: keep it in step. Without a
		// version id, lookupVersion returned that copy.
		isCurrent := versionID == ""
		if !isCurrent {
			cur, err := currentVersion(tx, bucket, key)
			if err != nil {
				return err
			}
			isCurrent = cur != nil && cur.SortID == v.SortID
		}
		if !isCurrent {
			return nil
		}
		return storage.PutJSON(tx, currentKey(bucket, key), v)
	})
	return v, err
}

// GetObjectTagging returns a version's tags (s3:GetObjectTagging, or
// s3:GetObjectVersionTagging for a named version).
func (s *Service) GetObjectTagging(ctx context.Context, bucket, key, versionID string) (*ObjectVersion, []Tag, error) {
	b, err := s.authorizeObject(ctx, access{action: versionAction("s3:GetObjectTagging", versionID), bucket: bucket,
		key: key, keys: versionKeys(versionID)})
	if err != nil {
		return nil, nil, err
	}
	v, err := s.getVersion(ctx, bucket, key, versionID)
	if err != nil {
		return nil, nil, s.orNotFound(ctx, b, err)
	}
	return v, decodeTags(v.Tagging), nil
}

// PutObjectTagging replaces a version's tags (s3:PutObjectTagging or
// s3:PutObjectVersionTagging).
func (s *Service) PutObjectTagging(ctx context.Context, bucket, key, versionID string, tags []Tag) (*ObjectVersion, error) {
	if _, err := s.authorizeObject(ctx, access{action: versionAction("s3:PutObjectTagging", versionID), bucket: bucket,
		key: key, keys: versionKeys(versionID)}); err != nil {
		return nil, err
	}
	stored, err := encodeTags(tags)
	if err != nil {
		return nil, err
	}
	return s.setTagging(ctx, bucket, key, versionID, stored)
}

// DeleteObjectTagging removes a version's tags (s3:DeleteObjectTagging or
// s3:DeleteObjectVersionTagging).
func (s *Service) DeleteObjectTagging(ctx context.Context, bucket, key, versionID string) (*ObjectVersion, error) {
	if _, err := s.authorizeObject(ctx, access{action: versionAction("s3:DeleteObjectTagging", versionID), bucket: bucket,
		key: key, keys: versionKeys(versionID)}); err != nil {
		return nil, err
	}
	return s.setTagging(ctx, bucket, key, versionID, "")
}

func (h *Handler) getObjectTagging(rq *request) error {
	v, tags, err := h.svc.GetObjectTagging(rq.ctx, rq.bucket, rq.key, rq.q.Get("versionId"))
	if err != nil {
		return err
	}
	setVersionHeader(rq.w.Header(), v.VersionID)
	return awsproto.WriteXML(rq.w, http.StatusOK, tagging{Xmlns: xmlns, TagSet: tags})
}

func (h *Handler) putObjectTagging(rq *request) error {
	var in tagging
	if err := awsproto.DecodeXML(rq.r.Body, awsproto.MaxXMLBody, &in); err != nil {
		return err
	}
	v, err := h.svc.PutObjectTagging(rq.ctx, rq.bucket, rq.key, rq.q.Get("versionId"), in.TagSet)
	if err != nil {
		return err
	}
	setVersionHeader(rq.w.Header(), v.VersionID)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteObjectTagging(rq *request) error {
	v, err := h.svc.DeleteObjectTagging(rq.ctx, rq.bucket, rq.key, rq.q.Get("versionId"))
	if err != nil {
		return err
	}
	setVersionHeader(rq.w.Header(), v.VersionID)
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
