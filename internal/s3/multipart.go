package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/checksum"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/storage"
)

const (
	minPartSize = 5 << 20
	maxPartNum  = 10000
)

func errNoSuchUpload(id string) error {
	return awserr.New(awserr.NoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.").With("UploadId", id)
}

func getUpload(tx storage.Tx, bucket, key, uploadID string) (*Upload, error) {
	if _, err := getBucket(tx, bucket); err != nil {
		return nil, err
	}
	var u Upload
	if err := storage.GetJSON(tx, uploadKey(bucket, key, uploadID), &u); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errNoSuchUpload(uploadID)
		}
		return nil, err
	}
	return &u, nil
}

// CreateMultipartUploadInput starts a multipart upload of Key.
type CreateMultipartUploadInput struct {
	Bucket, Key       string
	Headers           ObjectHeaders
	SSE               SSERequest
	Tagging           string // stored form, see encodeTags
	ChecksumAlgorithm string // one every part must carry; "" for none
}

// CreateMultipartUpload starts a multipart upload, authorized as s3:PutObject with the
// request's encryption as condition keys.
func (s *Service) CreateMultipartUpload(ctx context.Context, in *CreateMultipartUploadInput) (*Upload, error) {
	if _, err := s.authorizeObject(ctx, access{action: "s3:PutObject", bucket: in.Bucket, key: in.Key, keys: sseKeys(in.SSE)}); err != nil {
		return nil, err
	}
	u := &Upload{Bucket: in.Bucket, Key: in.Key, Owner: callerAccount(ctx), Headers: in.Headers, Tagging: in.Tagging,
		ChecksumAlgorithm: in.ChecksumAlgorithm}
	if err := s.createUpload(ctx, u, in.SSE); err != nil {
		return nil, err
	}
	return u, nil
}

// UploadPartInput is one part of a multipart upload.
type UploadPartInput struct {
	Bucket, Key, UploadID string
	Number                int
	Body                  io.Reader
	Integrity             Integrity
	SSE                   SSERequest // the upload's SSE-C key, if it has one
}

// UploadPart stores one part, authorized as s3:PutObject.
func (s *Service) UploadPart(ctx context.Context, in *UploadPartInput) (*Part, error) {
	if _, err := s.authorizeObject(ctx, access{action: "s3:PutObject", bucket: in.Bucket, key: in.Key}); err != nil {
		return nil, err
	}
	return s.uploadPart(ctx, in.Bucket, in.Key, in.UploadID, in.Number, in.Body, in.Integrity, in.SSE)
}

// UploadPartCopyInput is a part copied from an existing object: the whole source, or the
// byte range Range names ("bytes=first-last").
type UploadPartCopyInput struct {
	Bucket, Key, UploadID string
	Number                int
	Source                CopySource
	Range                 string
	SSE                   SSERequest
}

// UploadPartCopy stores a part read from another object, authorized as s3:PutObject on the
// upload's key and as reading the source. It returns the part and the source's version.
func (s *Service) UploadPartCopy(ctx context.Context, in *UploadPartCopyInput) (*Part, *ObjectVersion, error) {
	if _, err := s.authorizeObject(ctx, access{action: "s3:PutObject", bucket: in.Bucket, key: in.Key}); err != nil {
		return nil, nil, err
	}
	cs, err := s.resolveCopySource(ctx, &in.Source)
	if err != nil {
		return nil, nil, err
	}
	start, end, err := copySourceRange(in.Range, cs.v.Size)
	if err != nil {
		return nil, nil, err
	}
	if err := checkCopySize(end - start); err != nil {
		return nil, nil, err
	}
	p, err := s.uploadPartCopy(ctx, in.Bucket, in.Key, in.UploadID, in.Number, cs, start, end, in.SSE)
	return p, cs.v, err
}

// CompleteMultipartUpload assembles the listed parts into a new version, authorized as
// s3:PutObject; cond is checked against the current version as it is published.
func (s *Service) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletedPart, cond Conditions) (*ObjectVersion, error) {
	if _, err := s.authorizeObject(ctx, access{action: "s3:PutObject", bucket: bucket, key: key}); err != nil {
		return nil, err
	}
	return s.completeUpload(ctx, bucket, key, uploadID, parts, cond)
}

// AbortMultipartUpload discards an upload and its parts (s3:AbortMultipartUpload).
func (s *Service) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	if _, err := s.authorizeObject(ctx, access{action: "s3:AbortMultipartUpload", bucket: bucket, key: key}); err != nil {
		return err
	}
	return s.abortUpload(ctx, bucket, key, uploadID)
}

// ListParts lists an upload's parts after marker, at most max (s3:ListMultipartUploadParts).
func (s *Service) ListParts(ctx context.Context, bucket, key, uploadID string, marker, max int) (*Upload, []Part, bool, error) {
	if _, err := s.authorizeObject(ctx, access{action: "s3:ListMultipartUploadParts", bucket: bucket, key: key}); err != nil {
		return nil, nil, false, err
	}
	return s.listParts(ctx, bucket, key, uploadID, marker, max)
}

// ListMultipartUploads lists a bucket's uploads in progress (s3:ListBucketMultipartUploads).
func (s *Service) ListMultipartUploads(ctx context.Context, q ListQuery) ([]Upload, ListPage, error) {
	if _, err := s.authorize(ctx, access{action: "s3:ListBucketMultipartUploads", bucket: q.Bucket, keys: listKeys(q)}); err != nil {
		return nil, ListPage{}, err
	}
	return s.listUploads(ctx, q)
}

// createUpload starts a multipart upload. Its data key, made now, encrypts every part and
// becomes the object version's data key.
func (s *Service) createUpload(ctx context.Context, u *Upload, req SSERequest) error {
	b, err := s.bucket(ctx, u.Bucket)
	if err != nil {
		return err
	}
	if err := validKey(u.Key); err != nil {
		return err
	}
	if u.SSE, err = s.resolveSSE(b, req); err != nil {
		return err
	}
	if u.UploadID, err = s.randomID(); err != nil {
		return err
	}
	dataKey, wrapped, err := s.newDataKey(ctx, &u.SSE, req, b.Owner, u.Bucket, u.Key)
	if err != nil {
		return err
	}
	keyring.Zero(dataKey) // parts unwrap it again as they arrive
	u.DataKey = wrapped
	u.Initiated = s.now().UTC()
	return s.store.Update(ctx, func(tx storage.Tx) error {
		if _, err := getBucket(tx, u.Bucket); err != nil {
			return err
		}
		return storage.PutJSON(tx, uploadKey(u.Bucket, u.Key, u.UploadID), u)
	})
}

// uploadPart stores one part; a part uploaded again under the same number replaces it.
func (s *Service) uploadPart(ctx context.Context, bucket, key, uploadID string, number int, r io.Reader, in Integrity, req SSERequest) (*Part, error) {
	if number < 1 || number > maxPartNum {
		return nil, awserr.New(awserr.InvalidArgument, "Part number must be an integer between 1 and 10000, inclusive").With("ArgumentName", "partNumber")
	}
	var u *Upload
	if err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		u, err = getUpload(tx, bucket, key, uploadID)
		return err
	}); err != nil {
		return nil, err
	}
	if u.ChecksumAlgorithm != "" {
		if a, ok := checksum.Parse(u.ChecksumAlgorithm); ok {
			in.Algorithms = append(in.Algorithms, a)
		}
	}
	dataKey, err := s.openDataKey(ctx, u.Bucket, &ObjectVersion{Key: u.Key, Owner: u.Owner, SSE: u.SSE, Body: body{DataKey: u.DataKey}}, req)
	if err != nil {
		return nil, err
	}
	defer keyring.Zero(dataKey)
	d := newDigests(in.algorithms()...)
	st, err := s.stageBody(ctx, r, dataKey, d)
	if err != nil {
		return nil, err
	}
	defer st.release()
	if err := in.verify(d); err != nil {
		s.discard(st)
		return nil, err
	}
	sum := d.MD5()
	p := &Part{Number: number, ETag: `"` + hex.EncodeToString(sum) + `"`, LastModified: s.now().UTC(),
		Checksums: d.checksums(), MD5: sum, Body: st.Part}
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		if _, err := getUpload(tx, bucket, key, uploadID); err != nil {
			return err
		}
		var old Part
		switch err := storage.GetJSON(tx, partKey(uploadID, number), &old); {
		case err == nil:
			if err := deleteSegments(tx, old.Body); err != nil {
				return err
			}
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		if err := st.commit(tx); err != nil {
			return err
		}
		return storage.PutJSON(tx, partKey(uploadID, number), p)
	})
	if err != nil {
		s.discard(st)
		return nil, err
	}
	return p, nil
}

// uploadPartCopy stores bytes [start, end) of a copy source as part number of an upload.
func (s *Service) uploadPartCopy(ctx context.Context, bucket, key, uploadID string, number int, src *copySource, start, end int64, req SSERequest) (*Part, error) {
	r, err := s.sourceReader(ctx, src, start, end)
	if err != nil {
		return nil, err
	}
	defer r.CloseWithError(errors.New("copy ended"))
	return s.uploadPart(ctx, bucket, key, uploadID, number, r, Integrity{}, req)
}

// CompletedPart is one entry of a CompleteMultipartUpload request.
type CompletedPart struct {
	Number    int
	ETag      string
	Checksums map[string]string
}

// completeUpload assembles the listed parts into a new version in one transaction.
func (s *Service) completeUpload(ctx context.Context, bucket, key, uploadID string, list []CompletedPart, cond Conditions) (*ObjectVersion, error) {
	if len(list) == 0 {
		return nil, awserr.New(awserr.MalformedXML, "You must specify at least one part")
	}
	// The order of the list is checked before any part is looked at, as S3 does.
	for i := 1; i < len(list); i++ {
		if list[i].Number <= list[i-1].Number {
			return nil, awserr.New(awserr.InvalidPartOrder, "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
	}
	random := make([]byte, 8)
	if _, err := io.ReadFull(s.rand, random); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var v *ObjectVersion
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		u, err := getUpload(tx, bucket, key, uploadID)
		if err != nil {
			return err
		}
		b, err := getBucket(tx, bucket)
		if err != nil {
			return err
		}
		stored := map[int]*Part{}
		if err := storage.ScanPrefix(tx, partPrefix(uploadID), func(k, raw []byte) error {
			var p Part
			if err := decodeJSON(raw, &p); err != nil {
				return err
			}
			stored[p.Number] = &p
			return nil
		}); err != nil {
			return err
		}
		v = &ObjectVersion{Key: key, LastModified: now, Owner: u.Owner, Headers: u.Headers, SSE: u.SSE,
			Tagging: u.Tagging, Body: body{DataKey: u.DataKey}}
		var md5s []byte
		var sums []byte
		used := map[int]bool{}
		for i, c := range list {
			p, ok := stored[c.Number]
			if !ok || strings.Trim(c.ETag, `"`) != strings.Trim(p.ETag, `"`) {
				return awserr.New(awserr.InvalidPart, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.").With("PartNumber", fmt.Sprint(c.Number))
			}
			for alg, want := range c.Checksums {
				if got, ok := p.Checksums[alg]; ok && got != want {
					return awserr.Newf(awserr.InvalidPart, "The %s checksum of part %d did not match.", alg, c.Number)
				}
			}
			if i < len(list)-1 && p.Body.Size < minPartSize {
				return awserr.New(awserr.EntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size.").With("PartNumber", fmt.Sprint(c.Number))
			}
			used[c.Number] = true
			md5s = append(md5s, p.MD5...)
			if u.ChecksumAlgorithm != "" {
				raw, _ := base64.StdEncoding.DecodeString(p.Checksums[u.ChecksumAlgorithm])
				sums = append(sums, raw...)
			}
			v.Body.Parts = append(v.Body.Parts, p.Body)
			v.Size += p.Body.Size
		}
		sum := md5.Sum(md5s)
		v.ETag = fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(sum[:]), len(list))
		if a, ok := checksum.Parse(u.ChecksumAlgorithm); ok {
			h := a.New()
			h.Write(sums)
			v.Checksums = map[string]string{string(a): fmt.Sprintf("%s-%d", checksum.Encode(h.Sum(nil)), len(list))}
		}
		cur, err := currentVersion(tx, bucket, key)
		if err != nil {
			return err
		}
		if err := cond.check(cur, key); err != nil {
			return err
		}
		for n, p := range stored {
			if !used[n] {
				if err := deleteSegments(tx, p.Body); err != nil {
					return err
				}
			}
			if err := tx.Delete(partKey(uploadID, n)); err != nil {
				return err
			}
		}
		if err := tx.Delete(uploadKey(bucket, key, uploadID)); err != nil {
			return err
		}
		return putVersion(tx, b, v, random)
	})
	return v, err
}

// abortUpload deletes an upload and every part's body.
func (s *Service) abortUpload(ctx context.Context, bucket, key, uploadID string) error {
	return s.store.Update(ctx, func(tx storage.Tx) error {
		if _, err := getUpload(tx, bucket, key, uploadID); err != nil {
			return err
		}
		var keys [][]byte
		if err := storage.ScanPrefix(tx, partPrefix(uploadID), func(k, raw []byte) error {
			var p Part
			if err := decodeJSON(raw, &p); err != nil {
				return err
			}
			keys = append(keys, bytes.Clone(k))
			return deleteSegments(tx, p.Body)
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		return tx.Delete(uploadKey(bucket, key, uploadID))
	})
}

// listParts returns up to max parts numbered above marker.
func (s *Service) listParts(ctx context.Context, bucket, key, uploadID string, marker, max int) (*Upload, []Part, bool, error) {
	var u *Upload
	var parts []Part
	truncated := false
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		if u, err = getUpload(tx, bucket, key, uploadID); err != nil {
			return err
		}
		return tx.Scan(partKey(uploadID, marker+1), storage.PrefixEnd(partPrefix(uploadID)), func(k, raw []byte) error {
			if len(parts) == max {
				truncated = true
				return storage.ErrStop
			}
			var p Part
			if err := decodeJSON(raw, &p); err != nil {
				return err
			}
			parts = append(parts, p)
			return nil
		})
	})
	return u, parts, truncated, err
}

// listUploads returns in-progress uploads by key, then upload id.
func (s *Service) listUploads(ctx context.Context, q ListQuery) ([]Upload, ListPage, error) {
	var uploads []Upload
	var page ListPage
	err := s.store.View(ctx, func(tx storage.Tx) error {
		if _, err := getBucket(tx, q.Bucket); err != nil {
			return err
		}
		var err error
		page, err = walk(tx, []byte(prefixUpload+q.Bucket+"\x00"), q,
			func(rec []byte) string { return string(rec[:bytes.LastIndexByte(rec, 0)]) },
			func(_ string, raw []byte) error {
				var u Upload
				if err := decodeJSON(raw, &u); err != nil {
					return err
				}
				uploads = append(uploads, u)
				return nil
			})
		return err
	})
	return uploads, page, err
}
