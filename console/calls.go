package console

import (
	"encoding/json"
	"errors"
	"fmt"
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
	Calls  []dialtone.Call
	Next   string // query of the next (older) page, "" on the last
	Kinds  []dialtone.CallKind
	Query  string // the current query, for the live refresh
	Failed string // why the filter was refused
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
		d.Calls = calls
	}
	rq := url.Values{}
	for k, vs := range q {
		if k != "fragment" {
			rq[k] = vs
		}
	}
	d.Query = rq.Encode()
	v.Title, v.Data, v.Error = "Call records 通话记录", d, d.Failed
	block := ""
	if q.Get("fragment") == "rows" {
		block = "rows"
	}
	c.render(w, r, http.StatusOK, "calls.html", v, block)
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
	Transcript []sim.TranscriptEntry
	Params     string
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
	d := callData{Call: call, Events: evs}
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
		case "recording":
			if f := ev.Detail["file"]; f != "" && c.cfg.RecordURL != nil {
				d.Recordings = append(d.Recordings, recording{File: f, URL: c.cfg.RecordURL(call.AccountUID, call.ID, f)})
			}
		}
		if isMediaDetail(ev.Detail) {
			d.Media = append(d.Media, ev)
		}
	}
	if c.cfg.Net != nil {
		d.Transcript = c.cfg.Net.Transcript(call.ID)
	}
	v.Title, v.Data = "Call 通话 "+call.ID, d
	block := ""
	if r.URL.Query().Get("fragment") == "detail" {
		block = "detail"
	}
	c.render(w, r, http.StatusOK, "call.html", v, block)
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
