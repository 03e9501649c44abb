package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// Flash messages: what a POST has to say reaches the page its redirect
// leads to through a cookie the console seals (AES-GCM with its flash key),
// bound to the session that made the POST, valid for one read and a few
// minutes. Only Dialtone speaks on its pages: nothing of the URL is ever
// shown as a message, and every POST answers with a redirect, so a reload
// repeats nothing.

const (
	flashCookie = "dialtone_flash"
	flashTTL    = 5 * time.Minute
	// maxFlash bounds the sealed message so that its cookie (base64 of it,
	// with nonce and tag) stays under browsers' 4096-byte limit.
	maxFlash = 2800
)

// flash is what one POST leaves for the next page.
type flash struct {
	Msg string `json:"m,omitempty"`
	Err string `json:"e,omitempty"`
	// Form is what was typed, to fill the form again after a refusal, and
	// Fields what is wrong with it, by input name.
	Form   url.Values        `json:"f,omitempty"`
	Fields map[string]string `json:"v,omitempty"`
	// Secret is a key just created: the one time its secret is shown.
	Secret *newKey `json:"k,omitempty"`
	Exp    int64   `json:"x"`
	Bind   []byte  `json:"b"`
}

// newKey is an AccessKey shown once.
type newKey struct {
	ID     string
	Secret string
}

// binding ties a flash to the session cookie of r.
func binding(r *http.Request) []byte {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256([]byte("flash\x00" + ck.Value))
	return sum[:16]
}

func (c *Console) aead() (cipher.AEAD, error) {
	block, err := aes.NewCipher(c.flashKey[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// setFlash leaves f for the next page of this session.
func (c *Console) setFlash(w http.ResponseWriter, r *http.Request, f flash) {
	f.Exp, f.Bind = c.now().Add(flashTTL).Unix(), binding(r)
	plain, err := json.Marshal(f)
	if err == nil && len(plain) > maxFlash {
		// A cookie holds about 4 KB: a long text typed into a refused form
		// is not kept rather than losing the message.
		f.Form = nil
		plain, err = json.Marshal(f)
	}
	a, aerr := c.aead()
	if err != nil || aerr != nil {
		c.log.ErrorContext(r.Context(), "console: flash message lost", "err", err, "cipher", aerr)
		return
	}
	nonce := make([]byte, a.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := a.Seal(nonce, nonce, plain, []byte(flashCookie))
	c.setCookie(w, r, flashCookie, base64.RawURLEncoding.EncodeToString(sealed), int(flashTTL.Seconds()))
}

// takeFlash reads and removes the flash of this session, if any: one that
// does not open, is another session's or is old is dropped silently.
func (c *Console) takeFlash(w http.ResponseWriter, r *http.Request) (flash, bool) {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return flash{}, false
	}
	c.setCookie(w, r, flashCookie, "", -1)
	sealed, err := base64.RawURLEncoding.DecodeString(ck.Value)
	a, aerr := c.aead()
	if err != nil || aerr != nil || len(sealed) < a.NonceSize() {
		return flash{}, false
	}
	plain, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], []byte(flashCookie))
	var f flash
	if err != nil || json.Unmarshal(plain, &f) != nil {
		return flash{}, false
	}
	if c.now().Unix() > f.Exp || len(f.Bind) == 0 || string(f.Bind) != string(binding(r)) {
		return flash{}, false
	}
	return f, true
}
