package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/checksum"
	"github.com/stateward/stateward/internal/keyring"
	"github.com/stateward/stateward/internal/policy"
	"github.com/stateward/stateward/internal/storage"
)

// Conditions are the preconditions of a write, checked in its final transaction.
type Conditions struct {
	IfNoneMatch string // only "*" is meaningful for writes
	IfMatch     string // an ETag, quoted or not
}

func (c Conditions) check(cur *ObjectVersion, key string) error {
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

// ReadConditions are the preconditions of a read (or of a copy's source).
type ReadConditions struct {
	IfMatch, IfNoneMatch               string
	IfModifiedSince, IfUnmodifiedSince time.Time // zero: not given
}

// Check evaluates the conditions against v as S3 does and returns 0 when the read goes ahead,
// else the status S3 answers (412 or 304). A matching If-Match overrides
// If-Unmodified-Since, and If-None-Match overrides If-Modified-Since.
func (c ReadConditions) Check(v *ObjectVersion) int {
	modified := v.LastModified.Truncate(time.Second)
	if c.IfMatch != "" {
		if !etagMatches(c.IfMatch, v.ETag) {
			return http.StatusPreconditionFailed
		}
	} else if !c.IfUnmodifiedSince.IsZero() && modified.After(c.IfUnmodifiedSince) {
		return http.StatusPreconditionFailed
	}
	if c.IfNoneMatch != "" {
		if etagMatches(c.IfNoneMatch, v.ETag) {
			return http.StatusNotModified
		}
	} else if !c.IfModifiedSince.IsZero() && !modified.After(c.IfModifiedSince) {
		return http.StatusNotModified
	}
	return 0
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

// Integrity is what a request says its body must hash to.
type Integrity struct {
	ContentMD5 string                        // base64, from Content-MD5
	Expected   map[checksum.Algorithm]string // from x-amz-checksum-* headers
	// Algorithms are further checksums to compute and store (x-amz-sdk-checksum-algorithm,
	// a trailer's algorithm).
	Algorithms []checksum.Algorithm
}

func (in Integrity) algorithms() []checksum.Algorithm {
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
func (in Integrity) verify(d *digests) error {
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

// PutObjectInput is a PutObject (or the write half of CopyObject).
type PutObjectInput struct {
	Bucket, Key string
	Body        io.Reader
	Headers     ObjectHeaders
	SSE         SSERequest
	Integrity   Integrity
	Cond        Conditions
	Tagging     string // stored form, see encodeTags
}

// PutObject stores a new version of in.Key for the caller, authorized as s3:PutObject with
// the request's encryption as condition keys.
func (s *Service) PutObject(ctx context.Context, in *PutObjectInput) (*ObjectVersion, error) {
	if _, err := s.authorizeObject(ctx, access{action: "s3:PutObject", bucket: in.Bucket, key: in.Key, keys: sseKeys(in.SSE)}); err != nil {
		return nil, err
	}
	return s.putObject(ctx, in, callerAccount(ctx))
}

// putObject stores a new version. Nothing is visible until the body has been read whole and
// verified; then one transaction checks the preconditions and publishes the version.
func (s *Service) putObject(ctx context.Context, in *PutObjectInput, owner string) (*ObjectVersion, error) {
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
	v := &ObjectVersion{
		Key: in.Key, LastModified: s.now().UTC(), Owner: owner, Size: st.Part.Size,
		ETag: `"` + hex.EncodeToString(d.MD5()) + `"`, Headers: in.Headers,
		Checksums: d.checksums(), SSE: enc, Tagging: in.Tagging,
		Body: body{Parts: []bodyPart{st.Part}, DataKey: wrapped},
	}
	if err := s.publish(ctx, in.Bucket, v, in.Cond, st); err != nil {
		s.discard(st)
		return nil, err
	}
	return v, nil
}

// publish checks conds against the current version and makes v the newest version, together
// with its staged bodies, in one transaction.
func (s *Service) publish(ctx context.Context, bucket string, v *ObjectVersion, cond Conditions, bodies ...*staged) error {
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

func currentVersion(tx storage.Tx, bucket, key string) (*ObjectVersion, error) {
	var v ObjectVersion
	if err := storage.GetJSON(tx, currentKey(bucket, key), &v); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return &v, nil
}

// GetObjectInput addresses a version to read.
type GetObjectInput struct {
	Bucket, Key string
	VersionID   string // "": the current version
	SSE         SSERequest
}

// ObjectReader is a version ready to be read: its metadata and its unwrapped data key. Close
// it when done.
type ObjectReader struct {
	*ObjectVersion
	svc     *Service
	bucket  string
	dataKey []byte
}

// WriteRange writes bytes [start, end) of the version's body to w.
func (r *ObjectReader) WriteRange(ctx context.Context, w io.Writer, start, end int64) error {
	return r.svc.writeBody(ctx, w, r.Body, r.dataKey, start, end)
}

// Close forgets the data key.
func (r *ObjectReader) Close() { keyring.Zero(r.dataKey) }

// GetObject opens the version in addresses, authorized as s3:GetObject (s3:GetObjectVersion
// when a version is named); HeadObject is the same call, unread. The caller closes the reader.
func (s *Service) GetObject(ctx context.Context, in *GetObjectInput) (*ObjectReader, error) {
	if err := validKey(in.Key); err != nil {
		return nil, err
	}
	b, err := s.authorizeObject(ctx, access{action: versionAction("s3:GetObject", in.VersionID), bucket: in.Bucket,
		key: in.Key, keys: versionKeys(in.VersionID)})
	if err != nil {
		return nil, err
	}
	v, err := s.getVersion(ctx, in.Bucket, in.Key, in.VersionID)
	if err != nil {
		return nil, s.orNotFound(ctx, b, err)
	}
	dataKey, err := s.openDataKey(ctx, in.Bucket, v, in.SSE)
	if err != nil {
		return nil, err
	}
	return &ObjectReader{ObjectVersion: v, svc: s, bucket: in.Bucket, dataKey: dataKey}, nil
}

// getVersion returns the version a GET or HEAD addresses: the current one, or versionID.
func (s *Service) getVersion(ctx context.Context, bucket, key, versionID string) (*ObjectVersion, error) {
	if versionID != "" && !validVersionID(versionID) {
		return nil, errInvalidVersionID(versionID)
	}
	var v *ObjectVersion
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
func lookupVersion(tx storage.Tx, bucket, key, versionID string) (*ObjectVersion, error) {
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

// DeleteResult says what a DeleteObject did, for the response headers.
type DeleteResult struct {
	VersionID    string
	DeleteMarker bool
}

// DeleteObject deletes key (adding a delete marker in versioned buckets) or one version of
// it, authorized as s3:DeleteObject or s3:DeleteObjectVersion.
func (s *Service) DeleteObject(ctx context.Context, bucket, key, versionID string) (DeleteResult, error) {
	if err := validKey(key); err != nil {
		return DeleteResult{}, err
	}
	if _, err := s.authorizeObject(ctx, access{action: versionAction("s3:DeleteObject", versionID), bucket: bucket,
		key: key, keys: versionKeys(versionID)}); err != nil {
		return DeleteResult{}, err
	}
	return s.deleteObject(ctx, bucket, key, versionID, callerAccount(ctx))
}

// ObjectIdentifier names one object (or version) of a DeleteObjects request.
type ObjectIdentifier struct {
	Key, VersionID string
}

// DeleteOutcome is what DeleteObjects did with one object: Err is nil when it was deleted.
type DeleteOutcome struct {
	Object ObjectIdentifier
	Result DeleteResult
	Err    error
}

// DeleteObjects deletes each object as DeleteObject does, each authorized on its own (as S3
// does), and reports each outcome. It stops with an error only when the bucket is gone or
// the store fails.
func (s *Service) DeleteObjects(ctx context.Context, bucket string, objs []ObjectIdentifier) ([]DeleteOutcome, error) {
	if len(objs) == 0 || len(objs) > maxDeleteObjects {
		return nil, errMalformedXML()
	}
	out := make([]DeleteOutcome, 0, len(objs))
	for _, o := range objs {
		res, err := s.DeleteObject(ctx, bucket, o.Key, o.VersionID)
		var e *awserr.Error
		if err != nil && (!errors.As(err, &e) || e.Code == awserr.NoSuchBucket || e.Code == awserr.InternalError) &&
			!errors.Is(err, policy.ErrDenied) {
			return nil, err
		}
		out = append(out, DeleteOutcome{Object: o, Result: res, Err: err})
	}
	return out, nil
}

const maxDeleteObjects = 1000

// deleteObject deletes key (adding a delete marker in versioned buckets) or one version of it.
// Deleting what does not exist succeeds, as in S3.
func (s *Service) deleteObject(ctx context.Context, bucket, key, versionID, owner string) (DeleteResult, error) {
	if versionID != "" && !validVersionID(versionID) {
		return DeleteResult{}, awserr.New(awserr.InvalidArgument, "Invalid version id specified")
	}
	random := make([]byte, 8)
	if _, err := io.ReadFull(s.rand, random); err != nil {
		return DeleteResult{}, err
	}
	now := s.now().UTC()
	var res DeleteResult
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		res = DeleteResult{}
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
			res = DeleteResult{VersionID: v.VersionID, DeleteMarker: v.DeleteMarker}
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
		marker := &ObjectVersion{Key: key, DeleteMarker: true, LastModified: now, Owner: owner}
		if err := putVersion(tx, b, marker, random); err != nil {
			return err
		}
		res = DeleteResult{VersionID: marker.VersionID, DeleteMarker: true}
		return nil
	})
	return res, err
}

// CopySource is the object a CopyObject or UploadPartCopy reads.
type CopySource struct {
	Bucket, Key string
	VersionID   string     // "": the current version
	SSE         SSERequest // the source's SSE-C key, if it has one
	Cond        ReadConditions
}

// copySource is a CopySource resolved to its version.
type copySource struct {
	bucket    string
	versionID string // as the request named it
	v         *ObjectVersion
	sse       SSERequest
}

// resolveCopySource reads a copy's source: the caller must be allowed to read it
// (s3:GetObject, or s3:GetObjectVersion for a named version), and it must pass the
// x-amz-copy-source-if-* conditions, every failed one answered 412.
func (s *Service) resolveCopySource(ctx context.Context, src *CopySource) (*copySource, error) {
	b, err := s.authorizeObject(ctx, access{action: versionAction("s3:GetObject", src.VersionID), bucket: src.Bucket,
		key: src.Key, keys: versionKeys(src.VersionID)})
	if err != nil {
		return nil, err
	}
	v, err := s.getVersion(ctx, src.Bucket, src.Key, src.VersionID)
	if err != nil {
		return nil, s.orNotFound(ctx, b, err)
	}
	if src.Cond.Check(v) != 0 {
		return nil, awserr.New(awserr.PreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	}
	return &copySource{bucket: src.Bucket, versionID: src.VersionID, v: v, sse: src.SSE}, nil
}

// CopyObjectInput is a CopyObject: the source, and the new object as a PutObjectInput without
// a body. MetadataDirective and TaggingDirective are COPY (or empty) or REPLACE; with COPY the
// source's headers and tags are kept and Dest's are ignored.
type CopyObjectInput struct {
	Source            CopySource
	Dest              PutObjectInput
	MetadataDirective string
	TaggingDirective  string
}

// CopyObject copies a version into a new object, re-encrypting it under a fresh data key. It
// is authorized twice, as S3 does: s3:PutObject on the destination, then reading the source.
// It returns the new version and the source's.
func (s *Service) CopyObject(ctx context.Context, in *CopyObjectInput) (dst, src *ObjectVersion, err error) {
	put := in.Dest
	if _, err := s.authorizeObject(ctx, access{action: "s3:PutObject", bucket: put.Bucket, key: put.Key, keys: sseKeys(put.SSE)}); err != nil {
		return nil, nil, err
	}
	cs, err := s.resolveCopySource(ctx, &in.Source)
	if err != nil {
		return nil, nil, err
	}
	src = cs.v
	if err := checkCopySize(src.Size); err != nil {
		return nil, nil, err
	}
	put.Integrity = Integrity{Algorithms: checksumAlgorithms(src.Checksums)}
	switch in.MetadataDirective {
	case "", "COPY":
		if in.Source.Bucket == put.Bucket && src.Key == put.Key && in.Source.VersionID == "" && put.SSE.Algorithm == "" && put.SSE.CustomerKey == nil {
			return nil, nil, awserr.New(awserr.InvalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
		}
		put.Headers = src.Headers
	case "REPLACE":
	default:
		return nil, nil, awserr.New(awserr.InvalidArgument, "Unknown metadata directive.")
	}
	switch in.TaggingDirective {
	case "", "COPY":
		put.Tagging = src.Tagging
	case "REPLACE":
	default:
		return nil, nil, awserr.New(awserr.InvalidArgument, "Unknown tagging directive.").With("ArgumentName", "x-amz-tagging-directive")
	}
	r, err := s.sourceReader(ctx, cs, 0, src.Size)
	if err != nil {
		return nil, nil, err
	}
	defer r.CloseWithError(errors.New("copy ended"))
	put.Body = r
	v, err := s.putObject(ctx, &put, callerAccount(ctx))
	return v, src, err
}

// checkCopySize refuses a copy of more than S3 copies in one request (CopyObject's whole
// source, UploadPartCopy's range); larger objects are copied part by part.
func checkCopySize(n int64) error {
	if n > maxPutSize {
		return awserr.Newf(awserr.InvalidRequest, "The specified copy source is larger than the maximum allowable size for a copy source: %d", int64(maxPutSize))
	}
	return nil
}

func checksumAlgorithms(m map[string]string) []checksum.Algorithm {
	var out []checksum.Algorithm
	for alg := range m {
		if a, ok := checksum.Parse(alg); ok {
			out = append(out, a)
		}
	}
	return out
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
