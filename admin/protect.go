package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"github.com/dialtone-voice/dialtone/provision"
	"net/http"
	"strings"
)

// RequireToken protects an extra operator endpoint (mounted outside this
// package) with the same bearer token as the admin API.
func RequireToken(token string, h http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if token == "" {
			writeProtectError(w, http.StatusForbidden, "AdminDisabled", "the admin API is disabled: start the server with DIALTONE_ADMIN_TOKEN set")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			writeProtectError(w, http.StatusUnauthorized, "Unauthorized", "send Authorization: Bearer <the DIALTONE_ADMIN_TOKEN of the server>")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeProtectError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(`{"code":"` + code + `","message":"` + msg + `"}`))
}

// WithApplyOptions passes options (such as the server's voice-file
// importer) to every provisioning document the admin API applies.
func WithApplyOptions(opts ...provision.ApplyOption) Option {
	return func(h *handler) { h.applyOpts = append(h.applyOpts, opts...) }
}

// WithProvisionDir sets the directory that relative voice-file paths in
// documents sent to the admin API are resolved against.
func WithProvisionDir(dir string) Option {
	return func(h *handler) { h.provisionDir = dir }
}
