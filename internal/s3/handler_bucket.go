package s3

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
)

func (h *Handler) listBuckets(rq *request) error {
	buckets, err := h.svc.listBuckets(rq.ctx, rq.caller.AccountID)
	if err != nil {
		return err
	}
	out := listAllMyBucketsResult{Xmlns: xmlns, Owner: owner{ID: rq.caller.AccountID}, Buckets: []bucketListed{}}
	for _, b := range buckets {
		out.Buckets = append(out.Buckets, bucketListed{Name: b.Name, CreationDate: isoTime(b.Created), BucketRegion: b.Region})
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, out)
}

func (h *Handler) createBucket(rq *request) error {
	var cfg createBucketConfiguration
	if err := decodeOptionalXML(rq.r, &cfg); err != nil {
		return err
	}
	if err := h.svc.createBucket(rq.ctx, rq.caller.AccountID, rq.bucket, cfg.LocationConstraint); err != nil {
		return err
	}
	rq.w.Header().Set("Location", "/"+rq.bucket)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// decodeOptionalXML decodes a request body that may be empty.
func decodeOptionalXML(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, awsproto.MaxXMLBody+1))
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return nil
	}
	return awsproto.DecodeXML(bytes.NewReader(body), awsproto.MaxXMLBody, v)
}

func (h *Handler) headBucket(rq *request) error {
	b, err := h.svc.bucket(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	rq.w.Header().Set("X-Amz-Bucket-Region", b.Region)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteBucket(rq *request) error {
	if err := h.svc.deleteBucket(rq.ctx, rq.bucket); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getLocation(rq *request) error {
	b, err := h.svc.bucket(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	loc := b.Region
	if loc == "us-east-1" {
		loc = "" // as S3 reports its oldest region
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, locationConstraint{Xmlns: xmlns, Value: loc})
}

func (h *Handler) getVersioning(rq *request) error {
	b, err := h.svc.bucket(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, versioningConfiguration{Xmlns: xmlns, Status: b.Versioning})
}

func (h *Handler) putVersioning(rq *request) error {
	var cfg versioningConfiguration
	if err := awsproto.DecodeXML(rq.r.Body, awsproto.MaxXMLBody, &cfg); err != nil {
		return err
	}
	if cfg.Status != "Enabled" && cfg.Status != "Suspended" {
		return awserr.New(awserr.MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	if cfg.MFADelete == "Enabled" {
		return awserr.New(awserr.NotImplemented, "MFA Delete is not supported.")
	}
	return h.ok(rq, h.svc.updateBucket(rq.ctx, rq.bucket, func(b *bucketRecord) error {
		b.Versioning = cfg.Status
		return nil
	}))
}

func (h *Handler) getEncryption(rq *request) error {
	b, err := h.svc.bucket(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	// Every bucket encrypts at rest; like S3 since 2023, an unconfigured bucket reports SSE-S3.
	rule := encryptionRule{Algorithm: "AES256"}
	if b.Encryption != nil {
		rule = *b.Encryption
	}
	var out serverSideEncryptionConfiguration
	out.Xmlns = xmlns
	out.Rules = make([]struct {
		Default struct {
			SSEAlgorithm   string `xml:"SSEAlgorithm"`
			KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
		} `xml:"ApplyServerSideEncryptionByDefault"`
		BucketKeyEnabled bool `xml:"BucketKeyEnabled"`
	}, 1)
	out.Rules[0].Default.SSEAlgorithm = rule.Algorithm
	out.Rules[0].Default.KMSMasterKeyID = rule.KMSMasterKeyID
	out.Rules[0].BucketKeyEnabled = rule.BucketKeyEnabled
	return awsproto.WriteXML(rq.w, http.StatusOK, out)
}

func (h *Handler) putEncryption(rq *request) error {
	var cfg serverSideEncryptionConfiguration
	if err := awsproto.DecodeXML(rq.r.Body, awsproto.MaxXMLBody, &cfg); err != nil {
		return err
	}
	if len(cfg.Rules) != 1 {
		return awserr.New(awserr.MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	d := cfg.Rules[0].Default
	switch {
	case d.SSEAlgorithm == "AES256" && d.KMSMasterKeyID == "":
	case d.SSEAlgorithm == "aws:kms":
	default:
		return awserr.New(awserr.InvalidArgument, "The encryption method specified is not supported").With("ArgumentName", "SSEAlgorithm")
	}
	return h.ok(rq, h.svc.updateBucket(rq.ctx, rq.bucket, func(b *bucketRecord) error {
		b.Encryption = &encryptionRule{Algorithm: d.SSEAlgorithm, KMSMasterKeyID: d.KMSMasterKeyID, BucketKeyEnabled: cfg.Rules[0].BucketKeyEnabled}
		return nil
	}))
}

func (h *Handler) deleteEncryption(rq *request) error {
	return h.noContent(rq, h.svc.updateBucket(rq.ctx, rq.bucket, func(b *bucketRecord) error {
		b.Encryption = nil
		return nil
	}))
}

const maxPolicySize = 20 << 10 // S3's bucket policy limit

func (h *Handler) getPolicy(rq *request) error {
	b, err := h.svc.bucket(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	if b.Policy == "" {
		return awserr.New(awserr.NoSuchBucketPolicy, "The bucket policy does not exist").With("BucketName", rq.bucket)
	}
	rq.w.Header().Set("Content-Type", "application/json")
	_, err = io.WriteString(rq.w, b.Policy)
	return err
}

func (h *Handler) putPolicy(rq *request) error {
	raw, err := io.ReadAll(io.LimitReader(rq.r.Body, maxPolicySize+1))
	if err != nil {
		return err
	}
	if len(raw) > maxPolicySize {
		return awserr.New(awserr.MalformedPolicy, "Policies must be less than 20 KB.")
	}
	if err := validatePolicy(raw); err != nil {
		return err
	}
	return h.noContent(rq, h.svc.updateBucket(rq.ctx, rq.bucket, func(b *bucketRecord) error {
		b.Policy = string(raw)
		return nil
	}))
}

// validatePolicy checks a bucket policy's shape; evaluation comes with the policy engine.
func validatePolicy(raw []byte) error {
	var doc struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return awserr.Wrap(awserr.MalformedPolicy, "Policies must be valid JSON and the first byte must be '{'", err)
	}
	if len(doc.Statement) == 0 {
		return awserr.New(awserr.MalformedPolicy, "Missing required field Statement")
	}
	var stmts []map[string]json.RawMessage
	if err := json.Unmarshal(doc.Statement, &stmts); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(doc.Statement, &one); err != nil {
			return awserr.Wrap(awserr.MalformedPolicy, "Statement must be an object or a list of objects", err)
		}
		stmts = append(stmts, one)
	}
	for _, st := range stmts {
		var effect string
		if err := json.Unmarshal(st["Effect"], &effect); err != nil || (effect != "Allow" && effect != "Deny") {
			return awserr.New(awserr.MalformedPolicy, "Invalid effect: statements need Effect Allow or Deny")
		}
		if st["Action"] == nil && st["NotAction"] == nil {
			return awserr.New(awserr.MalformedPolicy, "Missing required field Action")
		}
		if st["Principal"] == nil && st["NotPrincipal"] == nil {
			return awserr.New(awserr.MalformedPolicy, "Missing required field Principal")
		}
		if st["Resource"] == nil && st["NotResource"] == nil {
			return awserr.New(awserr.MalformedPolicy, "Missing required field Resource")
		}
	}
	return nil
}

func (h *Handler) deletePolicy(rq *request) error {
	return h.noContent(rq, h.svc.updateBucket(rq.ctx, rq.bucket, func(b *bucketRecord) error {
		b.Policy = ""
		return nil
	}))
}

func (h *Handler) getPublicAccessBlock(rq *request) error {
	b, err := h.svc.bucket(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	if b.PublicAccessBlock == nil {
		return awserr.New(awserr.NoSuchPublicAccessBlockConfiguration, "The public access block configuration was not found").With("BucketName", rq.bucket)
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, publicAccessBlockConfiguration{Xmlns: xmlns, publicAccessBlock: *b.PublicAccessBlock})
}

func (h *Handler) putPublicAccessBlock(rq *request) error {
	var cfg publicAccessBlockConfiguration
	if err := awsproto.DecodeXML(rq.r.Body, awsproto.MaxXMLBody, &cfg); err != nil {
		return err
	}
	return h.ok(rq, h.svc.updateBucket(rq.ctx, rq.bucket, func(b *bucketRecord) error {
		b.PublicAccessBlock = &cfg.publicAccessBlock
		return nil
	}))
}

func (h *Handler) deletePublicAccessBlock(rq *request) error {
	return h.noContent(rq, h.svc.updateBucket(rq.ctx, rq.bucket, func(b *bucketRecord) error {
		b.PublicAccessBlock = nil
		return nil
	}))
}

func (h *Handler) ok(rq *request, err error) error {
	if err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) noContent(rq *request, err error) error {
	if err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}
