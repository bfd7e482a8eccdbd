package s3

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
	"github.com/stateward/stateward/internal/awsproto"
	"github.com/stateward/stateward/internal/checksum"
)

func (h *Handler) createUpload(rq *request) error {
	headers, err := readHeaders(rq.r.Header)
	if err != nil {
		return err
	}
	sse, err := parseSSE(rq.r.Header, "")
	if err != nil {
		return err
	}
	tags, err := taggingHeader(rq.r.Header)
	if err != nil {
		return err
	}
	in := &CreateMultipartUploadInput{Bucket: rq.bucket, Key: rq.key, Headers: headers, SSE: sse, Tagging: tags}
	if v := rq.r.Header.Get("X-Amz-Checksum-Algorithm"); v != "" {
		a, ok := checksum.Parse(v)
		if !ok {
			return awserr.New(awserr.InvalidRequest, "Checksum algorithm provided is unsupported.")
		}
		in.ChecksumAlgorithm = string(a)
	}
	u, err := h.svc.CreateMultipartUpload(rq.ctx, in)
	if err != nil {
		return err
	}
	setSSEHeaders(rq.w.Header(), u.SSE)
	if u.ChecksumAlgorithm != "" {
		rq.w.Header().Set("X-Amz-Checksum-Algorithm", u.ChecksumAlgorithm)
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, initiateMultipartUploadResult{Xmlns: xmlns, Bucket: rq.bucket, Key: rq.key, UploadID: u.UploadID})
}

func partNumber(q url.Values) (int, error) {
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil {
		return 0, awserr.New(awserr.InvalidArgument, "Part number must be an integer between 1 and 10000, inclusive").With("ArgumentName", "partNumber")
	}
	return n, nil
}

func (h *Handler) uploadPart(rq *request) error {
	number, err := partNumber(rq.q)
	if err != nil {
		return err
	}
	n, err := bodyLength(rq.r)
	if err != nil {
		return err
	}
	if n > maxPutSize {
		return awserr.New(awserr.EntityTooLarge, "Your proposed upload exceeds the maximum allowed object size.")
	}
	integ, err := readIntegrity(rq.r.Header)
	if err != nil {
		return err
	}
	sse, err := parseSSE(rq.r.Header, "")
	if err != nil {
		return err
	}
	p, err := h.svc.UploadPart(rq.ctx, &UploadPartInput{Bucket: rq.bucket, Key: rq.key, UploadID: rq.q.Get("uploadId"),
		Number: number, Body: capped(rq.r.Body, maxPutSize), Integrity: integ, SSE: sse})
	if err != nil {
		return err
	}
	hdr := rq.w.Header()
	hdr.Set("ETag", p.ETag)
	for alg, v := range p.Checksums {
		if a, ok := checksum.Parse(alg); ok && (len(integ.Expected) > 0 || len(integ.Algorithms) > 0) {
			hdr.Set(a.Header(), v)
		}
	}
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// uploadPartCopy stores a part read from an existing object, whole or the range
// x-amz-copy-source-range names.
func (h *Handler) uploadPartCopy(rq *request) error {
	number, err := partNumber(rq.q)
	if err != nil {
		return err
	}
	src, err := copySourceOf(rq.r.Header)
	if err != nil {
		return err
	}
	sse, err := parseSSE(rq.r.Header, "")
	if err != nil {
		return err
	}
	p, source, err := h.svc.UploadPartCopy(rq.ctx, &UploadPartCopyInput{Bucket: rq.bucket, Key: rq.key,
		UploadID: rq.q.Get("uploadId"), Number: number, Source: *src, Range: rq.r.Header.Get("X-Amz-Copy-Source-Range"), SSE: sse})
	if err != nil {
		return err
	}
	if source.VersionID != "null" {
		rq.w.Header().Set("X-Amz-Copy-Source-Version-Id", source.VersionID)
	}
	out := copyResult{XMLName: xml.Name{Local: "CopyPartResult"}, Xmlns: xmlns, ETag: p.ETag, LastModified: isoTime(p.LastModified),
		checksumFields: checksumFieldsOf(p.Checksums)}
	return awsproto.WriteXML(rq.w, http.StatusOK, out)
}

// copySourceRange parses x-amz-copy-source-range ("bytes=first-last", both inclusive and
// required) against a source of size bytes, returning [start, end). No header means the
// whole source.
func copySourceRange(v string, size int64) (start, end int64, err error) {
	if v == "" {
		return 0, size, nil
	}
	malformed := awserr.New(awserr.InvalidArgument, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy").
		With("ArgumentName", "x-amz-copy-source-range").With("ArgumentValue", v)
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return 0, 0, malformed
	}
	a, b, ok := strings.Cut(spec, "-")
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, malformed
	}
	if last >= size {
		return 0, 0, awserr.Newf(awserr.InvalidArgument, "Range specified is not valid for source object of size: %d", size).
			With("ArgumentName", "x-amz-copy-source-range").With("ArgumentValue", v)
	}
	return first, last + 1, nil
}

func (h *Handler) completeUpload(rq *request) error {
	var req completeMultipartUpload
	if err := awsproto.DecodeXML(rq.r.Body, awsproto.MaxXMLBody, &req); err != nil {
		return err
	}
	list := make([]CompletedPart, 0, len(req.Parts))
	for _, p := range req.Parts {
		list = append(list, CompletedPart{Number: p.PartNumber, ETag: p.ETag, Checksums: p.toMap()})
	}
	cond := Conditions{IfNoneMatch: rq.r.Header.Get("If-None-Match"), IfMatch: rq.r.Header.Get("If-Match")}
	v, err := h.svc.CompleteMultipartUpload(rq.ctx, rq.bucket, rq.key, rq.q.Get("uploadId"), list, cond)
	if err != nil {
		return err
	}
	setVersionHeader(rq.w.Header(), v.VersionID)
	setSSEHeaders(rq.w.Header(), v.SSE)
	return awsproto.WriteXML(rq.w, http.StatusOK, completeMultipartUploadResult{Xmlns: xmlns,
		Location: "/" + rq.bucket + "/" + rq.key, Bucket: rq.bucket, Key: rq.key, ETag: v.ETag,
		checksumFields: checksumFieldsOf(v.Checksums)})
}

func (h *Handler) abortUpload(rq *request) error {
	return h.noContent(rq, h.svc.AbortMultipartUpload(rq.ctx, rq.bucket, rq.key, rq.q.Get("uploadId")))
}

func (h *Handler) listParts(rq *request) error {
	marker, max := 0, 1000
	if v := rq.q.Get("part-number-marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return awserr.New(awserr.InvalidArgument, "Invalid part-number-marker").With("ArgumentName", "part-number-marker")
		}
		marker = n
	}
	if v := rq.q.Get("max-parts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return awserr.New(awserr.InvalidArgument, "Invalid max-parts").With("ArgumentName", "max-parts")
		}
		max = min(n, 1000)
	}
	u, parts, truncated, err := h.svc.ListParts(rq.ctx, rq.bucket, rq.key, rq.q.Get("uploadId"), marker, max)
	if err != nil {
		return err
	}
	out := listPartsResult{Xmlns: xmlns, Bucket: rq.bucket, Key: rq.key, UploadID: u.UploadID, PartNumberMarker: marker,
		MaxParts: max, IsTruncated: truncated, ChecksumAlgorithm: u.ChecksumAlgorithm,
		Initiator: owner{ID: u.Owner}, Owner: owner{ID: u.Owner}, StorageClass: "STANDARD"}
	for _, p := range parts {
		out.Parts = append(out.Parts, listedPart{PartNumber: p.Number, LastModified: isoTime(p.LastModified), ETag: p.ETag,
			Size: p.Body.Size, checksumFields: checksumFieldsOf(p.Checksums)})
		out.NextPartNumberMarker = p.Number
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, out)
}

func (h *Handler) listUploads(rq *request) error {
	lq, enc, err := listParams(rq.q, rq.bucket)
	if err != nil {
		return err
	}
	lq.Max = 1000
	if v := rq.q.Get("max-uploads"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return awserr.New(awserr.InvalidArgument, "Invalid max-uploads").With("ArgumentName", "max-uploads")
		}
		lq.Max = min(n, 1000)
	}
	keyMarker, idMarker := rq.q.Get("key-marker"), rq.q.Get("upload-id-marker")
	lq.After = keyMarker
	if keyMarker != "" && idMarker != "" {
		// Resume inside the key, after that upload's record (<key>\x00<upload id>).
		lq.After += "\x00" + idMarker
	}
	uploads, page, err := h.svc.ListMultipartUploads(rq.ctx, lq)
	if err != nil {
		return err
	}
	out := listMultipartUploadsResult{Xmlns: xmlns, Bucket: rq.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker,
		Prefix: encodeKey(lq.Prefix, enc), Delimiter: lq.Delimiter, MaxUploads: lq.Max, IsTruncated: page.Truncated}
	for _, u := range uploads {
		out.Uploads = append(out.Uploads, listedUpload{Key: encodeKey(u.Key, enc), UploadID: u.UploadID, Initiated: isoTime(u.Initiated),
			StorageClass: "STANDARD", Owner: owner{ID: u.Owner}, Initiator: owner{ID: u.Owner}})
	}
	if page.Truncated && len(uploads) > 0 {
		out.NextKeyMarker, out.NextUploadIDMarker = uploads[len(uploads)-1].Key, uploads[len(uploads)-1].UploadID
	}
	for _, p := range page.Prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{encodeKey(p, enc)})
	}
	return awsproto.WriteXML(rq.w, http.StatusOK, out)
}
