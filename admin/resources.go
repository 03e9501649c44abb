package admin

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/resource"
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
//	PUT    /admin/v1/accounts/{uid}/settings                  {"flow_control", "smartcall_callback_url", "smartcall_callback_secret", "smartcall_callback_secret_grace_seconds", "blacklist", "machine_detection", "smartcall_stream_url", "fork_stream_url", "fork_stream_kinds"}
//	GET    /admin/v1/blacklist
//	PUT    /admin/v1/blacklist                                {"blacklist"}

// Error codes of the resource endpoints.
const (
	CodeNumberNotFound    = "NumberNotFound"
	CodeTemplateNotFound  = "TemplateNotFound"
	CodeVoiceFileNotFound = "VoiceFileNotFound"
)

// MaxVoiceUpload is the largest voice file accepted, the media decoder's
// own input limit.
const MaxVoiceUpload = 50 << 20

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

// fail answers a failed change of the resource service: the rule broken
// (400, naming the field), the resource missing (404 with notFound and
// what), already there (409), or the store's failure (500).
func (h *handler) fail(w http.ResponseWriter, err error, notFound, what string) {
	var ie *dialtone.InvalidError
	var de *dialtone.Error
	switch {
	case errors.As(err, &ie):
		writeError(w, http.StatusBadRequest, CodeInvalidRequest, ie.Error())
	case errors.As(err, &de) && de.Code != dialtone.CodeSystemError:
		writeError(w, http.StatusBadRequest, de.Code, de.Message)
	case errors.Is(err, dialtone.ErrNotFound):
		writeError(w, http.StatusNotFound, notFound, "no "+what)
	case errors.Is(err, dialtone.ErrConflict):
		writeError(w, http.StatusConflict, CodeConflict, strings.TrimSuffix(err.Error(), ": "+dialtone.ErrConflict.Error()))
	case errors.Is(err, resource.ErrNoDataDir):
		writeError(w, http.StatusNotImplemented, CodeNotImplemented, "this server keeps no voice files")
	default:
		h.internal(w, what, err)
	}
}

// ---- Numbers ----

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
	writeJSON(w, http.StatusOK, map[string]any{"numbers": nums})
}

func (h *handler) createNumber(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	n := dialtone.Number{AccountUID: a.UID, Concurrency: dialtone.DefaultConcurrency}
	if !readJSON(w, r, &n, false) {
		return
	}
	n.AccountUID = a.UID
	created, err := h.svc.CreateNumber(r.Context(), n)
	if err != nil {
		h.fail(w, err, CodeAccountNotFound, "account "+a.UID)
		return
	}
	writeJSON(w, http.StatusCreated, created)
}

func (h *handler) getNumber(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	n, err := h.store.GetNumber(r.Context(), a.UID, r.PathValue("number"))
	if err != nil {
		h.fail(w, err, CodeNumberNotFound, "number "+quoteShort(r.PathValue("number"))+" in account "+a.UID)
		return
	}
	writeJSON(w, http.StatusOK, n)
}

func (h *handler) patchNumber(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	var req struct {
		Concurrency *int `json:"concurrency"`
	}
	if !readJSON(w, r, &req, false) {
		return
	}
	if req.Concurrency == nil {
		badRequest(w, "concurrency", "required")
		return
	}
	n, err := h.svc.UpdateNumber(r.Context(), a.UID, r.PathValue("number"), *req.Concurrency)
	if err != nil {
		h.fail(w, err, CodeNumberNotFound, "number "+quoteShort(r.PathValue("number"))+" in account "+a.UID)
		return
	}
	writeJSON(w, http.StatusOK, n)
}

func (h *handler) deleteNumber(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	if err := h.svc.DeleteNumber(r.Context(), a.UID, r.PathValue("number")); err != nil {
		h.fail(w, err, CodeNumberNotFound, "number "+quoteShort(r.PathValue("number"))+" in account "+a.UID)
		return
	}
	noContent(w)
}

// ---- TTS templates ----

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
	writeJSON(w, http.StatusOK, map[string]any{"tts_templates": ts})
}

func (h *handler) createTemplate(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	t := dialtone.TTSTemplate{Status: dialtone.ReviewPending}
	if !readJSON(w, r, &t, false) {
		return
	}
	t.AccountUID = a.UID
	created, err := h.svc.CreateTemplate(r.Context(), t)
	if err != nil {
		h.fail(w, err, CodeAccountNotFound, "account "+a.UID)
		return
	}
	writeJSON(w, http.StatusCreated, created)
}

func (h *handler) getTemplate(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	code := r.PathValue("code")
	t, err := h.store.GetTemplate(r.Context(), a.UID, code)
	if err != nil {
		h.fail(w, err, CodeTemplateNotFound, "TTS template "+quoteShort(code)+" in account "+a.UID)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (h *handler) patchTemplate(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	var u dialtone.TemplateUpdate
	if !readJSON(w, r, &u, false) {
		return
	}
	code := r.PathValue("code")
	t, err := h.svc.UpdateTemplate(r.Context(), a.UID, code, u)
	if err != nil {
		h.fail(w, err, CodeTemplateNotFound, "TTS template "+quoteShort(code)+" in account "+a.UID)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (h *handler) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	code := r.PathValue("code")
	if err := h.svc.DeleteTemplate(r.Context(), a.UID, code); err != nil {
		h.fail(w, err, CodeTemplateNotFound, "TTS template "+quoteShort(code)+" in account "+a.UID)
		return
	}
	noContent(w)
}

// reviewRequest is the optional body of approve and reject.
type reviewRequest struct {
	Reason string `json:"reason"`
}

func (h *handler) reviewTemplate(to dialtone.ReviewStatus) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.account(w, r)
		if !ok {
			return
		}
		var req reviewRequest
		if !readJSON(w, r, &req, true) {
			return
		}
		code := r.PathValue("code")
		t, err := h.svc.ReviewTemplate(r.Context(), a.UID, code, to, req.Reason)
		if err != nil {
			h.fail(w, err, CodeTemplateNotFound, "TTS template "+quoteShort(code)+" in account "+a.UID)
			return
		}
		writeJSON(w, http.StatusOK, t)
	}
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

// uploadVoiceFile takes the WAV or MP3 itself as the body; kind, code and
// status are query parameters.
func (h *handler) uploadVoiceFile(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := dialtone.VoiceFile{AccountUID: a.UID, Kind: dialtone.VoiceFileKind(q.Get("kind")), Code: q.Get("code"),
		Status: dialtone.ReviewStatus(q.Get("status"))}
	if q.Has("code") && f.Code == "" {
		badRequest(w, "code", `"" is not a voice file code (leave it out to get one)`)
		return
	}
	if q.Has("status") && f.Status == "" {
		badRequest(w, "status", `"" must be pending, approved or rejected`)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxVoiceUpload))
	if err != nil {
		bodyError(w, err)
		return
	}
	created, err := h.svc.CreateVoiceFile(r.Context(), f, data)
	if err != nil {
		h.fail(w, err, CodeAccountNotFound, "account "+a.UID)
		return
	}
	writeJSON(w, http.StatusCreated, voiceFileInfo(created))
}

func (h *handler) getVoiceFile(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	code := r.PathValue("code")
	f, err := h.store.GetVoiceFile(r.Context(), a.UID, code)
	if err != nil {
		h.fail(w, err, CodeVoiceFileNotFound, "voice file "+quoteShort(code)+" in account "+a.UID)
		return
	}
	writeJSON(w, http.StatusOK, voiceFileInfo(f))
}

// voiceFileAudio serves the stored 8 kHz WAV, whatever the review status,
// so that a reviewer can listen to it in a browser (with Range support,
// which audio elements use).
func (h *handler) voiceFileAudio(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	code := r.PathValue("code")
	f, audio, err := h.svc.Audio(r.Context(), a.UID, code)
	if err != nil {
		h.fail(w, err, CodeVoiceFileNotFound, "voice file "+quoteShort(code)+" in account "+a.UID)
		return
	}
	var buf bytes.Buffer
	if err := media.EncodeWAV(&buf, audio.Samples, media.TelephonyRate, 1); err != nil {
		h.internal(w, "encode voice file", err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "audio/wav")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": f.Code + ".wav"}))
	http.ServeContent(w, r, "", f.CreatedAt, bytes.NewReader(buf.Bytes()))
}

func (h *handler) deleteVoiceFile(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	code := r.PathValue("code")
	if err := h.svc.DeleteVoiceFile(r.Context(), a.UID, code); err != nil {
		h.fail(w, err, CodeVoiceFileNotFound, "voice file "+quoteShort(code)+" in account "+a.UID)
		return
	}
	noContent(w)
}

func (h *handler) reviewVoiceFile(to dialtone.ReviewStatus) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := h.account(w, r)
		if !ok {
			return
		}
		var req reviewRequest
		if !readJSON(w, r, &req, true) {
			return
		}
		code := r.PathValue("code")
		f, err := h.svc.ReviewVoiceFile(r.Context(), a.UID, code, to, req.Reason)
		if err != nil {
			h.fail(w, err, CodeVoiceFileNotFound, "voice file "+quoteShort(code)+" in account "+a.UID)
			return
		}
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
// The callback's secret is never shown, only whether one is set and
// whether a rotation's grace runs.
type SettingsInfo struct {
	FlowControl              FlowControlInfo `json:"flow_control"`
	SmartCallCallbackURL     string          `json:"smartcall_callback_url"`
	SmartCallCallbackTrusted bool            `json:"smartcall_callback_trusted"`
	SmartCallCallbackSecret  bool            `json:"smartcall_callback_secret_set"`
	// SmartCallCallbackSecretPreviousUntil is the end of a rotation's
	// grace, while callbacks carry the replaced secret's signature too.
	SmartCallCallbackSecretPreviousUntil *time.Time `json:"smartcall_callback_secret_previous_until,omitempty"`
	Blacklist                            []string   `json:"blacklist"`
	// MachineDetection is off, detect, hangup or message.
	MachineDetection string `json:"machine_detection"`
	// Media streams: the agent's URL for SmartCalls, the listen-only
	// fork's and the kinds it streams ([] for every kind), each URL with
	// who set it.
	SmartCallStreamURL     string   `json:"smartcall_stream_url"`
	SmartCallStreamTrusted bool     `json:"smartcall_stream_trusted"`
	ForkStreamURL          string   `json:"fork_stream_url"`
	ForkStreamTrusted      bool     `json:"fork_stream_trusted"`
	ForkStreamKinds        []string `json:"fork_stream_kinds"`
}

func settingsInfo(s *dialtone.AccountSettings) SettingsInfo {
	return SettingsInfo{
		FlowControl:                          FlowControlInfo{PerMinute: s.FlowControl.PerMinute, PerHour: s.FlowControl.PerHour, PerDay: s.FlowControl.PerDay},
		SmartCallCallbackURL:                 s.SmartCallCallbackURL,
		SmartCallCallbackTrusted:             s.SmartCallCallbackTrusted,
		SmartCallCallbackSecret:              s.SmartCallCallbackSecret.Current != "",
		SmartCallCallbackSecretPreviousUntil: rotatingUntil(s.SmartCallCallbackSecret),
		Blacklist:                            nonNil(s.Blacklist),
		MachineDetection:                     string(s.MachineDetection.OrOff()),
		SmartCallStreamURL:                   s.SmartCallStreamURL,
		SmartCallStreamTrusted:               s.SmartCallStreamTrusted,
		ForkStreamURL:                        s.ForkStreamURL,
		ForkStreamTrusted:                    s.ForkStreamTrusted,
		ForkStreamKinds:                      forkKinds(s.ForkStreamKinds),
	}
}

func forkKinds(kinds []dialtone.ForkKind) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
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

// putSettings changes the settings the body gives: fields left out (or
// null) keep their value.
func (h *handler) putSettings(w http.ResponseWriter, r *http.Request) {
	a, ok := h.account(w, r)
	if !ok {
		return
	}
	var u dialtone.SettingsUpdate
	if !readJSON(w, r, &u, false) {
		return
	}
	st, _, err := h.svc.UpdateSettings(r.Context(), a.UID, u)
	if err != nil {
		h.fail(w, err, CodeAccountNotFound, "account "+a.UID)
		return
	}
	writeJSON(w, http.StatusOK, settingsInfo(st))
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
	words, _, err := h.svc.SetGlobalBlacklist(r.Context(), *req.Blacklist)
	if err != nil {
		h.fail(w, err, CodeNotFound, "global settings")
		return
	}
	writeJSON(w, http.StatusOK, map[string][]string{"blacklist": nonNil(words)})
}

// ---- helpers ----

func badRequest(w http.ResponseWriter, field, msg string) {
	writeError(w, http.StatusBadRequest, CodeInvalidRequest, field+": "+msg)
}

func noContent(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
