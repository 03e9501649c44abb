package sdk

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sort"
	"strings"
)

// popEncode percent-encodes s as POP requires (RFC 3986): unreserved
// characters stay, every other byte becomes %XX with uppercase hex.
func popEncode(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

// canonicalQuery sorts params by key and joins enc(k)=enc(v) with "&".
func canonicalQuery(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = popEncode(k) + "=" + popEncode(params[k])
	}
	return strings.Join(parts, "&")
}

// v1StringToSign is METHOD&%2F&enc(canonical query) (wire-protocol §1.5);
// params must not contain Signature.
func v1StringToSign(method string, params map[string]string) string {
	return strings.ToUpper(method) + "&" + popEncode("/") + "&" + popEncode(canonicalQuery(params))
}

// v1Sign returns base64(HMAC-SHA1(secret+"&", stringToSign)).
func v1Sign(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// emptySHA256 is hex SHA-256 of an empty body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// v3CanonicalRequest builds the ACS3 canonical request (wire-protocol §2.3).
// headers maps lowercase names to values; every one of them is signed.
// It returns the canonical request and the SignedHeaders list.
func v3CanonicalRequest(method, path string, query, headers map[string]string) (string, string) {
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, strings.ToLower(k))
	}
	sort.Strings(names)
	var ch strings.Builder
	for _, n := range names {
		ch.WriteString(n)
		ch.WriteByte(':')
		ch.WriteString(strings.TrimSpace(headers[n]))
		ch.WriteByte('\n')
	}
	signed := strings.Join(names, ";")
	payload := headers["x-acs-content-sha256"]
	cr := strings.ToUpper(method) + "\n" + path + "\n" + canonicalQuery(query) + "\n" + ch.String() + "\n" + signed + "\n" + payload
	return cr, signed
}

// v3Authorization returns the Authorization header value of a V3 request.
func v3Authorization(accessKeyID, secret, method, path string, query, headers map[string]string) string {
	cr, signed := v3CanonicalRequest(method, path, query, headers)
	sts := "ACS3-HMAC-SHA256\n" + sha256Hex([]byte(cr))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(sts))
	return "ACS3-HMAC-SHA256 Credential=" + accessKeyID + ",SignedHeaders=" + signed + ",Signature=" + hex.EncodeToString(m.Sum(nil))
}

// mnsStringToSign builds the MNS string to sign (wire-protocol §6.2).
// mnsHeaders holds the lowercase x-mns-* headers; resource is path?query as
// sent.
func mnsStringToSign(method, contentMD5, contentType, date string, mnsHeaders map[string]string, resource string) string {
	names := make([]string, 0, len(mnsHeaders))
	for k := range mnsHeaders {
		names = append(names, strings.ToLower(k))
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(strings.ToUpper(method) + "\n" + contentMD5 + "\n" + contentType + "\n" + date + "\n")
	for _, n := range names {
		b.WriteString(n + ":" + strings.TrimSpace(mnsHeaders[n]) + "\n")
	}
	b.WriteString(resource)
	return b.String()
}

// mnsSign returns base64(HMAC-SHA1(secret, stringToSign)); the secret is
// used raw.
func mnsSign(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
