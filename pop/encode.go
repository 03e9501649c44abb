// Package pop implements Alibaba Cloud's POP protocol as a server sees it:
// RPC signature v1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256), request decoding,
// and the JSON/XML envelopes and error codes the official clients parse.
package pop

import (
	"sort"
	"strings"
)

const upperHex = "0123456789ABCDEF"

// Encode percent-encodes s the way POP signs it (RFC 3986): unreserved
// characters A-Z a-z 0-9 - _ . ~ stay, every other byte becomes %XX with
// uppercase hex. Go's url.QueryEscape differs (space -> '+'), so it is not
// used here.
func Encode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// CanonicalQuery sorts params by key (byte order) and joins
// Encode(key)=Encode(value) with '&'. Empty values still give "key=".
func CanonicalQuery(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(Encode(k))
		b.WriteByte('=')
		b.WriteString(Encode(params[k]))
	}
	return b.String()
}
