package pop

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary queries, bodies and Authorization headers
// through decoding and verification: nothing may panic, and a decoded
// request must never verify against a secret it was not signed with.
func FuzzDecode(f *testing.F) {
	f.Add("Action=A&Version=2017-05-25&AccessKeyId=k&Signature=s&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=n&Timestamp=2026-11-25T01:02:03Z", "", "")
	f.Add("CalledNumber=1", "a=%zz", v3Authorization)
	f.Add("x=1&x=2", "TtsParam=%7B%7D", "ACS3-HMAC-SHA256 Credential=,SignedHeaders=;,Signature=")
	f.Fuzz(func(t *testing.T, query, body, auth string) {
		r := httptest.NewRequest("POST", "http://127.0.0.1:8080/", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			r.Header.Set("Authorization", auth)
			for k, v := range v3Headers() {
				if k != "host" {
					r.Header.Set(k, v)
				}
			}
		}
		req, e := Decode(r, []byte(body))
		if e != nil {
			if e.Status < 400 || e.Code == "" {
				t.Fatalf("bad error %+v", e)
			}
			return
		}
		if req.Verify("fuzz-secret-that-signed-nothing") == nil {
			t.Fatalf("request verified with an unrelated secret: %q %q %q", query, body, auth)
		}
	})
}

// FuzzCanonicalQuery checks that encoding is injective on keys and values:
// the canonical form never contains raw separators from the input.
func FuzzCanonicalQuery(f *testing.F) {
	f.Add("a", "b c")
	f.Add("&=", "%")
	f.Fuzz(func(t *testing.T, k, v string) {
		q := CanonicalQuery(map[string]string{k: v})
		if strings.Count(q, "=") != 1 || strings.Contains(q, "&") || strings.ContainsAny(q, " +*") {
			t.Fatalf("canonical %q from %q=%q", q, k, v)
		}
	})
}
