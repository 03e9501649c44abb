package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
)

// pageSize is the number of calls on one page of call records.
const pageSize = 50

type callFilterForm struct {
	From, To, Number, Status, Kind, OutID, Before string
}

type callsData struct {
	Form   callFilterForm
	Calls  []callRow
	Next   string // query of the next (older) page, "" on the last
	Kinds  []dialtone.CallKind
	Query  string // the current query, for the live refresh
	Failed string // why the filter was refused
	Empty  string // what the list says when no call matches, naming the filters
}

// callRow is one call of the list with what the page shows of it.
type callRow struct {
	dialtone.Call
	Badge callBadge
	Talk  talk
}

var kinds = []dialtone.CallKind{dialtone.KindVoice, dialtone.KindTTS, dialtone.KindIVR, dialtone.KindClickToDial, dialtone.KindSmartCall}

// parseDay reads a date input (yyyy-mm-dd) as midnight in China time, the
// zone of every time the voice API shows.
func parseDay(s string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02", s, dialtone.ChinaTime)
}

func (c *Console) callsPage(w http.ResponseWriter, r *http.Request, v *view) {
	q := r.URL.Query()
	form := callFilterForm{From: q.Get("from"), To: q.Get("to"), Number: strings.TrimSpace(q.Get("number")),
		Status: strings.TrimSpace(q.Get("status")), Kind: q.Get("kind"), OutID: strings.TrimSpace(q.Get("outid")), Before: q.Get("before")}
	d := callsData{Form: form, Kinds: kinds}
	f := dialtone.CallFilter{AccountUID: v.Account, Number: form.Number, StatusCode: form.Status,
		Kind: dialtone.CallKind(form.Kind), OutID: form.OutID, Before: form.Before, Limit: pageSize + 1}
	if form.From != "" {
		t, err := parseDay(form.From)
		if err != nil {
			d.Failed = "The start date is not a date."
		}
		f.From = t
	}
	if form.To != "" {
		t, err := parseDay(form.To)
		if err != nil {
			d.Failed = "The end date is not a date."
		}
		f.To = t.AddDate(0, 0, 1) // the end day is included
	}
	if d.Failed == "" && v.Account != "" {
		ctx, cancel := withTimeout(r)
		defer cancel()
		calls, err := c.store.ListCalls(ctx, f)
		switch {
		case errors.Is(err, dialtone.ErrNotFound):
			d.Failed = "The page cursor is not a call of this account."
		case err != nil:
			c.internal(w, r, "list calls", err)
			return
		}
		if len(calls) > pageSize {
			calls = calls[:pageSize]
			nq := url.Values{}
			for k, vs := range q {
				if k != "before" && k != "fragment" {
					nq[k] = vs
				}
			}
			nq.Set("before", calls[len(calls)-1].ID)
			d.Next = nq.Encode()
		}
		now := c.now()
		for i := range calls {
			d.Calls = append(d.Calls, callRow{Call: calls[i], Badge: badgeOf(&calls[i]), Talk: talkOf(&calls[i], now)})
		}
	}
	rq := url.Values{}
	for k, vs := range q {
		if k != "fragment" {
			rq[k] = vs
		}
	}
	d.Query = rq.Encode()
	d.Empty = noCallsMessage(form)
	if d.Failed != "" {
		d.Empty = d.Failed
	}
	block := ""
	if q.Get("fragment") == "rows" {
		block = "rows"
	} else {
		c.messages(w, r, v)
	}
	v.Title, v.Data = "Call records 通话记录", d
	if d.Failed != "" {
		v.Error = d.Failed
	}
	c.render(w, r, http.StatusOK, "calls.html", v, block)
}

// noCallsMessage says why the list is empty: which filters found nothing,
// in the words of the form, so that a person sees what to loosen.
func noCallsMessage(f callFilterForm) string {
	var parts []string
	switch {
	case f.From != "" && f.To != "":
		parts = append(parts, "from "+f.From+" to "+f.To)
	case f.From != "":
		parts = append(parts, "from "+f.From+" on")
	case f.To != "":
		parts = append(parts, "up to "+f.To)
	}
	var whose []string
	if f.Number != "" {
		whose = append(whose, "whose number contains "+f.Number)
	}
	if f.OutID != "" {
		whose = append(whose, "whose OutId contains "+f.OutID)
	}
	if f.Status != "" {
		whose = append(whose, "with status "+f.Status)
	}
	if f.Kind != "" {
		whose = append(whose, "of product "+f.Kind)
	}
	if len(whose) > 0 {
		parts = append(parts, strings.Join(whose, " and "))
	}
	older := ""
	if f.Before != "" {
		older = " older"
	}
	if len(parts) == 0 {
		if older != "" {
			return "No older calls. 没有更早的通话。"
		}
		return "No calls yet. 暂无通话。"
	}
	return "No" + older + " calls " + strings.Join(parts, " ") + ". 没有符合条件的通话。 Number and OutId match any part of the value; clear a filter to see more."
}

// callBadge is how the list and the detail show where a call is: its state
// while it is live, its outcome class once it ended (one colour each).
type callBadge struct {
	Class   string // CSS classes after "badge"
	Outcome dialtone.OutcomeClass
	Label   string
}

var outcomeLabels = map[dialtone.OutcomeClass]string{
	dialtone.OutcomeAnswered:  "answered 已接通",
	dialtone.OutcomeBusy:      "busy 忙",
	dialtone.OutcomeNoAnswer:  "no answer 未接听",
	dialtone.OutcomeFailed:    "failed 失败",
	dialtone.OutcomeCancelled: "cancelled 已取消",
	dialtone.OutcomeSystem:    "ended by the system 系统结束",
}

var stateLabels = map[dialtone.CallState]string{
	dialtone.CallQueued:   "queued 排队中",
	dialtone.CallDialing:  "dialing 呼叫中",
	dialtone.CallRinging:  "ringing 振铃中",
	dialtone.CallAnswered: "talking 通话中",
	dialtone.CallBridged:  "talking 通话中",
}

func badgeOf(cl *dialtone.Call) callBadge {
	o := cl.Outcome()
	if o == dialtone.OutcomeLive {
		label := stateLabels[cl.State]
		if cl.Kind == dialtone.KindClickToDial && cl.State == dialtone.CallAnswered {
			label = "calling the callee 呼叫被叫中" // the caller answered; the callee is rung
		}
		if label == "" {
			label = string(cl.State)
		}
		return callBadge{Class: "live " + string(cl.State), Outcome: o, Label: label}
	}
	return callBadge{Class: "outcome-" + string(o), Outcome: o, Label: outcomeLabels[o]}
}

// breakableID lets a call ID ("116012854210^102814279472") wrap after its
// "^" in a narrow column.
func breakableID(id string) template.HTML {
	parts := strings.Split(id, "^")
	for i, p := range parts {
		parts[i] = template.HTMLEscapeString(p)
	}
	return template.HTML(strings.Join(parts, "^<wbr>"))
}

// hangupLabel gives a hang-up direction in English beside the receipt's
// own word.
func hangupLabel(direction string) string {
	switch direction {
	case dialtone.HangupUser:
		return "Subscriber 用户"
	case dialtone.HangupMachine:
		return "Platform 机器"
	case "":
		return "—"
	}
	return direction
}

// talk is a call's talk time as the pages show it: the final duration of
// an ended call; for a live call that talks, the seconds so far and the
// instants the script counts on from (unix ms).
type talk struct {
	Live    bool
	Seconds int
	Since   int64 // talk start
	Now     int64 // when the page was rendered
	Started bool
}

func talkOf(cl *dialtone.Call, now time.Time) talk {
	if cl.State == dialtone.CallEnded {
		return talk{Seconds: cl.Duration, Started: true}
	}
	start := cl.TalkStart()
	if start.IsZero() {
		return talk{Live: true}
	}
	secs := int(now.Sub(start) / time.Second)
	return talk{Live: true, Started: true, Seconds: max(secs, 0), Since: start.UnixMilli(), Now: now.UnixMilli()}
}

type dialogueLine struct {
	At    time.Time
	Who   string // "platform", "subscriber", "callback"
	Text  string
	Extra string
}

type recording struct{ File, URL string }

type callData struct {
	Call       *dialtone.Call
	Events     []dialtone.CallEvent
	Dialogue   []dialogueLine
	Media      []dialtone.CallEvent // events carrying RTCP/RTP figures
	Recordings []recording
	Transcript []transcriptLine
	Params     string
	Badge      callBadge
	Talk       talk
	// CanHangUp offers the hang-up button: the call is live and this node
	// can end calls.
	CanHangUp bool
	// AnsweredBy is the answering-machine detector's last verdict ("" when
	// the call did not listen), AnsweredAfter how long it took.
	AnsweredBy    string
	AnsweredAfter time.Duration
}

// answeredByLabels say the detector's verdicts in words.
var answeredByLabels = map[string]string{
	"human":               "a person 真人",
	"machine_start":       "an answering machine, during its greeting 答录机（问候语中）",
	"machine_end_beep":    "an answering machine, after its beep 答录机（提示音后）",
	"machine_end_silence": "an answering machine, after its greeting 答录机（问候语后）",
	"fax":                 "a fax machine or modem 传真机",
	"unknown":             "undecided 未能判断",
}

// answeredByLabel says a verdict in words.
func answeredByLabel(a string) string {
	if l, ok := answeredByLabels[a]; ok {
		return l
	}
	return a
}

// transcriptLine is one thing the simulated subscriber heard or did, as the
// call page's table shows it.
type transcriptLine struct {
	At     time.Time
	Leg    string
	What   string
	Detail string
}

// transcriptWhat names the kinds of sim.TranscriptEntry.
var transcriptWhat = map[string]string{
	"originate":  "The call was placed 呼出",
	"ringing":    "The phone rang 振铃",
	"answered":   "Answered 接听",
	"failed":     "The call failed 呼叫失败",
	"play":       "Heard a prompt 听到提示音",
	"dtmf":       "Pressed keys 按键",
	"speech":     "Said 说话",
	"bridge":     "Connected to the other party 桥接",
	"hangup":     "Hung up 挂机",
	"voice":      "Said into the bridge 说话",
	"heard":      "Heard the other party 听到对方",
	"heard_dtmf": "Heard the other party's keys 听到对方按键",
	// What the subscriber sent from the answer on (answering-machine
	// detection), and the tone its network played while it rang.
	"hello":              "Said on answering 接听时说",
	"greeting":           "Voicemail greeting 语音信箱问候语",
	"beep":               "Voicemail beep 提示音",
	"fax":                "Fax tones 传真音",
	"early_media":        "The network played a tone while ringing 早期媒体音",
	"answer_audio_error": "Its answer could not be made 应答音频无法生成",
}

func transcriptLines(entries []sim.TranscriptEntry) []transcriptLine {
	out := make([]transcriptLine, 0, len(entries))
	for _, e := range entries {
		what := transcriptWhat[e.Kind]
		if what == "" {
			what = e.Kind
		}
		detail := e.Text
		switch {
		case e.Kind == "originate" && detail != "":
			detail = "to " + detail
		case e.Kind == "hangup" && e.By == "subscriber":
			detail = "by the subscriber 用户挂机"
		case e.Kind == "hangup" && e.By == "platform":
			detail = "by the platform 平台挂机"
		case e.Kind == "bridge" && len(detail) <= 2:
			detail = "with leg " + detail // the other leg's name, A or B
		case e.Kind == "bridge":
			detail = "with the " + detail
		}
		if e.Interrupted {
			detail += " (cut short 被打断)"
		}
		out = append(out, transcriptLine{At: e.At, Leg: e.Leg, What: what, Detail: strings.TrimSpace(detail)})
	}
	return out
}

// mediaKeys mark event details that hold RTCP/RTP statistics.
var mediaKeys = []string{"rtcp", "rtp", "jitter", "loss", "packets", "rtt", "mos"}

func isMediaDetail(d map[string]string) bool {
	for k := range d {
		lk := strings.ToLower(k)
		for _, m := range mediaKeys {
			if strings.Contains(lk, m) {
				return true
			}
		}
	}
	return false
}

// callPage shows one call of the account in view. The call is looked up
// with the account, so another account's call ID is "not found" (404)
// however the URL was made.
func (c *Console) callPage(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PathValue("id")
	ctx, cancel := withTimeout(r)
	defer cancel()
	call, err := c.store.GetCall(ctx, v.Account, id)
	if err != nil {
		c.notFoundOr(w, r, v, "call", err)
		return
	}
	evs, err := c.store.ListCallEvents(ctx, v.Account, id)
	if err != nil {
		c.notFoundOr(w, r, v, "call events", err)
		return
	}
	d := callData{Call: call, Events: evs, Badge: badgeOf(call), Talk: talkOf(call, c.now()),
		CanHangUp: call.State != dialtone.CallEnded && c.cfg.Calls != nil}
	if len(call.Params) > 0 {
		var pretty map[string]any
		if json.Unmarshal(call.Params, &pretty) == nil {
			b, _ := json.MarshalIndent(pretty, "", "  ")
			d.Params = string(b)
		}
	}
	for _, ev := range evs {
		switch ev.Type {
		case "play":
			d.Dialogue = append(d.Dialogue, dialogueLine{At: ev.At, Who: "platform 平台", Text: ev.Detail["prompt"], Extra: ev.Detail["code"]})
		case "speech":
			d.Dialogue = append(d.Dialogue, dialogueLine{At: ev.At, Who: "subscriber 用户", Text: ev.Detail["words"]})
		case "dtmf":
			d.Dialogue = append(d.Dialogue, dialogueLine{At: ev.At, Who: "subscriber 用户", Text: "DTMF " + ev.Detail["digits"]})
		case "callback":
			extra := ev.Detail["action"]
			if ev.Detail["action_code"] != "" {
				extra += " " + ev.Detail["action_code"]
			}
			if ev.Detail["error"] != "" {
				extra = "error: " + ev.Detail["error"]
			}
			d.Dialogue = append(d.Dialogue, dialogueLine{At: ev.At, Who: "callback 回调", Text: ev.Detail["content_type"], Extra: extra})
		case dialtone.EventMachineDetection:
			extra := ev.Detail["reason"]
			if ms := ev.Detail[dialtone.DetailAnsweredByMS]; ms != "" {
				extra = ms + " ms after the answer: " + extra
			}
			d.Dialogue = append(d.Dialogue, dialogueLine{At: ev.At, Who: "detector 检测", Text: "answered by " + answeredByLabel(ev.Detail[dialtone.DetailAnsweredBy]), Extra: extra})
		case "recording":
			if f := ev.Detail["file"]; f != "" && c.cfg.RecordURL != nil {
				d.Recordings = append(d.Recordings, recording{File: f, URL: c.cfg.RecordURL(call.AccountUID, call.ID, f)})
			}
		}
		if isMediaDetail(ev.Detail) {
			d.Media = append(d.Media, ev)
		}
	}
	d.AnsweredBy, d.AnsweredAfter, _ = dialtone.MachineVerdict(evs)
	if c.cfg.Net != nil {
		d.Transcript = transcriptLines(c.cfg.Net.Transcript(call.ID))
	}
	v.Title, v.Data = "Call 通话 "+call.ID, d
	block := ""
	if r.URL.Query().Get("fragment") == "detail" {
		block = "detail"
	} else {
		c.messages(w, r, v)
	}
	c.render(w, r, http.StatusOK, "call.html", v, block)
}

// callHangUp ends a live call of the account in view through the path of
// the API's CancelCall (CallControl.Cancel: the engine, or the node that
// owns the call), then shows the call again (post/redirect/get). The call
// is looked up in the account first: another account's call is not found.
func (c *Console) callHangUp(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PathValue("id")
	back := "calls/" + url.PathEscape(id)
	ctx, cancel := withTimeout(r)
	defer cancel()
	call, err := c.store.GetCall(ctx, v.Account, id)
	if err != nil {
		c.notFoundOr(w, r, v, "call", err)
		return
	}
	switch {
	case c.cfg.Calls == nil:
		c.redirect(w, r, back, "", "This node does not run calls, so it cannot hang one up.")
		return
	case call.State == dialtone.CallEnded:
		c.redirect(w, r, back, "", "The call had already ended; there was nothing to hang up. 通话已结束。")
		return
	}
	ok, err := c.cfg.Calls.Cancel(ctx, v.Account, id)
	switch {
	case errors.Is(err, dialtone.ErrNotFound):
		c.notFound(w, r, v)
	case err != nil:
		c.internal(w, r, "hang up", err)
	case !ok:
		c.redirect(w, r, back, "", "The call ended before it could be hung up. 通话已结束。")
	default:
		c.log.InfoContext(ctx, "console: call hung up", "user", v.Session.Username, "account", v.Account, "call_id", id)
		c.redirect(w, r, back, "Hung up: the call is ending. 已挂断。", "")
	}
}

// --- server-sent events ---

// ssePoll is how often the stream looks at the store; 500 ms is quick
// enough for a person watching and costs two indexed queries.
const (
	ssePoll     = 500 * time.Millisecond
	sseLifetime = 10 * time.Minute
	sseRecent   = 20
)

type callChange struct {
	ID         string `json:"id"`
	State      string `json:"state"`
	StatusCode string `json:"status_code"`
	StatusText string `json:"status_text"`
	Duration   int    `json:"duration"`
}

type liveUpdate struct {
	Live     int          `json:"live"`
	NodeLive *int         `json:"node_live,omitempty"`
	Changes  []callChange `json:"changes"`
}

// events streams live-call counts and call state changes of the account in
// view. The browser's EventSource reconnects by itself, so a stream ends
// after sseLifetime and when the node stops serving.
func (c *Console) events(w http.ResponseWriter, r *http.Request, v *view) {
	rc := http.NewResponseController(w)
	// The server's write timeout is for ordinary answers; a stream lives
	// longer and is bounded by sseLifetime instead.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	watch := r.URL.Query().Get("call")
	seen := map[string]string{}
	first := true
	lastLive, lastNode := -1, -1
	wasServing := false
	tick := time.NewTicker(ssePoll)
	defer tick.Stop()
	end := time.NewTimer(sseLifetime)
	defer end.Stop()
	for {
		if c.cfg.Serving != nil {
			s := c.cfg.Serving()
			if wasServing && !s {
				return
			}
			wasServing = wasServing || s
		}
		up, err := c.poll(r, v.Account, watch, seen, first)
		if err != nil {
			if r.Context().Err() == nil {
				c.log.WarnContext(r.Context(), "console: event stream", "err", err)
			}
			return
		}
		first = false
		node := -1
		if c.cfg.Live != nil && v.Operator {
			node = c.cfg.Live.Live()
			up.NodeLive = &node
		}
		if len(up.Changes) > 0 || up.Live != lastLive || node != lastNode {
			lastLive, lastNode = up.Live, node
			b, _ := json.Marshal(up)
			if _, err := fmt.Fprintf(w, "event: update\ndata: %s\n\n", b); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
		select {
		case <-r.Context().Done():
			return
		case <-end.C:
			return
		case <-tick.C:
		}
	}
}

func signature(cl *dialtone.Call) string {
	return fmt.Sprintf("%s|%s|%d", cl.State, cl.StatusCode, cl.Version)
}

// poll reads the live count and the recent (and watched) calls, and
// reports those whose state changed since the last poll. The first poll
// only records what it sees.
func (c *Console) poll(r *http.Request, acct, watch string, seen map[string]string, first bool) (liveUpdate, error) {
	up := liveUpdate{Changes: []callChange{}}
	if acct == "" {
		return up, nil
	}
	live, err := c.liveOf(r.Context(), acct)
	if err != nil {
		return up, err
	}
	up.Live = live
	calls, err := c.store.ListCalls(r.Context(), dialtone.CallFilter{AccountUID: acct, Limit: sseRecent})
	if err != nil {
		return up, err
	}
	if watch != "" {
		if cl, err := c.store.GetCall(r.Context(), acct, watch); err == nil {
			calls = append(calls, *cl)
		}
	}
	for i := range calls {
		cl := &calls[i]
		sig := signature(cl)
		if seen[cl.ID] == sig {
			continue
		}
		seen[cl.ID] = sig
		if !first {
			up.Changes = append(up.Changes, callChange{ID: cl.ID, State: string(cl.State), StatusCode: cl.StatusCode,
				StatusText: dialtone.StatusText(cl.StatusCode), Duration: cl.Duration})
		}
	}
	// Forget calls that left the window, so the map stays small.
	if len(seen) > 4*sseRecent {
		keep := map[string]bool{}
		for _, cl := range calls {
			keep[cl.ID] = true
		}
		for id := range seen {
			if !keep[id] {
				delete(seen, id)
			}
		}
	}
	sort.Slice(up.Changes, func(i, j int) bool { return up.Changes[i].ID < up.Changes[j].ID })
	return up, nil
}
