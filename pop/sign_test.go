package pop

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Test vectors from the reference (wire-protocol.md §1.7 and §2.5).
var v1Params = map[string]string{
	"AccessKeyId":      "testAK",
	"Action":           "SingleCallByTts",
	"CalledNumber":     "13800000000",
	"CalledShowNumber": "057100000000",
	"Format":           "JSON",
	"SignatureMethod":  "HMAC-SHA1",
	"SignatureNonce":   "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
	"SignatureVersion": "1.0",
	"Timestamp":        "2026-11-25T01:02:03Z",
	"TtsCode":          "TTS_10001",
	"TtsParam":         `{"code":"12 34*~"}`,
	"Version":          "2017-05-25",
}

const v1StringToSign = "POST&%2F&AccessKeyId%3DtestAK%26Action%3DSingleCallByTts%26CalledNumber%3D13800000000%26CalledShowNumber%3D057100000000%26Format%3DJSON%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2026-11-25T01%253A02%253A03Z%26TtsCode%3DTTS_10001%26TtsParam%3D%257B%2522code%2522%253A%252212%252034%252A~%2522%257D%26Version%3D2017-05-25"

func TestV1Vector(t *testing.T) {
	sts := StringToSignV1("POST", v1Params)
	if sts != v1StringToSign {
		t.Fatalf("string to sign:\n got %s\nwant %s", sts, v1StringToSign)
	}
	if got := SignV1("testSecret", sts); got != "sFlNc/asYTqUHrsnH8ok+1VsR/c=" {
		t.Fatalf("signature = %s", got)
	}
}

const v3Canonical = "POST\n/\nCalledNumber=13800000000&TtsCode=TTS_10001&TtsParam=%7B%22code%22%3A%2212%2034%2A~%22%7D\nhost:127.0.0.1:8080\nx-acs-action:SingleCallByTts\nx-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-acs-date:2026-11-25T01:02:03Z\nx-acs-signature-nonce:9b7c7a2c4f1d4e0b8a6e5d4c3b2a1f00\nx-acs-version:2017-05-25\n\nhost;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

const v3Authorization = "ACS3-HMAC-SHA256 Credential=testAK,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=5b0b82d52f86455a09ff70aeeba0e5bc4b1ffe85a03e37403df838db354ff44e"

func v3Headers() map[string]string {
	return map[string]string{
		"host":                  "127.0.0.1:8080",
		"x-acs-action":          "SingleCallByTts",
		"x-acs-version":         "2017-05-25",
		"x-acs-date":            "2026-11-25T01:02:03Z",
		"x-acs-signature-nonce": "9b7c7a2c4f1d4e0b8a6e5d4c3b2a1f00",
		"x-acs-content-sha256":  EmptyBodySHA256,
	}
}

func TestV3Vector(t *testing.T) {
	query := map[string]string{"CalledNumber": "13800000000", "TtsCode": "TTS_10001", "TtsParam": `{"code":"12 34*~"}`}
	h := v3Headers()
	signed := []string{"x-acs-version", "host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce"}
	canon := CanonicalRequestV3("POST", "/", query, signed, func(n string) string { return h[n] }, EmptyBodySHA256)
	if canon != v3Canonical {
		t.Fatalf("canonical request:\n got %q\nwant %q", canon, v3Canonical)
	}
	sig := SignV3("testSecret", StringToSignV3(canon))
	auth, err := ParseAuthorizationV3(v3Authorization)
	if err != nil {
		t.Fatal(err)
	}
	if auth.AccessKeyID != "testAK" || len(auth.SignedHeaders) != 6 || auth.Signature != sig {
		t.Fatalf("auth = %+v, computed signature %s", auth, sig)
	}
}

// TestDecodeV3Request drives the whole V3 path with the vector as an HTTP
// request, including the Go client's '+' for spaces in the query.
func TestDecodeV3Request(t *testing.T) {
	q := url.Values{"CalledNumber": {"13800000000"}, "TtsCode": {"TTS_10001"}, "TtsParam": {`{"code":"12 34*~"}`}}
	r := httptest.NewRequest("POST", "http://127.0.0.1:8080/?"+q.Encode(), nil)
	for k, v := range v3Headers() {
		if k != "host" {
			r.Header.Set(k, v)
		}
	}
	r.Header.Set("Authorization", v3Authorization)
	req, e := Decode(r, nil)
	if e != nil {
		t.Fatal(e)
	}
	if req.Style != StyleV3 || req.Action != "SingleCallByTts" || req.Params["TtsParam"] != `{"code":"12 34*~"}` {
		t.Fatalf("decoded %+v", req)
	}
	if e := req.Verify("testSecret"); e != nil {
		t.Fatalf("verify: %v", e)
	}
	if e := req.Verify("wrong"); e == nil || e.Code != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v", e)
	}
	// A body that does not hash to the signed value is refused.
	r2 := r.Clone(r.Context())
	req2, _ := Decode(r2, []byte("x"))
	if e := req2.Verify("testSecret"); e == nil || !strings.Contains(e.Message, "x-acs-content-sha256") {
		t.Fatalf("body hash: %v", e)
	}
}

func v1Request(method string, params map[string]string, inBody bool) *http.Request {
	vals := url.Values{}
	for k, v := range params {
		vals.Set(k, v)
	}
	if inBody {
		r := httptest.NewRequest(method, "http://127.0.0.1:8080/", strings.NewReader(vals.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	return httptest.NewRequest(method, "http://127.0.0.1:8080/?"+vals.Encode(), nil)
}

func TestDecodeV1QueryBodyAndSplit(t *testing.T) {
	signed := map[string]string{}
	for k, v := range v1Params {
		signed[k] = v
	}
	signed["Signature"] = SignV1("testSecret", StringToSignV1("POST", v1Params))
	for _, where := range []string{"query", "body", "split"} {
		var r *http.Request
		switch where {
		case "query":
			r = v1Request("POST", signed, false)
		case "body":
			r = v1Request("POST", signed, true)
		case "split": // tea-rpc: common parameters in the query, business ones in the form body
			common, business := url.Values{}, url.Values{}
			for k, v := range signed {
				if v1Common[k] {
					common.Set(k, v)
				} else {
					business.Set(k, v)
				}
			}
			r = httptest.NewRequest("POST", "http://127.0.0.1:8080/?"+common.Encode(), strings.NewReader(business.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
		}
		body := readAll(t, r)
		req, e := Decode(r, body)
		if e != nil {
			t.Fatalf("%s: %v", where, e)
		}
		if e := req.Verify("testSecret"); e != nil {
			t.Fatalf("%s: verify: %v", where, e)
		}
		if req.Params["CalledNumber"] != "13800000000" || req.Params["AccessKeyId"] != "" {
			t.Fatalf("%s: params %v", where, req.Params)
		}
		e = req.Verify("nope")
		if e == nil || e.Status != 400 || !strings.HasSuffix(e.Message, "server string to sign is:"+v1StringToSign) {
			t.Fatalf("%s: mismatch error %v", where, e)
		}
	}
}

func readAll(t *testing.T, r *http.Request) []byte {
	t.Helper()
	if r.Body == nil {
		return nil
	}
	var b strings.Builder
	buf := make([]byte, 512)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return []byte(b.String())
}

func TestDecodeV1Errors(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(map[string]string)
		code   string
	}{
		{"missing action", func(m map[string]string) { delete(m, "Action") }, "MissingAction"},
		{"missing signature", func(m map[string]string) { delete(m, "Signature") }, "MissingSignature"},
		{"missing nonce", func(m map[string]string) { delete(m, "SignatureNonce") }, "MissingSignatureNonce"},
		{"bad method", func(m map[string]string) { m["SignatureMethod"] = "HMAC-MD5" }, "IncompleteSignature"},
		{"bad timestamp", func(m map[string]string) { m["Timestamp"] = "yesterday" }, "InvalidTimeStamp.Format"},
		{"bearer", func(m map[string]string) { m["SignatureType"] = "BEARERTOKEN" }, "IncompleteSignature"},
	}
	for _, c := range cases {
		p := map[string]string{"Signature": "x"}
		for k, v := range v1Params {
			p[k] = v
		}
		c.mutate(p)
		_, e := Decode(v1Request("GET", p, false), nil)
		if e == nil || e.Code != c.code || e.Status != 400 {
			t.Errorf("%s: got %v, want %s", c.name, e, c.code)
		}
	}
	// A parameter in both the query and the body is refused.
	r := httptest.NewRequest("POST", "http://h/?CalledNumber=1", strings.NewReader("CalledNumber=2"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, e := Decode(r, []byte("CalledNumber=2")); e == nil || e.Code != "InvalidParameter" {
		t.Fatalf("duplicate: %v", e)
	}
}

func TestDecodeV1AcceptsEmptySignatureTypeAndMillis(t *testing.T) {
	p := map[string]string{}
	for k, v := range v1Params {
		p[k] = v
	}
	p["SignatureType"] = ""
	p["Timestamp"] = "2026-11-25T01:02:03.973Z"
	p["RegionId"] = "cn-hangzhou"
	p["Signature"] = SignV1("s", StringToSignV1("GET", p))
	req, e := Decode(v1Request("GET", p, false), nil)
	if e != nil {
		t.Fatal(e)
	}
	if e := req.Verify("s"); e != nil {
		t.Fatalf("empty SignatureType must be signed: %v", e)
	}
	if req.Timestamp.UnixMilli()%1000 != 973 {
		t.Fatalf("timestamp %v", req.Timestamp)
	}
}

func TestDecodeV3Errors(t *testing.T) {
	base := func() *http.Request {
		r := httptest.NewRequest("POST", "http://127.0.0.1:8080/", nil)
		for k, v := range v3Headers() {
			if k != "host" {
				r.Header.Set(k, v)
			}
		}
		r.Header.Set("Authorization", v3Authorization)
		return r
	}
	cases := []struct {
		name   string
		mutate func(*http.Request)
		code   string
	}{
		{"unsigned date", func(r *http.Request) {
			r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=testAK,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-signature-nonce;x-acs-version,Signature=00")
		}, "IncompleteSignature"},
		{"other algorithm", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(v3Authorization, "ACS3-HMAC-SHA256", "ACS3-HMAC-SM3", 1))
		}, "IncompleteSignature"},
		{"garbage", func(r *http.Request) { r.Header.Set("Authorization", "ACS3-HMAC-SHA256") }, "IncompleteSignature"},
		{"no action", func(r *http.Request) { r.Header.Del("x-acs-action") }, "MissingAction"},
		{"bad date", func(r *http.Request) { r.Header.Set("x-acs-date", "now") }, "InvalidTimeStamp.Format"},
		{"unsigned token", func(r *http.Request) { r.Header.Set("x-acs-security-token", "t") }, "IncompleteSignature"},
	}
	for _, c := range cases {
		r := base()
		c.mutate(r)
		if _, e := Decode(r, nil); e == nil || e.Code != c.code {
			t.Errorf("%s: got %v, want %s", c.name, e, c.code)
		}
	}
}

func TestEncode(t *testing.T) {
	cases := map[string]string{
		"a b":    "a%20b",
		"*":      "%2A",
		"~":      "~",
		"+/=":    "%2B%2F%3D",
		"!'()":   "%21%27%28%29",
		"验":      "%E9%AA%8C",
		"AZaz09": "AZaz09",
	}
	for in, want := range cases {
		if got := Encode(in); got != want {
			t.Errorf("Encode(%q) = %q, want %q", in, got, want)
		}
	}
}
