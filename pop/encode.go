// Package pop implements Alibaba Cloud's POP protocol as a server sees it:
// RPC signature v1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256), request decoding,
// and the JSON/XML envelopes and error codes the official clients parse.
package pop

import (
	"slices"
	"sort"
)

const upperHex = "0123456789ABCDEF"

// Encode percent-encodes s the way POP signs it (RFC 3986): unreserved
// characters A-Z a-z 0-9 - _ . ~ stay, every other byte becomes %XX with
// uppercase hex. Go's url.QueryEscape differs (space -> '+'), so it is not
// used here.
func Encode(s string) string {
	n := escapes(s)
	if n == 0 {
		return s
	}
	return string(appendEncoded(make([]byte, 0, len(s)+2*n), s))
}

// escapes counts the bytes of s that Encode turns into %XX.
func escapes[T string | []byte](s T) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	return n
}

// appendEncoded appends Encode(s) to b; the signing code builds its strings
// in one buffer with it instead of one string per parameter.
func appendEncoded[T string | []byte](b []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	return b
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// CanonicalQuery sorts params by key (byte order) and joins
// Encode(key)=Encode(value) with '&'. Empty values still give "key=".
func CanonicalQuery(params map[string]string) string {
	return string(appendCanonicalQuery(nil, params))
}

// appendCanonicalQuery appends CanonicalQuery(params) to b.
func appendCanonicalQuery(b []byte, params map[string]string) []byte {
	keys := make([]string, 0, len(params))
	size := 0
	for k, v := range params {
		keys = append(keys, k)
		size += len(k) + len(v) + 2
	}
	sort.Strings(keys)
	b = slices.Grow(b, size+size/4) // room for a few escapes
	for i, k := range keys {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendEncoded(b, k)
		b = append(b, '=')
		b = appendEncoded(b, params[k])
	}
	return b
}
