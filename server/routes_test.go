package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

func openTestNode(t *testing.T) *Node {
	t.Helper()
	n, err := Open(context.Background(), Config{DataDir: filepath.Join(t.TempDir(), "data"), HTTPAddr: "127.0.0.1:0",
		SignatureWindow: 15 * time.Minute, ShutdownTimeout: 5 * time.Second,
		Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.store.Close() })
	return n
}

// TestGatewayServesTheDomainsActions: the actions a key or a rate limit may
// name (dialtone.Actions) are exactly the actions the API serves.
func TestGatewayServesTheDomainsActions(t *testing.T) {
	n := openTestNode(t)
	got := n.gateway.Actions()
	want := slices.Clone(dialtone.Actions)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the gateway serves %v; dialtone.Actions lists %v", got, want)
	}
}

var apiRequests = regexp.MustCompile(`(?m)^dialtone_api_requests_total\{[^}]*\} ([0-9.e+]+)$`)

// apiRequestCount sums dialtone_api_requests_total from /metrics.
func apiRequestCount(t *testing.T, h http.Handler) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var sum float64
	for _, m := range apiRequests.FindAllStringSubmatch(rec.Body.String(), -1) {
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	return sum
}

// TestOnlyTheRootIsTheAPI: the favicon is served, paths that are not the
// API answer 404 without reaching the POP handler or its metrics, and the
// root still is the API.
func TestOnlyTheRootIsTheAPI(t *testing.T) {
	h := openTestNode(t).Handler()
	do := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	before := apiRequestCount(t, h)
	fav := do("GET", "/favicon.ico")
	if fav.Code != 200 || fav.Header().Get("Content-Type") != "image/x-icon" || fav.Body.Len() < 100 {
		t.Errorf("/favicon.ico: %d %q, %d bytes", fav.Code, fav.Header().Get("Content-Type"), fav.Body.Len())
	}
	for _, p := range []string{"/robots.txt", "/apple-touch-icon.png", "/wp-login.php", "/console.css", "/x/?Action=SingleCallByTts"} {
		rec := do("GET", p)
		if rec.Code != 404 || strings.Contains(rec.Body.String(), "MissingAction") || strings.Contains(rec.Body.String(), "Code") {
			t.Errorf("%s: %d %s", p, rec.Code, rec.Body)
		}
	}
	if after := apiRequestCount(t, h); after != before {
		t.Errorf("dialtone_api_requests_total moved from %v to %v for requests that are not the API", before, after)
	}
	rec := do("POST", "/")
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "MissingAction") {
		t.Errorf("POST /: %d %s", rec.Code, rec.Body)
	}
	if after := apiRequestCount(t, h); after != before+1 {
		t.Errorf("an API request counted %v, want %v", after, before+1)
	}
}
