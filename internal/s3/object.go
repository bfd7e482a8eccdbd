package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/checksum"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/storage"
)

// conditions are the preconditions of a write, checked in its final transaction.
type conditions struct {
	IfNoneMatch string // only "*" is meaningful for writes
	IfMatch     string // an ETag, quoted or not
}

func (c conditions) check(cur *version, key string) error {
	failed := awserr.New(awserr.PreconditionFailed, "At least one of the pre-conditions you specified did not hold").With("Condition", "If-Match")
	if c.IfNoneMatch != "" {
		if c.IfNoneMatch != "*" {
			return awserr.New(awserr.NotImplemented, "If-None-Match on writes supports only '*'.")
		}
		if cur != nil {
			return failed.With("Condition", "If-None-Match")
		}
	}
	if c.IfMatch != "" {
		if cur == nil {
			return errNoSuchKey(key)
		}
		if !etagMatches(c.IfMatch, cur.ETag) {
			return failed
		}
	}
	return nil
}

func etagMatches(header, etag string) bool {
	for _, e := range strings.Split(header, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || strings.Trim(e, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

// digests hashes a body once for its ETag and the checksums a write stores.
type digests struct {
	*checksum.MultiHasher
	algs []checksum.Algorithm
}

func newDigests(algs ...checksum.Algorithm) *digests {
	return &digests{checksum.NewMultiHasher(algs...), algs}
}

func (d *digests) checksums() map[string]string {
	out := make(map[string]string, len(d.algs))
	for _, a := range d.algs {
		out[string(a)] = d.Sum(a)
	}
	return out
}

// integrity is what a request says its body must hash to.
type integrity struct {
	ContentMD5 string                        // base64, from Content-MD5
	Expected   map[checksum.Algorithm]string // from x-amz-checksum-* headers
	// Algorithms are further checksums to compute and store (x-amz-sdk-checksum-algorithm,
	// a trailer's algorithm).
	Algorithms []checksum.Algorithm
}

func (in integrity) algorithms() []checksum.Algorithm {
	algs := append([]checksum.Algorithm(nil), in.Algorithms...)
	for a := range in.Expected {
		algs = append(algs, a)
	}
	if len(algs) == 0 {
		algs = append(algs, checksum.CRC64NVME) // S3's default full-object checksum
	}
	return algs
}

// verify compares the computed digests with what the request claimed.
func (in integrity) verify(d *digests) error {
	if in.ContentMD5 != "" {
		want, err := base64.StdEncoding.DecodeString(in.ContentMD5)
		if err != nil || len(want) != md5.Size {
			return awserr.New(awserr.InvalidDigest, "The Content-MD5 you specified was invalid.")
		}
		if !bytes.Equal(want, d.MD5()) {
			return awserr.New(awserr.BadDigest, "The Content-MD5 you specified did not match what we received.")
		}
	}
	var mismatch *checksum.MismatchError
	if err := d.Verify(in.Expected); errors.As(err, &mismatch) {
		return awserr.Newf(awserr.BadDigest, "The %s you specified did not match the calculated checksum.", mismatch.Algorithm)
	} else if err != nil {
		return err
	}
	return nil
}

// putInput is a PutObject (or the write half of CopyObject).
type putInput struct {
	Bucket, Key string
	Owner       string
	Body        io.Reader
	Headers     objHeaders
	SSE         sseRequest
	Integrity   integrity
	Cond        conditions
	Tagging     string
}

// putObject stores a new version. Nothing is visible until the body has been read whole and
// verified; then one transaction checks the preconditions and publishes the version.
func (s *Service) putObject(ctx context.Context, in *putInput) (*version, error) {
	b, err := s.bucket(ctx, in.Bucket)
	if err != nil {
		return nil, err
	}
	if err := validKey(in.Key); err != nil {
		return nil, err
	}
	enc, err := s.resolveSSE(b, in.SSE)
	if err != nil {
		return nil, err
	}
	dataKey, wrapped, err := s.newDataKey(ctx, &enc, in.SSE, b.Owner, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	defer keyring.Zero(dataKey)
	d := newDigests(in.Integrity.algorithms()...)
	st, err := s.stageBody(ctx, in.Body, dataKey, d)
	if err != nil {
		return nil, err
	}
	defer st.release()
	if err := in.Integrity.verify(d); err != nil {
		s.discard(st)
		return nil, err
	}
	v := &version{
		Key: in.Key, LastModified: s.now().UTC(), Owner: in.Owner, Size: st.part.Size,
		ETag: `"` + hex.EncodeToString(d.MD5()) + `"`, Headers: in.Headers,
		Checksums: d.checksums(), SSE: enc, Tagging: in.Tagging,
		Body: body{Parts: []bodyPart{st.part}, DataKey: wrapped},
	}
	if err := s.publish(ctx, in.Bucket, v, in.Cond, st); err != nil {
		s.discard(st)
		return nil, err
	}
	return v, nil
}

// publish checks conds against the current version and makes v the newest version, together
// with its staged bodies, in one transaction.
func (s *Service) publish(ctx context.Context, bucket string, v *version, cond conditions, bodies ...*staged) error {
	random := make([]byte, 8)
	if _, err := io.ReadFull(s.rand, random); err != nil {
		return err
	}
	// A failed precondition is the expected outcome for all but one of the clients racing
	// for a lock file: it writes nothing and is reported after the transaction, so it does
	// not roll back (and re-run) the other writes sharing its group commit.
	var refused error
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		refused = nil
		b, err := getBucket(tx, bucket)
		if err != nil {
			return err
		}
		cur, err := currentVersion(tx, bucket, v.Key)
		if err != nil {
			return err
		}
		if refused = cond.check(cur, v.Key); refused != nil {
			return nil
		}
		for _, st := range bodies {
			if err := st.commit(tx); err != nil {
				return err
			}
		}
		return putVersion(tx, b, v, random)
	})
	if err != nil {
		return err
	}
	return refused
}

func currentVersion(tx storage.Tx, bucket, key string) (*version, error) {
	var v version
	if err := storage.GetJSON(tx, currentKey(bucket, key), &v); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &v, nil
}

// getVersion returns the version a GET or HEAD addresses: the current one, or versionID.
func (s *Service) getVersion(ctx context.Context, bucket, key, versionID string) (*version, error) {
	if versionID != "" && !validVersionID(versionID) {
		return nil, errInvalidVersionID(versionID)
	}
	var v *version
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		v, err = lookupVersion(tx, bucket, key, versionID)
		return err
	})
	return v, err
}

func errInvalidVersionID(id string) error {
	return awserr.New(awserr.InvalidArgument, "Invalid version id specified").With("ArgumentName", "versionId").With("ArgumentValue", id)
}

// lookupVersion returns the version of key that versionID names, or the current one when it
// is empty, answering as S3 does when there is none or it is a delete marker.
func lookupVersion(tx storage.Tx, bucket, key, versionID string) (*version, error) {
	if _, err := getBucket(tx, bucket); err != nil {
		return nil, err
	}
	if versionID != "" {
		v, err := findVersion(tx, bucket, key, versionID)
		if err != nil {
			return nil, err
		}
		if v.DeleteMarker {
			return nil, awserr.New(awserr.MethodNotAllowed, "The specified method is not allowed against this resource.").
				WithHeader("x-amz-delete-marker", "true").WithHeader("x-amz-version-id", v.VersionID)
		}
		return v, nil
	}
	if v, err := currentVersion(tx, bucket, key); err != nil || v != nil {
		return v, err
	}
	notFound := errNoSuchKey(key)
	if latest, err := latestVersion(tx, bucket, key); err == nil && latest != nil && latest.DeleteMarker {
		notFound = notFound.WithHeader("x-amz-delete-marker", "true").WithHeader("x-amz-version-id", latest.VersionID)
	}
	return nil, notFound
}

// deleteResult says what a DeleteObject did, for the response headers.
type deleteResult struct {
	VersionID    string
	DeleteMarker bool
}

// deleteObject deletes key (adding a delete marker in versioned buckets) or one version of it.
// Deleting what does not exist succeeds, as in S3.
func (s *Service) deleteObject(ctx context.Context, bucket, key, versionID, owner string) (deleteResult, error) {
	if versionID != "" && !validVersionID(versionID) {
		return deleteResult{}, awserr.New(awserr.InvalidArgument, "Invalid version id specified")
	}
	random := make([]byte, 8)
	if _, err := io.ReadFull(s.rand, random); err != nil {
		return deleteResult{}, err
	}
	now := s.now().UTC()
	var res deleteResult
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		res = deleteResult{}
		b, err := getBucket(tx, bucket)
		if err != nil {
			return err
		}
		if versionID != "" {
			v, err := findVersion(tx, bucket, key, versionID)
			if isCode(err, awserr.NoSuchVersion) {
				res.VersionID = versionID
				return nil
			}
			if err != nil {
				return err
			}
			res = deleteResult{VersionID: v.VersionID, DeleteMarker: v.DeleteMarker}
			return removeVersion(tx, bucket, v, now)
		}
		if b.Versioning == "" {
			v, err := findVersion(tx, bucket, key, "null")
			if isCode(err, awserr.NoSuchVersion) {
				return nil
			}
			if err != nil {
				return err
			}
			return removeVersion(tx, bucket, v, now)
		}
		marker := &version{Key: key, DeleteMarker: true, LastModified: now, Owner: owner}
		if err := putVersion(tx, b, marker, random); err != nil {
			return err
		}
		res = deleteResult{VersionID: marker.VersionID, DeleteMarker: true}
		return nil
	})
	return res, err
}

// copyObject copies a version into a new object, re-encrypting it under a fresh data key.
func (s *Service) copyObject(ctx context.Context, src *copySource, in *putInput) (*version, error) {
	r, err := s.sourceReader(ctx, src, 0, src.v.Size)
	if err != nil {
		return nil, err
	}
	defer r.CloseWithError(errors.New("copy ended"))
	in.Body = r
	return s.putObject(ctx, in)
}

// sourceReader streams bytes [start, end) of a copy source, decrypted. Closing it stops the
// stream.
func (s *Service) sourceReader(ctx context.Context, src *copySource, start, end int64) (*io.PipeReader, error) {
	dataKey, err := s.openDataKey(ctx, src.bucket, src.v, src.sse)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		defer keyring.Zero(dataKey)
		pw.CloseWithError(s.writeBody(ctx, pw, src.v.Body, dataKey, start, end))
	}()
	return pr, nil
}
