package pop

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// parseQueryRule is what addParams must do, written with net/url: the
// whole of raw parsed first (malformed is refused), then any name given
// twice, or already in out, refused.
func parseQueryRule(out map[string]string, raw string) (map[string]string, string) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, "malformed"
	}
	for k, vs := range vals {
		if _, dup := out[k]; dup || len(vs) > 1 {
			return nil, "twice"
		}
		out[k] = vs[0]
	}
	return out, ""
}

func addParamsOutcome(out map[string]string, raw string) (map[string]string, string) {
	got, e := addParams(out, raw)
	switch {
	case e == nil:
		return got, ""
	case e.Message == "The request parameters are not correctly URL-encoded.":
		return nil, "malformed"
	case strings.Contains(e.Message, "given more than once"):
		return nil, "twice"
	}
	return nil, "other: " + e.Message
}

func checkAgainstParseQuery(t *testing.T, before map[string]string, raw string) {
	t.Helper()
	want, wantErr := parseQueryRule(maps.Clone(before), raw)
	got, gotErr := addParamsOutcome(maps.Clone(before), raw)
	if gotErr != wantErr || !maps.Equal(got, want) {
		t.Fatalf("addParams(%v, %q) = %v %q, url.ParseQuery's rule gives %v %q", before, raw, got, gotErr, want, wantErr)
	}
}

func TestAddParamsAsParseQuery(t *testing.T) {
	for _, raw := range []string{
		"", "a=1", "a=1&b=2", "a", "a=", "=1", "&&a=1&", "a=1&a=1", "a=1&a=2", "a=%zz", "a=1;b=2",
		"a=1&b=%zz&a=2", // malformed and repeated: malformed wins, in any order
		"a=1&a=2&b=%zz", "a+b=c+d", "%41=%42", "a=%2", "=&=", "k=v&K=v", "x=%E4%B8%AD",
		strings.Repeat("a&", maxParams-1) + "a", strings.Repeat("&", maxParams),
	} {
		checkAgainstParseQuery(t, map[string]string{}, raw)
		checkAgainstParseQuery(t, map[string]string{"a": "0"}, raw)
	}
}

// FuzzAddParams compares addParams with url.ParseQuery on any input: the
// same parameters, the same refusals.
func FuzzAddParams(f *testing.F) {
	f.Add("a=1&b=2", "b")
	f.Add("a=1;b=2", "")
	f.Add("a=%zz&a=1", "a")
	f.Fuzz(func(t *testing.T, raw, already string) {
		before := map[string]string{}
		if already != "" {
			before[already] = "x"
		}
		checkAgainstParseQuery(t, before, raw)
	})
}

func TestDecodeRefusesMalformedAndRepeatedParameters(t *testing.T) {
	for name, c := range map[string]struct{ query, body, code string }{
		"semicolon":             {"Action=A;Version=2017-05-25", "", "InvalidParameter"},
		"bad escape in query":   {"CalledNumber=%zz", "", "InvalidParameter"},
		"bad escape in body":    {"", "CalledNumber=%zz", "InvalidParameter"},
		"twice in the query":    {"CalledNumber=1&CalledNumber=1", "", "InvalidParameter"},
		"twice in the body":     {"", "CalledNumber=1&CalledNumber=2", "InvalidParameter"},
		"too many":              {strings.Repeat("a&", maxParams), "", "InvalidParameter"},
		"in query and body, V3": {"CalledNumber=1", "CalledNumber=2", "InvalidParameter"},
	} {
		for _, v3 := range []bool{false, true} {
			r := postForm(c.query, c.body)
			if v3 {
				for k, v := range v3Headers() {
					if k != "host" {
						r.Header.Set(k, v)
					}
				}
				r.Header.Set("Authorization", v3Authorization)
			}
			_, e := Decode(r, []byte(c.body))
			if e == nil || e.Code != c.code || e.Status != 400 {
				t.Errorf("%s (v3 %v): got %v, want %s", name, v3, e, c.code)
			}
		}
	}
}

func TestParseAuthorizationV3Refuses(t *testing.T) {
	good := "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host;x-acs-date,Signature=AB"
	a, err := ParseAuthorizationV3(good)
	if err != nil || a.AccessKeyID != "ak" || a.Signature != "ab" || len(a.SignedHeaders) != 2 || a.SignedHeaders[1] != "x-acs-date" {
		t.Fatalf("good header: %+v %v", a, err)
	}
	for _, h := range []string{
		"", "ACS3-HMAC-SHA256", "ACS3-HMAC-SHA256 ",
		good + ",",                             // a trailing empty part
		good + ",Credential=other",             // a field twice
		good + ",Region=cn",                    // an unknown field
		strings.Replace(good, "host;", ";", 1), // an empty header name
		strings.Replace(good, "Signature=AB", "Signature", 1),
		"ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=ab",
	} {
		if a, err := ParseAuthorizationV3(h); err == nil {
			t.Errorf("%q parsed as %+v", h, a)
		}
	}
}

func postForm(query, body string) *http.Request {
	r := httptest.NewRequest("POST", "http://127.0.0.1:8080/?"+query, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}
