package mns

import (
	"net/http"
	"testing"
)

// Test vector from the reference (wire-protocol.md §6.2).
func TestSignVector(t *testing.T) {
	h := http.Header{}
	h.Set("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")
	h.Set("Content-Type", "text/xml")
	h.Set("Date", "Wed, 25 Nov 2026 01:02:03 GMT")
	h.Set("x-mns-version", "2015-06-06")
	h.Set("security-token", "not-signed")
	sts := StringToSign("GET", h, "/queues/Alicom-Queue-1943695596114318-VoiceReport/messages?numOfMessages=10&waitseconds=5")
	want := "GET\n1B2M2Y8AsgTpgAmY7PhCfg==\ntext/xml\nWed, 25 Nov 2026 01:02:03 GMT\nx-mns-version:2015-06-06\n/queues/Alicom-Queue-1943695596114318-VoiceReport/messages?numOfMessages=10&waitseconds=5"
	if sts != want {
		t.Fatalf("string to sign:\n got %q\nwant %q", sts, want)
	}
	if got := Sign("tmpSecret", sts); got != "JEO7+2eFujhqHIbSLRlBnTAGczQ=" {
		t.Fatalf("signature = %s", got)
	}
}

func TestParseAuthorization(t *testing.T) {
	ak, sig, ok := ParseAuthorization("MNS STS.abc:JEO7+2eF=")
	if !ok || ak != "STS.abc" || sig != "JEO7+2eF=" {
		t.Fatalf("%q %q %v", ak, sig, ok)
	}
	for _, bad := range []string{"", "MNS ", "MNS :x", "MNS a:", "ACS3 a:b"} {
		if _, _, ok := ParseAuthorization(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}
