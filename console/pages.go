package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/keygen"
	"github.com/dialtone-voice/dialtone/media"
)

// --- overview ---

type chart struct {
	Title          string
	Width, Height  int
	X0, X1, Y0, Y1 int // plot area: x from X0 to X1, y from Y1 (top) to Y0 (bottom)
	Points         string
	Max            int
	From, To       string
	Total, Peak    int
	ID             string
}

type statusCount struct {
	Code, Text string
	Count      int
}

type overviewData struct {
	StatsMissing bool
	Hour, Day    chart
	Total        int
	Answered     int
	AnswerRate   float64
	ByStatus     []statusCount
	LiveAccount  int
	LiveNode     int
	NodeKnown    bool
}

// makeChart turns per-minute counts into an SVG polyline.
func makeChart(id, title string, counts []int, from, to time.Time) chart {
	ch := chart{ID: id, Title: title, Width: 760, Height: 190, X0: 40, X1: 750, Y0: 170, Y1: 12,
		From: fmtTime(from)[:16], To: fmtTime(to)[:16]}
	for _, n := range counts {
		ch.Max = max(ch.Max, n)
		ch.Total += n
	}
	ch.Peak = ch.Max
	top := max(ch.Max, 1)
	var b strings.Builder
	for i, n := range counts {
		x := float64(ch.X0) + float64(i)*float64(ch.X1-ch.X0)/float64(max(len(counts)-1, 1))
		y := float64(ch.Y0) - float64(n)*float64(ch.Y0-ch.Y1)/float64(top)
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
	}
	ch.Points = strings.TrimSpace(b.String())
	return ch
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, v *view) {
	ctx, cancel := withTimeout(r)
	defer cancel()
	d := overviewData{}
	now := c.now()
	end := now.Truncate(time.Minute).Add(time.Minute)
	if c.stats != nil && v.Account != "" {
		st, err := c.stats.CallStats(ctx, v.Account, end.Add(-24*time.Hour), end, time.Minute)
		if err != nil {
			c.internal(w, r, "call stats", err)
			return
		}
		d.Day = makeChart("chart-day", "Calls per minute, last 24 hours", st.Counts, st.Since, st.Until)
		d.Hour = makeChart("chart-hour", "Calls per minute, last hour", st.Counts[len(st.Counts)-60:], end.Add(-time.Hour), end)
		d.Total, d.Answered, d.AnswerRate = st.Total, st.Answered, st.AnswerRate()
		for code, n := range st.ByStatus {
			text := dialtone.StatusText(code)
			if code == "" {
				text = "live, no status yet 进行中"
			}
			d.ByStatus = append(d.ByStatus, statusCount{Code: code, Text: text, Count: n})
		}
		sort.Slice(d.ByStatus, func(i, j int) bool {
			if d.ByStatus[i].Count != d.ByStatus[j].Count {
				return d.ByStatus[i].Count > d.ByStatus[j].Count
			}
			return d.ByStatus[i].Code < d.ByStatus[j].Code
		})
	} else {
		d.StatsMissing = true
	}
	live, err := c.liveOf(ctx, v.Account)
	if err != nil {
		c.internal(w, r, "live calls", err)
		return
	}
	d.LiveAccount = live
	if c.cfg.Live != nil && v.Operator {
		d.LiveNode, d.NodeKnown = c.cfg.Live.Live(), true
	}
	v.Title, v.Data = "Overview 概览", d
	c.render(w, r, http.StatusOK, "overview.html", v, "")
}

// liveOf counts the account's unfinished calls (on any node) through the
// store's partial index of live calls.
func (c *Console) liveOf(ctx context.Context, acct string) (int, error) {
	calls, err := c.store.ListUnfinishedCalls(ctx, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, cl := range calls {
		if cl.AccountUID == acct {
			n++
		}
	}
	return n, nil
}

// --- numbers ---

type numberRow struct {
	dialtone.Number
	Live int
}

func (c *Console) numbersPage(w http.ResponseWriter, r *http.Request, v *view) {
	nums, err := c.store.ListNumbers(r.Context(), v.Account)
	if err != nil {
		c.internal(w, r, "numbers", err)
		return
	}
	rows := make([]numberRow, len(nums))
	for i, n := range nums {
		rows[i].Number = n
		if c.cfg.Live != nil {
			rows[i].Live = c.cfg.Live.LiveByNumber(n.Number)
		}
	}
	messages(r, v)
	v.Title, v.Data = "Numbers 号码", rows
	c.render(w, r, http.StatusOK, "numbers.html", v, "")
}

var digits = regexp.MustCompile(`^[0-9]{3,20}$`)

func (c *Console) numberPut(w http.ResponseWriter, r *http.Request, v *view) {
	num := strings.TrimSpace(r.PostFormValue("number"))
	conc, err := strconv.Atoi(r.PostFormValue("concurrency"))
	if !digits.MatchString(num) || err != nil || conc < 1 || conc > 100000 {
		redirect(w, r, "numbers", "", "A number is 3 to 20 digits and its concurrency cap 1 to 100000.")
		return
	}
	n := &dialtone.Number{AccountUID: v.Account, Number: num, Concurrency: conc, CreatedAt: c.now()}
	if old, err := c.store.GetNumber(r.Context(), v.Account, num); err == nil {
		n.CreatedAt = old.CreatedAt
	}
	if err := c.store.PutNumber(r.Context(), n); err != nil {
		c.internal(w, r, "put number", err)
		return
	}
	redirect(w, r, "numbers", "Saved number "+num+".", "")
}

func (c *Console) numberDelete(w http.ResponseWriter, r *http.Request, v *view) {
	num := r.PostFormValue("number")
	if err := c.store.DeleteNumber(r.Context(), v.Account, num); err != nil && !errors.Is(err, dialtone.ErrNotFound) {
		c.internal(w, r, "delete number", err)
		return
	}
	redirect(w, r, "numbers", "Removed number "+num+".", "")
}

// --- TTS templates ---

var templateVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

type templateRow struct {
	dialtone.TTSTemplate
	Vars []string
}

func (c *Console) templatesPage(w http.ResponseWriter, r *http.Request, v *view) {
	ts, err := c.store.ListTemplates(r.Context(), v.Account)
	if err != nil {
		c.internal(w, r, "templates", err)
		return
	}
	rows := make([]templateRow, len(ts))
	for i, t := range ts {
		rows[i] = templateRow{TTSTemplate: t, Vars: varNames(t.Content)}
	}
	messages(r, v)
	v.Title, v.Data = "TTS templates 文本模板", rows
	c.render(w, r, http.StatusOK, "templates.html", v, "")
}

func varNames(content string) []string {
	var out []string
	for _, m := range templateVar.FindAllStringSubmatch(content, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

func (c *Console) templateCreate(w http.ResponseWriter, r *http.Request, v *view) {
	content := strings.TrimSpace(r.PostFormValue("content"))
	kind := dialtone.TemplateKind(r.PostFormValue("kind"))
	voice := strings.TrimSpace(r.PostFormValue("voice"))
	if content == "" || len([]rune(content)) > 500 {
		redirect(w, r, "templates", "", "The content is required and at most 500 characters.")
		return
	}
	if kind != dialtone.TemplateVerification && kind != dialtone.TemplateNotification {
		redirect(w, r, "templates", "", "Choose verification or notification.")
		return
	}
	code, err := keygen.GenerateUID()
	if err != nil {
		c.internal(w, r, "template code", err)
		return
	}
	now := c.now()
	t := &dialtone.TTSTemplate{AccountUID: v.Account, Code: "TTS_" + code[:9], Kind: kind, Content: content,
		Status: dialtone.ReviewPending, Voice: voice, CreatedAt: now, UpdatedAt: now}
	if err := c.store.PutTemplate(r.Context(), t); err != nil {
		c.internal(w, r, "put template", err)
		return
	}
	redirect(w, r, "templates", "Submitted template "+t.Code+" for review.", "")
}

// review reads the decision of an approve/reject form.
func review(r *http.Request) (dialtone.ReviewStatus, bool) {
	switch s := dialtone.ReviewStatus(r.PostFormValue("status")); s {
	case dialtone.ReviewApproved, dialtone.ReviewRejected, dialtone.ReviewPending:
		return s, true
	}
	return "", false
}

func (c *Console) templateReview(w http.ResponseWriter, r *http.Request, v *view) {
	st, ok := review(r)
	if !ok {
		redirect(w, r, "templates", "", "Unknown review status.")
		return
	}
	t, err := c.store.GetTemplate(r.Context(), v.Account, r.PostFormValue("code"))
	if err != nil {
		c.notFoundOr(w, r, v, "template", err)
		return
	}
	t.Status, t.UpdatedAt = st, c.now()
	if err := c.store.PutTemplate(r.Context(), t); err != nil {
		c.internal(w, r, "review template", err)
		return
	}
	redirect(w, r, "templates", fmt.Sprintf("Template %s is now %s.", t.Code, st), "")
}

func (c *Console) templateDelete(w http.ResponseWriter, r *http.Request, v *view) {
	code := r.PostFormValue("code")
	if err := c.store.DeleteTemplate(r.Context(), v.Account, code); err != nil {
		c.notFoundOr(w, r, v, "delete template", err)
		return
	}
	redirect(w, r, "templates", "Deleted template "+code+".", "")
}

// templatePreview renders the template with the TTS engine the calls use
// and answers a WAV the browser plays. Missing variables read their name.
func (c *Console) templatePreview(w http.ResponseWriter, r *http.Request, v *view) {
	t, err := c.store.GetTemplate(r.Context(), v.Account, r.URL.Query().Get("code"))
	if err != nil {
		c.notFoundOr(w, r, v, "template", err)
		return
	}
	if c.cfg.Speaker == nil {
		http.Error(w, "This node has no TTS engine configured.", http.StatusServiceUnavailable)
		return
	}
	vars := map[string]string{}
	for _, name := range varNames(t.Content) {
		val := r.URL.Query().Get("var_" + name)
		if val == "" {
			val = name
		}
		vars[name] = val
	}
	text := templateVar.ReplaceAllStringFunc(t.Content, func(m string) string {
		return vars[templateVar.FindStringSubmatch(m)[1]]
	})
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	a, err := media.SpeakPrompt(ctx, c.cfg.Speaker, dialtone.Prompt{Text: text, Voice: t.Voice, Code: t.Code,
		Verification: t.Kind == dialtone.TemplateVerification, Vars: vars}, 0, 100)
	if err != nil {
		c.internal(w, r, "preview", err)
		return
	}
	writeWAV(w, a.Samples)
}

func writeWAV(w http.ResponseWriter, samples []int16) {
	var buf bytes.Buffer
	if err := media.EncodeWAV(&buf, samples, media.TelephonyRate, 1); err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "private, max-age=60")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

func (c *Console) notFoundOr(w http.ResponseWriter, r *http.Request, v *view, what string, err error) {
	if errors.Is(err, dialtone.ErrNotFound) {
		c.notFound(w, r, v)
		return
	}
	c.internal(w, r, what, err)
}

// --- voice files ---

// maxUpload bounds a voice file upload; Alibaba's console takes 2 MB MP3
// or WAV, a generous factor covers long WAV prompts.
const maxUpload = 20 << 20

func (c *Console) voiceFilesPage(w http.ResponseWriter, r *http.Request, v *view) {
	fs, err := c.store.ListVoiceFiles(r.Context(), v.Account)
	if err != nil {
		c.internal(w, r, "voice files", err)
		return
	}
	messages(r, v)
	v.Title, v.Data = "Voice files 语音文件", fs
	c.render(w, r, http.StatusOK, "voicefiles.html", v, "")
}

// voiceFileUpload takes a multipart upload (the page's XHR, which shows
// the progress) and answers JSON for it, or redirects a plain form post.
func (c *Console) voiceFileUpload(w http.ResponseWriter, r *http.Request, v *view) {
	xhr := r.Header.Get(csrfHeader) != ""
	fail := func(status int, msg string) {
		if xhr {
			writeJSON(w, status, map[string]string{"error": msg})
			return
		}
		redirect(w, r, "voicefiles", "", msg)
	}
	if c.cfg.DataDir == "" {
		fail(http.StatusServiceUnavailable, "This node has no data directory for voice files.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		fail(http.StatusBadRequest, "Choose a WAV or MP3 file of at most 20 MB.")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil || len(data) > maxUpload {
		fail(http.StatusRequestEntityTooLarge, "The file is larger than 20 MB.")
		return
	}
	kind := dialtone.VoiceFileKind(r.FormValue("kind"))
	if kind != dialtone.VoiceFileSmartCall {
		kind = dialtone.VoiceFileNotification
	}
	id, err := keygen.GenerateUID()
	if err != nil {
		c.internal(w, r, "voice file code", err)
		return
	}
	// Alibaba's voice IDs look like "2d4c-4e78-8d2a-afbb06cf****.wav".
	code := fmt.Sprintf("%s-%s-%s.wav", id[:4], id[4:8], id[8:16])
	stored, format, dur, err := media.ImportVoiceFile(data, c.cfg.DataDir, v.Account, code)
	if err != nil {
		var be *dialtone.Error
		if errors.As(err, &be) {
			fail(http.StatusBadRequest, "The file was refused: "+be.Message)
			return
		}
		c.log.ErrorContext(r.Context(), "console: import voice file", "err", err)
		fail(http.StatusInternalServerError, "The file could not be stored; it has been logged.")
		return
	}
	vf := &dialtone.VoiceFile{AccountUID: v.Account, Code: code, Kind: kind, Status: dialtone.ReviewPending,
		StoredPath: stored, Format: format, Duration: dur, CreatedAt: c.now()}
	if err := c.store.PutVoiceFile(r.Context(), vf); err != nil {
		c.internal(w, r, "put voice file", err)
		return
	}
	c.log.InfoContext(r.Context(), "console: voice file uploaded", "account", v.Account, "code", code, "name", hdr.Filename, "format", format)
	if xhr {
		writeJSON(w, http.StatusOK, map[string]string{"code": code, "format": format, "duration": dur.String()})
		return
	}
	redirect(w, r, "voicefiles", "Uploaded "+code+".", "")
}

func (c *Console) voiceFileReview(w http.ResponseWriter, r *http.Request, v *view) {
	st, ok := review(r)
	if !ok {
		redirect(w, r, "voicefiles", "", "Unknown review status.")
		return
	}
	f, err := c.store.GetVoiceFile(r.Context(), v.Account, r.PostFormValue("code"))
	if err != nil {
		c.notFoundOr(w, r, v, "voice file", err)
		return
	}
	f.Status = st
	if err := c.store.PutVoiceFile(r.Context(), f); err != nil {
		c.internal(w, r, "review voice file", err)
		return
	}
	redirect(w, r, "voicefiles", fmt.Sprintf("Voice file %s is now %s.", f.Code, st), "")
}

func (c *Console) voiceFileDelete(w http.ResponseWriter, r *http.Request, v *view) {
	code := r.PostFormValue("code")
	if err := c.store.DeleteVoiceFile(r.Context(), v.Account, code); err != nil {
		c.notFoundOr(w, r, v, "delete voice file", err)
		return
	}
	redirect(w, r, "voicefiles", "Deleted voice file "+code+".", "")
}

// voiceFileAudio plays the stored (8 kHz) audio of a file of the account.
func (c *Console) voiceFileAudio(w http.ResponseWriter, r *http.Request, v *view) {
	f, err := c.store.GetVoiceFile(r.Context(), v.Account, r.URL.Query().Get("code"))
	if err != nil {
		c.notFoundOr(w, r, v, "voice file", err)
		return
	}
	a, err := media.LoadVoiceFile(c.cfg.DataDir, f.StoredPath)
	if err != nil {
		c.internal(w, r, "load voice file", err)
		return
	}
	writeWAV(w, a.Samples)
}

// --- access keys ---

type keysData struct {
	Keys []dialtone.AccessKey
	// New is the key just created, the one time its secret is shown.
	New *dialtone.AccessKey
}

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request, v *view) {
	c.renderKeys(w, r, v, nil)
}

func (c *Console) renderKeys(w http.ResponseWriter, r *http.Request, v *view, created *dialtone.AccessKey) {
	keys, err := c.store.ListAccessKeys(r.Context(), v.Account)
	if err != nil {
		c.internal(w, r, "keys", err)
		return
	}
	// The page never carries secrets except the new one: clear them.
	for i := range keys {
		keys[i].Secret = ""
	}
	messages(r, v)
	v.Title, v.Data = "AccessKeys", keysData{Keys: keys, New: created}
	c.render(w, r, http.StatusOK, "keys.html", v, "")
}

func parseActions(s string) []string {
	var out []string
	for _, a := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func (c *Console) keyCreate(w http.ResponseWriter, r *http.Request, v *view) {
	id, secret, err := keygen.GenerateAccessKey()
	if err != nil {
		c.internal(w, r, "generate key", err)
		return
	}
	k := &dialtone.AccessKey{ID: id, AccountUID: v.Account, Secret: secret, Enabled: true,
		Actions: parseActions(r.PostFormValue("actions")), CreatedAt: c.now()}
	if err := c.store.PutAccessKey(r.Context(), k); err != nil {
		c.internal(w, r, "put key", err)
		return
	}
	c.log.InfoContext(r.Context(), "console: access key created", "account", v.Account, "access_key_id", id, "by", v.Session.Username)
	// Rendered in the POST's own answer (no redirect), so reloading or
	// going back cannot show the secret again.
	c.renderKeys(w, r, v, k)
}

// accountKey returns the account's key named in the form.
func (c *Console) accountKey(r *http.Request, v *view, id string) (*dialtone.AccessKey, error) {
	k, err := c.store.GetAccessKey(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if k.AccountUID != v.Account {
		return nil, dialtone.ErrNotFound
	}
	return k, nil
}

func (c *Console) keyUpdate(w http.ResponseWriter, r *http.Request, v *view) {
	k, err := c.accountKey(r, v, r.PostFormValue("id"))
	if err != nil {
		c.notFoundOr(w, r, v, "key", err)
		return
	}
	switch r.PostFormValue("enabled") {
	case "true":
		k.Enabled = true
	case "false":
		k.Enabled = false
	}
	if r.Form.Has("actions") {
		k.Actions = parseActions(r.PostFormValue("actions"))
	}
	if err := c.store.PutAccessKey(r.Context(), k); err != nil {
		c.internal(w, r, "update key", err)
		return
	}
	redirect(w, r, "keys", "Updated "+k.ID+".", "")
}

func (c *Console) keyDelete(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PostFormValue("id")
	if err := c.store.DeleteAccessKey(r.Context(), v.Account, id); err != nil {
		c.notFoundOr(w, r, v, "delete key", err)
		return
	}
	redirect(w, r, "keys", "Deleted "+id+".", "")
}

// --- console users (operator) ---

type usersData struct {
	Users    []dialtone.ConsoleUser
	Accounts []dialtone.Account
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, v *view) {
	us, err := c.store.ListConsoleUsers(r.Context())
	if err != nil {
		c.internal(w, r, "users", err)
		return
	}
	for i := range us {
		us[i].PasswordHash = ""
	}
	messages(r, v)
	v.Title, v.Data = "Console users 用户", usersData{Users: us, Accounts: v.Accounts}
	c.render(w, r, http.StatusOK, "users.html", v, "")
}

func (c *Console) userPut(w http.ResponseWriter, r *http.Request, v *view) {
	name := strings.TrimSpace(r.PostFormValue("username"))
	acct := r.PostFormValue("account")
	if acct != "" {
		if _, err := c.store.GetAccount(r.Context(), acct); err != nil {
			redirect(w, r, "users", "", "Choose an existing account.")
			return
		}
	}
	if err := SetPassword(r.Context(), c.store, name, acct, r.PostFormValue("password"), c.now()); err != nil {
		redirect(w, r, "users", "", "Not saved: "+err.Error())
		return
	}
	c.log.InfoContext(r.Context(), "console: user saved", "user", name, "account", acct, "by", v.Session.Username)
	redirect(w, r, "users", "Saved user "+name+".", "")
}

func (c *Console) userDelete(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.PostFormValue("username")
	if name == v.Session.Username {
		redirect(w, r, "users", "", "You cannot delete yourself.")
		return
	}
	if err := c.store.DeleteConsoleUser(r.Context(), name); err != nil {
		c.notFoundOr(w, r, v, "delete user", err)
		return
	}
	redirect(w, r, "users", "Deleted user "+name+".", "")
}
