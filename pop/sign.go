package pop

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
)

// StringToSignV1 builds the RPC v1 string to sign from every parameter except
// Signature (the caller removes it).
func StringToSignV1(method string, params map[string]string) string {
	q := appendCanonicalQuery(nil, params)
	b := make([]byte, 0, len(method)+len("&%2F&")+len(q)+2*escapes(q))
	b = append(b, strings.ToUpper(method)...)
	b = append(b, "&%2F&"...)
	return string(appendEncoded(b, q))
}

// SignV1 computes the base64 HMAC-SHA1 signature with key secret+"&".
func SignV1(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// AlgorithmV3 is the only V3 algorithm Dialtone accepts.
const AlgorithmV3 = "ACS3-HMAC-SHA256"

// EmptyBodySHA256 is the hex SHA-256 of an empty body.
const EmptyBodySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// V3Auth is a parsed ACS3 Authorization header.
type V3Auth struct {
	Algorithm     string
	AccessKeyID   string
	SignedHeaders []string // lowercase, in the order given
	Signature     string   // lowercase hex
}

// ErrMalformedAuthorization reports an Authorization header that is not a
// well-formed ACS3 header.
var ErrMalformedAuthorization = errors.New("malformed ACS3 Authorization header")

// ParseAuthorizationV3 parses
// "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex".
func ParseAuthorizationV3(h string) (*V3Auth, error) {
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg == "" {
		return nil, ErrMalformedAuthorization
	}
	a := &V3Auth{Algorithm: alg}
	var seen [3]bool // Credential, SignedHeaders, Signature: each at most once
	for more := true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, ErrMalformedAuthorization
		}
		field := -1
		switch k {
		case "Credential":
			field = 0
			a.AccessKeyID = v
		case "SignedHeaders":
			field = 1
			a.SignedHeaders = make([]string, 0, strings.Count(v, ";")+1)
			for name := range strings.SplitSeq(v, ";") {
				if name == "" {
					return nil, ErrMalformedAuthorization
				}
				a.SignedHeaders = append(a.SignedHeaders, strings.ToLower(name))
			}
		case "Signature":
			field = 2
			a.Signature = strings.ToLower(v)
		}
		if field < 0 || seen[field] {
			return nil, ErrMalformedAuthorization
		}
		seen[field] = true
	}
	if a.AccessKeyID == "" || len(a.SignedHeaders) == 0 || a.Signature == "" {
		return nil, ErrMalformedAuthorization
	}
	return a, nil
}

// CanonicalRequestV3 builds the V3 canonical request. header returns the
// value of a signed header (already joined with "," when repeated); signed
// names are sorted here, whatever order the client listed them in.
func CanonicalRequestV3(method, path string, query map[string]string, signed []string, header func(string) string, payloadHash string) string {
	names := append([]string(nil), signed...)
	sort.Strings(names)
	if path == "" {
		path = "/"
	}
	b := make([]byte, 0, 512)
	b = append(b, strings.ToUpper(method)...)
	b = append(b, '\n')
	b = append(b, path...)
	b = append(b, '\n')
	b = appendCanonicalQuery(b, query)
	b = append(b, '\n')
	for _, n := range names {
		b = append(b, n...)
		b = append(b, ':')
		b = append(b, strings.TrimSpace(header(n))...)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, n := range names {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, n...)
	}
	b = append(b, '\n')
	b = append(b, payloadHash...)
	return string(b)
}

// StringToSignV3 hashes a canonical request into the V3 string to sign.
func StringToSignV3(canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return AlgorithmV3 + "\n" + hex.EncodeToString(sum[:])
}

// SignV3 computes the lowercase hex HMAC-SHA256 with the raw secret.
func SignV3(secret, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// Equal compares two signatures in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
