// Package mns implements the MNS REST dialect (x-mns-version 2015-06-06)
// that Alibaba's receipt queues speak: request signing and, with the receipts
// work, the queue API itself.
package mns

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"sort"
	"strings"
)

// StringToSign builds the MNS string to sign:
//
//	VERB \n Content-MD5 \n Content-Type \n Date \n x-mns-* headers \n resource
//
// Content-MD5 and Content-Type are taken as opaque strings because the
// official clients disagree on how to compute them; resource is the path and
// query exactly as the client wrote them.
func StringToSign(method string, h http.Header, resource string) string {
	var mnsHeaders []string
	for name := range h {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-mns-") {
			mnsHeaders = append(mnsHeaders, lower+":"+strings.TrimSpace(strings.Join(h.Values(name), ",")))
		}
	}
	sort.Strings(mnsHeaders)
	var b strings.Builder
	b.WriteString(strings.ToUpper(method))
	b.WriteByte('\n')
	b.WriteString(h.Get("Content-MD5"))
	b.WriteByte('\n')
	b.WriteString(h.Get("Content-Type"))
	b.WriteByte('\n')
	b.WriteString(h.Get("Date"))
	b.WriteByte('\n')
	for _, line := range mnsHeaders {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	b.WriteString(resource)
	return b.String()
}

// Sign returns base64(HMAC-SHA1(secret, stringToSign)); the secret is used
// raw, without the "&" that POP v1 appends.
func Sign(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ParseAuthorization splits "MNS <AccessKeyId>:<signature>".
func ParseAuthorization(h string) (accessKeyID, signature string, ok bool) {
	rest, found := strings.CutPrefix(h, "MNS ")
	if !found {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}
