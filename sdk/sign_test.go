package sdk

import "testing"

// The vectors of wire-protocol.md §1.7, §2.5 and §6.2.

func TestV1Vector(t *testing.T) {
	params := map[string]string{
		"AccessKeyId": "testAK", "Action": "SingleCallByTts", "CalledNumber": "13800000000",
		"CalledShowNumber": "057100000000", "Format": "JSON", "SignatureMethod": "HMAC-SHA1",
		"SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0",
		"Timestamp": "2026-11-25T01:02:03Z", "TtsCode": "TTS_10001", "TtsParam": `{"code":"12 34*~"}`,
		"Version": "2017-05-25",
	}
	const wantSTS = "POST&%2F&AccessKeyId%3DtestAK%26Action%3DSingleCallByTts%26CalledNumber%3D13800000000%26CalledShowNumber%3D057100000000%26Format%3DJSON%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2026-11-25T01%253A02%253A03Z%26TtsCode%3DTTS_10001%26TtsParam%3D%257B%2522code%2522%253A%252212%252034%252A~%2522%257D%26Version%3D2017-05-25"
	sts := v1StringToSign("POST", params)
	if sts != wantSTS {
		t.Fatalf("string to sign\n got %s\nwant %s", sts, wantSTS)
	}
	if sig := v1Sign("testSecret", sts); sig != "sFlNc/asYTqUHrsnH8ok+1VsR/c=" {
		t.Fatalf("signature %s", sig)
	}
}

func TestV3Vector(t *testing.T) {
	query := map[string]string{"CalledNumber": "13800000000", "TtsCode": "TTS_10001", "TtsParam": `{"code":"12 34*~"}`}
	headers := map[string]string{
		"host": "127.0.0.1:8080", "x-acs-action": "SingleCallByTts", "x-acs-version": "2017-05-25",
		"x-acs-date": "2026-11-25T01:02:03Z", "x-acs-signature-nonce": "9b7c7a2c4f1d4e0b8a6e5d4c3b2a1f00",
		"x-acs-content-sha256": emptySHA256,
	}
	const wantCR = "POST\n/\nCalledNumber=13800000000&TtsCode=TTS_10001&TtsParam=%7B%22code%22%3A%2212%2034%2A~%22%7D\n" +
		"host:127.0.0.1:8080\nx-acs-action:SingleCallByTts\nx-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
		"x-acs-date:2026-11-25T01:02:03Z\nx-acs-signature-nonce:9b7c7a2c4f1d4e0b8a6e5d4c3b2a1f00\nx-acs-version:2017-05-25\n\n" +
		"host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if cr, _ := v3CanonicalRequest("POST", "/", query, headers); cr != wantCR {
		t.Fatalf("canonical request\n got %q\nwant %q", cr, wantCR)
	}
	const want = "ACS3-HMAC-SHA256 Credential=testAK,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=5b0b82d52f86455a09ff70aeeba0e5bc4b1ffe85a03e37403df838db354ff44e"
	if got := v3Authorization("testAK", "testSecret", "POST", "/", query, headers); got != want {
		t.Fatalf("authorization\n got %s\nwant %s", got, want)
	}
}

func TestMNSVector(t *testing.T) {
	sts := mnsStringToSign("GET", "1B2M2Y8AsgTpgAmY7PhCfg==", "text/xml", "Wed, 25 Nov 2026 01:02:03 GMT",
		map[string]string{"x-mns-version": "2015-06-06"},
		"/queues/Alicom-Queue-1943695596114318-VoiceReport/messages?numOfMessages=10&waitseconds=5")
	const want = "GET\n1B2M2Y8AsgTpgAmY7PhCfg==\ntext/xml\nWed, 25 Nov 2026 01:02:03 GMT\nx-mns-version:2015-06-06\n/queues/Alicom-Queue-1943695596114318-VoiceReport/messages?numOfMessages=10&waitseconds=5"
	if sts != want {
		t.Fatalf("string to sign %q", sts)
	}
	if sig := mnsSign("tmpSecret", sts); sig != "JEO7+2eFujhqHIbSLRlBnTAGczQ=" {
		t.Fatalf("signature %s", sig)
	}
}

func TestPopEncode(t *testing.T) {
	for in, want := range map[string]string{" ": "%20", "*": "%2A", "~": "~", "+": "%2B", "/": "%2F", "!'()": "%21%27%28%29", "中": "%E4%B8%AD"} {
		if got := popEncode(in); got != want {
			t.Errorf("popEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
