// Package awsproto holds the wire codecs shared by the front-ends: bounded, depth-limited XML
// decoding, Query-protocol form parsing, and the one place each protocol's errors are rendered.
package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/stateward/stateward/internal/awserr"
)

// Protocol is a wire protocol family; it decides how errors are rendered.
type Protocol int

const (
	RESTXML Protocol = iota // S3
	Query                   // STS, IAM
	JSON10                  // DynamoDB
	JSON11                  // KMS, SSM
)

// Limits on request bodies that are decoded into memory (not object bodies, which stream).
const (
	MaxXMLBody   = 2 << 20 // DeleteObjects with 1,000 keys is well under this
	MaxQueryBody = 1 << 20
	MaxJSONBody  = 1 << 20 // DynamoDB items are at most 400 KB
	maxXMLDepth  = 32
)

// Info is the per-request record the gateway creates and front-ends fill in.
type Info struct {
	RequestID string
	Service   string // "s3", "sts", …
	Operation string // e.g. "PutObject", set by the front-end once it knows
}

type infoKey struct{}

// WithInfo returns ctx carrying info.
func WithInfo(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// InfoFrom returns the request's Info; never nil.
func InfoFrom(ctx context.Context) *Info {
	if i, ok := ctx.Value(infoKey{}).(*Info); ok {
		return i
	}
	return &Info{}
}

// SetOperation records the operation name for logs and metrics.
func SetOperation(ctx context.Context, op string) { InfoFrom(ctx).Operation = op }

// DecodeXML decodes at most limit bytes of XML from r into v. Bodies that are too large, too
// deep, or not well-formed are MalformedXML, as S3 answers them.
func DecodeXML(r io.Reader, limit int64, v any) error {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return err
	}
	if int64(len(body)) > limit {
		return awserr.New(awserr.MalformedXML, "The XML you provided was too large.")
	}
	if err := checkDepth(body); err != nil {
		return awserr.Wrap(awserr.MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema.", err)
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return awserr.Wrap(awserr.MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema.", err)
	}
	return nil
}

// checkDepth rejects documents nested deeper than maxXMLDepth and any token-level error,
// before the reflective decoder sees them.
func checkDepth(body []byte) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if depth != 0 {
				return errors.New("unexpected end of document")
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxXMLDepth {
				return errors.New("document nested too deeply")
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return errors.New("DTDs are not accepted")
		}
	}
}

// WriteXML writes v as an XML document with the given status.
func WriteXML(w http.ResponseWriter, status int, v any) error {
	out, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(out)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, err = w.Write(out)
	return err
}

// ParseForm reads a Query-protocol request: form fields from a POST body (bounded) merged with
// the URL query.
func ParseForm(r *http.Request) (url.Values, error) {
	vals := r.URL.Query()
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxQueryBody+1))
		if err != nil {
			return nil, err
		}
		if len(body) > MaxQueryBody {
			return nil, awserr.New(awserr.ValidationError, "Request body too large.")
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, awserr.Wrap("MalformedQueryString", "The request body is not a valid form.", err)
		}
		for k, v := range form {
			vals[k] = append(vals[k], v...)
		}
	}
	return vals, nil
}

// WriteError renders e in protocol p. HEAD responses carry the status only, as S3 does.
func WriteError(w http.ResponseWriter, r *http.Request, p Protocol, requestID string, e *awserr.Error) {
	h := w.Header()
	for k, v := range e.Header {
		h[k] = v
	}
	switch p {
	case JSON10, JSON11:
		writeJSONError(w, p, e)
	case Query:
		writeQueryError(w, requestID, e)
	default:
		if r.Method == http.MethodHead {
			w.WriteHeader(e.Status)
			return
		}
		writeS3Error(w, requestID, e)
	}
}

func writeS3Error(w http.ResponseWriter, requestID string, e *awserr.Error) {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString("<Error><Code>")
	xmlText(&b, e.Code)
	b.WriteString("</Code><Message>")
	xmlText(&b, e.Message)
	b.WriteString("</Message>")
	for _, k := range slices.Sorted(maps.Keys(e.Extra)) {
		fmt.Fprintf(&b, "<%s>", k)
		xmlText(&b, e.Extra[k])
		fmt.Fprintf(&b, "</%s>", k)
	}
	b.WriteString("<RequestId>")
	xmlText(&b, requestID)
	b.WriteString("</RequestId><HostId>")
	xmlText(&b, requestID)
	b.WriteString("</HostId></Error>")
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(e.Status)
	_, _ = io.WriteString(w, b.String())
}

func writeQueryError(w http.ResponseWriter, requestID string, e *awserr.Error) {
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>`)
	b.WriteString(typ)
	b.WriteString("</Type><Code>")
	xmlText(&b, e.Code)
	b.WriteString("</Code><Message>")
	xmlText(&b, e.Message)
	b.WriteString("</Message></Error><RequestId>")
	xmlText(&b, requestID)
	b.WriteString("</RequestId></ErrorResponse>")
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(e.Status)
	_, _ = io.WriteString(w, b.String())
}

// JSON error type prefixes, as the real services send them; clients strip them.
var jsonTypePrefix = map[Protocol]string{
	JSON10: "com.amazonaws.dynamodb.v20120810#",
	JSON11: "",
}

func writeJSONError(w http.ResponseWriter, p Protocol, e *awserr.Error) {
	ct := "application/x-amz-json-1.1"
	if p == JSON10 {
		ct = "application/x-amz-json-1.0"
	}
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{jsonTypePrefix[p] + e.Code, e.Message})
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

func xmlText(b *strings.Builder, s string) {
	_ = xml.EscapeText(b, []byte(s))
}

// DecodeJSON decodes a JSON-protocol request body of at most MaxJSONBody bytes into v.
// Malformed bodies are SerializationException, as the JSON services answer them.
func DecodeJSON(r io.Reader, v any) error {
	body, err := io.ReadAll(io.LimitReader(r, MaxJSONBody+1))
	if err != nil {
		return err
	}
	if len(body) > MaxJSONBody {
		return awserr.New(awserr.SerializationException, "Request body too large.")
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return awserr.Wrap(awserr.SerializationException, "The request body could not be parsed as JSON.", err)
	}
	return nil
}

// WriteJSON writes v as a JSON-protocol response. DynamoDB responses carry X-Amz-Crc32, the
// CRC32 of the body, which the SDK verifies when present.
func WriteJSON(w http.ResponseWriter, p Protocol, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ct := "application/x-amz-json-1.1"
	if p == JSON10 {
		ct = "application/x-amz-json-1.0"
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body)
	return err
}
