package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/resource"
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
	c.messages(w, r, v)
	v.Title, v.Data = "Numbers 号码", rows
	c.render(w, r, http.StatusOK, "numbers.html", v, "")
}

func (c *Console) numberPut(w http.ResponseWriter, r *http.Request, v *view) {
	num := strings.TrimSpace(r.PostFormValue("number"))
	conc, err := strconv.Atoi(r.PostFormValue("concurrency"))
	if err != nil {
		c.redirect(w, r, "numbers", "", "Not saved: concurrency: a whole number of calls.")
		return
	}
	if _, _, err := c.res.PutNumber(r.Context(), dialtone.Number{AccountUID: v.Account, Number: num, Concurrency: conc}); err != nil {
		c.failed(w, r, v, "numbers", "put number", err)
		return
	}
	c.redirect(w, r, "numbers", "Saved number "+num+".", "")
}

func (c *Console) numberDelete(w http.ResponseWriter, r *http.Request, v *view) {
	num := r.PostFormValue("number")
	if err := c.res.DeleteNumber(r.Context(), v.Account, num); err != nil && !errors.Is(err, dialtone.ErrNotFound) {
		c.internal(w, r, "delete number", err)
		return
	}
	c.redirect(w, r, "numbers", "Removed number "+num+".", "")
}

// --- TTS templates ---

type templateRow struct {
	dialtone.TTSTemplate
	Vars []string
}

type templatesData struct {
	Rows []templateRow
	// Voices are the installed voices to choose from; nil when the node
	// cannot tell, and the voice is typed.
	Voices *dialtone.Voices
}

// voices are the node's installed voices, nil when unknown.
func (c *Console) voices(ctx context.Context) *dialtone.Voices {
	if c.cfg.Voices == nil {
		return nil
	}
	v, err := c.cfg.Voices.Voices(ctx)
	if err != nil {
		c.log.WarnContext(ctx, "console: cannot list the installed voices", "err", err)
		return nil
	}
	return v
}

func (c *Console) templatesPage(w http.ResponseWriter, r *http.Request, v *view) {
	ts, err := c.store.ListTemplates(r.Context(), v.Account)
	if err != nil {
		c.internal(w, r, "templates", err)
		return
	}
	rows := make([]templateRow, len(ts))
	for i, t := range ts {
		rows[i] = templateRow{TTSTemplate: t, Vars: dialtone.TemplateVars(t.Content)}
	}
	c.messages(w, r, v)
	v.Title, v.Data = "TTS templates 文本模板", templatesData{Rows: rows, Voices: c.voices(r.Context())}
	c.render(w, r, http.StatusOK, "templates.html", v, "")
}

func (c *Console) templateCreate(w http.ResponseWriter, r *http.Request, v *view) {
	if err := r.ParseForm(); err != nil {
		c.redirect(w, r, "templates", "", "The form could not be read.")
		return
	}
	in := dialtone.TTSTemplate{AccountUID: v.Account}
	decodeForm(r, &in)
	in.Code, in.Status = "", "" // generated, pending: the form does not choose them
	t, err := c.res.CreateTemplate(r.Context(), in)
	if err != nil {
		c.failed(w, r, v, "templates", "create template", err)
		return
	}
	c.redirect(w, r, "templates", "Submitted template "+t.Code+" for review.", "")
}

func (c *Console) templateReview(w http.ResponseWriter, r *http.Request, v *view) {
	st := dialtone.ReviewStatus(r.PostFormValue("status"))
	t, err := c.res.ReviewTemplate(r.Context(), v.Account, r.PostFormValue("code"), st, "")
	if err != nil {
		c.failed(w, r, v, "templates", "review template", err)
		return
	}
	c.redirect(w, r, "templates", fmt.Sprintf("Template %s is now %s.", t.Code, st), "")
}

func (c *Console) templateDelete(w http.ResponseWriter, r *http.Request, v *view) {
	code := r.PostFormValue("code")
	if err := c.res.DeleteTemplate(r.Context(), v.Account, code); err != nil {
		c.failed(w, r, v, "templates", "delete template", err)
		return
	}
	c.redirect(w, r, "templates", "Deleted template "+code+".", "")
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
	// A template written before its voice was checked, or on a node with
	// other voices: say so rather than fail in the synthesiser.
	if vs := c.voices(r.Context()); t.Voice != "" && vs != nil && !vs.Has(t.Voice) {
		http.Error(w, fmt.Sprintf("The voice %q of %s is not installed on this node; choose an installed voice for it.", t.Voice, t.Code), http.StatusUnprocessableEntity)
		return
	}
	vars := map[string]string{}
	for _, name := range dialtone.TemplateVars(t.Content) {
		val := r.URL.Query().Get("var_" + name)
		if val == "" {
			val = name
		}
		vars[name] = val
	}
	text := dialtone.FillTemplate(t.Content, func(name string) string { return vars[name] })
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	a, err := media.SpeakPrompt(ctx, c.cfg.Speaker, dialtone.Prompt{Text: text, Voice: t.Voice, Code: t.Code,
		Verification: t.Kind == dialtone.TemplateVerification, Vars: vars}, 0, 100)
	if err != nil {
		c.log.ErrorContext(r.Context(), "console: preview", "template", t.Code, "err", err)
		http.Error(w, "The text could not be spoken; the error has been logged.", http.StatusInternalServerError)
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
	c.messages(w, r, v)
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
		c.redirect(w, r, "voicefiles", "", msg)
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
	vf, err := c.res.CreateVoiceFile(r.Context(), dialtone.VoiceFile{AccountUID: v.Account, Kind: kind}, data)
	var be *dialtone.Error
	switch {
	case errors.Is(err, resource.ErrNoDataDir):
		fail(http.StatusServiceUnavailable, "This node has no data directory for voice files.")
		return
	case errors.As(err, &be) && be.Code != dialtone.CodeSystemError:
		fail(http.StatusBadRequest, "The file was refused: "+be.Message)
		return
	case err != nil:
		c.log.ErrorContext(r.Context(), "console: import voice file", "err", err)
		fail(http.StatusInternalServerError, "The file could not be stored; it has been logged.")
		return
	}
	c.log.InfoContext(r.Context(), "console: voice file uploaded", "account", v.Account, "code", vf.Code, "name", hdr.Filename, "format", vf.Format)
	if xhr {
		writeJSON(w, http.StatusOK, map[string]string{"code": vf.Code, "format": vf.Format, "duration": vf.Duration.String()})
		return
	}
	c.redirect(w, r, "voicefiles", "Uploaded "+vf.Code+".", "")
}

func (c *Console) voiceFileReview(w http.ResponseWriter, r *http.Request, v *view) {
	st := dialtone.ReviewStatus(r.PostFormValue("status"))
	f, err := c.res.ReviewVoiceFile(r.Context(), v.Account, r.PostFormValue("code"), st, "")
	if err != nil {
		c.failed(w, r, v, "voicefiles", "review voice file", err)
		return
	}
	c.redirect(w, r, "voicefiles", fmt.Sprintf("Voice file %s is now %s.", f.Code, st), "")
}

func (c *Console) voiceFileDelete(w http.ResponseWriter, r *http.Request, v *view) {
	code := r.PostFormValue("code")
	if err := c.res.DeleteVoiceFile(r.Context(), v.Account, code); err != nil {
		c.failed(w, r, v, "voicefiles", "delete voice file", err)
		return
	}
	c.redirect(w, r, "voicefiles", "Deleted voice file "+code+".", "")
}

// voiceFileAudio plays the stored (8 kHz) audio of a file of the account.
func (c *Console) voiceFileAudio(w http.ResponseWriter, r *http.Request, v *view) {
	_, a, err := c.res.Audio(r.Context(), v.Account, r.URL.Query().Get("code"))
	if err != nil {
		c.notFoundOr(w, r, v, "voice file", err)
		return
	}
	writeWAV(w, a.Samples)
}

// --- access keys ---

type keysData struct {
	Keys []dialtone.AccessKey
	// Actions are the API's actions a key may be limited to.
	Actions []string
	// New is the key just created, the one time its secret is shown.
	New *newKey
}

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request, v *view) {
	keys, err := c.store.ListAccessKeys(r.Context(), v.Account)
	if err != nil {
		c.internal(w, r, "keys", err)
		return
	}
	// The page never carries secrets except the new one: clear them.
	for i := range keys {
		keys[i].Secret = ""
	}
	c.messages(w, r, v)
	v.Title, v.Data = "AccessKeys", keysData{Keys: keys, Actions: dialtone.Actions, New: v.NewKey}
	c.render(w, r, http.StatusOK, "keys.html", v, "")
}

// formActions reads a key's allowed actions from its form: "all" (every
// action, also ones added later) or the actions ticked, each one of
// dialtone.Actions (the service refuses anything else, and an empty
// choice). ok is false when the form says nothing of actions.
func formActions(r *http.Request, create bool) (actions []string, ok bool) {
	switch r.PostFormValue("scope") {
	case "all":
		if create {
			return nil, true // nil: every action
		}
		return []string{"*"}, true
	case "some":
		out := []string{}
		for _, a := range r.PostForm["actions"] {
			if a = strings.TrimSpace(a); a != "" && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
		return out, true
	}
	return nil, false
}

// keyCreate creates a key; its secret is shown once, on the page the
// redirect leads to.
func (c *Console) keyCreate(w http.ResponseWriter, r *http.Request, v *view) {
	var u dialtone.KeyUpdate
	if actions, ok := formActions(r, true); ok && actions != nil {
		u.Actions = &actions
	}
	k, err := c.res.CreateAccessKey(r.Context(), v.Account, u)
	if err != nil {
		c.failed(w, r, v, "keys", "create key", err)
		return
	}
	// The secret goes to the next page once, sealed in the flash: a reload
	// of that page shows it no more, and creates nothing.
	c.setFlash(w, r, flash{Msg: "Created " + k.ID + ".", Secret: &newKey{ID: k.ID, Secret: k.Secret}})
	http.Redirect(w, r, Prefix+"keys", http.StatusSeeOther)
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
	var u dialtone.KeyUpdate
	switch r.PostFormValue("enabled") {
	case "true":
		u.Enabled = new(true)
	case "false":
		u.Enabled = new(false)
	}
	if actions, ok := formActions(r, false); ok {
		u.Actions = &actions
	}
	id := r.PostFormValue("id")
	if _, err := c.res.UpdateAccessKey(r.Context(), v.Account, id, u); err != nil {
		c.failed(w, r, v, "keys", "update key", err)
		return
	}
	c.redirect(w, r, "keys", "Updated "+id+".", "")
}

func (c *Console) keyDelete(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PostFormValue("id")
	if err := c.res.DeleteAccessKey(r.Context(), v.Account, id); err != nil {
		c.failed(w, r, v, "keys", "delete key", err)
		return
	}
	c.redirect(w, r, "keys", "Deleted "+id+".", "")
}

// --- console users (operator) ---

type usersData struct {
	Users    []userRow
	Accounts []dialtone.Account
}

// userRow is a console user as the users page shows it: what may be done
// to it is decided here, so the page offers no button that would be
// refused.
type userRow struct {
	dialtone.ConsoleUser
	Self      bool // the signed-in user
	Deletable bool // neither yourself nor the last operator
	Demotable bool // not the last operator
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, v *view) {
	us, err := c.store.ListConsoleUsers(r.Context())
	if err != nil {
		c.internal(w, r, "users", err)
		return
	}
	rows := make([]userRow, len(us))
	for i, u := range us {
		u.PasswordHash = ""
		last := resource.LastOperator(us, u.Username)
		self := u.Username == v.Session.Username
		rows[i] = userRow{ConsoleUser: u, Self: self, Deletable: !self && !last, Demotable: !last}
	}
	c.messages(w, r, v)
	v.Title, v.Data = "Console users 用户", usersData{Users: rows, Accounts: v.Accounts}
	c.render(w, r, http.StatusOK, "users.html", v, "")
}

// userCreate adds a user with the role chosen explicitly: an operator, or
// a user of one account. It never changes an existing user.
func (c *Console) userCreate(w http.ResponseWriter, r *http.Request, v *view) {
	in := dialtone.ConsoleUserInput{Username: strings.TrimSpace(r.PostFormValue("username")), Password: r.PostFormValue("password")}
	switch r.PostFormValue("role") {
	case "operator":
		in.Operator = true
	case "account":
		in.AccountUID = r.PostFormValue("account")
		if in.AccountUID == "" {
			c.failed(w, r, v, "users", "create user", dialtone.Invalid("account", "choose the user's account"))
			return
		}
	default:
		c.failed(w, r, v, "users", "create user", dialtone.Invalid("role", "choose operator or a user of one account"))
		return
	}
	if _, err := c.res.CreateConsoleUser(r.Context(), in); err != nil {
		c.failed(w, r, v, "users", "create user", err)
		return
	}
	c.redirect(w, r, "users", "Added user "+in.Username+".", "")
}

func (c *Console) userPassword(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.PostFormValue("username")
	if err := c.res.SetConsoleUserPassword(r.Context(), name, r.PostFormValue("password")); err != nil {
		c.failed(w, r, v, "users", "set password", err)
		return
	}
	c.redirect(w, r, "users", "Changed the password of "+name+".", "")
}

func (c *Console) userRole(w http.ResponseWriter, r *http.Request, v *view) {
	name, acct := r.PostFormValue("username"), r.PostFormValue("account")
	if err := c.res.SetConsoleUserRole(r.Context(), name, acct); err != nil {
		c.failed(w, r, v, "users", "change role", err)
		return
	}
	role := "an operator"
	if acct != "" {
		role = "a user of account " + acct
	}
	c.redirect(w, r, "users", name+" is now "+role+".", "")
}

func (c *Console) userDelete(w http.ResponseWriter, r *http.Request, v *view) {
	name := r.PostFormValue("username")
	if name == v.Session.Username {
		c.redirect(w, r, "users", "", "You cannot delete yourself.")
		return
	}
	if err := c.res.DeleteConsoleUser(r.Context(), name); err != nil {
		c.failed(w, r, v, "users", "delete user", err)
		return
	}
	c.redirect(w, r, "users", "Deleted user "+name+".", "")
}
