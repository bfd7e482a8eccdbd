package s3

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/identity"
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

// operation is one routed S3 call: its name and how to serve it. The service decides what
// it needs (the IAM action, resource and condition keys) and authorizes it.
type operation struct {
	name  string
	serve func(*Handler, *request) error
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
			return listBucketsOp, nil
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
	sub := ""
	switch {
	case has("tagging"):
		sub = "tagging"
	case method == http.MethodHead:
	case (method == http.MethodPut && has("partNumber")) || has("uploadId"):
		sub = "upload"
	case method == http.MethodPost && has("uploads"):
		sub = "uploads"
	}
	name := method
	if sub != "" {
		name += " " + sub
	}
	if method == http.MethodPut && sub != "tagging" && hdr.Get("X-Amz-Copy-Source") != "" {
		name += " copy"
	}
	if op, ok := objectOps[name]; ok {
		return op, nil
	}
	return nil, awserr.New(awserr.MethodNotAllowed, "The specified method is not allowed against this resource.")
}

// listBucketsOp is the one call on the service itself.
var listBucketsOp = &operation{"ListBuckets", (*Handler).listBuckets}

// objectOps route object requests by method and sub-resource ("tagging", "upload" for an
// uploadId or partNumber, "uploads"), a copy source adding " copy".
var objectOps = map[string]*operation{
	"PUT":             {"PutObject", (*Handler).putObject},
	"PUT copy":        {"CopyObject", (*Handler).copyObject},
	"PUT upload":      {"UploadPart", (*Handler).uploadPart},
	"PUT upload copy": {"UploadPartCopy", (*Handler).uploadPartCopy},
	"GET":             {"GetObject", (*Handler).getObject},
	"HEAD":            {"HeadObject", (*Handler).getObject},
	"DELETE":          {"DeleteObject", (*Handler).deleteObject},
	"GET upload":      {"ListParts", (*Handler).listParts},
	"DELETE upload":   {"AbortMultipartUpload", (*Handler).abortUpload},
	"POST uploads":    {"CreateMultipartUpload", (*Handler).createUpload},
	"POST upload":     {"CompleteMultipartUpload", (*Handler).completeUpload},
	"GET tagging":     {"GetObjectTagging", (*Handler).getObjectTagging},
	"PUT tagging":     {"PutObjectTagging", (*Handler).putObjectTagging},
	"DELETE tagging":  {"DeleteObjectTagging", (*Handler).deleteObjectTagging},
}

// Operations names every operation the front-end serves.
func (h *Handler) Operations() []string {
	names := []string{listBucketsOp.name}
	for _, table := range []map[string]*operation{bucketOps, objectOps} {
		for _, op := range table {
			names = append(names, op.name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

var bucketOps = map[string]*operation{
	"PUT ":                     {"CreateBucket", (*Handler).createBucket},
	"HEAD ":                    {"HeadBucket", (*Handler).headBucket},
	"DELETE ":                  {"DeleteBucket", (*Handler).deleteBucket},
	"GET ":                     {"ListObjects", (*Handler).listObjectsV1},
	"GET list-type=2":          {"ListObjectsV2", (*Handler).listObjectsV2},
	"GET location":             {"GetBucketLocation", (*Handler).getLocation},
	"GET versioning":           {"GetBucketVersioning", (*Handler).getVersioning},
	"PUT versioning":           {"PutBucketVersioning", (*Handler).putVersioning},
	"GET encryption":           {"GetBucketEncryption", (*Handler).getEncryption},
	"PUT encryption":           {"PutBucketEncryption", (*Handler).putEncryption},
	"DELETE encryption":        {"DeleteBucketEncryption", (*Handler).deleteEncryption},
	"GET policy":               {"GetBucketPolicy", (*Handler).getPolicy},
	"PUT policy":               {"PutBucketPolicy", (*Handler).putPolicy},
	"DELETE policy":            {"DeleteBucketPolicy", (*Handler).deletePolicy},
	"GET publicAccessBlock":    {"GetPublicAccessBlock", (*Handler).getPublicAccessBlock},
	"PUT publicAccessBlock":    {"PutPublicAccessBlock", (*Handler).putPublicAccessBlock},
	"DELETE publicAccessBlock": {"DeletePublicAccessBlock", (*Handler).deletePublicAccessBlock},
	"GET versions":             {"ListObjectVersions", (*Handler).listVersions},
	"GET uploads":              {"ListMultipartUploads", (*Handler).listUploads},
	"POST delete":              {"DeleteObjects", (*Handler).deleteObjects},
}
