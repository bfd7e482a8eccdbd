package s3

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/identity"
	"github.com/stateward/stateward/internal/policy"
)

// Handler is the S3 REST-XML front-end.
type Handler struct{ svc *Service }

// NewHandler returns the front-end for svc.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Protocol is S3's REST-XML.
func (h *Handler) Protocol() awsproto.Protocol { return awsproto.RESTXML }

// Service is the SigV4 scope S3 is signed for.
func (h *Handler) Service() string { return "s3" }

// TargetPrefix is empty: S3 routes by method and path.
func (h *Handler) TargetPrefix() string { return "" }

// request is one decoded S3 call.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	caller *identity.Principal
	bucket string
	key    string
	q      url.Values
}

// operation is one routed S3 call: its name, the IAM action it needs and how to serve it.
type operation struct {
	name   string
	action string
	serve  func(*Handler, *request) error
}

// ServeAWS serves one authenticated S3 request. It splits the raw path itself: the standard
// mux would clean "//" and "/../" out of keys and answer with redirects S3 clients reject.
func (h *Handler) ServeAWS(w http.ResponseWriter, r *http.Request) error {
	rq := &request{w: w, r: r, ctx: r.Context(), caller: identity.FromContext(r.Context()), q: r.URL.Query()}
	var err error
	if rq.bucket, rq.key, err = h.splitPath(r); err != nil {
		return err
	}
	op, err := route(r.Method, rq.bucket, rq.key, rq.q, r.Header)
	if err != nil {
		return err
	}
	awsproto.SetOperation(rq.ctx, op.name)
	if err := h.authorize(rq, op); err != nil {
		return err
	}
	return op.serve(h, rq)
}

// splitPath returns the bucket and key a request addresses, from a virtual-hosted Host when a
// domain is configured, else from the first path segment.
func (h *Handler) splitPath(r *http.Request) (bucket, key string, err error) {
	raw := r.URL.EscapedPath()
	if i := strings.IndexByte(r.RequestURI, '?'); i >= 0 && strings.HasPrefix(r.RequestURI, "/") {
		raw = r.RequestURI[:i]
	} else if strings.HasPrefix(r.RequestURI, "/") {
		raw = r.RequestURI
	}
	path, perr := url.PathUnescape(raw)
	if perr != nil {
		return "", "", awserr.Wrap(awserr.InvalidURI, "Couldn't parse the specified URI.", perr)
	}
	path = strings.TrimPrefix(path, "/")
	if b := h.svc.virtualBucket(r.Host); b != "" {
		return b, path, nil
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key, nil
}

// virtualBucket returns the bucket named by a virtual-hosted-style Host, or "".
func (s *Service) virtualBucket(host string) string {
	if s.domain == "" {
		return ""
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	if b, ok := strings.CutSuffix(host, "."+s.domain); ok {
		return b
	}
	return ""
}

// subresources S3 routes on; any other non-parameter query key is an operation stateward does
// not implement.
var bucketParams = map[string]bool{
	"prefix": true, "delimiter": true, "max-keys": true, "marker": true, "continuation-token": true,
	"start-after": true, "encoding-type": true, "fetch-owner": true, "list-type": true, "x-id": true,
	"key-marker": true, "version-id-marker": true, "upload-id-marker": true, "max-uploads": true,
	"allow-unordered": true, "optional-object-attributes": true,
}

var objectParams = map[string]bool{
	"versionId": true, "x-id": true, "partNumber": true, "uploadId": true, "max-parts": true,
	"part-number-marker": true, "encoding-type": true, "uploads": true, "tagging": true,
	"response-content-type": true, "response-content-language": true, "response-expires": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
	// presigned query authentication
	"X-Amz-Algorithm": true, "X-Amz-Credential": true, "X-Amz-Date": true, "X-Amz-Expires": true,
	"X-Amz-SignedHeaders": true, "X-Amz-Signature": true, "X-Amz-Security-Token": true,
	"X-Amz-Content-Sha256": true,
}

func route(method, bucket, key string, q url.Values, hdr http.Header) (*operation, error) {
	has := func(k string) bool { _, ok := q[k]; return ok }
	notImpl := func() (*operation, error) {
		return nil, awserr.New(awserr.NotImplemented, "A header or query you provided implies functionality that is not implemented.")
	}
	if bucket == "" {
		if method == http.MethodGet {
			return &operation{"ListBuckets", "s3:ListAllMyBuckets", (*Handler).listBuckets}, nil
		}
		return nil, awserr.New(awserr.MethodNotAllowed, "The specified method is not allowed against this resource.")
	}
	if key == "" {
		sub := ""
		for k := range q {
			// "uploads" and "tagging" name object operations, but on a bucket they are its
			// own sub-resources (ListMultipartUploads, bucket tagging): never plain parameters.
			if k == "uploads" || k == "tagging" || !bucketParams[k] && !objectParams[k] && !strings.HasPrefix(k, "X-Amz-") {
				if sub != "" {
					return notImpl()
				}
				sub = k
			}
		}
		op, ok := bucketOps[method+" "+sub]
		if !ok {
			return notImpl()
		}
		if op.name == "ListObjects" && q.Get("list-type") == "2" {
			op = bucketOps["GET list-type=2"]
		}
		return op, nil
	}
	for k := range q {
		if !objectParams[k] && !strings.HasPrefix(k, "X-Amz-") {
			return notImpl()
		}
	}
	if has("tagging") {
		version := ""
		if has("versionId") {
			version = "Version"
		}
		switch method {
		case http.MethodGet:
			return &operation{"GetObjectTagging", "s3:GetObject" + version + "Tagging", (*Handler).getObjectTagging}, nil
		case http.MethodPut:
			return &operation{"PutObjectTagging", "s3:PutObject" + version + "Tagging", (*Handler).putObjectTagging}, nil
		case http.MethodDelete:
			return &operation{"DeleteObjectTagging", "s3:DeleteObject" + version + "Tagging", (*Handler).deleteObjectTagging}, nil
		}
		return nil, awserr.New(awserr.MethodNotAllowed, "The specified method is not allowed against this resource.")
	}
	switch method {
	case http.MethodPut:
		if has("uploadId") || has("partNumber") {
			if hdr.Get("X-Amz-Copy-Source") != "" {
				return &operation{"UploadPartCopy", "s3:PutObject", (*Handler).uploadPartCopy}, nil
			}
			return &operation{"UploadPart", "s3:PutObject", (*Handler).uploadPart}, nil
		}
		if hdr.Get("X-Amz-Copy-Source") != "" {
			return &operation{"CopyObject", "s3:PutObject", (*Handler).copyObject}, nil
		}
		return &operation{"PutObject", "s3:PutObject", (*Handler).putObject}, nil
	case http.MethodGet:
		if has("uploadId") {
			return &operation{"ListParts", "s3:ListMultipartUploadParts", (*Handler).listParts}, nil
		}
		return &operation{"GetObject", getAction(q), (*Handler).getObject}, nil
	case http.MethodHead:
		return &operation{"HeadObject", getAction(q), (*Handler).getObject}, nil
	case http.MethodDelete:
		if has("uploadId") {
			return &operation{"AbortMultipartUpload", "s3:AbortMultipartUpload", (*Handler).abortUpload}, nil
		}
		if has("versionId") {
			return &operation{"DeleteObject", "s3:DeleteObjectVersion", (*Handler).deleteObject}, nil
		}
		return &operation{"DeleteObject", "s3:DeleteObject", (*Handler).deleteObject}, nil
	case http.MethodPost:
		if has("uploads") {
			return &operation{"CreateMultipartUpload", "s3:PutObject", (*Handler).createUpload}, nil
		}
		if has("uploadId") {
			return &operation{"CompleteMultipartUpload", "s3:PutObject", (*Handler).completeUpload}, nil
		}
	}
	return nil, awserr.New(awserr.MethodNotAllowed, "The specified method is not allowed against this resource.")
}

func getAction(q url.Values) string {
	if q.Get("versionId") != "" {
		return "s3:GetObjectVersion"
	}
	return "s3:GetObject"
}

var bucketOps = map[string]*operation{
	"PUT ":                     {"CreateBucket", "s3:CreateBucket", (*Handler).createBucket},
	"HEAD ":                    {"HeadBucket", "s3:ListBucket", (*Handler).headBucket},
	"DELETE ":                  {"DeleteBucket", "s3:DeleteBucket", (*Handler).deleteBucket},
	"GET ":                     {"ListObjects", "s3:ListBucket", (*Handler).listObjectsV1},
	"GET list-type=2":          {"ListObjectsV2", "s3:ListBucket", (*Handler).listObjectsV2},
	"GET location":             {"GetBucketLocation", "s3:GetBucketLocation", (*Handler).getLocation},
	"GET versioning":           {"GetBucketVersioning", "s3:GetBucketVersioning", (*Handler).getVersioning},
	"PUT versioning":           {"PutBucketVersioning", "s3:PutBucketVersioning", (*Handler).putVersioning},
	"GET encryption":           {"GetBucketEncryption", "s3:GetEncryptionConfiguration", (*Handler).getEncryption},
	"PUT encryption":           {"PutBucketEncryption", "s3:PutEncryptionConfiguration", (*Handler).putEncryption},
	"DELETE encryption":        {"DeleteBucketEncryption", "s3:PutEncryptionConfiguration", (*Handler).deleteEncryption},
	"GET policy":               {"GetBucketPolicy", "s3:GetBucketPolicy", (*Handler).getPolicy},
	"PUT policy":               {"PutBucketPolicy", "s3:PutBucketPolicy", (*Handler).putPolicy},
	"DELETE policy":            {"DeleteBucketPolicy", "s3:DeleteBucketPolicy", (*Handler).deletePolicy},
	"GET publicAccessBlock":    {"GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock", (*Handler).getPublicAccessBlock},
	"PUT publicAccessBlock":    {"PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock", (*Handler).putPublicAccessBlock},
	"DELETE publicAccessBlock": {"DeletePublicAccessBlock", "s3:PutBucketPublicAccessBlock", (*Handler).deletePublicAccessBlock},
	"GET versions":             {"ListObjectVersions", "s3:ListBucketVersions", (*Handler).listVersions},
	"GET uploads":              {"ListMultipartUploads", "s3:ListBucketMultipartUploads", (*Handler).listUploads},
	"POST delete":              {"DeleteObjects", "s3:DeleteObject", (*Handler).deleteObjects},
}

// authorize asks the authorizer whether the caller may run op. The resource's account is its
// bucket's owner; a bucket that does not exist yet belongs to no one.
func (h *Handler) authorize(rq *request, op *operation) error {
	if rq.caller == nil {
		return awserr.New(awserr.AccessDenied, "Access Denied")
	}
	req := &policy.Request{Action: op.action, Resource: "*", Keys: map[string][]string{}}
	if rq.bucket != "" {
		req.Resource = "arn:aws:s3:::" + rq.bucket
		if rq.key != "" {
			req.Resource += "/" + rq.key
		}
		if op.name != "CreateBucket" {
			b, err := h.svc.bucket(rq.ctx, rq.bucket)
			if err != nil {
				if isCode(err, awserr.NoSuchBucket) {
					// Say "no such bucket" only to callers who could have owned one.
					if rq.caller.IsRoot() {
						return err
					}
					return awserr.New(awserr.AccessDenied, "Access Denied")
				}
				return err
			}
			req.ResourceAccount = b.Owner
		}
	} else {
		req.ResourceAccount = rq.caller.AccountID
	}
	if v := rq.r.Header.Get(hdrSSE); v != "" {
		req.Keys["s3:x-amz-server-side-encryption"] = []string{v}
	}
	if p := rq.q.Get("prefix"); p != "" {
		req.Keys["s3:prefix"] = []string{p}
	}
	if err := h.svc.authz.Authorize(rq.ctx, req); err != nil {
		return awserr.Wrap(awserr.AccessDenied, "Access Denied", err)
	}
	return nil
}
