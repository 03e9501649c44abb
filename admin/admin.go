// Package admin is the operator's HTTP API of a Dialtone server, mounted
// under /admin/: applying provisioning documents and managing accounts and
// their access keys. Every request carries the operator token as
// "Authorization: Bearer <token>"; without a configured token the API is
// switched off, so a server never runs with an open admin door by default.
//
// Responses are JSON. Errors are {"code": "...", "message": "..."} with a
// fitting HTTP status. Secrets appear in exactly one response: the one that
// creates a key.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/provision"
	"github.com/dialtone-voice/dialtone/resource"
)

// Result is what applying a provisioning document did.
type Result = provision.Result

// Limits on request bodies: provisioning documents can be long (many
// accounts and subscribers), the JSON bodies of key requests cannot.
const (
	maxProvisionBody = 10 << 20
	maxJSONBody      = 1 << 20
)

// Error codes of the admin API.
const (
	CodeUnauthorized        = "Unauthorized"
	CodeForbidden           = "Forbidden"
	CodeNotFound            = "NotFound"
	CodeMethodNotAllowed    = "MethodNotAllowed"
	CodeInvalidRequest      = "InvalidRequest"
	CodeInvalidProvisioning = "InvalidProvisioning"
	CodeRequestTooLarge     = "RequestTooLarge"
	CodeConflict            = "Conflict"
	CodeAccountNotFound     = "AccountNotFound"
	CodeKeyNotFound         = "KeyNotFound"
	CodeInternalError       = "InternalError"
)

// New returns the admin API handler. It expects full request paths
// (/admin/v1/...), so mount it on "/admin/" without stripping the prefix.
// An empty token disables the API: every request gets 403. A nil logger
// discards logs. Neither the token nor any secret is ever logged.
//
// POST /admin/v1/provision applies a document with the files it names sent
// along: the server never reads a document's files from its own disk.
//
// Options add the receipt endpoints' collaborators (see WithReceipts).
//
// Every change goes through svc, the resource service, which checks it,
// writes it in one transaction and audits it (the actor is "admin-api").
func New(svc *resource.Service, tokens Tokens, logger *slog.Logger, opts ...Option) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "admin")
	if !tokens.Enabled() {
		logger.Info("admin API disabled: no admin token (DIALTONE_ADMIN_TOKEN is not set and the store holds none)")
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusForbidden, CodeForbidden,
				"the admin API is disabled: start the server with DIALTONE_ADMIN_TOKEN set to enable it")
		})
	}
	store := svc.Store()
	h := &handler{store: store, svc: svc, log: logger}
	for _, o := range opts {
		o(h)
	}
	if h.receipts == nil {
		h.receipts = store
	}
	mux := http.NewServeMux()
	routes := []struct {
		pattern string
		fn      http.HandlerFunc
	}{
		{"POST /admin/v1/provision", h.provision},
		{"GET /admin/v1/accounts", h.listAccounts},
		{"GET /admin/v1/accounts/{uid}", h.getAccount},
		{"GET /admin/v1/accounts/{uid}/keys", h.listKeys},
		{"POST /admin/v1/accounts/{uid}/keys", h.createKey},
		{"PATCH /admin/v1/accounts/{uid}/keys/{id}", h.patchKey},
		{"DELETE /admin/v1/accounts/{uid}/keys/{id}", h.deleteKey},
		{"GET /admin/v1/accounts/{uid}/subscriptions", h.listSubscriptions},
		{"GET /admin/v1/accounts/{uid}/subscriptions/{type}", h.getSubscription},
		{"PUT /admin/v1/accounts/{uid}/subscriptions/{type}", h.putSubscription},
		{"DELETE /admin/v1/accounts/{uid}/subscriptions/{type}", h.deleteSubscription},
		{"GET /admin/v1/accounts/{uid}/deadletters", h.listDeadLetters},
		{"POST /admin/v1/accounts/{uid}/deadletters/redrive", h.redrive},
		{"GET /admin/v1/audit", h.listAudit},
	}
	routes = append(routes, h.resourceRoutes()...)    // resources.go
	routes = append(routes, h.consoleUserRoutes()...) // console_users.go
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range routes {
		mux.HandleFunc(rt.pattern, rt.fn)
		method, path, _ := strings.Cut(rt.pattern, " ")
		if _, ok := allowed[path]; !ok {
			paths = append(paths, path)
		}
		allowed[path] = append(allowed[path], method)
	}
	// The bare ServeMux answers a wrong method or path in plain text; these
	// fallbacks keep every answer JSON. A pattern with a method is more
	// specific than the same path without one, so they never shadow a route.
	for _, path := range paths {
		allow := strings.Join(allowed[path], ", ")
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed here; use "+allow)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no admin endpoint "+r.URL.Path)
	})
	return &auth{next: mux, tokens: tokens, log: logger}
}

// auth checks the bearer token before anything else runs.
type auth struct {
	next   http.Handler
	tokens Tokens
	log    *slog.Logger
}

func (a *auth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reason := ""
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case r.Header.Get("Authorization") == "":
		reason = "missing Authorization header"
	case !ok || !strings.EqualFold(scheme, "Bearer"):
		reason = "Authorization is not a Bearer token"
	case !a.tokens.Accepts(strings.TrimSpace(got)):
		reason = "wrong token"
	}
	if reason != "" {
		a.log.Warn("admin request rejected", "reason", reason, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="dialtone-admin"`)
		writeError(w, http.StatusUnauthorized, CodeUnauthorized,
			reason+": send Authorization: Bearer <the DIALTONE_ADMIN_TOKEN of the server>")
		return
	}
	// Every change made through the API is audited as the API's, and the
	// URLs it sets are the operator's (trusted by the egress policy).
	a.next.ServeHTTP(w, r.WithContext(dialtone.WithTrusted(dialtone.WithActor(r.Context(), "admin-api"))))
}

type handler struct {
	store dialtone.Store // read through; written only by svc
	svc   *resource.Service
	log   *slog.Logger
	// receipts is the store of the receipt endpoints (the main store
	// unless WithReceipts says otherwise); nil answers 501.
	receipts dialtone.ReceiptStore
	// redriven is called after dead letters were made due again, to wake
	// the push worker at once.
	redriven func()
	// networkChanged is called after a document changed the simulated
	// network, to tell every node (WithNetworkChanged).
	networkChanged func(ctx context.Context)
}

// WithNetworkChanged gives the provisioning endpoint a function called
// after a document changed the simulated network the nodes run (stored
// with the rest of the document), so that every node takes it at once.
func WithNetworkChanged(fn func(ctx context.Context)) Option {
	return func(h *handler) { h.networkChanged = fn }
}

// provision applies a document in one transaction: a YAML body alone, or a
// multipart/form-data body carrying the document and the files it names
// (see readDocument). ?dry_run=true counts what would change and writes
// nothing.
func (h *handler) provision(w http.ResponseWriter, r *http.Request) {
	name, data, files, err := readDocument(w, r)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			writeError(w, he.status, he.code, he.msg)
			return
		}
		bodyError(w, err)
		return
	}
	doc, err := provision.Parse(data, name)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidProvisioning, err.Error())
		return
	}
	opts := []provision.ApplyOption{provision.WithFiles(files)}
	dryRun := r.URL.Query().Get("dry_run")
	switch dryRun {
	case "", "false", "0":
	case "true", "1":
		opts = append(opts, provision.WithDryRun())
	default:
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, "dry_run must be true or false")
		return
	}
	res, err := provision.Apply(r.Context(), h.svc, doc, opts...)
	var perr *provision.Error
	switch {
	case errors.As(err, &perr):
		writeError(w, http.StatusBadRequest, CodeInvalidProvisioning, err.Error())
		return
	case errors.Is(err, dialtone.ErrConflict):
		writeError(w, http.StatusConflict, CodeConflict, err.Error())
		return
	case err != nil:
		h.log.Error("provisioning failed", "document", name, "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternalError,
			"applying the document failed (see the server log); nothing of it was applied")
		return
	}
	if !res.DryRun && res.Network != "" && res.Network != provision.ActionUnchanged && h.networkChanged != nil {
		h.networkChanged(r.Context())
	}
	h.log.Info("provisioning applied", "document", name, "dry_run", res.DryRun,
		"accounts_created", res.AccountsCreated, "accounts_updated", res.AccountsUpdated, "accounts_unchanged", res.AccountsUnchanged,
		"keys_created", res.KeysCreated, "keys_updated", res.KeysUpdated, "keys_unchanged", res.KeysUnchanged)
	writeJSON(w, http.StatusOK, res)
}

// The parts of a multipart provisioning request.
const (
	// PartDocument is the YAML document; its file name, if any, names the
	// document in messages unless PartDocumentName gives the name.
	PartDocument     = "document"
	PartDocumentName = "document_name"
	// PartFilePrefix starts the name of a part holding a file the document
	// names: "file:prompts/welcome.wav" is the document's
	// "prompts/welcome.wav". A part's file name cannot carry the path
	// (receivers keep only its last element).
	PartFilePrefix = "file:"
)

// maxProvisionUpload bounds a document with its files: voice files are up
// to 50 MiB each.
const maxProvisionUpload = 200 << 20

// httpError is a request the handler refuses with its own status and code.
type httpError struct {
	status    int
	code, msg string
}

func (e *httpError) Error() string { return e.msg }

// readDocument reads a provisioning request: the document's name, its
// YAML and the files sent with it (none for a plain YAML body).
func readDocument(w http.ResponseWriter, r *http.Request) (name string, data []byte, files provision.Attachments, err error) {
	files = provision.Attachments{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		data, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxProvisionBody))
		return r.URL.Query().Get("name"), data, files, err
	}
	// The whole body is bounded too, so that part headers cannot grow it.
	r.Body = http.MaxBytesReader(w, r.Body, maxProvisionUpload+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, nil, &httpError{http.StatusBadRequest, CodeInvalidRequest, "the multipart body cannot be read: " + err.Error()}
	}
	limited := &limitedParts{left: maxProvisionUpload}
	seenDoc := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, nil, &httpError{http.StatusBadRequest, CodeInvalidRequest, "the multipart body cannot be read: " + err.Error()}
		}
		content, err := limited.read(part)
		if err != nil {
			return "", nil, nil, err
		}
		switch form := part.FormName(); {
		case form == PartDocument:
			if seenDoc {
				return "", nil, nil, &httpError{http.StatusBadRequest, CodeInvalidRequest, "more than one document part"}
			}
			seenDoc, data = true, content
			if name == "" {
				name = part.FileName()
			}
		case form == PartDocumentName:
			name = string(content)
		case strings.HasPrefix(form, PartFilePrefix) && len(form) > len(PartFilePrefix):
			files[strings.TrimPrefix(form, PartFilePrefix)] = content
		default:
			return "", nil, nil, &httpError{http.StatusBadRequest, CodeInvalidRequest,
				fmt.Sprintf("unexpected part %q: send %q, optionally %q, and %q<path> for each file the document names", form, PartDocument, PartDocumentName, PartFilePrefix)}
		}
	}
	if !seenDoc {
		return "", nil, nil, &httpError{http.StatusBadRequest, CodeInvalidRequest, fmt.Sprintf("no %q part: the document is missing", PartDocument)}
	}
	return name, data, files, nil
}

// limitedParts reads parts while the request stays under its bound.
type limitedParts struct{ left int64 }

func (l *limitedParts) read(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, l.left+1))
	var tooLarge *http.MaxBytesError
	if int64(len(b)) > l.left || errors.As(err, &tooLarge) {
		return nil, &httpError{http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
			fmt.Sprintf("the document with its files is larger than %d MiB", maxProvisionUpload>>20)}
	}
	if err != nil {
		return nil, &httpError{http.StatusBadRequest, CodeInvalidRequest, "the multipart body cannot be read: " + err.Error()}
	}
	l.left -= int64(len(b))
	return b, nil
}

// AccountInfo is an account as the admin API shows it.
type AccountInfo struct {
	UID          string `json:"uid"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	VoiceService bool   `json:"voice_service"`
	// Products lists the activated features; AllProducts says the account
	// has every feature, including ones added in later versions.
	Products    []dialtone.Feature `json:"products"`
	AllProducts bool               `json:"all_products"`
	RateLimits  map[string]float64 `json:"rate_limits,omitempty"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
}

func accountInfo(a *dialtone.Account) AccountInfo {
	info := AccountInfo{
		UID: a.UID, Name: a.Name, Status: string(a.Status), VoiceService: a.VoiceService,
		Products: a.Features, RateLimits: a.RateLimits, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
	if a.Features == nil {
		info.Products, info.AllProducts = dialtone.AllFeatures, true
	}
	return info
}

// KeyInfo is an access key without its secret. Actions is ["*"] when the
// key may call every action.
type KeyInfo struct {
	ID         string    `json:"id"`
	AccountUID string    `json:"account_uid"`
	Enabled    bool      `json:"enabled"`
	Actions    []string  `json:"actions"`
	CreatedAt  time.Time `json:"created_at"`
}

// NewKey is the answer to creating a key: the only time the secret is shown.
type NewKey struct {
	KeyInfo
	Secret string `json:"secret"`
}

func keyInfo(k *dialtone.AccessKey) KeyInfo {
	actions := k.Actions
	if len(actions) == 0 {
		actions = []string{"*"}
	}
	return KeyInfo{ID: k.ID, AccountUID: k.AccountUID, Enabled: k.Enabled, Actions: actions, CreatedAt: k.CreatedAt}
}

func (h *handler) listAccounts(w http.ResponseWriter, r *http.Request) {
	accts, err := h.store.ListAccounts(r.Context())
	if err != nil {
		h.internal(w, "list accounts", err)
		return
	}
	out := make([]AccountInfo, len(accts))
	for i := range accts {
		out[i] = accountInfo(&accts[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": out})
}

// account loads the {uid} of the path, answering 404 itself when unknown.
func (h *handler) account(w http.ResponseWriter, r *http.Request) (*dialtone.Account, bool) {
	uid := r.PathValue("uid")
	if !dialtone.ValidUID(uid) {
		writeError(w, http.StatusNotFound, CodeAccountNotFound, "no account "+quoteShort(uid))
		return nil, false
	}
	a, err := h.store.GetAccount(r.Context(), uid)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeAccountNotFound, "no account "+uid)
		return nil, false
	}
	if err != nil {
		h.internal(w, "get account", err)
		return nil, false
	}
	return a, true
}

func (h *handler) getAccount(w http.ResponseWriter, r *http.Request) {
	if a, ok := h.account(w, r); ok {
		writeJSON(w, http.StatusOK, accountInfo(a))
	}
}

func (h *handler) listKeys(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	keys, err := h.store.ListAccessKeys(r.Context(), a.UID)
	if err != nil {
		h.internal(w, "list access keys", err)
		return
	}
	out := make([]KeyInfo, len(keys))
	for i := range keys {
		out[i] = keyInfo(&keys[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

// keyRequest is the body of POST and PATCH on keys; absent fields keep their
// value (PATCH) or default (POST: enabled, every action).
type keyRequest struct {
	Enabled *bool     `json:"enabled"`
	Actions *[]string `json:"actions"`
}

func (h *handler) createKey(w http.ResponseWriter, r *http.Request) {
	var u dialtone.KeyUpdate
	if !readJSON(w, r, &u, true) {
		return
	}
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	k, err := h.svc.CreateAccessKey(r.Context(), a.UID, u)
	if err != nil {
		h.fail(w, err, CodeAccountNotFound, "account "+a.UID)
		return
	}
	writeJSON(w, http.StatusCreated, NewKey{KeyInfo: keyInfo(k), Secret: k.Secret})
}

// patchKey changes a key of {uid}; a key of another account answers 404
// like one that does not exist: the answer must not reveal which.
func (h *handler) patchKey(w http.ResponseWriter, r *http.Request) {
	var u dialtone.KeyUpdate
	if !readJSON(w, r, &u, false) {
		return
	}
	uid, id := r.PathValue("uid"), r.PathValue("id")
	k, err := h.svc.UpdateAccessKey(r.Context(), uid, id, u)
	if err != nil {
		h.fail(w, err, CodeKeyNotFound, "access key "+quoteShort(id)+" in account "+quoteShort(uid))
		return
	}
	writeJSON(w, http.StatusOK, keyInfo(k))
}

func (h *handler) deleteKey(w http.ResponseWriter, r *http.Request) {
	uid, id := r.PathValue("uid"), r.PathValue("id")
	// The store deletes only within the account, so another account's key
	// is "not found" here, exactly like a key that does not exist.
	if err := h.svc.DeleteAccessKey(r.Context(), uid, id); err != nil {
		h.fail(w, err, CodeKeyNotFound, "access key "+quoteShort(id)+" in account "+quoteShort(uid))
		return
	}
	noContent(w)
}

// internal logs a store failure and answers 500 without its details.
func (h *handler) internal(w http.ResponseWriter, what string, err error) {
	h.log.Error("admin: "+what, "err", err)
	writeError(w, http.StatusInternalServerError, CodeInternalError, what+" failed; see the server log")
}

// readJSON decodes a JSON object body strictly. With optional, an empty body
// is an empty request.
func readJSON(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) && optional {
		return true
	}
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON object")
	}
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		bodyError(w, err)
		return false
	}
	if errors.Is(err, io.EOF) {
		err = errors.New("empty body")
	}
	writeError(w, http.StatusBadRequest, CodeInvalidRequest, "invalid JSON body: "+err.Error())
	return false
}

func bodyError(w http.ResponseWriter, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
			"request body larger than the limit of "+byteCount(tooLarge.Limit))
		return
	}
	writeError(w, http.StatusBadRequest, CodeInvalidRequest, "could not read the request body")
}

func byteCount(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return itoa(n>>20) + " MiB"
	}
	return itoa(n) + " bytes"
}

// APIError is an error answer of the admin API.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	switch e.Status {
	case http.StatusBadRequest:
		if e.Code == CodeInvalidProvisioning {
			return "the server rejected the document:\n" + e.Message
		}
	case http.StatusUnauthorized:
		return "the server rejected the admin token (HTTP 401): " + e.Message
	}
	return e.Code + " (HTTP " + itoa(int64(e.Status)) + "): " + e.Message
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, &APIError{Code: code, Message: message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"code":"InternalError","message":"could not encode the answer"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	// Answers may hold a new secret; keep them out of every cache.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
