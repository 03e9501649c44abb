package receipt

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/secret"
)

// RecordURLTTL is how long a recording URL stays valid (Alibaba's
// record_file URLs last 7 days).
const RecordURLTTL = 7 * 24 * time.Hour

// Records signs recording URLs and serves the files they name:
//
//	<base>/records/<file>?acct=<uid>&expires=<unix>&sig=<hex HMAC-SHA256>
//
// The signature covers account, file and expiry, so a URL can be neither
// extended nor pointed at another file, and needs no session.
type Records struct {
	key   []byte
	dir   string
	clock dialtone.Clock
	base  atomic.Pointer[string]
}

// RecordKey derives the URL-signing key from the master key, so the
// master key itself never signs anything that leaves the server.
func RecordKey(master []byte) []byte {
	return secret.Derive(master, "dialtone record URL signing v1")
}

// NewRecords returns a signer for files in dir; base is the server's
// public URL (e.g. http://127.0.0.1:8080), which SetBaseURL may set later.
func NewRecords(key []byte, dir, base string, clock dialtone.Clock) *Records {
	if clock == nil {
		clock = dialtone.SystemClock{}
	}
	r := &Records{key: key, dir: dir, clock: clock}
	r.SetBaseURL(base)
	return r
}

// SetBaseURL changes the URL prefix of new URLs (once the listener's
// address is known).
func (r *Records) SetBaseURL(base string) {
	b := strings.TrimRight(base, "/")
	r.base.Store(&b)
}

// URL returns the signed URL of a recording; it fits Builder.RecordURL.
// The call ID is not part of the URL: the file name already is the call's.
func (r *Records) URL(accountUID, callID, file string) string {
	if !validFile(file) {
		return ""
	}
	exp := strconv.FormatInt(r.clock.Now().Add(RecordURLTTL).Unix(), 10)
	q := url.Values{"acct": {accountUID}, "expires": {exp}, "sig": {r.sign(accountUID, file, exp)}}
	return *r.base.Load() + "/records/" + file + "?" + q.Encode()
}

func (r *Records) sign(acct, file, exp string) string {
	m := hmac.New(sha256.New, r.key)
	// NUL separators: no field can contain one, so fields cannot shift.
	m.Write([]byte(acct + "\x00" + file + "\x00" + exp))
	return hex.EncodeToString(m.Sum(nil))
}

// validFile accepts plain file names only: no separators, no leading dot,
// so "..", hidden files and paths are refused before the file system sees
// them (os.Root below is the second line of defence).
func validFile(name string) bool {
	if name == "" || len(name) > 200 || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ServeHTTP serves GET /records/<file>: 403 for a bad or expired
// signature, 404 for a missing file.
func (r *Records) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	file, _ := strings.CutPrefix(req.URL.Path, "/records/")
	q := req.URL.Query()
	acct, exp, sig := q.Get("acct"), q.Get("expires"), q.Get("sig")
	expUnix, err := strconv.ParseInt(exp, 10, 64)
	ok := err == nil && validFile(file) &&
		hmac.Equal([]byte(r.sign(acct, file, exp)), []byte(sig)) &&
		r.clock.Now().Before(time.Unix(expUnix, 0))
	if !ok {
		http.Error(w, "forbidden: the link is invalid or expired", http.StatusForbidden)
		return
	}
	root, err := os.OpenRoot(r.dir)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	defer root.Close()
	f, err := root.Open(file)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, fs.ErrNotExist) {
			status = http.StatusNotFound
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	if strings.HasSuffix(file, ".wav") {
		w.Header().Set("Content-Type", "audio/wav")
	}
	http.ServeContent(w, req, file, st.ModTime(), f)
}
