package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
)

// Tokens are the bearer tokens that open the admin API, kept as SHA-256
// hashes: the server's DIALTONE_ADMIN_TOKEN and the tokens of its store.
// The zero value opens nothing (the API is off).
type Tokens struct {
	hashes [][sha256.Size]byte
}

// TokenList accepts the given tokens; empty strings are skipped.
func TokenList(plain ...string) Tokens {
	var t Tokens
	for _, p := range plain {
		if p != "" {
			t.hashes = append(t.hashes, sha256.Sum256([]byte(p)))
		}
	}
	return t
}

// WithHashes accepts the tokens whose SHA-256 are given too.
func (t Tokens) WithHashes(hashes ...[sha256.Size]byte) Tokens {
	return Tokens{hashes: append(slices.Clip(t.hashes), hashes...)}
}

// Enabled reports whether any token opens the API.
func (t Tokens) Enabled() bool { return len(t.hashes) > 0 }

// Accepts reports whether got is one of the tokens. Hashing first makes
// the comparison constant-time in the token's length too, which
// ConstantTimeCompare alone would reveal, and every token is compared.
func (t Tokens) Accepts(got string) bool {
	sum := sha256.Sum256([]byte(got))
	ok := 0
	for _, h := range t.hashes {
		ok |= subtle.ConstantTimeCompare(sum[:], h[:])
	}
	return ok == 1
}

// RequireToken protects an extra operator endpoint (mounted outside this
// package) with the same bearer tokens as the admin API.
func RequireToken(tokens Tokens, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !tokens.Enabled() {
			writeProtectError(w, http.StatusForbidden, "AdminDisabled", "the admin API is disabled: start the server with DIALTONE_ADMIN_TOKEN set")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !tokens.Accepts(got) {
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
