// Package poptest signs POP requests for tests: RPC v1 (query, form body or
// split like tea-rpc) and V3, with every field overridable so tests can
// produce replays, stale timestamps and tampered requests.
package poptest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone/pop"
)

// Signer builds signed requests for one credential.
type Signer struct {
	Endpoint      string // e.g. http://127.0.0.1:8080
	AccessKeyID   string
	Secret        string
	SecurityToken string
	// Now, Nonce override the timestamp and nonce when set.
	Now   time.Time
	Nonce string
}

func (s *Signer) now() time.Time {
	if !s.Now.IsZero() {
		return s.Now
	}
	return time.Now()
}

func (s *Signer) nonce() string {
	if s.Nonce != "" {
		return s.Nonce
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Placement says where v1 parameters travel.
type Placement int

const (
	InQuery Placement = iota // alibaba-cloud-sdk-go, pop-core GET
	InBody                   // pop-core POST
	Split                    // tea-rpc: common in query, business in the form body
)

// V1 builds an RPC v1 request for action with business params.
func (s *Signer) V1(method, action string, params map[string]string, where Placement) *http.Request {
	all := map[string]string{
		"Action": action, "Version": "2017-05-25", "Format": "JSON",
		"AccessKeyId": s.AccessKeyID, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
		"SignatureNonce": s.nonce(), "Timestamp": s.now().UTC().Format("2006-01-02T15:04:05Z"),
	}
	if s.SecurityToken != "" {
		all["SecurityToken"] = s.SecurityToken
	}
	for k, v := range params {
		all[k] = v
	}
	all["Signature"] = pop.SignV1(s.Secret, pop.StringToSignV1(method, withoutSignature(all)))
	query, body := url.Values{}, url.Values{}
	for k, v := range all {
		switch {
		case where == InQuery:
			query.Set(k, v)
		case where == InBody:
			body.Set(k, v)
		case hasKey(params, k):
			body.Set(k, v)
		default:
			query.Set(k, v)
		}
	}
	u := strings.TrimRight(s.Endpoint, "/") + "/"
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var r *http.Request
	if len(body) > 0 {
		r, _ = http.NewRequest(method, u, strings.NewReader(body.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r, _ = http.NewRequest(method, u, nil)
	}
	return r
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

func withoutSignature(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != "Signature" {
			out[k] = v
		}
	}
	return out
}

// V3 builds an ACS3-HMAC-SHA256 request with params in the query and an
// empty body, as the darabonba SDKs send them.
func (s *Signer) V3(action string, params map[string]string) *http.Request {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	u := strings.TrimRight(s.Endpoint, "/") + "/"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	r, _ := http.NewRequest(http.MethodPost, u, nil)
	sum := sha256.Sum256(nil)
	h := map[string]string{
		"x-acs-action":          action,
		"x-acs-version":         "2017-05-25",
		"x-acs-date":            s.now().UTC().Format("2006-01-02T15:04:05Z"),
		"x-acs-signature-nonce": s.nonce(),
		"x-acs-content-sha256":  hex.EncodeToString(sum[:]),
	}
	if s.SecurityToken != "" {
		h["x-acs-security-token"] = s.SecurityToken
		h["x-acs-accesskey-id"] = s.AccessKeyID
	}
	for k, v := range h {
		r.Header.Set(k, v)
	}
	signed := []string{"host"}
	for k := range h {
		signed = append(signed, k)
	}
	canon := pop.CanonicalRequestV3("POST", "/", params, signed, func(n string) string {
		if n == "host" {
			return r.URL.Host
		}
		return h[n]
	}, h["x-acs-content-sha256"])
	sig := pop.SignV3(s.Secret, pop.StringToSignV3(canon))
	r.Header.Set("Authorization", pop.AlgorithmV3+" Credential="+s.AccessKeyID+",SignedHeaders="+strings.Join(sortedCopy(signed), ";")+",Signature="+sig)
	return r
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
