package admin

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	mrand "math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/provision"
)

// Console resource endpoints: what the voice actions use, managed per
// account like the Alibaba console does, next to provisioning.
//
//	GET    /admin/v1/accounts/{uid}/numbers
//	POST   /admin/v1/accounts/{uid}/numbers                   {"number", "concurrency"}
//	GET    /admin/v1/accounts/{uid}/numbers/{number}
//	PATCH  /admin/v1/accounts/{uid}/numbers/{number}          {"concurrency"}
//	DELETE /admin/v1/accounts/{uid}/numbers/{number}
//	GET    /admin/v1/accounts/{uid}/tts-templates
//	POST   /admin/v1/accounts/{uid}/tts-templates             {"code", "kind", "content", "voice", "status"}
//	GET    /admin/v1/accounts/{uid}/tts-templates/{code}
//	PATCH  /admin/v1/accounts/{uid}/tts-templates/{code}      {"kind", "content", "voice"}
//	DELETE /admin/v1/accounts/{uid}/tts-templates/{code}
//	POST   /admin/v1/accounts/{uid}/tts-templates/{code}/approve
//	POST   /admin/v1/accounts/{uid}/tts-templates/{code}/reject  {"reason"}
//	GET    /admin/v1/accounts/{uid}/voice-files
//	POST   /admin/v1/accounts/{uid}/voice-files?kind=&code=&status=   body: the WAV or MP3
//	GET    /admin/v1/accounts/{uid}/voice-files/{code}
//	GET    /admin/v1/accounts/{uid}/voice-files/{code}/audio  (audio/wav, 8 kHz mono)
//	DELETE /admin/v1/accounts/{uid}/voice-files/{code}
//	POST   /admin/v1/accounts/{uid}/voice-files/{code}/approve
//	POST   /admin/v1/accounts/{uid}/voice-files/{code}/reject    {"reason"}
//	GET    /admin/v1/accounts/{uid}/settings
//	PUT    /admin/v1/accounts/{uid}/settings                  {"flow_control", "smartcall_callback_url", "blacklist"}
//	GET    /admin/v1/blacklist
//	PUT    /admin/v1/blacklist                                {"blacklist"}

// Error codes of the resource endpoints.
const (
	CodeNumberNotFound    = "NumberNotFound"
	CodeTemplateNotFound  = "TemplateNotFound"
	CodeVoiceFileNotFound = "VoiceFileNotFound"
)

// Limits of the resource endpoints.
const (
	// MaxVoiceUpload is the largest voice file accepted, the media
	// decoder's own input limit.
	MaxVoiceUpload = 50 << 20
	// MaxTemplateContent is Alibaba's limit on a TTS template's text, in
	// characters.
	MaxTemplateContent = 500
	maxReason          = 500
	// A blacklist is checked against every template variable of every
	// call; the caps keep that check and the settings row bounded.
	maxBlacklistWords = 10000
	maxBlacklistWord  = 100
	maxCallbackURL    = 2048
)

var (
	// numberRe is the display-number rule of the actions (vms), so that
	// every number stored here can be given as CalledShowNumber.
	numberRe       = regexp.MustCompile(`^\+?[0-9]{3,20}$`)
	templateCodeRe = regexp.MustCompile(`^TTS_[A-Za-z0-9]{1,60}$`)
	// The first character may not be '-': the voice becomes an espeak-ng
	// argument and must never read as an option.
	ttsVoiceRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	varNameRe     = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	voiceFileCode = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)
)

// VoiceImporter decodes, checks and stores an uploaded voice file for an
// account, returning where it stored the 8 kHz audio (relative to the data
// directory), the source format and the duration.
type VoiceImporter func(data []byte, accountUID, code string) (storedPath, format string, duration time.Duration, err error)

// resourceState is the handler's part for the resource endpoints.
type resourceState struct {
	importVoice VoiceImporter
	loadVoice   func(storedPath string) ([]byte, error)

	// creating holds the keys of resources being created. Put* replaces
	// silently, so without it two concurrent creations of one code could
	// both pass the existence check, and two uploads could overwrite each
	// other's stored audio. It covers this process only; nodes sharing a
	// store should send console changes to one of them.
	mu       sync.Mutex
	creating map[string]bool
}

// WithVoiceImporter lets the admin API accept voice file uploads: f decodes,
// checks and stores the audio (the server passes media.ImportVoiceFile over
// its data directory). Without it uploads answer 501.
func WithVoiceImporter(f VoiceImporter) Option {
	return func(h *handler) { h.res.importVoice = f }
}

// WithVoiceLoader lets the admin API play stored voice files: f returns the
// WAV bytes of a StoredPath (relative to the data directory) and must
// refuse paths outside it. Without it the audio endpoint answers 501.
func WithVoiceLoader(f func(storedPath string) ([]byte, error)) Option {
	return func(h *handler) { h.res.loadVoice = f }
}

type route = struct {
	pattern string
	fn      http.HandlerFunc
}

func (h *handler) resourceRoutes() []route {
	const acct = "/admin/v1/accounts/{uid}"
	return []route{
		{"GET " + acct + "/numbers", h.listNumbers},
		{"POST " + acct + "/numbers", h.createNumber},
		{"GET " + acct + "/numbers/{number}", h.getNumber},
		{"PATCH " + acct + "/numbers/{number}", h.patchNumber},
		{"DELETE " + acct + "/numbers/{number}", h.deleteNumber},
		{"GET " + acct + "/tts-templates", h.listTemplates},
		{"POST " + acct + "/tts-templates", h.createTemplate},
		{"GET " + acct + "/tts-templates/{code}", h.getTemplate},
		{"PATCH " + acct + "/tts-templates/{code}", h.patchTemplate},
		{"DELETE " + acct + "/tts-templates/{code}", h.deleteTemplate},
		{"POST " + acct + "/tts-templates/{code}/approve", h.reviewTemplate(dialtone.ReviewApproved)},
		{"POST " + acct + "/tts-templates/{code}/reject", h.reviewTemplate(dialtone.ReviewRejected)},
		{"GET " + acct + "/voice-files", h.listVoiceFiles},
		{"POST " + acct + "/voice-files", h.uploadVoiceFile},
		{"GET " + acct + "/voice-files/{code}", h.getVoiceFile},
		{"GET " + acct + "/voice-files/{code}/audio", h.voiceFileAudio},
		{"DELETE " + acct + "/voice-files/{code}", h.deleteVoiceFile},
		{"POST " + acct + "/voice-files/{code}/approve", h.reviewVoiceFile(dialtone.ReviewApproved)},
		{"POST " + acct + "/voice-files/{code}/reject", h.reviewVoiceFile(dialtone.ReviewRejected)},
		{"GET " + acct + "/settings", h.getSettings},
		{"PUT " + acct + "/settings", h.putSettings},
		{"GET /admin/v1/blacklist", h.getGlobalBlacklist},
		{"PUT /admin/v1/blacklist", h.putGlobalBlacklist},
	}
}

// claim reserves key while a resource is created; false when another
// request is creating it right now.
func (r *resourceState) claim(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.creating[key] {
		return false
	}
	if r.creating == nil {
		r.creating = map[string]bool{}
	}
	r.creating[key] = true
	return true
}

func (r *resourceState) release(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.creating, key)
}

func claimKey(kind, uid, code string) string { return kind + "\x00" + uid + "\x00" + code }

func badRequest(w http.ResponseWriter, field, msg string) {
	writeError(w, http.StatusBadRequest, CodeInvalidRequest, field+": "+msg)
}

// ---- Numbers ----

// NumberInfo is a display number as the admin API shows it.
type NumberInfo struct {
	Number      string    `json:"number"`
	Concurrency int       `json:"concurrency"`
	CreatedAt   time.Time `json:"created_at"`
}

func numberInfo(n *dialtone.Number) NumberInfo {
	return NumberInfo{Number: n.Number, Concurrency: n.Concurrency, CreatedAt: n.CreatedAt}
}

type numberRequest struct {
	Number      *string `json:"number"`
	Concurrency *int    `json:"concurrency"`
}

func (h *handler) listNumbers(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	nums, err := h.store.ListNumbers(r.Context(), a.UID)
	if err != nil {
		h.internal(w, "list numbers", err)
		return
	}
	out := make([]NumberInfo, len(nums))
	for i := range nums {
		out[i] = numberInfo(&nums[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"numbers": out})
}

func (h *handler) createNumber(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	var req numberRequest
	if !readJSON(w, r, &req, false) {
		return
	}
	if req.Number == nil {
		badRequest(w, "number", "required")
		return
	}
	if !numberRe.MatchString(*req.Number) {
		badRequest(w, "number", quoteShort(*req.Number)+" must be 3 to 20 digits with an optional leading +")
		return
	}
	n := &dialtone.Number{AccountUID: a.UID, Number: *req.Number, Concurrency: provision.DefaultConcurrency, CreatedAt: stamp()}
	if req.Concurrency != nil {
		if *req.Concurrency < 1 {
			badRequest(w, "concurrency", "must be at least 1")
			return
		}
		n.Concurrency = *req.Concurrency
	}
	key := claimKey("number", a.UID, n.Number)
	if !h.res.claim(key) {
		writeError(w, http.StatusConflict, CodeConflict, "number "+n.Number+" is being added by another request")
		return
	}
	defer h.res.release(key)
	if _, err := h.store.GetNumber(r.Context(), a.UID, n.Number); err == nil {
		writeError(w, http.StatusConflict, CodeConflict, "account "+a.UID+" already has number "+n.Number+"; PATCH it to change its concurrency")
		return
	} else if !errors.Is(err, dialtone.ErrNotFound) {
		h.internal(w, "get number", err)
		return
	}
	if err := h.store.PutNumber(r.Context(), n); err != nil {
		h.putFailed(w, a.UID, "add number", err)
		return
	}
	h.log.Info("number added", "account", a.UID, "number", n.Number, "concurrency", n.Concurrency)
	writeJSON(w, http.StatusCreated, numberInfo(n))
}

// number loads {number} of the account, answering 404 itself.
func (h *handler) number(w http.ResponseWriter, r *http.Request) (*dialtone.Number, bool) {
	a, ok := h.account(w, r)
	if !ok {
		return nil, false
	}
	num := r.PathValue("number")
	n, err := h.store.GetNumber(r.Context(), a.UID, num)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeNumberNotFound, "no number "+quoteShort(num)+" in account "+a.UID)
		return nil, false
	}
	if err != nil {
		h.internal(w, "get number", err)
		return nil, false
	}
	return n, true
}

func (h *handler) getNumber(w http.ResponseWriter, r *http.Request) {
	if n, ok := h.number(w, r); ok {
		writeJSON(w, http.StatusOK, numberInfo(n))
	}
}

func (h *handler) patchNumber(w http.ResponseWriter, r *http.Request) {
	n, ok := h.number(w, r)
	if !ok {
		return
	}
	var req numberRequest
	if !readJSON(w, r, &req, false) {
		return
	}
	if req.Number != nil && *req.Number != n.Number {
		badRequest(w, "number", "cannot be changed: add the new number and delete this one")
		return
	}
	if req.Concurrency == nil {
		badRequest(w, "concurrency", "required")
		return
	}
	if *req.Concurrency < 1 {
		badRequest(w, "concurrency", "must be at least 1")
		return
	}
	n.Concurrency = *req.Concurrency
	if err := h.store.PutNumber(r.Context(), n); err != nil {
		h.putFailed(w, n.AccountUID, "update number", err)
		return
	}
	h.log.Info("number updated", "account", n.AccountUID, "number", n.Number, "concurrency", n.Concurrency)
	writeJSON(w, http.StatusOK, numberInfo(n))
}

func (h *handler) deleteNumber(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	num := r.PathValue("number")
	err := h.store.DeleteNumber(r.Context(), a.UID, num)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeNumberNotFound, "no number "+quoteShort(num)+" in account "+a.UID)
		return
	}
	if err != nil {
		h.internal(w, "delete number", err)
		return
	}
	h.log.Info("number deleted", "account", a.UID, "number", num)
	noContent(w)
}

// ---- TTS templates ----

// TemplateInfo is a TTS template as the admin API shows it. Voice is ""
// when the voice is chosen by the text's language.
type TemplateInfo struct {
	Code      string    `json:"code"`
	Kind      string    `json:"kind"`
	Content   string    `json:"content"`
	Voice     string    `json:"voice"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func templateInfo(t *dialtone.TTSTemplate) TemplateInfo {
	return TemplateInfo{Code: t.Code, Kind: string(t.Kind), Content: t.Content, Voice: t.Voice, Status: string(t.Status),
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

type templateRequest struct {
	Code    *string `json:"code"`
	Kind    *string `json:"kind"`
	Content *string `json:"content"`
	Voice   *string `json:"voice"`
	Status  *string `json:"status"`
}

// reviewRequest is the optional body of approve and reject.
type reviewRequest struct {
	Reason string `json:"reason"`
}

func (h *handler) listTemplates(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	ts, err := h.store.ListTemplates(r.Context(), a.UID)
	if err != nil {
		h.internal(w, "list templates", err)
		return
	}
	out := make([]TemplateInfo, len(ts))
	for i := range ts {
		out[i] = templateInfo(&ts[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"tts_templates": out})
}

// applyTemplateFields validates and applies kind, content and voice of req
// to t, reporting whether anything changed; it answers 400 itself.
func applyTemplateFields(w http.ResponseWriter, t *dialtone.TTSTemplate, req *templateRequest) (changed, ok bool) {
	if req.Kind != nil {
		k := dialtone.TemplateKind(*req.Kind)
		if k != dialtone.TemplateVerification && k != dialtone.TemplateNotification {
			badRequest(w, "kind", quoteShort(*req.Kind)+" must be verification or notification")
			return false, false
		}
		changed = changed || k != t.Kind
		t.Kind = k
	}
	if req.Content != nil {
		if msg := checkTemplateContent(*req.Content); msg != "" {
			badRequest(w, "content", msg)
			return false, false
		}
		changed = changed || *req.Content != t.Content
		t.Content = *req.Content
	}
	if req.Voice != nil {
		if *req.Voice != "" && !ttsVoiceRe.MatchString(*req.Voice) {
			badRequest(w, "voice", quoteShort(*req.Voice)+` is not an espeak-ng voice name (lower-case letters, digits and '-', e.g. "en-us"); "" chooses by the text's language`)
			return false, false
		}
		changed = changed || *req.Voice != t.Voice
		t.Voice = *req.Voice
	}
	return changed, true
}

func checkTemplateContent(s string) string {
	if strings.TrimSpace(s) == "" {
		return "must not be empty"
	}
	if n := utf8.RuneCountInString(s); n > MaxTemplateContent {
		return "has " + strconv.Itoa(n) + " characters, more than the limit of " + strconv.Itoa(MaxTemplateContent)
	}
	for rest := s; ; {
		i := strings.Index(rest, "${")
		if i < 0 {
			return ""
		}
		rest = rest[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return "unterminated ${"
		}
		if name := rest[:j]; !varNameRe.MatchString(name) {
			return "variable " + quoteShort("${"+name+"}") + " must be named with letters, digits or '_'"
		}
		rest = rest[j+1:]
	}
}

func parseStatus(s string) (dialtone.ReviewStatus, bool) {
	switch st := dialtone.ReviewStatus(s); st {
	case dialtone.ReviewPending, dialtone.ReviewApproved, dialtone.ReviewRejected:
		return st, true
	}
	return "", false
}

func (h *handler) createTemplate(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	var req templateRequest
	if !readJSON(w, r, &req, false) {
		return
	}
	now := stamp()
	t := &dialtone.TTSTemplate{AccountUID: a.UID, Status: dialtone.ReviewPending, CreatedAt: now, UpdatedAt: now}
	switch {
	case req.Kind == nil:
		badRequest(w, "kind", "required (verification or notification)")
		return
	case req.Content == nil:
		badRequest(w, "content", "required")
		return
	case req.Code != nil && !templateCodeRe.MatchString(*req.Code):
		badRequest(w, "code", quoteShort(*req.Code)+" must be TTS_ followed by 1 to 60 letters or digits (or leave it out to get one)")
		return
	}
	if _, ok := applyTemplateFields(w, t, &req); !ok {
		return
	}
	if req.Status != nil {
		if t.Status, ok = parseStatus(*req.Status); !ok {
			badRequest(w, "status", quoteShort(*req.Status)+" must be pending, approved or rejected")
			return
		}
	}
	var key string
	if req.Code != nil {
		t.Code = *req.Code
		key = claimKey("template", a.UID, t.Code)
		if !h.res.claim(key) {
			writeError(w, http.StatusConflict, CodeConflict, "template "+t.Code+" is being created by another request")
			return
		}
		defer h.res.release(key)
		if _, err := h.store.GetTemplate(r.Context(), a.UID, t.Code); err == nil {
			writeError(w, http.StatusConflict, CodeConflict, "account "+a.UID+" already has template "+t.Code)
			return
		} else if !errors.Is(err, dialtone.ErrNotFound) {
			h.internal(w, "get template", err)
			return
		}
	} else {
		var err error
		if t.Code, key, err = h.newTemplateCode(r, a.UID); err != nil {
			h.internal(w, "choose a template code", err)
			return
		}
		defer h.res.release(key)
	}
	if err := h.store.PutTemplate(r.Context(), t); err != nil {
		h.putFailed(w, a.UID, "create template", err)
		return
	}
	h.log.Info("TTS template created", "account", a.UID, "code", t.Code, "kind", t.Kind, "status", t.Status)
	writeJSON(w, http.StatusCreated, templateInfo(t))
}

// newTemplateCode picks an unused TTS_ code in Alibaba's style (TTS_ and
// digits) and claims it. Six digits first; the length grows when an account
// has so many that random picks keep colliding.
func (h *handler) newTemplateCode(r *http.Request, uid string) (code, key string, err error) {
	for attempt := range 40 {
		digits := 6 + attempt/10
		lo := 1
		for range digits - 1 {
			lo *= 10
		}
		code = "TTS_" + strconv.Itoa(lo+mrand.IntN(9*lo))
		key = claimKey("template", uid, code)
		if !h.res.claim(key) {
			continue
		}
		_, err := h.store.GetTemplate(r.Context(), uid, code)
		if errors.Is(err, dialtone.ErrNotFound) {
			return code, key, nil
		}
		h.res.release(key)
		if err != nil {
			return "", "", err
		}
	}
	return "", "", errors.New("no unused template code found in 40 attempts")
}

// template loads {code} of the account, answering 404 itself.
func (h *handler) template(w http.ResponseWriter, r *http.Request) (*dialtone.TTSTemplate, bool) {
	a, ok := h.account(w, r)
	if !ok {
		return nil, false
	}
	code := r.PathValue("code")
	t, err := h.store.GetTemplate(r.Context(), a.UID, code)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeTemplateNotFound, "no TTS template "+quoteShort(code)+" in account "+a.UID)
		return nil, false
	}
	if err != nil {
		h.internal(w, "get template", err)
		return nil, false
	}
	return t, true
}

func (h *handler) getTemplate(w http.ResponseWriter, r *http.Request) {
	if t, ok := h.template(w, r); ok {
		writeJSON(w, http.StatusOK, templateInfo(t))
	}
}

func (h *handler) patchTemplate(w http.ResponseWriter, r *http.Request) {
	t, ok := h.template(w, r)
	if !ok {
		return
	}
	var req templateRequest
	if !readJSON(w, r, &req, false) {
		return
	}
	switch {
	case req.Code != nil && *req.Code != t.Code:
		badRequest(w, "code", "cannot be changed: create a new template")
		return
	case req.Status != nil:
		badRequest(w, "status", "is changed by POST .../approve or .../reject, not by PATCH")
		return
	case req.Kind == nil && req.Content == nil && req.Voice == nil:
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, `nothing to change: give "kind", "content" and/or "voice"`)
		return
	}
	changed, ok := applyTemplateFields(w, t, &req)
	if !ok {
		return
	}
	if changed {
		// What was reviewed is no longer what would be spoken: calls may
		// not use the template until it is reviewed again.
		t.Status = dialtone.ReviewPending
		t.UpdatedAt = stamp()
		if err := h.store.PutTemplate(r.Context(), t); err != nil {
			h.putFailed(w, t.AccountUID, "update template", err)
			return
		}
		h.log.Info("TTS template updated", "account", t.AccountUID, "code", t.Code, "status", t.Status)
	}
	writeJSON(w, http.StatusOK, templateInfo(t))
}

func (h *handler) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	code := r.PathValue("code")
	err := h.store.DeleteTemplate(r.Context(), a.UID, code)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeTemplateNotFound, "no TTS template "+quoteShort(code)+" in account "+a.UID)
		return
	}
	if err != nil {
		h.internal(w, "delete template", err)
		return
	}
	h.log.Info("TTS template deleted", "account", a.UID, "code", code)
	noContent(w)
}

func (h *handler) reviewTemplate(to dialtone.ReviewStatus) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := h.template(w, r)
		if !ok {
			return
		}
		reason, ok := readReview(w, r, to)
		if !ok {
			return
		}
		if t.Status != to {
			t.Status = to
			t.UpdatedAt = stamp()
			if err := h.store.PutTemplate(r.Context(), t); err != nil {
				h.putFailed(w, t.AccountUID, "review template", err)
				return
			}
		}
		// The store has no field for the reason: the log is its record.
		h.log.Info("TTS template reviewed", "account", t.AccountUID, "code", t.Code, "status", to, "reason", reason)
		writeJSON(w, http.StatusOK, templateInfo(t))
	}
}

// readReview reads the optional {"reason"} of approve and reject.
func readReview(w http.ResponseWriter, r *http.Request, to dialtone.ReviewStatus) (string, bool) {
	var req reviewRequest
	if !readJSON(w, r, &req, true) {
		return "", false
	}
	if req.Reason != "" && to != dialtone.ReviewRejected {
		badRequest(w, "reason", "only a rejection takes a reason")
		return "", false
	}
	if utf8.RuneCountInString(req.Reason) > maxReason {
		badRequest(w, "reason", "longer than "+strconv.Itoa(maxReason)+" characters")
		return "", false
	}
	return req.Reason, true
}

// ---- Voice files ----

// VoiceFileInfo is a voice file as the admin API shows it; Format is the
// uploaded format (wav or mp3), the stored audio is always 8 kHz WAV.
type VoiceFileInfo struct {
	Code       string    `json:"code"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	Format     string    `json:"format"`
	DurationMS int64     `json:"duration_ms"`
	CreatedAt  time.Time `json:"created_at"`
}

func voiceFileInfo(f *dialtone.VoiceFile) VoiceFileInfo {
	return VoiceFileInfo{Code: f.Code, Kind: string(f.Kind), Status: string(f.Status), Format: f.Format,
		DurationMS: f.Duration.Milliseconds(), CreatedAt: f.CreatedAt}
}

func (h *handler) listVoiceFiles(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	fs, err := h.store.ListVoiceFiles(r.Context(), a.UID)
	if err != nil {
		h.internal(w, "list voice files", err)
		return
	}
	out := make([]VoiceFileInfo, len(fs))
	for i := range fs {
		out[i] = voiceFileInfo(&fs[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"voice_files": out})
}

func (h *handler) uploadVoiceFile(w http.ResponseWriter, r *http.Request) {
	if h.res.importVoice == nil {
		writeError(w, http.StatusNotImplemented, CodeNotImplemented, "this server cannot import voice files through the admin API")
		return
	}
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	now := stamp()
	f := &dialtone.VoiceFile{AccountUID: a.UID, Kind: dialtone.VoiceFileKind(q.Get("kind")), Status: dialtone.ReviewPending, CreatedAt: now}
	switch {
	case !q.Has("kind"):
		badRequest(w, "kind", "required query parameter (notification or smartcall)")
		return
	case f.Kind != dialtone.VoiceFileNotification && f.Kind != dialtone.VoiceFileSmartCall:
		badRequest(w, "kind", quoteShort(q.Get("kind"))+" must be notification or smartcall")
		return
	case q.Has("code") && !validVoiceFileCode(q.Get("code")):
		badRequest(w, "code", quoteShort(q.Get("code"))+" must be 1 to 128 letters, digits, '.', '_' or '-', not starting with '.' nor containing '..' (or leave it out to get one)")
		return
	}
	if q.Has("status") {
		if f.Status, ok = parseStatus(q.Get("status")); !ok {
			badRequest(w, "status", quoteShort(q.Get("status"))+" must be pending, approved or rejected")
			return
		}
	}
	// Read the whole body before claiming the code: a slow upload must not
	// hold the code against a retry of the same upload longer than needed.
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxVoiceUpload))
	if err != nil {
		bodyError(w, err)
		return
	}
	f.Code = q.Get("code")
	if f.Code == "" {
		// Alibaba's console names uploads <uuid>.<extension>; the bytes,
		// not a file name, tell the extension.
		f.Code = newUUID() + "." + sniffAudio(data)
	}
	key := claimKey("voice", a.UID, f.Code)
	if !h.res.claim(key) {
		writeError(w, http.StatusConflict, CodeConflict, "voice file "+f.Code+" is being uploaded by another request")
		return
	}
	defer h.res.release(key)
	// Checked before importing, which would overwrite the stored audio of
	// a file that calls may be playing.
	if _, err := h.store.GetVoiceFile(r.Context(), a.UID, f.Code); err == nil {
		writeError(w, http.StatusConflict, CodeConflict, "account "+a.UID+" already has voice file "+f.Code+"; delete it first or choose another code")
		return
	} else if !errors.Is(err, dialtone.ErrNotFound) {
		h.internal(w, "get voice file", err)
		return
	}
	f.StoredPath, f.Format, f.Duration, err = h.res.importVoice(data, a.UID, f.Code)
	if err != nil {
		var de *dialtone.Error
		if errors.As(err, &de) && de.Code != dialtone.CodeSystemError {
			h.log.Info("voice file rejected", "account", a.UID, "code", f.Code, "bytes", len(data), "err", err)
			writeError(w, http.StatusBadRequest, de.Code, de.Message)
			return
		}
		h.internal(w, "import voice file", err)
		return
	}
	if err := h.store.PutVoiceFile(r.Context(), f); err != nil {
		// The stored audio stays behind; uploading the same code again
		// replaces it.
		h.putFailed(w, a.UID, "store voice file", err)
		return
	}
	h.log.Info("voice file uploaded", "account", a.UID, "code", f.Code, "kind", f.Kind, "format", f.Format,
		"duration", f.Duration, "bytes", len(data))
	writeJSON(w, http.StatusCreated, voiceFileInfo(f))
}

func validVoiceFileCode(s string) bool {
	return voiceFileCode.MatchString(s) && !strings.Contains(s, "..")
}

// sniffAudio names the extension of an upload by its first bytes, as the
// media decoder does; anything else is left to the importer to reject.
func sniffAudio(data []byte) string {
	if len(data) >= 12 && string(data[8:12]) == "WAVE" {
		return "wav"
	}
	if bytes.HasPrefix(data, []byte("ID3")) || len(data) >= 2 && data[0] == 0xFF && data[1]&0xE0 == 0xE0 {
		return "mp3"
	}
	return "wav"
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// voiceFile loads {code} of the account, answering 404 itself.
func (h *handler) voiceFile(w http.ResponseWriter, r *http.Request) (*dialtone.VoiceFile, bool) {
	a, ok := h.account(w, r)
	if !ok {
		return nil, false
	}
	code := r.PathValue("code")
	f, err := h.store.GetVoiceFile(r.Context(), a.UID, code)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeVoiceFileNotFound, "no voice file "+quoteShort(code)+" in account "+a.UID)
		return nil, false
	}
	if err != nil {
		h.internal(w, "get voice file", err)
		return nil, false
	}
	return f, true
}

func (h *handler) getVoiceFile(w http.ResponseWriter, r *http.Request) {
	if f, ok := h.voiceFile(w, r); ok {
		writeJSON(w, http.StatusOK, voiceFileInfo(f))
	}
}

// voiceFileAudio serves the stored 8 kHz WAV, whatever the review status,
// so that a reviewer can listen to it in a browser (with Range support,
// which audio elements use).
func (h *handler) voiceFileAudio(w http.ResponseWriter, r *http.Request) {
	if h.res.loadVoice == nil {
		writeError(w, http.StatusNotImplemented, CodeNotImplemented, "this server cannot play voice files through the admin API")
		return
	}
	f, ok := h.voiceFile(w, r)
	if !ok {
		return
	}
	data, err := h.res.loadVoice(f.StoredPath)
	if err != nil {
		h.internal(w, "load voice file", err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "audio/wav")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": f.Code + ".wav"}))
	http.ServeContent(w, r, "", f.CreatedAt, bytes.NewReader(data))
}

func (h *handler) deleteVoiceFile(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	code := r.PathValue("code")
	err := h.store.DeleteVoiceFile(r.Context(), a.UID, code)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeVoiceFileNotFound, "no voice file "+quoteShort(code)+" in account "+a.UID)
		return
	}
	if err != nil {
		h.internal(w, "delete voice file", err)
		return
	}
	// The stored audio is left on disk: calls accepted before the delete
	// may still play it, and a new upload under the same code replaces it.
	h.log.Info("voice file deleted", "account", a.UID, "code", code)
	noContent(w)
}

func (h *handler) reviewVoiceFile(to dialtone.ReviewStatus) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.voiceFile(w, r)
		if !ok {
			return
		}
		reason, ok := readReview(w, r, to)
		if !ok {
			return
		}
		if f.Status != to {
			f.Status = to
			if err := h.store.PutVoiceFile(r.Context(), f); err != nil {
				h.putFailed(w, f.AccountUID, "review voice file", err)
				return
			}
		}
		// The store has no field for the reason: the log is its record.
		h.log.Info("voice file reviewed", "account", f.AccountUID, "code", f.Code, "status", to, "reason", reason)
		writeJSON(w, http.StatusOK, voiceFileInfo(f))
	}
}

// ---- Settings ----

// FlowControlInfo limits how often one callee may be called; 0 is no limit.
type FlowControlInfo struct {
	PerMinute int `json:"per_minute"`
	PerHour   int `json:"per_hour"`
	PerDay    int `json:"per_day"`
}

// SettingsInfo is an account's call-engine settings.
type SettingsInfo struct {
	FlowControl          FlowControlInfo `json:"flow_control"`
	SmartCallCallbackURL string          `json:"smartcall_callback_url"`
	Blacklist            []string        `json:"blacklist"`
}

func settingsInfo(s *dialtone.AccountSettings) SettingsInfo {
	return SettingsInfo{
		FlowControl:          FlowControlInfo{PerMinute: s.FlowControl.PerMinute, PerHour: s.FlowControl.PerHour, PerDay: s.FlowControl.PerDay},
		SmartCallCallbackURL: s.SmartCallCallbackURL,
		Blacklist:            nonNil(s.Blacklist),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// settingsRequest is the body of PUT settings: fields left out (or null)
// keep their value, so that a change to one setting cannot reset another
// to "unlimited" or "empty" by accident.
type settingsRequest struct {
	FlowControl *struct {
		PerMinute *int `json:"per_minute"`
		PerHour   *int `json:"per_hour"`
		PerDay    *int `json:"per_day"`
	} `json:"flow_control"`
	SmartCallCallbackURL *string   `json:"smartcall_callback_url"`
	Blacklist            *[]string `json:"blacklist"`
}

func (h *handler) getSettings(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	st, err := h.store.GetAccountSettings(r.Context(), a.UID)
	if err != nil {
		h.internal(w, "get settings", err)
		return
	}
	writeJSON(w, http.StatusOK, settingsInfo(st))
}

func (h *handler) putSettings(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	var req settingsRequest
	if !readJSON(w, r, &req, false) {
		return
	}
	st, err := h.store.GetAccountSettings(r.Context(), a.UID)
	if err != nil {
		h.internal(w, "get settings", err)
		return
	}
	if fc := req.FlowControl; fc != nil {
		for _, l := range []struct {
			name string
			v    *int
			dst  *int
		}{
			{"flow_control.per_minute", fc.PerMinute, &st.FlowControl.PerMinute},
			{"flow_control.per_hour", fc.PerHour, &st.FlowControl.PerHour},
			{"flow_control.per_day", fc.PerDay, &st.FlowControl.PerDay},
		} {
			if l.v == nil {
				continue
			}
			if *l.v < 0 {
				badRequest(w, l.name, "must not be negative (0 means no limit)")
				return
			}
			*l.dst = *l.v
		}
	}
	if u := req.SmartCallCallbackURL; u != nil {
		if msg := checkCallbackURL(*u); msg != "" {
			badRequest(w, "smartcall_callback_url", msg)
			return
		}
		st.SmartCallCallbackURL = *u
	}
	if req.Blacklist != nil {
		words, ok := checkBlacklist(w, *req.Blacklist)
		if !ok {
			return
		}
		st.Blacklist = words
	}
	if err := h.store.PutAccountSettings(r.Context(), a.UID, st); err != nil {
		h.putFailed(w, a.UID, "store settings", err)
		return
	}
	h.log.Info("account settings updated", "account", a.UID, "per_minute", st.FlowControl.PerMinute,
		"per_hour", st.FlowControl.PerHour, "per_day", st.FlowControl.PerDay, "blacklist_words", len(st.Blacklist))
	writeJSON(w, http.StatusOK, settingsInfo(st))
}

func checkCallbackURL(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > maxCallbackURL {
		return "longer than " + strconv.Itoa(maxCallbackURL) + " bytes"
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return quoteShort(s) + ` is not an http:// or https:// URL (or "" for none)`
	}
	return ""
}

// checkBlacklist trims the words and drops repeats; it answers 400 itself
// for an empty, overlong or control-character word, since such a word is
// more likely a mistake than a wish.
func checkBlacklist(w http.ResponseWriter, words []string) ([]string, bool) {
	if len(words) > maxBlacklistWords {
		badRequest(w, "blacklist", "has "+strconv.Itoa(len(words))+" words, more than the limit of "+strconv.Itoa(maxBlacklistWords))
		return nil, false
	}
	out := make([]string, 0, len(words))
	seen := make(map[string]bool, len(words))
	for i, word := range words {
		field := "blacklist[" + strconv.Itoa(i) + "]"
		word = strings.TrimSpace(word)
		switch {
		case word == "":
			badRequest(w, field, "must not be empty")
			return nil, false
		case utf8.RuneCountInString(word) > maxBlacklistWord:
			badRequest(w, field, "longer than "+strconv.Itoa(maxBlacklistWord)+" characters")
			return nil, false
		case strings.IndexFunc(word, unicode.IsControl) >= 0:
			badRequest(w, field, "contains a control character")
			return nil, false
		}
		if !seen[word] {
			seen[word] = true
			out = append(out, word)
		}
	}
	return out, true
}

// blacklistBody is the body and answer of the global blacklist.
type blacklistBody struct {
	Blacklist *[]string `json:"blacklist"`
}

func (h *handler) getGlobalBlacklist(w http.ResponseWriter, r *http.Request) {
	st, err := h.store.GetAccountSettings(r.Context(), "")
	if err != nil {
		h.internal(w, "get global blacklist", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]string{"blacklist": nonNil(st.Blacklist)})
}

func (h *handler) putGlobalBlacklist(w http.ResponseWriter, r *http.Request) {
	var req blacklistBody
	if !readJSON(w, r, &req, false) {
		return
	}
	if req.Blacklist == nil {
		badRequest(w, "blacklist", "required (a list of words; [] clears it)")
		return
	}
	words, ok := checkBlacklist(w, *req.Blacklist)
	if !ok {
		return
	}
	st, err := h.store.GetAccountSettings(r.Context(), "")
	if err != nil {
		h.internal(w, "get global blacklist", err)
		return
	}
	st.Blacklist = words
	if err := h.store.PutAccountSettings(r.Context(), "", st); err != nil {
		h.internal(w, "store global blacklist", err)
		return
	}
	h.log.Info("global blacklist updated", "words", len(words))
	writeJSON(w, http.StatusOK, map[string][]string{"blacklist": words})
}

// ---- helpers ----

// putFailed answers a failed Put*: ErrNotFound means the account went away
// between the check and the write.
func (h *handler) putFailed(w http.ResponseWriter, uid, what string, err error) {
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeAccountNotFound, "no account "+uid)
		return
	}
	h.internal(w, what, err)
}

// stamp is the time of a change at the store's precision (milliseconds),
// so that the answer to a change shows what later reads will.
func stamp() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func noContent(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
