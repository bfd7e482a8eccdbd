package s3

import (
	"context"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/storage"
)

// createBucket creates bucket name owned by account in region.
func (s *Service) createBucket(ctx context.Context, account, name, region string) error {
	if err := validBucketName(name); err != nil {
		return err
	}
	if region == "" {
		region = s.region
	}
	rec := bucketRecord{Name: name, Owner: account, Region: region, Created: s.now().UTC()}
	return s.store.Update(ctx, func(tx storage.Tx) error {
		existing, err := getBucket(tx, name)
		if err == nil {
			if existing.Owner == account {
				return awserr.New(awserr.BucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it.").With("BucketName", name)
			}
			return awserr.New(awserr.BucketAlreadyExists, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.").With("BucketName", name)
		}
		if !isCode(err, awserr.NoSuchBucket) {
			return err
		}
		return storage.PutJSON(tx, bucketKey(name), rec)
	})
}

// listBuckets returns the buckets account owns, by name.
func (s *Service) listBuckets(ctx context.Context, account string) ([]bucketRecord, error) {
	var out []bucketRecord
	err := s.store.View(ctx, func(tx storage.Tx) error {
		return storage.ScanPrefix(tx, []byte(prefixBucket), func(_, raw []byte) error {
			var b bucketRecord
			if err := decodeJSON(raw, &b); err != nil {
				return err
			}
			if b.Owner == account {
				out = append(out, b)
			}
			return nil
		})
	})
	return out, err
}

// deleteBucket removes an empty bucket: no versions, delete markers or uploads left.
func (s *Service) deleteBucket(ctx context.Context, name string) error {
	return s.store.Update(ctx, func(tx storage.Tx) error {
		if _, err := getBucket(tx, name); err != nil {
			return err
		}
		for _, prefix := range []string{prefixVersion, prefixUpload} {
			empty := true
			if err := storage.ScanPrefix(tx, []byte(prefix+name+"\x00"), func(_, _ []byte) error {
				empty = false
				return storage.ErrStop
			}); err != nil {
				return err
			}
			if !empty {
				return awserr.New(awserr.BucketNotEmpty, "The bucket you tried to delete is not empty").With("BucketName", name)
			}
		}
		return tx.Delete(bucketKey(name))
	})
}

// updateBucket applies fn to a bucket's record atomically.
func (s *Service) updateBucket(ctx context.Context, name string, fn func(*bucketRecord) error) error {
	return s.store.Update(ctx, func(tx storage.Tx) error {
		b, err := getBucket(tx, name)
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		return storage.PutJSON(tx, bucketKey(name), b)
	})
}

// EnsureBucket creates bucket name for account if it does not exist, optionally versioned.
func (s *Service) EnsureBucket(ctx context.Context, account, name string, versioned bool) error {
	err := s.createBucket(ctx, account, name, "")
	if err != nil && !isCode(err, awserr.BucketAlreadyOwnedByYou) {
		return err
	}
	if !versioned {
		return nil
	}
	return s.updateBucket(ctx, name, func(b *bucketRecord) error {
		b.Versioning = "Enabled"
		return nil
	})
}
