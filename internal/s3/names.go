package s3

import (
	"net"
	"strings"
	"unicode/utf8"

	"github.com/stateward/stateward/internal/awserr"
)

const maxKeyLen = 1024

// validBucketName applies S3's general-purpose bucket naming rules.
func validBucketName(name string) error {
	bad := awserr.New(awserr.InvalidBucketName, "The specified bucket is not valid.").With("BucketName", name)
	if len(name) < 3 || len(name) > 63 {
		return bad
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' ||
		strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") ||
		net.ParseIP(name) != nil || strings.HasPrefix(name, "xn--") || strings.HasPrefix(name, "sthree-") ||
		strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3") {
		return bad
	}
	return nil
}

// validKey rejects object keys stateward will not store. S3 itself accepts more, but keys that
// walk up a path ("..") or use backslashes only ever come from mistakes or attacks on tools
// that map keys to files, and NUL would break our record layout.
func validKey(key string) error {
	switch {
	case key == "":
		return awserr.New(awserr.InvalidArgument, "Object key must not be empty.")
	case len(key) > maxKeyLen:
		return awserr.New(awserr.KeyTooLongError, "Your key is too long.")
	case !utf8.ValidString(key):
		return awserr.New(awserr.InvalidArgument, "Object key is not valid UTF-8.")
	case strings.ContainsRune(key, 0):
		return awserr.New(awserr.InvalidArgument, "Object key must not contain NUL characters.")
	case strings.ContainsRune(key, '\\'):
		return awserr.New(awserr.InvalidArgument, "Object key must not contain backslashes.")
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." {
			return awserr.New(awserr.InvalidArgument, "Object key must not contain '..' path segments.")
		}
	}
	return nil
}
