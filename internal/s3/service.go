// Package s3 is the S3 API: the object service (buckets, versioned objects, multipart uploads,
// encryption at rest) and its REST-XML front-end. The service stores through storage.Store and
// never sees HTTP; the handler decodes requests, authorizes them, and encodes responses.
package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/storage"
)

// KeyWrapper seals the data keys of versions encrypted with S3-managed keys.
type KeyWrapper interface {
	Seal(plaintext, aad []byte) []byte
	Open(ciphertext, aad []byte) ([]byte, error)
}

// Config configures a Service. Nil fields mean defaults where one exists.
type Config struct {
	Store      storage.Store // required
	Keys       KeyWrapper    // required
	KMS        KMS           // nil: SSE-KMS is refused as not implemented
	Authorizer Authorizer    // required
	Region     string        // default region of new buckets; "us-east-1" if empty
	// Domain enables virtual-hosted-style requests: Host "<bucket>.<Domain>".
	Domain string
	Logger *slog.Logger
	Now    func() time.Time
	Rand   io.Reader
}

// Service implements S3 semantics over a store.
type Service struct {
	store  storage.Store
	keys   KeyWrapper
	kms    KMS
	authz  Authorizer
	region string
	domain string
	log    *slog.Logger
	now    func() time.Time
	rand   io.Reader
}

// New returns a Service.
func New(c Config) *Service {
	s := &Service{store: c.Store, keys: c.Keys, kms: c.KMS, authz: c.Authorizer, region: c.Region,
		domain: c.Domain, log: c.Logger, now: c.Now, rand: c.Rand}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s
}

// randomID returns 32 hex characters of fresh randomness.
func (s *Service) randomID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

func errNoSuchBucket(name string) error {
	return awserr.New(awserr.NoSuchBucket, "The specified bucket does not exist").With("BucketName", name)
}

func errNoSuchKey(key string) *awserr.Error {
	return awserr.New(awserr.NoSuchKey, "The specified key does not exist.").With("Key", key)
}

// getBucket reads a bucket record inside tx.
func getBucket(tx storage.Tx, name string) (*Bucket, error) {
	var b Bucket
	if err := storage.GetJSON(tx, bucketKey(name), &b); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errNoSuchBucket(name)
		}
		return nil, err
	}
	return &b, nil
}

// bucket reads a bucket record.
func (s *Service) bucket(ctx context.Context, name string) (*Bucket, error) {
	var b *Bucket
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		b, err = getBucket(tx, name)
		return err
	})
	return b, err
}
