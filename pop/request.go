package pop

import (
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Style is the signing scheme of a request.
type Style int

const (
	StyleV1 Style = iota + 1 // RPC, HMAC-SHA1, Signature parameter
	StyleV3                  // ACS3-HMAC-SHA256 Authorization header
)

func (s Style) String() string {
	if s == StyleV3 {
		return "v3"
	}
	return "v1"
}

// Request is a decoded POP request, before authentication.
type Request struct {
	Style         Style
	Method        string
	Action        string
	Version       string
	AccessKeyID   string
	SecurityToken string
	Nonce         string
	Timestamp     time.Time
	// XML is true when the client asked for Format=XML (V1 only).
	XML bool
	// Params holds the business parameters: for v1 every parameter but the
	// common signing ones; for V3 the query and form body.
	Params map[string]string

	signature    string
	signParams   map[string]string // v1: everything but Signature
	v3           *V3Auth
	v3Canonical  string
	host         string
	payloadHash  string
	bodyHash     string
	headerValues func(string) string
}

// v1Common are the RPC v1 parameters that are not business parameters.
var v1Common = map[string]bool{
	"Action": true, "Version": true, "Format": true, "AccessKeyId": true,
	"SignatureMethod": true, "SignatureVersion": true, "SignatureNonce": true,
	"Timestamp": true, "Signature": true, "SecurityToken": true, "SignatureType": true,
	"RegionId": true, "BearerToken": true,
}

// Decode reads the parameters of r (whose body has already been read into
// body) and its signing fields. It checks presence and shape, not
// credentials; Verify does that.
func Decode(r *http.Request, body []byte) (*Request, *Error) {
	if strings.HasPrefix(r.Header.Get("Authorization"), "ACS3-") {
		return decodeV3(r, body)
	}
	return decodeV1(r, body)
}

func isForm(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// mergeParams merges the query and (for form bodies) the body into one map,
// and returns the query's own parameters too (V3 signs the query alone);
// without a form body the two are one map. A parameter given twice is
// refused: two values for one signed name would let a proxy and Dialtone
// disagree about what was signed.
func mergeParams(r *http.Request, body []byte) (query, all map[string]string, e *Error) {
	if query, e = addParams(newParams(r.URL.RawQuery), r.URL.RawQuery); e != nil {
		return nil, nil, e
	}
	if len(body) == 0 || !isForm(r) {
		return query, query, nil
	}
	if all, e = addParams(maps.Clone(query), string(body)); e != nil {
		return nil, nil, e
	}
	return query, all, nil
}

// maxParams bounds the parameters of one query or body, as net/url's
// ParseQuery does by default.
const maxParams = 10000

// addParams adds the URL-encoded parameters raw to out; a name already
// in out, or given twice in raw, is refused. It reads raw as
// url.ParseQuery does (the same bound, separators and unescaping), but
// into out directly: a url.Values would cost a slice per parameter on
// every request.
func addParams(out map[string]string, raw string) (map[string]string, *Error) {
	malformed := func() *Error {
		return &Error{http.StatusBadRequest, "InvalidParameter", "The request parameters are not correctly URL-encoded."}
	}
	if strings.Count(raw, "&")+1 > maxParams {
		return nil, malformed()
	}
	bad, twice, dup := false, false, ""
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if strings.Contains(kv, ";") {
			bad = true
			continue
		}
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			bad = true
			continue
		}
		if v, err = url.QueryUnescape(v); err != nil {
			bad = true
			continue
		}
		if _, seen := out[k]; seen {
			if !twice {
				twice, dup = true, k
			}
			continue
		}
		out[k] = v
	}
	// Malformed wins over repeated, whatever the order, as when the whole
	// of raw was parsed first.
	if bad {
		return nil, malformed()
	}
	if twice {
		return nil, ErrInvalidParameter(dup, "given more than once")
	}
	return out, nil
}

// newParams is an empty parameter map sized for the parameters of raw.
func newParams(raw string) map[string]string {
	return make(map[string]string, min(strings.Count(raw, "&")+1, 64))
}

// ParseTimestamp accepts ISO 8601 UTC with or without fractional seconds
// (some third-party clients send milliseconds).
func ParseTimestamp(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05Z", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func decodeV1(r *http.Request, body []byte) (*Request, *Error) {
	_, all, e := mergeParams(r, body)
	if e != nil {
		return nil, e
	}
	req := &Request{Style: StyleV1, Method: r.Method, Params: map[string]string{}}
	for _, name := range []string{"Action", "Version", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if all[name] == "" {
			return nil, ErrMissing(name)
		}
	}
	req.Action = all["Action"]
	req.Version = all["Version"]
	req.AccessKeyID = all["AccessKeyId"]
	req.SecurityToken = all["SecurityToken"]
	req.Nonce = all["SignatureNonce"]
	req.XML = strings.EqualFold(all["Format"], "XML")
	if all["SignatureMethod"] != "HMAC-SHA1" {
		return nil, ErrIncompleteSignature("SignatureMethod must be HMAC-SHA1.")
	}
	if all["SignatureVersion"] != "1.0" {
		return nil, ErrIncompleteSignature("SignatureVersion must be 1.0.")
	}
	if t := all["SignatureType"]; t != "" {
		// Bearer tokens are not issued by Dialtone.
		return nil, ErrIncompleteSignature("SignatureType " + t + " is not supported.")
	}
	ts, ok := ParseTimestamp(all["Timestamp"])
	if !ok {
		return nil, ErrTimestampFormat("Timestamp")
	}
	req.Timestamp = ts
	req.signature = all["Signature"]
	delete(all, "Signature")
	req.signParams = all
	for k, v := range all {
		if !v1Common[k] {
			req.Params[k] = v
		}
	}
	return req, nil
}

// v3Required are the headers a V3 request must sign: without them an
// attacker could change the action, replay with a new nonce or date, or
// swap the body.
var v3Required = []string{"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"}

func decodeV3(r *http.Request, body []byte) (*Request, *Error) {
	auth, err := ParseAuthorizationV3(r.Header.Get("Authorization"))
	if err != nil {
		return nil, ErrIncompleteSignature("The Authorization header is malformed.")
	}
	if auth.Algorithm != AlgorithmV3 {
		return nil, ErrIncompleteSignature("Only " + AlgorithmV3 + " is supported.")
	}
	for _, h := range v3Required {
		if !slices.Contains(auth.SignedHeaders, h) {
			return nil, ErrIncompleteSignature("SignedHeaders must include " + h + ".")
		}
	}
	hdr := r.Header
	req := &Request{Style: StyleV3, Method: r.Method, v3: auth, host: r.Host}
	req.Action = hdr.Get("X-Acs-Action")
	req.Version = hdr.Get("X-Acs-Version")
	req.AccessKeyID = auth.AccessKeyID
	req.Nonce = hdr.Get("X-Acs-Signature-Nonce")
	req.SecurityToken = hdr.Get("X-Acs-Security-Token")
	if req.SecurityToken != "" && !slices.Contains(auth.SignedHeaders, "x-acs-security-token") {
		return nil, ErrIncompleteSignature("SignedHeaders must include x-acs-security-token.")
	}
	if req.Action == "" {
		return nil, ErrMissing("Action")
	}
	if req.Version == "" {
		return nil, ErrMissing("Version")
	}
	if req.Nonce == "" {
		return nil, ErrMissing("SignatureNonce")
	}
	date := hdr.Get("X-Acs-Date")
	if date == "" {
		return nil, ErrMissing("Timestamp")
	}
	ts, ok := ParseTimestamp(date)
	if !ok {
		return nil, ErrTimestampFormat("x-acs-date")
	}
	req.Timestamp = ts
	req.payloadHash = strings.ToLower(hdr.Get("X-Acs-Content-Sha256"))
	if req.payloadHash == "" {
		return nil, ErrMissing("x-acs-content-sha256")
	}
	req.bodyHash = sha256Hex(body)
	query, params, e := mergeParams(r, body)
	if e != nil {
		return nil, e
	}
	req.Params = params
	req.signParams = query
	req.headerValues = func(name string) string {
		if name == "host" {
			return r.Host
		}
		return strings.Join(hdr.Values(canonicalHeader(name)), ",")
	}
	path := r.URL.EscapedPath()
	req.v3Canonical = CanonicalRequestV3(r.Method, path, query, auth.SignedHeaders, req.headerValues, req.payloadHash)
	return req, nil
}

// canonicalHeader is http.CanonicalHeaderKey, without its allocation for
// the headers every V3 request signs.
func canonicalHeader(lower string) string {
	switch lower {
	case "x-acs-action":
		return "X-Acs-Action"
	case "x-acs-version":
		return "X-Acs-Version"
	case "x-acs-date":
		return "X-Acs-Date"
	case "x-acs-signature-nonce":
		return "X-Acs-Signature-Nonce"
	case "x-acs-content-sha256":
		return "X-Acs-Content-Sha256"
	case "x-acs-security-token":
		return "X-Acs-Security-Token"
	case "content-type":
		return "Content-Type"
	}
	return http.CanonicalHeaderKey(lower)
}

// Verify checks the signature with secret in constant time. On mismatch it
// returns the gateway error that carries the server's string to sign, which
// clients such as alibaba-cloud-sdk-go compare with their own.
func (r *Request) Verify(secret string) *Error {
	switch r.Style {
	case StyleV3:
		if !Equal(r.payloadHash, r.bodyHash) {
			return &Error{http.StatusBadRequest, "SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the SHA-256 of the request body."}
		}
		sts := StringToSignV3(r.v3Canonical)
		if !Equal(SignV3(secret, sts), r.v3.Signature) {
			return ErrSignatureDoesNotMatch(sts)
		}
	default:
		sts := StringToSignV1(r.Method, r.signParams)
		if !Equal(SignV1(secret, sts), r.signature) {
			return ErrSignatureDoesNotMatch(sts)
		}
	}
	return nil
}
