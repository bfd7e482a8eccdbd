package s3

import (
	"context"
	"errors"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/policy"
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
	rec := Bucket{Name: name, Owner: account, Region: region, Created: s.now().UTC()}
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
func (s *Service) listBuckets(ctx context.Context, account string) ([]Bucket, error) {
	var out []Bucket
	err := s.store.View(ctx, func(tx storage.Tx) error {
		return storage.ScanPrefix(tx, []byte(prefixBucket), func(_, raw []byte) error {
			var b Bucket
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
func (s *Service) updateBucket(ctx context.Context, name string, fn func(*Bucket) error) error {
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
	return s.updateBucket(ctx, name, func(b *Bucket) error {
		b.Versioning = "Enabled"
		return nil
	})
}

// ListBuckets returns the buckets the caller's account owns, by name.
func (s *Service) ListBuckets(ctx context.Context) ([]Bucket, error) {
	if err := s.authz.Authorize(ctx, &policy.Request{Action: "s3:ListAllMyBuckets", Resource: "arn:aws:s3:::*"}); err != nil {
		return nil, err
	}
	return s.listBuckets(ctx, callerAccount(ctx))
}

// CreateBucket creates bucket name in region (the service's default when empty), owned by
// the caller's account.
func (s *Service) CreateBucket(ctx context.Context, name, region string) error {
	if err := s.authz.Authorize(ctx, &policy.Request{Action: "s3:CreateBucket", Resource: bucketARN(name)}); err != nil {
		return err
	}
	return s.createBucket(ctx, callerAccount(ctx), name, region)
}

// HeadBucket returns a bucket the caller may list.
func (s *Service) HeadBucket(ctx context.Context, name string) (*Bucket, error) {
	return s.authorize(ctx, access{action: "s3:ListBucket", bucket: name})
}

// DeleteBucket deletes an empty bucket.
func (s *Service) DeleteBucket(ctx context.Context, name string) error {
	if _, err := s.authorize(ctx, access{action: "s3:DeleteBucket", bucket: name}); err != nil {
		return err
	}
	return s.deleteBucket(ctx, name)
}

// GetBucketLocation returns the bucket's region.
func (s *Service) GetBucketLocation(ctx context.Context, name string) (string, error) {
	b, err := s.authorize(ctx, access{action: "s3:GetBucketLocation", bucket: name})
	if err != nil {
		return "", err
	}
	return b.Region, nil
}

// GetBucketVersioning returns the versioning status: "", Enabled or Suspended.
func (s *Service) GetBucketVersioning(ctx context.Context, name string) (string, error) {
	b, err := s.authorize(ctx, access{action: "s3:GetBucketVersioning", bucket: name})
	if err != nil {
		return "", err
	}
	return b.Versioning, nil
}

// PutBucketVersioning sets the versioning status to Enabled or Suspended.
func (s *Service) PutBucketVersioning(ctx context.Context, name, status string) error {
	if _, err := s.authorize(ctx, access{action: "s3:PutBucketVersioning", bucket: name}); err != nil {
		return err
	}
	if status != "Enabled" && status != "Suspended" {
		return errMalformedXML()
	}
	return s.updateBucket(ctx, name, func(b *Bucket) error {
		b.Versioning = status
		return nil
	})
}

// GetBucketEncryption returns the bucket's default encryption. Every bucket encrypts at rest;
// like S3 since 2023, an unconfigured bucket reports SSE-S3.
func (s *Service) GetBucketEncryption(ctx context.Context, name string) (EncryptionRule, error) {
	b, err := s.authorize(ctx, access{action: "s3:GetEncryptionConfiguration", bucket: name})
	if err != nil {
		return EncryptionRule{}, err
	}
	if b.Encryption == nil {
		return EncryptionRule{Algorithm: "AES256"}, nil
	}
	return *b.Encryption, nil
}

// PutBucketEncryption sets the bucket's default encryption: AES256 (no key) or aws:kms.
func (s *Service) PutBucketEncryption(ctx context.Context, name string, rule EncryptionRule) error {
	if _, err := s.authorize(ctx, access{action: "s3:PutEncryptionConfiguration", bucket: name}); err != nil {
		return err
	}
	switch {
	case rule.Algorithm == "AES256" && rule.KMSMasterKeyID == "":
	case rule.Algorithm == "aws:kms":
	default:
		return awserr.New(awserr.InvalidArgument, "The encryption method specified is not supported").With("ArgumentName", "SSEAlgorithm")
	}
	return s.updateBucket(ctx, name, func(b *Bucket) error {
		b.Encryption = &rule
		return nil
	})
}

// DeleteBucketEncryption returns the bucket to SSE-S3.
func (s *Service) DeleteBucketEncryption(ctx context.Context, name string) error {
	if _, err := s.authorize(ctx, access{action: "s3:PutEncryptionConfiguration", bucket: name}); err != nil {
		return err
	}
	return s.updateBucket(ctx, name, func(b *Bucket) error {
		b.Encryption = nil
		return nil
	})
}

// maxPolicySize is S3's bucket policy limit.
const maxPolicySize = 20 << 10

// GetBucketPolicy returns the bucket's policy document.
func (s *Service) GetBucketPolicy(ctx context.Context, name string) (string, error) {
	b, err := s.authorize(ctx, access{action: "s3:GetBucketPolicy", bucket: name})
	if err != nil {
		return "", err
	}
	if b.Policy == "" {
		return "", awserr.New(awserr.NoSuchBucketPolicy, "The bucket policy does not exist").With("BucketName", name)
	}
	return b.Policy, nil
}

// PutBucketPolicy validates doc as a resource policy and makes it the bucket's policy,
// enforced from the next request on.
func (s *Service) PutBucketPolicy(ctx context.Context, name, doc string) error {
	if _, err := s.authorize(ctx, access{action: "s3:PutBucketPolicy", bucket: name}); err != nil {
		return err
	}
	if len(doc) > maxPolicySize {
		return awserr.New(awserr.MalformedPolicy, "Policies must be less than 20 KB.")
	}
	if _, err := policy.Parse(doc, policy.ResourceKind); err != nil {
		var se *policy.SyntaxError
		if errors.As(err, &se) {
			return awserr.Wrap(awserr.MalformedPolicy, se.Msg, err)
		}
		return err
	}
	return s.updateBucket(ctx, name, func(b *Bucket) error {
		b.Policy = doc
		return nil
	})
}

// DeleteBucketPolicy removes the bucket's policy.
func (s *Service) DeleteBucketPolicy(ctx context.Context, name string) error {
	if _, err := s.authorize(ctx, access{action: "s3:DeleteBucketPolicy", bucket: name}); err != nil {
		return err
	}
	return s.updateBucket(ctx, name, func(b *Bucket) error {
		b.Policy = ""
		return nil
	})
}

// GetPublicAccessBlock returns the bucket's public access block configuration.
func (s *Service) GetPublicAccessBlock(ctx context.Context, name string) (PublicAccessBlock, error) {
	b, err := s.authorize(ctx, access{action: "s3:GetBucketPublicAccessBlock", bucket: name})
	if err != nil {
		return PublicAccessBlock{}, err
	}
	if b.PublicAccessBlock == nil {
		return PublicAccessBlock{}, awserr.New(awserr.NoSuchPublicAccessBlockConfiguration, "The public access block configuration was not found").With("BucketName", name)
	}
	return *b.PublicAccessBlock, nil
}

// PutPublicAccessBlock stores the bucket's public access block configuration. stateward
// serves no anonymous requests, so it is kept for clients that read it back.
func (s *Service) PutPublicAccessBlock(ctx context.Context, name string, cfg PublicAccessBlock) error {
	if _, err := s.authorize(ctx, access{action: "s3:PutBucketPublicAccessBlock", bucket: name}); err != nil {
		return err
	}
	return s.updateBucket(ctx, name, func(b *Bucket) error {
		b.PublicAccessBlock = &cfg
		return nil
	})
}

// DeletePublicAccessBlock removes the bucket's public access block configuration.
func (s *Service) DeletePublicAccessBlock(ctx context.Context, name string) error {
	if _, err := s.authorize(ctx, access{action: "s3:PutBucketPublicAccessBlock", bucket: name}); err != nil {
		return err
	}
	return s.updateBucket(ctx, name, func(b *Bucket) error {
		b.PublicAccessBlock = nil
		return nil
	})
}

func errMalformedXML() error {
	return awserr.New(awserr.MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema.")
}
