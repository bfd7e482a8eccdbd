package s3

import (
	"bytes"
	"io"
	"net/http"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
)

func (h *Handler) listBuckets(rq *request) error {
	buckets, err := h.svc.ListBuckets(rq.ctx)
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
	if err := h.svc.CreateBucket(rq.ctx, rq.bucket, cfg.LocationConstraint); err != nil {
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
	b, err := h.svc.HeadBucket(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	rq.w.Header().Set("X-Amz-Bucket-Region", b.Region)
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteBucket(rq *request) error {
	return h.noContent(rq, h.svc.DeleteBucket(rq.ctx, rq.bucket))
}

func (h *Handler) getLocation(rq *request) error {
	loc, err := h.svc.GetBucketLocation(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	if loc == "us-east-1" {
		loc = "" // as S3 reports its oldest region
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, locationConstraint{Xmlns: xmlns, Value: loc})
}

func (h *Handler) getVersioning(rq *request) error {
	status, err := h.svc.GetBucketVersioning(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, versioningConfiguration{Xmlns: xmlns, Status: status})
}

func (h *Handler) putVersioning(rq *request) error {
	var cfg versioningConfiguration
	if err := awsproto.DecodeXML(rq.r.Body, awsproto.MaxXMLBody, &cfg); err != nil {
		return err
	}
	if cfg.MFADelete == "Enabled" {
		return awserr.New(awserr.NotImplemented, "MFA Delete is not supported.")
	}
	return h.ok(rq, h.svc.PutBucketVersioning(rq.ctx, rq.bucket, cfg.Status))
}

func (h *Handler) getEncryption(rq *request) error {
	rule, err := h.svc.GetBucketEncryption(rq.ctx, rq.bucket)
	if err != nil {
		return err
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
		return errMalformedXML()
	}
	d := cfg.Rules[0].Default
	return h.ok(rq, h.svc.PutBucketEncryption(rq.ctx, rq.bucket,
		EncryptionRule{Algorithm: d.SSEAlgorithm, KMSMasterKeyID: d.KMSMasterKeyID, BucketKeyEnabled: cfg.Rules[0].BucketKeyEnabled}))
}

func (h *Handler) deleteEncryption(rq *request) error {
	return h.noContent(rq, h.svc.DeleteBucketEncryption(rq.ctx, rq.bucket))
}

func (h *Handler) getPolicy(rq *request) error {
	doc, err := h.svc.GetBucketPolicy(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	rq.w.Header().Set("Content-Type", "application/json")
	_, err = io.WriteString(rq.w, doc)
	return err
}

func (h *Handler) putPolicy(rq *request) error {
	raw, err := io.ReadAll(io.LimitReader(rq.r.Body, maxPolicySize+1))
	if err != nil {
		return err
	}
	return h.noContent(rq, h.svc.PutBucketPolicy(rq.ctx, rq.bucket, string(raw)))
}

func (h *Handler) deletePolicy(rq *request) error {
	return h.noContent(rq, h.svc.DeleteBucketPolicy(rq.ctx, rq.bucket))
}

func (h *Handler) getPublicAccessBlock(rq *request) error {
	cfg, err := h.svc.GetPublicAccessBlock(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, publicAccessBlockConfiguration{Xmlns: xmlns, PublicAccessBlock: cfg})
}

func (h *Handler) putPublicAccessBlock(rq *request) error {
	var cfg publicAccessBlockConfiguration
	if err := awsproto.DecodeXML(rq.r.Body, awsproto.MaxXMLBody, &cfg); err != nil {
		return err
	}
	return h.ok(rq, h.svc.PutPublicAccessBlock(rq.ctx, rq.bucket, cfg.PublicAccessBlock))
}

func (h *Handler) deletePublicAccessBlock(rq *request) error {
	return h.noContent(rq, h.svc.DeletePublicAccessBlock(rq.ctx, rq.bucket))
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
