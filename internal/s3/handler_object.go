package s3

import (
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/checksum"
)

const (
	maxPutSize      = 5 << 30 // S3's single-PUT limit
	maxMetadataSize = 2 << 10
)

// readHeaders collects the stored representation headers and user metadata of a write.
func readHeaders(h http.Header) (ObjectHeaders, error) {
	out := ObjectHeaders{
		ContentType:        h.Get("Content-Type"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage:    h.Get("Content-Language"),
		CacheControl:       h.Get("Cache-Control"),
		Expires:            h.Get("Expires"),
	}
	// aws-chunked is framing, decoded before storage; never store it as the object's encoding.
	var encs []string
	for _, e := range strings.Split(h.Get("Content-Encoding"), ",") {
		if e = strings.TrimSpace(e); e != "" && e != "aws-chunked" {
			encs = append(encs, e)
		}
	}
	out.ContentEncoding = strings.Join(encs, ",")
	size := 0
	for name, vals := range h {
		if m, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-meta-"); ok {
			if out.Metadata == nil {
				out.Metadata = map[string]string{}
			}
			out.Metadata[m] = strings.Join(vals, ",")
			size += len(m) + len(out.Metadata[m])
		}
	}
	if size > maxMetadataSize {
		return out, awserr.New("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.")
	}
	return out, nil
}

// readIntegrity collects what the request says the body hashes to.
func readIntegrity(h http.Header) (Integrity, error) {
	in := Integrity{ContentMD5: h.Get("Content-Md5"), Expected: map[checksum.Algorithm]string{}}
	for name, vals := range h {
		if a, ok := checksum.FromHeader(name); ok {
			in.Expected[a] = vals[0]
		}
	}
	if v := h.Get("X-Amz-Sdk-Checksum-Algorithm"); v != "" {
		a, ok := checksum.Parse(v)
		if !ok {
			return in, awserr.New(awserr.InvalidRequest, "Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
		in.Algorithms = append(in.Algorithms, a)
	}
	if t := h.Get("X-Amz-Trailer"); t != "" {
		if a, ok := checksum.FromHeader(t); ok {
			in.Algorithms = append(in.Algorithms, a)
		}
	}
	return in, nil
}

// bodyLength is the decoded length of a write's body, or an error when it is unknown.
func bodyLength(r *http.Request) (int64, error) {
	if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, awserr.New(awserr.InvalidArgument, "x-amz-decoded-content-length is not a valid length.")
		}
		return n, nil
	}
	if r.ContentLength < 0 {
		return 0, awserr.New(awserr.MissingContentLength, "You must provide the Content-Length HTTP header.")
	}
	return r.ContentLength, nil
}

func (h *Handler) putObject(rq *request) error {
	n, err := bodyLength(rq.r)
	if err != nil {
		return err
	}
	if n > maxPutSize {
		return awserr.New(awserr.EntityTooLarge, "Your proposed upload exceeds the maximum allowed object size.")
	}
	in, err := h.writeInput(rq)
	if err != nil {
		return err
	}
	if in.Tagging, err = taggingHeader(rq.r.Header); err != nil {
		return err
	}
	in.Body = capped(rq.r.Body, maxPutSize)
	v, err := h.svc.PutObject(rq.ctx, in)
	if err != nil {
		return err
	}
	hdr := rq.w.Header()
	hdr.Set("ETag", v.ETag)
	setVersionHeader(hdr, v.VersionID)
	setSSEHeaders(hdr, v.SSE)
	for _, a := range in.Integrity.algorithms() {
		hdr.Set(a.Header(), v.Checksums[string(a)])
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// writeInput reads the headers shared by PutObject and CopyObject; x-amz-tagging is each
// one's own (a copy ignores it unless told to replace the tags).
func (h *Handler) writeInput(rq *request) (*PutObjectInput, error) {
	headers, err := readHeaders(rq.r.Header)
	if err != nil {
		return nil, err
	}
	sse, err := parseSSE(rq.r.Header, "")
	if err != nil {
		return nil, err
	}
	integ, err := readIntegrity(rq.r.Header)
	if err != nil {
		return nil, err
	}
	return &PutObjectInput{
		Bucket: rq.bucket, Key: rq.key, Headers: headers, SSE: sse,
		Integrity: integ,
		Cond:      Conditions{IfNoneMatch: rq.r.Header.Get("If-None-Match"), IfMatch: rq.r.Header.Get("If-Match")},
	}, nil
}

// setVersionHeader sends x-amz-version-id for a version of a versioned bucket ("null" is the
// unversioned one, and goes unsaid).
func setVersionHeader(h http.Header, id string) {
	if id != "" && id != "null" {
		h.Set("X-Amz-Version-Id", id)
	}
}

// getObject serves GetObject and HeadObject.
func (h *Handler) getObject(rq *request) error {
	sse, err := parseSSE(rq.r.Header, "")
	if err != nil {
		return err
	}
	obj, err := h.svc.GetObject(rq.ctx, &GetObjectInput{Bucket: rq.bucket, Key: rq.key, VersionID: rq.q.Get("versionId"), SSE: sse})
	if err != nil {
		return err
	}
	defer obj.Close()
	v := obj.ObjectVersion
	hdr := rq.w.Header()
	setObjectHeaders(hdr, v)
	if status := readConditions(rq.r.Header, "").Check(v); status != 0 {
		if status == http.StatusPreconditionFailed {
			return awserr.New(awserr.PreconditionFailed, "At least one of the pre-conditions you specified did not hold")
		}
		rq.w.WriteHeader(status)
		return nil
	}
	for k, name := range map[string]string{"response-content-type": "Content-Type",
		"response-content-language": "Content-Language", "response-expires": "Expires",
		"response-cache-control": "Cache-Control", "response-content-disposition": "Content-Disposition",
		"response-content-encoding": "Content-Encoding"} {
		if val := rq.q.Get(k); val != "" {
			hdr.Set(name, val)
		}
	}
	start, end, partial, err := parseRange(rq.r.Header.Get("Range"), v.Size)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		hdr.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end-1, 10)+"/"+strconv.FormatInt(v.Size, 10))
	} else if strings.EqualFold(rq.r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		// Full-object checksums only on whole-object responses: clients validate the body
		// against them and do not check whether the response was a range.
		for alg, val := range v.Checksums {
			if a, ok := checksum.Parse(alg); ok {
				hdr.Set(a.Header(), val)
			}
		}
		if len(v.Checksums) > 0 {
			typ := "FULL_OBJECT"
			if len(v.Body.Parts) > 1 || strings.Contains(firstValue(v.Checksums), "-") {
				typ = "COMPOSITE"
			}
			hdr.Set("X-Amz-Checksum-Type", typ)
		}
	}
	hdr.Set("Content-Length", strconv.FormatInt(end-start, 10))
	rq.w.WriteHeader(status)
	if rq.r.Method == http.MethodHead {
		return nil
	}
	if err := obj.WriteRange(rq.ctx, rq.w, start, end); err != nil {
		// Headers are gone: the gateway can only log this and cut the connection.
		return err
	}
	return nil
}

func firstValue(m map[string]string) string {
	for _, v := range m {
		return v
	}
	return ""
}

func setObjectHeaders(h http.Header, v *ObjectVersion) {
	h.Set("Last-Modified", v.LastModified.UTC().Format(http.TimeFormat))
	h.Set("ETag", v.ETag)
	h.Set("Accept-Ranges", "bytes")
	ct := v.Headers.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	for name, val := range map[string]string{"Content-Encoding": v.Headers.ContentEncoding,
		"Content-Disposition": v.Headers.ContentDisposition, "Content-Language": v.Headers.ContentLanguage,
		"Cache-Control": v.Headers.CacheControl, "Expires": v.Headers.Expires} {
		if val != "" {
			h.Set(name, val)
		}
	}
	for k, val := range v.Headers.Metadata {
		h.Set("X-Amz-Meta-"+k, val)
	}
	if v.Tagging != "" {
		if q, err := url.ParseQuery(v.Tagging); err == nil {
			h.Set("X-Amz-Tagging-Count", strconv.Itoa(len(q)))
		}
	}
	setVersionHeader(h, v.VersionID)
	setSSEHeaders(h, v.SSE)
}

// readConditions reads If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since,
// each header name after prefix ("" for a GET, "X-Amz-Copy-Source-" for a copy's source).
// Dates that do not parse are ignored, as S3 ignores them.
func readConditions(h http.Header, prefix string) ReadConditions {
	c := ReadConditions{IfMatch: h.Get(prefix + "If-Match"), IfNoneMatch: h.Get(prefix + "If-None-Match")}
	c.IfModifiedSince, _ = http.ParseTime(h.Get(prefix + "If-Modified-Since"))
	c.IfUnmodifiedSince, _ = http.ParseTime(h.Get(prefix + "If-Unmodified-Since"))
	return c
}

// parseRange returns the byte range [start, end) a Range header asks for. A header it cannot
// parse, or one with several ranges, is ignored as S3 does; a range that starts past the end
// (any range of an empty object) is 416.
func parseRange(header string, size int64) (start, end int64, partial bool, err error) {
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	unsatisfiable := awserr.New(awserr.InvalidRange, "The requested range is not satisfiable").
		WithHeader("Content-Range", "bytes */"+strconv.FormatInt(size, 10)).
		With("RangeRequested", header).With("ActualObjectSize", strconv.FormatInt(size, 10))
	if first == "" {
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || n < 0 {
			return 0, size, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, unsatisfiable
		}
		return max(size-n, 0), size, true, nil
	}
	s, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || s < 0 {
		return 0, size, false, nil
	}
	e := size - 1
	if last != "" {
		if e, perr = strconv.ParseInt(last, 10, 64); perr != nil || e < s {
			return 0, size, false, nil
		}
	}
	if s >= size {
		return 0, 0, false, unsatisfiable
	}
	return s, min(e+1, size), true, nil
}

func (h *Handler) deleteObject(rq *request) error {
	res, err := h.svc.DeleteObject(rq.ctx, rq.bucket, rq.key, rq.q.Get("versionId"))
	if err != nil {
		return err
	}
	setVersionHeader(rq.w.Header(), res.VersionID)
	if res.DeleteMarker {
		rq.w.Header().Set("X-Amz-Delete-Marker", "true")
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) deleteObjects(rq *request) error {
	var req deleteRequest
	if err := awsproto.DecodeXML(rq.r.Body, awsproto.MaxXMLBody, &req); err != nil {
		return err
	}
	objs := make([]ObjectIdentifier, len(req.Objects))
	for i, o := range req.Objects {
		objs[i] = ObjectIdentifier{Key: o.Key, VersionID: o.VersionID}
	}
	outcomes, err := h.svc.DeleteObjects(rq.ctx, rq.bucket, objs)
	if err != nil {
		return err
	}
	out := deleteResultXML{Xmlns: xmlns}
	for _, o := range outcomes {
		if o.Err != nil {
			e := awsproto.Classify(o.Err, awsproto.RESTXML)
			out.Errors = append(out.Errors, deleteErrorEntry{Key: o.Object.Key, VersionID: o.Object.VersionID, Code: e.Code, Message: e.Message})
			continue
		}
		if req.Quiet {
			continue
		}
		d := deletedEntry{Key: o.Object.Key, VersionID: o.Object.VersionID, DeleteMarker: o.Result.DeleteMarker}
		if o.Result.DeleteMarker && o.Object.VersionID == "" {
			d.DeleteMarkerVersionID = o.Result.VersionID
		}
		out.Deleted = append(out.Deleted, d)
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, out)
}

// copySourceOf reads x-amz-copy-source and the source's SSE-C key and conditions.
func copySourceOf(h http.Header) (*CopySource, error) {
	bucket, key, versionID, err := parseCopySource(h.Get("X-Amz-Copy-Source"))
	if err != nil {
		return nil, err
	}
	sse, err := parseSSE(h, hdrCopySSECPrefix)
	if err != nil {
		return nil, err
	}
	return &CopySource{Bucket: bucket, Key: key, VersionID: versionID, SSE: sse, Cond: readConditions(h, "X-Amz-Copy-Source-")}, nil
}

func (h *Handler) copyObject(rq *request) error {
	src, err := copySourceOf(rq.r.Header)
	if err != nil {
		return err
	}
	dst, err := h.writeInput(rq)
	if err != nil {
		return err
	}
	in := &CopyObjectInput{Source: *src, Dest: *dst, MetadataDirective: rq.r.Header.Get("X-Amz-Metadata-Directive"),
		TaggingDirective: rq.r.Header.Get("X-Amz-Tagging-Directive")}
	if in.TaggingDirective == "REPLACE" {
		if in.Dest.Tagging, err = taggingHeader(rq.r.Header); err != nil {
			return err
		}
	}
	v, source, err := h.svc.CopyObject(rq.ctx, in)
	if err != nil {
		return err
	}
	hdr := rq.w.Header()
	setVersionHeader(hdr, v.VersionID)
	setSSEHeaders(hdr, v.SSE)
	if source.VersionID != "null" {
		hdr.Set("X-Amz-Copy-Source-Version-Id", source.VersionID)
	}
	out := copyResult{XMLName: xml.Name{Local: "CopyObjectResult"}, Xmlns: xmlns, ETag: v.ETag, LastModified: isoTime(v.LastModified),
		checksumFields: checksumFieldsOf(v.Checksums)}
	return awsproto.WriteXML(rq.w, http.StatusOK, out)
}

// parseCopySource splits x-amz-copy-source: "[/]bucket/key[?versionId=id]", URL-encoded.
func parseCopySource(v string) (bucket, key, versionID string, err error) {
	bad := awserr.New(awserr.InvalidArgument, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey").With("ArgumentName", "x-amz-copy-source")
	path, query, _ := strings.Cut(v, "?")
	if query != "" {
		q, qerr := url.ParseQuery(query)
		if qerr != nil {
			return "", "", "", bad
		}
		versionID = q.Get("versionId")
	}
	path, perr := url.PathUnescape(path)
	if perr != nil {
		return "", "", "", bad
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok || bucket == "" || key == "" {
		return "", "", "", bad
	}
	if err := validKey(key); err != nil {
		return "", "", "", err
	}
	return bucket, key, versionID, nil
}

// listParams reads the parameters every listing shares.
func listParams(q url.Values, bucket string) (ListQuery, bool, error) {
	lq := ListQuery{Bucket: bucket, Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), Max: 1000}
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return lq, false, awserr.New(awserr.InvalidArgument, "Provided max-keys not an integer or within integer range").With("ArgumentName", "max-keys")
		}
		lq.Max, lq.MaxKeys = min(n, 1000), v
	}
	urlEncode := false
	switch q.Get("encoding-type") {
	case "":
	case "url":
		urlEncode = true
	default:
		return lq, false, awserr.New(awserr.InvalidArgument, "Invalid Encoding Method specified in Request").With("ArgumentName", "encoding-type")
	}
	return lq, urlEncode, nil
}

// encodeKey applies encoding-type=url: S3 escapes keys like query values.
func encodeKey(s string, enc bool) string {
	if !enc {
		return s
	}
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

func (h *Handler) listed(v ObjectVersion, enc bool) listObject {
	o := listObject{Key: encodeKey(v.Key, enc), LastModified: isoTime(v.LastModified), ETag: v.ETag, Size: v.Size, StorageClass: "STANDARD"}
	for alg := range v.Checksums {
		o.ChecksumAlgorithm = append(o.ChecksumAlgorithm, alg)
	}
	return o
}

func (h *Handler) listObjectsV2(rq *request) error {
	lq, enc, err := listParams(rq.q, rq.bucket)
	if err != nil {
		return err
	}
	token := rq.q.Get("continuation-token")
	if token != "" {
		raw, derr := base64.RawURLEncoding.DecodeString(token)
		if derr != nil || len(raw) == 0 {
			return awserr.New(awserr.InvalidArgument, "The continuation token provided is incorrect").With("ArgumentName", "continuation-token")
		}
		lq.AfterPrefix, lq.After = raw[0] == 'p', string(raw[1:])
	} else if sa := rq.q.Get("start-after"); sa != "" {
		lq.After = sa
	}
	page, err := h.svc.ListObjects(rq.ctx, lq)
	if err != nil {
		return err
	}
	out := listBucketResultV2{Xmlns: xmlns, Name: rq.bucket, Prefix: encodeKey(lq.Prefix, enc),
		Delimiter: encodeKey(lq.Delimiter, enc), MaxKeys: lq.Max, KeyCount: len(page.Items) + len(page.Prefixes),
		IsTruncated: page.Truncated, ContinuationToken: token, StartAfter: encodeKey(rq.q.Get("start-after"), enc)}
	if enc {
		out.EncodingType = "url"
	}
	if page.Truncated {
		kind := "k"
		if page.LastPrefix {
			kind = "p"
		}
		out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(kind + page.Last))
	}
	for _, v := range page.Items {
		out.Contents = append(out.Contents, h.listed(v, enc))
		if rq.q.Get("fetch-owner") == "true" {
			out.Contents[len(out.Contents)-1].Owner = &owner{ID: v.Owner}
		}
	}
	for _, p := range page.Prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{encodeKey(p, enc)})
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, out)
}

func (h *Handler) listObjectsV1(rq *request) error {
	lq, enc, err := listParams(rq.q, rq.bucket)
	if err != nil {
		return err
	}
	lq.After = rq.q.Get("marker")
	lq.AfterPrefix = lq.Delimiter != "" && strings.HasSuffix(lq.After, lq.Delimiter)
	page, err := h.svc.ListObjects(rq.ctx, lq)
	if err != nil {
		return err
	}
	out := listBucketResultV1{Xmlns: xmlns, Name: rq.bucket, Prefix: encodeKey(lq.Prefix, enc), Marker: encodeKey(lq.After, enc),
		Delimiter: encodeKey(lq.Delimiter, enc), MaxKeys: lq.Max, IsTruncated: page.Truncated}
	if enc {
		out.EncodingType = "url"
	}
	if page.Truncated && lq.Delimiter != "" {
		out.NextMarker = encodeKey(page.Last, enc)
	}
	for _, v := range page.Items {
		o := h.listed(v, enc)
		o.Owner = &owner{ID: v.Owner}
		out.Contents = append(out.Contents, o)
	}
	for _, p := range page.Prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{encodeKey(p, enc)})
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, out)
}

func (h *Handler) listVersions(rq *request) error {
	lq, enc, err := listParams(rq.q, rq.bucket)
	if err != nil {
		return err
	}
	lq.After = rq.q.Get("key-marker")
	vm := rq.q.Get("version-id-marker")
	if vm != "" && lq.After == "" {
		return awserr.New(awserr.InvalidArgument, "A version-id marker cannot be specified without a key marker.")
	}
	if vm != "" && !validVersionID(vm) {
		return awserr.New(awserr.InvalidArgument, "Invalid version id specified")
	}
	lq.AfterPrefix = vm == "" && lq.Delimiter != "" && strings.HasSuffix(lq.After, lq.Delimiter)
	page, err := h.svc.ListObjectVersions(rq.ctx, lq, vm)
	if err != nil {
		return err
	}
	out := listVersionsResult{Xmlns: xmlns, Name: rq.bucket, Prefix: encodeKey(lq.Prefix, enc), KeyMarker: encodeKey(rq.q.Get("key-marker"), enc),
		VersionIDMarker: vm, Delimiter: encodeKey(lq.Delimiter, enc), MaxKeys: lq.Max, IsTruncated: page.Truncated}
	if enc {
		out.EncodingType = "url"
	}
	if page.Truncated {
		out.NextKeyMarker = encodeKey(page.Last, enc)
		if !page.LastPrefix {
			out.NextVersionIDMarker = page.NextVersionID
		}
	}
	for _, v := range page.Items {
		e := listedVersion{Key: encodeKey(v.Key, enc), VersionID: v.VersionID, IsLatest: page.Latest[v.Key] == v.VersionID,
			LastModified: isoTime(v.LastModified), Owner: owner{ID: v.Owner}}
		if v.DeleteMarker {
			e.XMLName.Local = "DeleteMarker"
		} else {
			e.XMLName.Local = "Version"
			e.ETag, e.StorageClass = v.ETag, "STANDARD"
			size := v.Size
			e.Size = &size
		}
		out.Entries = append(out.Entries, e)
	}
	for _, p := range page.Prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{encodeKey(p, enc)})
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, out)
}

// capped fails a body that turns out longer than n bytes, whatever its headers declared
// (a chunked transfer declares none).
func capped(r io.Reader, n int64) io.Reader { return &cappedReader{r: r, left: n} }

type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	// Ask for at most one byte more than is allowed: getting it proves the body too long.
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		return 0, awserr.New(awserr.EntityTooLarge, "Your proposed upload exceeds the maximum allowed object size.")
	}
	c.left -= int64(n)
	return n, err
}
