package mns

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestErrorNamespace: an error answer's root is <Error> in the namespace
// MNS uses, "http://mns.aliyuncs.com/doc/v1" with no trailing slash. The
// MNS Java SDK unmarshals errors with JAXB bound to exactly that namespace
// (with the slash it threw UnmarshalException on every MessageNotExist).
func TestErrorNamespace(t *testing.T) {
	srv := httptest.NewServer(New(Config{}))
	defer srv.Close()
	// No Authorization header: answered before any queue is looked up.
	resp, err := http.Get(srv.URL + "/queues/Alicom-Queue-1-VoiceReport/messages?numOfMessages=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 400 {
		t.Fatalf("unsigned request: %d %s; want an error", resp.StatusCode, body)
	}
	var root struct {
		XMLName xml.Name
		Code    string
	}
	if err := xml.Unmarshal(body, &root); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	if root.XMLName.Space != "http://mns.aliyuncs.com/doc/v1" || root.XMLName.Local != "Error" || root.Code == "" {
		t.Errorf("root {%s}%s code %q; want {http://mns.aliyuncs.com/doc/v1}Error with a Code\n%s", root.XMLName.Space, root.XMLName.Local, root.Code, body)
	}
}
