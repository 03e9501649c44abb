package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/console/passhash"
)

// --- passwords ---

// HashPassword returns an argon2id hash of password with a random salt, in
// the PHC string format (see package passhash, shared with the admin API
// and provisioning).
func HashPassword(password string) (string, error) { return passhash.Hash(password) }

// VerifyPassword reports whether password matches hash, comparing in
// constant time. A malformed hash never matches.
func VerifyPassword(hash, password string) bool { return passhash.Verify(hash, password) }

// dummyHash is verified against when the username is unknown, so that a
// wrong username takes as long as a wrong password and does not reveal
// which usernames exist.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("no such user")
	return h
})

// --- sessions ---

// Session lifetimes: idle is how long a session survives without a
// request, absolute how long it survives at all.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
)

// Session is one signed-in browser.
type Session struct {
	ID         string
	Username   string
	AccountUID string // "" for an operator
	CSRF       string
	Current    string // the account an operator looks at
	// Stamp fingerprints the user's account and password hash at sign-in
	// (userStamp): deleting the user, moving it to another account or
	// changing its password ends its sessions on every node.
	Stamp    string
	Created  time.Time
	LastSeen time.Time
}

// userStamp is the Session.Stamp of u. It is a hash, so a session row
// does not carry the password hash itself.
func userStamp(u *dialtone.ConsoleUser) string {
	sum := sha256.Sum256([]byte(u.Username + "\x00" + u.AccountUID + "\x00" + u.PasswordHash))
	return hex.EncodeToString(sum[:16])
}

// touchEvery bounds how often a request writes the session's LastSeen:
// with sessions in the store every page view would otherwise be a write.
// Idle expiry is then early by at most this much, against 30 minutes.
const touchEvery = time.Minute

// Operator reports whether the session is an operator's.
func (s *Session) Operator() bool { return s.AccountUID == "" }

// SessionStore keeps sessions on the server. The console enforces the
// timeouts; a store only keeps and forgets.
type SessionStore interface {
	Put(ctx context.Context, s *Session) error
	// Get returns a copy; dialtone.ErrNotFound for an unknown ID.
	Get(ctx context.Context, id string) (*Session, error)
	Delete(ctx context.Context, id string) error
	// DeleteExpired forgets sessions idle since before idleBefore or
	// created before createdBefore.
	DeleteExpired(ctx context.Context, idleBefore, createdBefore time.Time) error
}

// MemorySessions is a SessionStore in memory: enough for one node (a
// restart signs everyone out). It keys sessions by a hash of their ID, so
// the table itself does not hold usable cookies.
type MemorySessions struct {
	mu sync.Mutex
	m  map[string]Session
}

// NewMemorySessions returns an empty table.
func NewMemorySessions() *MemorySessions { return &MemorySessions{m: map[string]Session{}} }

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func (m *MemorySessions) Put(_ context.Context, s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[sessionKey(s.ID)] = *s
	return nil
}

func (m *MemorySessions) Get(_ context.Context, id string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[sessionKey(id)]
	if !ok {
		return nil, dialtone.ErrNotFound
	}
	return &s, nil
}

func (m *MemorySessions) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, sessionKey(id))
	return nil
}

func (m *MemorySessions) DeleteExpired(_ context.Context, idleBefore, createdBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, s := range m.m {
		if s.LastSeen.Before(idleBefore) || s.Created.Before(createdBefore) {
			delete(m.m, k)
		}
	}
	return nil
}

// StoreSessions is a SessionStore over the node's store: sessions survive
// a restart and are shared by every node of a cluster. The store sees only
// a hash of each session ID.
type StoreSessions struct {
	st dialtone.ConsoleSessionStore
}

// NewStoreSessions keeps sessions in st.
func NewStoreSessions(st dialtone.ConsoleSessionStore) *StoreSessions { return &StoreSessions{st: st} }

func (s *StoreSessions) Put(ctx context.Context, se *Session) error {
	return s.st.PutConsoleSession(ctx, &dialtone.ConsoleSession{
		IDHash: sessionKey(se.ID), Username: se.Username, AccountUID: se.AccountUID, CSRF: se.CSRF,
		Current: se.Current, UserStamp: se.Stamp, CreatedAt: se.Created, LastSeen: se.LastSeen,
	})
}

func (s *StoreSessions) Get(ctx context.Context, id string) (*Session, error) {
	cs, err := s.st.GetConsoleSession(ctx, sessionKey(id))
	if err != nil {
		return nil, err
	}
	return &Session{ID: id, Username: cs.Username, AccountUID: cs.AccountUID, CSRF: cs.CSRF, Current: cs.Current,
		Stamp: cs.UserStamp, Created: cs.CreatedAt, LastSeen: cs.LastSeen}, nil
}

func (s *StoreSessions) Delete(ctx context.Context, id string) error {
	return s.st.DeleteConsoleSession(ctx, sessionKey(id))
}

func (s *StoreSessions) DeleteExpired(ctx context.Context, idleBefore, createdBefore time.Time) error {
	_, err := s.st.DeleteExpiredConsoleSessions(ctx, idleBefore, createdBefore)
	return err
}

const (
	cookieName = "dialtone_console"
	// preCookie carries the sign-in form's CSRF token before a session
	// exists (double submit), so another site cannot sign a victim in to
	// the attacker's account.
	preCookie  = "dialtone_console_signin"
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf"
)

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported systems; a session ID
		// must never be predictable, so stop rather than go on.
		panic("console: crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// session returns the request's valid session and records the activity.
func (c *Console) session(r *http.Request) (*Session, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil, dialtone.ErrNotFound
	}
	s, err := c.sessions.Get(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	now := c.now()
	if now.Sub(s.LastSeen) > IdleTimeout || now.Sub(s.Created) > AbsoluteTimeout {
		_ = c.sessions.Delete(r.Context(), s.ID)
		return nil, dialtone.ErrNotFound
	}
	// The user may have been deleted, moved or given a new password since
	// (here, through the admin API or provisioning, or on another node).
	u, err := c.store.GetConsoleUser(r.Context(), s.Username)
	switch {
	case errors.Is(err, dialtone.ErrNotFound):
		_ = c.sessions.Delete(r.Context(), s.ID)
		return nil, dialtone.ErrNotFound
	case err != nil:
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(userStamp(u)), []byte(s.Stamp)) != 1 {
		_ = c.sessions.Delete(r.Context(), s.ID)
		return nil, dialtone.ErrNotFound
	}
	// The event stream polls on its own; it must not keep an unattended
	// page's session alive forever.
	if r.URL.Path != Prefix+"events" && now.Sub(s.LastSeen) >= touchEvery {
		s.LastSeen = now
		if err := c.sessions.Put(r.Context(), s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (c *Console) checkCSRF(r *http.Request, s *Session) bool {
	// A browser sends Origin with every POST; one from another site is
	// refused even before the token is looked at.
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if u, err := urlHost(o); err != nil || u != r.Host {
			return false
		}
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

func urlHost(origin string) (string, error) {
	_, rest, ok := strings.Cut(origin, "://")
	if !ok {
		return "", errors.New("bad origin")
	}
	return rest, nil
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

// --- rate limiting ---

// limiter allows n attempts per key in a sliding window.
type limiter struct {
	n      int
	window time.Duration
	now    func() time.Time
	mu     sync.Mutex
	hits   map[string][]time.Time
}

func newLimiter(n int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{n: n, window: window, now: now, hits: map[string][]time.Time{}}
}

// allow records an attempt for every key and reports whether all of them
// are within the limit; when not, wait is how long until the oldest
// attempt of the fullest key leaves the window.
func (l *limiter) allow(keys ...string) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	ok = true
	for _, k := range keys {
		h := l.hits[k]
		i := 0
		for i < len(h) && now.Sub(h[i]) >= l.window {
			i++
		}
		h = h[i:]
		if len(h) >= l.n {
			ok = false
			wait = max(wait, l.window-now.Sub(h[0]))
		}
		l.hits[k] = h
	}
	if ok {
		for _, k := range keys {
			l.hits[k] = append(l.hits[k], now)
		}
	}
	// Bound memory: forget keys whose attempts all left the window.
	if len(l.hits) > 10000 {
		for k, h := range l.hits {
			if len(h) == 0 || now.Sub(h[len(h)-1]) >= l.window {
				delete(l.hits, k)
			}
		}
	}
	return ok, wait
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// --- sign-in and sign-out ---

type signInData struct {
	Username, Next, Token, Error string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, err := c.session(r); err == nil {
		http.Redirect(w, r, Prefix+"overview", http.StatusSeeOther)
		return
	}
	c.renderSignIn(w, r, http.StatusOK, signInData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) {
	d.Token = randomToken()
	c.setCookie(w, r, preCookie, d.Token, 600)
	c.render(w, r, status, "signin.html", &view{Title: "Sign in", Data: d}, "")
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return Prefix + "overview"
	}
	return next
}

func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	d := signInData{Username: username, Next: safeNext(r.PostFormValue("next"))}
	pre, err := r.Cookie(preCookie)
	tok := r.PostFormValue(csrfField)
	if err != nil || tok == "" || subtle.ConstantTimeCompare([]byte(pre.Value), []byte(tok)) != 1 {
		http.Error(w, "The sign-in form's security token is missing or wrong; reload the page and try again.", http.StatusForbidden)
		return
	}
	if ok, wait := c.limiter.allow("ip:"+clientIP(r), "user:"+strings.ToLower(username)); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		c.log.WarnContext(r.Context(), "console: sign-in rate limited", "ip", clientIP(r), "user", username)
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		d.Error = fmt.Sprintf("Too many sign-in attempts. Please wait %d seconds and try again. 登录尝试过多，请 %d 秒后再试。", secs, secs)
		c.renderSignIn(w, r, http.StatusTooManyRequests, d)
		return
	}
	u, err := c.store.GetConsoleUser(r.Context(), username)
	if err != nil && !errors.Is(err, dialtone.ErrNotFound) {
		c.internal(w, r, "sign-in", err)
		return
	}
	hash := dummyHash()
	if u != nil {
		hash = u.PasswordHash
	}
	if !VerifyPassword(hash, password) || u == nil {
		c.log.InfoContext(r.Context(), "console: sign-in failed", "ip", clientIP(r), "user", username)
		d.Error = "Wrong username or password. 用户名或密码错误。"
		c.renderSignIn(w, r, http.StatusUnauthorized, d)
		return
	}
	now := c.now()
	// A new ID at every sign-in: an ID planted before it is worthless.
	if old, err := r.Cookie(cookieName); err == nil {
		_ = c.sessions.Delete(r.Context(), old.Value)
	}
	_ = c.sessions.DeleteExpired(r.Context(), now.Add(-IdleTimeout), now.Add(-AbsoluteTimeout))
	s := &Session{ID: randomToken(), Username: u.Username, AccountUID: u.AccountUID, CSRF: randomToken(),
		Stamp: userStamp(u), Created: now, LastSeen: now}
	if err := c.sessions.Put(r.Context(), s); err != nil {
		c.internal(w, r, "session", err)
		return
	}
	c.log.InfoContext(r.Context(), "console: signed in", "user", u.Username, "operator", u.Operator())
	c.setCookie(w, r, cookieName, s.ID, int(AbsoluteTimeout.Seconds()))
	c.setCookie(w, r, preCookie, "", -1)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, v *view) {
	_ = c.sessions.Delete(r.Context(), v.Session.ID)
	c.setCookie(w, r, cookieName, "", -1)
	http.Redirect(w, r, Prefix+"signin", http.StatusSeeOther)
}
