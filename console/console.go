// Package console is the web console of a Dialtone node, served under
// /console/: operators manage every account, account users their own.
// Pages are rendered on the server with html/template; the few things that
// change without a reload (live calls, upload progress, the API Explorer)
// use one small vanilla JS file. Every asset is embedded, nothing is loaded
// from another host.
//
// Security model: a signed-in person holds a random session ID in an
// HttpOnly, SameSite=Strict cookie; the session lives on the server (see
// SessionStore) and expires after 30 minutes idle or 12 hours in all. Every
// POST carries the session's CSRF token (a hidden form field, or the
// X-CSRF-Token header for fetch and XHR). Sign-in is rate-limited per
// client address and per username. Account users are confined to their
// account: every store call is scoped to the session's account, so another
// account's call, key or file is simply not found (404).
package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/resource"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console/"

// Store is what the console needs of the node's store: all of it (console
// users, receipt pages, the overview's aggregates).
type Store interface {
	dialtone.Store
}

// LiveCalls reports the calls running on this node (the call engine).
type LiveCalls interface {
	Live() int
	LiveByNumber(number string) int
}

// CallControl ends live calls. It is the call engine's Cancel as the API's
// CancelCall reaches it (vms.Dialer), so the console's hang-up and the API
// take one path, whichever node owns the call.
type CallControl interface {
	// Cancel ends a live call of the account; false when it had ended, an
	// error wrapping dialtone.ErrNotFound when the account has no such call.
	Cancel(ctx context.Context, accountUID, callID string) (bool, error)
}

// Network is the simulated telephone network (sim.Network).
type Network interface {
	SetBehavior(number string, b sim.Behavior)
	Behavior(number string) sim.Behavior
	// Subscribers lists the numbers with a behaviour of their own.
	Subscribers() []sim.Subscriber
	Transcript(callID string) []sim.TranscriptEntry
}

// Config is what New needs. Store is required; every other collaborator is
// optional and its page says so when it is missing.
type Config struct {
	// Store is read; every change goes through Resources (default: a
	// resource service over Store keeping voice files under DataDir).
	Store     Store
	Resources *resource.Service
	Live      LiveCalls
	Net       Network
	// Calls hangs up live calls; nil: no hang-up button.
	Calls  CallControl
	Logger *slog.Logger
	// Speaker renders template previews (media.ESpeak).
	Speaker dialtone.Speaker
	// Voices are the voices a template may choose (media.ESpeak); nil
	// offers a free-text voice.
	Voices dialtone.VoiceCatalog
	// DataDir holds imported voice files.
	DataDir string
	// RecordURL signs a recording's URL (receipt.Records.URL).
	RecordURL func(accountUID, callID, file string) string
	// Redriven wakes the push worker after dead letters were re-driven.
	Redriven func()
	// POPEndpoint is where the API Explorer sends requests; default
	// http://127.0.0.1:<port the request came in on> (loopback only).
	POPEndpoint string
	// Sessions keeps sessions; default an in-memory table (one node).
	Sessions SessionStore
	// Serving reports whether the node is serving; event streams end when
	// it turns false (shutdown), so they never hold a graceful shutdown.
	Serving func() bool
	// Now is the clock (tests move it to expire sessions).
	Now func() time.Time
	// SignInLimit is the sign-in attempts allowed per client address and
	// per username per minute; default 5.
	SignInLimit int
	// Outbound sends the test receipts: the node's one client for requests
	// sent on an account's behalf (egress policy, caps). Default: a client
	// whose policy has no allow-list.
	Outbound *outbound.Client
	// FlashKey seals the messages a POST leaves for the next page (32
	// bytes; the nodes of a cluster share it, derived from the master key);
	// default a random key (one node).
	FlashKey []byte
}

// Console is the console's HTTP handler.
type Console struct {
	cfg      Config
	store    Store
	res      *resource.Service
	receipts dialtone.ReceiptStore // nil: no receipt pages (a Config without a Store)
	stats    dialtone.CallStatsStore
	log      *slog.Logger
	sessions SessionStore
	limiter  *limiter
	pages    map[string]*template.Template
	mux      *http.ServeMux
	now      func() time.Time
	flashKey [32]byte
	out      *outbound.Client
}

// New builds the console.
func New(cfg Config) (*Console, error) {
	if cfg.Store == nil {
		return nil, errors.New("console: nil store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sessions == nil {
		cfg.Sessions = NewMemorySessions()
	}
	if cfg.SignInLimit <= 0 {
		cfg.SignInLimit = 5
	}
	if cfg.Resources == nil {
		var opts []resource.Option
		if cfg.Voices != nil {
			opts = append(opts, resource.WithVoices(cfg.Voices))
		}
		cfg.Resources = resource.New(cfg.Store, cfg.DataDir, cfg.Logger, opts...)
	}
	c := &Console{
		cfg: cfg, store: cfg.Store, res: cfg.Resources, log: cfg.Logger.With("component", "console"),
		sessions: cfg.Sessions, now: cfg.Now,
		limiter: newLimiter(cfg.SignInLimit, time.Minute, cfg.Now),
	}
	if len(cfg.FlashKey) > 0 {
		c.flashKey = sha256.Sum256(cfg.FlashKey)
	} else {
		_, _ = rand.Read(c.flashKey[:])
	}
	c.receipts, c.stats = cfg.Store, cfg.Store
	if c.out = cfg.Outbound; c.out == nil {
		var err error
		if c.out, err = outbound.New(outbound.Config{Logger: cfg.Logger}); err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
	}
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	fileServer := http.StripPrefix(Prefix+"static/", http.FileServerFS(static))
	mux.Handle("GET "+Prefix+"static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		fileServer.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET "+Prefix+"signin", c.signInPage)
	mux.HandleFunc("POST "+Prefix+"signin", c.signIn)

	// Signed-in pages. auth resolves the session and the account in view;
	// every POST also passes the CSRF check inside auth.
	page := func(pattern string, fn func(w http.ResponseWriter, r *http.Request, v *view)) {
		mux.Handle(pattern, c.auth(fn, false))
	}
	op := func(pattern string, fn func(w http.ResponseWriter, r *http.Request, v *view)) {
		mux.Handle(pattern, c.auth(fn, true))
	}
	page("POST "+Prefix+"signout", c.signOut)
	page("GET "+Prefix+"{$}", func(w http.ResponseWriter, r *http.Request, v *view) {
		http.Redirect(w, r, Prefix+"overview", http.StatusSeeOther)
	})
	page("GET "+Prefix+"overview", c.overview)
	page("GET "+Prefix+"numbers", c.numbersPage)
	op("POST "+Prefix+"numbers", c.numberPut)
	op("POST "+Prefix+"numbers/delete", c.numberDelete)
	page("GET "+Prefix+"templates", c.templatesPage)
	page("POST "+Prefix+"templates", c.templateCreate)
	op("POST "+Prefix+"templates/review", c.templateReview)
	page("POST "+Prefix+"templates/delete", c.templateDelete)
	page("GET "+Prefix+"templates/preview", c.templatePreview)
	page("GET "+Prefix+"voicefiles", c.voiceFilesPage)
	page("POST "+Prefix+"voicefiles", c.voiceFileUpload)
	op("POST "+Prefix+"voicefiles/review", c.voiceFileReview)
	page("POST "+Prefix+"voicefiles/delete", c.voiceFileDelete)
	page("GET "+Prefix+"voicefiles/audio", c.voiceFileAudio)
	page("GET "+Prefix+"keys", c.keysPage)
	page("POST "+Prefix+"keys", c.keyCreate)
	page("POST "+Prefix+"keys/update", c.keyUpdate)
	page("POST "+Prefix+"keys/delete", c.keyDelete)
	page("GET "+Prefix+"settings", c.settingsPage)
	page("POST "+Prefix+"settings", c.settingsPut)
	page("POST "+Prefix+"settings/streams", c.streamsPut)
	page("GET "+Prefix+"receipts", c.receiptsPage)
	page("POST "+Prefix+"receipts", c.receiptPut)
	page("POST "+Prefix+"receipts/test", c.receiptTest)
	page("POST "+Prefix+"receipts/redrive", c.receiptRedrive)
	page("POST "+Prefix+"receipts/retry", c.receiptRetry)
	page("GET "+Prefix+"callback", c.callbackPage)
	page("POST "+Prefix+"callback", c.callbackPut)
	op("GET "+Prefix+"audit", c.auditPage)
	page("GET "+Prefix+"calls", c.callsPage)
	page("GET "+Prefix+"calls/{id}", c.callPage)
	page("POST "+Prefix+"calls/{id}/hangup", c.callHangUp)
	op("GET "+Prefix+"network", c.networkPage)
	op("POST "+Prefix+"network", c.networkPut)
	page("GET "+Prefix+"explorer", c.explorerPage)
	page("POST "+Prefix+"explorer/send", c.explorerSend)
	page("POST "+Prefix+"explorer/code", c.explorerCode)
	page("GET "+Prefix+"events", c.events)
	op("GET "+Prefix+"users", c.usersPage)
	op("POST "+Prefix+"users", c.userCreate)
	op("POST "+Prefix+"users/password", c.userPassword)
	op("POST "+Prefix+"users/role", c.userRole)
	op("POST "+Prefix+"users/delete", c.userDelete)
	mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		c.notFound(w, r, nil)
	})
	c.mux = mux
}

// ServeHTTP serves the console; mount it on "/console/" without stripping.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Everything the pages need comes from this origin; inline scripts and
	// styles are not used, so the policy can forbid them.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; media-src 'self' blob: http: https:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	c.mux.ServeHTTP(w, r)
}

// view is what a signed-in request knows: who, which account it looks at,
// and the data shared by every page's layout.
type view struct {
	Session  *Session
	Operator bool
	Account  string // the account in view ("" only for an operator without accounts)
	Accounts []dialtone.Account
	Path     string
	Title    string
	Flash    string
	Error    string
	// Form is what a refused form held, Fields what was wrong with it by
	// input name; NewKey a key created just before.
	Form   url.Values
	Fields map[string]string
	NewKey *newKey
	Data   any
}

// Typed is what was typed into the input name of a refused form, or def:
// a refusal keeps what the user typed.
func (v *view) Typed(name, def string) string {
	if v.Form != nil && v.Form.Has(name) {
		return v.Form.Get(name)
	}
	return def
}

// Chose reports whether value was chosen for name in a refused form (or,
// with no refused form, whether it is the default def).
func (v *view) Chose(name, value string, def bool) bool {
	if v.Form == nil {
		return def
	}
	return slices.Contains(v.Form[name], value)
}

// FieldError is what is wrong with the input name of a refused form.
func (v *view) FieldError(name string) string { return v.Fields[name] }

// CSRF is the token the layout puts in every form.
func (v *view) CSRF() string { return v.Session.CSRF }

// auth wraps a page: it resolves the session (redirecting to sign-in
// without one), checks CSRF on POST, and picks the account in view.
func (c *Console) auth(fn func(w http.ResponseWriter, r *http.Request, v *view), operatorOnly bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.session(r)
		if err != nil {
			if r.Method == http.MethodGet && r.Header.Get("Accept") != "text/event-stream" && r.Header.Get("X-CSRF-Token") == "" {
				http.Redirect(w, r, Prefix+"signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "Your session has ended; sign in again.", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost && !c.checkCSRF(r, s) {
			c.log.WarnContext(r.Context(), "console: CSRF check failed", "user", s.Username, "path", r.URL.Path)
			http.Error(w, "The form's security token is missing or wrong; reload the page and try again.", http.StatusForbidden)
			return
		}
		if operatorOnly && !s.Operator() {
			c.notFound(w, r, nil)
			return
		}
		v := &view{Session: s, Operator: s.Operator(), Path: r.URL.Path}
		if err := c.pickAccount(r, v); err != nil {
			c.internal(w, r, "accounts", err)
			return
		}
		// Every change made through the console is audited as its user's.
		// An operator's URLs are the operator's (trusted by the egress
		// policy); an account user's never are.
		ctx := dialtone.WithActor(r.Context(), "console:"+s.Username)
		if s.Operator() {
			ctx = dialtone.WithTrusted(ctx)
		}
		fn(w, r.WithContext(ctx), v)
	})
}

// pickAccount sets the account in view. An account user always sees its
// own account, whatever the URL says; an operator chooses with ?acct=,
// remembered in the session.
func (c *Console) pickAccount(r *http.Request, v *view) error {
	s := v.Session
	if !s.Operator() {
		v.Account = s.AccountUID
		return nil
	}
	accts, err := c.store.ListAccounts(r.Context())
	if err != nil {
		return err
	}
	v.Accounts = accts
	want := r.URL.Query().Get("acct")
	if want == "" {
		want = s.Current
	}
	for _, a := range accts {
		if a.UID == want {
			v.Account = want
		}
	}
	if v.Account == "" && len(accts) > 0 {
		v.Account = c.landingAccount(r.Context(), accts)
	}
	if v.Account != s.Current {
		s.Current = v.Account
		if err := c.sessions.Put(r.Context(), s); err != nil {
			return err
		}
	}
	return nil
}

// landingAccounts bounds how many accounts a first landing looks into.
const landingAccounts = 50

// landingAccount is the account an operator's session opens on when it has
// not chosen one: the first with calls, else the first with numbers or
// templates (the demo on a first run, a provisioned account rather than an
// empty default one), else the first. It is looked for once per session.
func (c *Console) landingAccount(ctx context.Context, accts []dialtone.Account) string {
	best, bestScore := accts[0].UID, 0
	for i, a := range accts {
		if i == landingAccounts || bestScore == 2 {
			break
		}
		score := 0
		if calls, err := c.store.ListCalls(ctx, dialtone.CallFilter{AccountUID: a.UID, Limit: 1}); err == nil && len(calls) > 0 {
			score = 2
		} else if nums, err := c.store.ListNumbers(ctx, a.UID); err == nil && len(nums) > 0 {
			score = 1
		} else if ts, err := c.store.ListTemplates(ctx, a.UID); err == nil && len(ts) > 0 {
			score = 1
		}
		if score > bestScore {
			best, bestScore = a.UID, score
		}
	}
	return best
}

func (c *Console) parseTemplates() error {
	funcs := template.FuncMap{
		"fmtTime":    fmtTime,
		"statusText": dialtone.StatusText,
		"pct":        func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
		"join":       strings.Join,
		"has": func(list any, s string) bool {
			l, _ := list.([]string)
			return slices.Contains(l, s)
		},
		// dict passes several values to a sub-template: dict "K1" v1 "K2" v2.
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				k, _ := kv[i].(string)
				m[k] = kv[i+1]
			}
			return m
		},
		// allActions: a key's actions allow every action (nil or "*").
		"allActions": func(list any) bool {
			l, _ := list.([]string)
			return l == nil || slices.Contains(l, "*")
		},
		"durText": func(d time.Duration) string {
			if d == 0 {
				return ""
			}
			return d.String()
		},
		"dur": func(d time.Duration) string {
			return fmt.Sprintf("%.1f s", d.Seconds())
		},
		"ms": func(d time.Duration) string {
			if d < time.Millisecond {
				return "<1 ms"
			}
			return fmt.Sprintf("%d ms", d.Milliseconds())
		},
		"sortedKeys": func(m map[string]string) []string {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return keys
		},
		"navItems":    func(operator bool) []navItem { return nav(operator) },
		"hangupLabel": hangupLabel,
		"answeredBy":  answeredByLabel,
		"breakableID": breakableID,
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("console: templates: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("console: templates: %w", err)
	}
	c.pages = map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimPrefix(f, "templates/")
		if name == "layout.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return nil
}

type navItem struct{ Path, Label string }

// nav is the menu; operator-only pages are left out for account users.
func nav(operator bool) []navItem {
	items := []navItem{
		{"overview", "Overview 概览"},
		{"calls", "Call records 通话记录"},
		{"numbers", "Numbers 号码"},
		{"templates", "TTS templates 文本模板"},
		{"voicefiles", "Voice files 语音文件"},
		{"keys", "AccessKeys"},
		{"receipts", "Receipts 回执"},
		{"settings", "Settings 设置"},
		{"callback", "SmartCall callback 回调"},
		{"explorer", "API Explorer"},
	}
	if operator {
		items = append(items, navItem{"network", "Simulated network 模拟网络"}, navItem{"users", "Console users 用户"},
			navItem{"audit", "Audit trail 审计"})
	}
	return items
}

// render writes a page inside the layout; tmpl "" renders only the named
// block (fragments fetched by the page's script).
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view, block string) {
	t := c.pages[page]
	if t == nil {
		c.internal(w, r, "template", fmt.Errorf("no template %s", page))
		return
	}
	name := "layout"
	if block != "" {
		name = block
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		c.internal(w, r, "render "+page, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request, v *view) {
	if v == nil {
		if s, err := c.session(r); err == nil {
			v = &view{Session: s, Operator: s.Operator(), Account: s.AccountUID}
		}
	}
	if v == nil {
		http.Error(w, "Not found.", http.StatusNotFound)
		return
	}
	v.Title = "Not found"
	c.render(w, r, http.StatusNotFound, "notfound.html", v, "")
}

// internal logs the cause and shows a page without it: store errors may
// name tables and values that are not the visitor's business.
func (c *Console) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	c.log.ErrorContext(r.Context(), "console: "+what, "err", err)
	http.Error(w, "Something went wrong on the server; it has been logged. Please retry.", http.StatusInternalServerError)
}

// redirect answers a POST with 303 to a GET page, carrying a short message.
func (c *Console) redirect(w http.ResponseWriter, r *http.Request, path, msg, errMsg string) {
	f := flash{Msg: msg, Err: errMsg}
	if errMsg != "" {
		f.Form = typed(r)
	}
	if f.Msg != "" || f.Err != "" {
		c.setFlash(w, r, f)
	}
	http.Redirect(w, r, Prefix+path, http.StatusSeeOther)
}

// typed is what a refused form held, to fill it again: never its security
// token, passwords or secrets.
func typed(r *http.Request) url.Values {
	out := url.Values{}
	for k, vs := range r.PostForm {
		switch k {
		case csrfField, "password", "push_secret", "secret", "smartcall_callback_secret":
			continue
		}
		out[k] = vs
	}
	return out
}

// failed answers a change the resource service refused: the broken rules
// back on the page, a missing resource as not found, anything else as an
// internal error.
func (c *Console) failed(w http.ResponseWriter, r *http.Request, v *view, page, what string, err error) {
	var de *dialtone.Error
	if fields := dialtone.InvalidFields(err); len(fields) > 0 {
		f := flash{Form: typed(r), Fields: map[string]string{}}
		msgs := make([]string, len(fields))
		for i, ie := range fields {
			msgs[i] = ie.Message
			if ie.Field != "" {
				msgs[i] = label(ie.Field) + ": " + ie.Message
				name := inputName(ie.Field)
				if _, ok := f.Fields[name]; !ok {
					f.Fields[name] = ie.Message
				}
			}
		}
		f.Err = "Not saved: " + strings.Join(msgs, "; ") + "."
		c.setFlash(w, r, f)
		http.Redirect(w, r, Prefix+page, http.StatusSeeOther)
		return
	}
	switch {
	case errors.As(err, &de) && de.Code != dialtone.CodeSystemError:
		c.redirect(w, r, page, "", "Not saved: "+de.Message)
	case errors.Is(err, dialtone.ErrConflict):
		c.redirect(w, r, page, "", "Not saved: "+strings.TrimSuffix(err.Error(), ": "+dialtone.ErrConflict.Error())+".")
	default:
		c.notFoundOr(w, r, v, what, err)
	}
}

// messages takes what the POST before this page left for it.
func (c *Console) messages(w http.ResponseWriter, r *http.Request, v *view) {
	f, ok := c.takeFlash(w, r)
	if !ok {
		return
	}
	v.Flash, v.Error, v.Form, v.Fields, v.NewKey = f.Msg, f.Err, f.Form, f.Fields, f.Secret
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(dialtone.ChinaTime).Format("2006-01-02 15:04:05.000")
}

// withTimeout bounds a page's store work.
func withTimeout(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 10*time.Second)
}

// Favicon serves the console's icon at /favicon.ico: browsers ask for it on
// every page, and without it those requests would reach the API.
func Favicon(w http.ResponseWriter, r *http.Request) {
	b, err := staticFS.ReadFile("static/favicon.ico")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/x-icon")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(b)
}
