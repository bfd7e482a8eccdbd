package s3

import (
	"context"
	"errors"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// Authorizer decides every request; see package policy.
type Authorizer interface {
	Authorize(ctx context.Context, req *policy.Request) error
}

// access is one S3 authorization question: an action on a bucket (key empty) or an object,
// with the request's S3 condition keys.
type access struct {
	action      string
	bucket, key string
	keys        map[string][]string
	// asState marks the question a lock asks of the state it locks: could the caller read or
	// write that state? The write's own headers are not known then (see policy.Request.Unknown).
	asState bool
}

// stateWriteUnknown are the condition keys of an S3 write request's own headers, which a
// lock's check of its state cannot know.
var stateWriteUnknown = []string{"s3:x-amz-"}

// lockSuffix marks the lock file Terraform and OpenTofu write beside a state (use_lockfile).
const lockSuffix = ".tflock"

// bucketARN and objectARN are the resources S3 actions name.
func bucketARN(bucket string) string      { return "arn:aws:s3:::" + bucket }
func objectARN(bucket, key string) string { return "arn:aws:s3:::" + bucket + "/" + key }

// authorize decides a for the caller in ctx, with the bucket's owner as the resource's account
// and its policy as the resource policy, and returns the bucket it read. A bucket that does
// not exist is judged as if the caller owned it: a caller allowed the action in its own
// account learns NoSuchBucket, anyone else gets the denial.
func (s *Service) authorize(ctx context.Context, a access) (*Bucket, error) {
	b, err := s.bucket(ctx, a.bucket)
	missing := isCode(err, awserr.NoSuchBucket)
	if err != nil && !missing {
		return nil, err
	}
	if err := s.decide(ctx, a, b); err != nil {
		return nil, err
	}
	if missing {
		return nil, errNoSuchBucket(a.bucket)
	}
	return b, nil
}

// decide asks the authorizer about a on bucket b (nil: no such bucket).
func (s *Service) decide(ctx context.Context, a access, b *Bucket) error {
	req := &policy.Request{Action: a.action, Resource: bucketARN(a.bucket), Keys: a.keys}
	if a.asState {
		req.Unknown = stateWriteUnknown
	}
	if a.key != "" {
		req.Resource = objectARN(a.bucket, a.key)
	}
	if b != nil {
		req.ResourceAccount = b.Owner
		if b.Policy != "" && !ownerManagesPolicy(ctx, a.action, b) {
			doc, err := policy.ParseCached(b.Policy, policy.ResourceKind)
			if err != nil {
				// Stored before the policy language was enforced and unreadable now: fail
				// closed rather than ignore it. The owner's root can still replace it.
				return awserr.Wrap(awserr.InternalError, "The bucket policy cannot be evaluated; the bucket owner must replace it.", err)
			}
			req.ResourcePolicy = doc
		}
	}
	return s.authz.Authorize(ctx, req)
}

// ownerManagesPolicy tells whether the bucket policy is left out of this decision: the owning
// account's root user may always read, replace and delete its bucket's policy, so a policy
// that denies everyone cannot lock the owner out (as on S3).
func ownerManagesPolicy(ctx context.Context, action string, b *Bucket) bool {
	p := identity.FromContext(ctx)
	if !p.IsRoot() || p.AccountID != b.Owner {
		return false
	}
	switch action {
	case "s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy":
		return true
	}
	return false
}

// authorizeObject authorizes an object action. The lock file of a state (<key>.tflock) is
// also authorized as the state it locks: writing or deleting it needs s3:PutObject on the
// state, reading it s3:GetObject, so a principal that cannot write a state cannot lock it.
func (s *Service) authorizeObject(ctx context.Context, a access) (*Bucket, error) {
	b, err := s.authorize(ctx, a)
	if err != nil {
		return nil, err
	}
	state, isLock := strings.CutSuffix(a.key, lockSuffix)
	if !isLock || state == "" {
		return b, nil
	}
	stateAction := "s3:PutObject"
	if a.action == "s3:GetObject" || a.action == "s3:GetObjectVersion" {
		stateAction = "s3:GetObject"
	}
	if err := s.decide(ctx, access{action: stateAction, bucket: a.bucket, key: state, asState: true}, b); err != nil {
		return nil, err
	}
	return b, nil
}

// AuthorizeStateLock authorizes a lock-table item as the state it locks. lockID is the
// LockID Terraform writes to a DynamoDB lock table: "<bucket>/<key>" for the lock itself, or
// "<bucket>/<key>-md5" for the state's digest. write asks for s3:PutObject on the state,
// otherwise s3:GetObject. An id that names no existing bucket locks no state here and is
// allowed.
func (s *Service) AuthorizeStateLock(ctx context.Context, lockID string, write bool) error {
	bucket, key, ok := strings.Cut(lockID, "/")
	if !ok || bucket == "" || key == "" {
		return nil
	}
	b, err := s.bucket(ctx, bucket)
	if isCode(err, awserr.NoSuchBucket) {
		return nil
	}
	if err != nil {
		return err
	}
	action := "s3:GetObject"
	if write {
		action = "s3:PutObject"
	}
	if state, digest := strings.CutSuffix(key, "-md5"); digest && state != "" {
		key = state
	}
	return s.decide(ctx, access{action: action, bucket: bucket, key: key, asState: true}, b)
}

// orNotFound answers a read of a key that does not exist as S3 does: NoSuchKey (or
// NoSuchVersion) only to a caller allowed s3:ListBucket on the bucket, AccessDenied to others,
// so that who may not list a bucket cannot learn which keys it holds.
func (s *Service) orNotFound(ctx context.Context, b *Bucket, err error) error {
	var e *awserr.Error
	if !errors.As(err, &e) || (e.Code != awserr.NoSuchKey && e.Code != awserr.NoSuchVersion) {
		return err
	}
	if derr := s.decide(ctx, access{action: "s3:ListBucket", bucket: b.Name}, b); derr != nil {
		return derr
	}
	return err
}

// callerAccount is the account of the authenticated caller; authorization has refused a
// request without one before this is asked.
func callerAccount(ctx context.Context) string {
	if p := identity.FromContext(ctx); p != nil {
		return p.AccountID
	}
	return ""
}

// sseKeys are the condition keys of a write's encryption headers.
func sseKeys(req SSERequest) map[string][]string {
	keys := map[string][]string{}
	if req.Algorithm != "" {
		keys["s3:x-amz-server-side-encryption"] = []string{req.Algorithm}
	}
	if req.KMSKeyID != "" {
		keys["s3:x-amz-server-side-encryption-aws-kms-key-id"] = []string{req.KMSKeyID}
	}
	return keys
}

// versionKeys carries s3:VersionId for actions on one version.
func versionKeys(versionID string) map[string][]string {
	if versionID == "" {
		return nil
	}
	return map[string][]string{"s3:VersionId": {versionID}}
}

// versionAction is action, or its …Version form when a version is named (s3:GetObject →
// s3:GetObjectVersion, s3:PutObjectTagging → s3:PutObjectVersionTagging).
func versionAction(action, versionID string) string {
	if versionID == "" {
		return action
	}
	if base, ok := strings.CutSuffix(action, "Tagging"); ok {
		return base + "VersionTagging"
	}
	return action + "Version"
}
