package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/receipt"
)

// --- receipts ---

type receiptRow struct {
	Type      string
	Sub       *dialtone.Subscription
	QueueName string
	Depth     int
	Stats     dialtone.QueueStats
	HasSecret bool
	// Results are the last push attempts, the pusher's and the test
	// button's, newest first (kept by the store, so every node shows them).
	Results []dialtone.PushResult
}

type receiptsData struct {
	Missing bool
	Rows    []receiptRow
	Dead    []dialtone.PushDelivery
	// Call is the call whose receipts the page shows (?call=ID); "" for
	// the whole account.
	Call string
}

// receiptCallID is the call a receipt body names.
func receiptCallID(body []byte) string {
	var b struct {
		CallID string `json:"call_id"`
	}
	_ = json.Unmarshal(body, &b)
	return b.CallID
}

func (c *Console) receiptsPage(w http.ResponseWriter, r *http.Request, v *view) {
	c.messages(w, r, v)
	v.Title = "Receipts 回执"
	d := receiptsData{Missing: c.receipts == nil, Call: strings.TrimSpace(r.URL.Query().Get("call"))}
	ctx, cancel := withTimeout(r)
	defer cancel()
	if d.Call != "" {
		// Only a call of the account in view: another's is not found.
		if _, err := c.store.GetCall(ctx, v.Account, d.Call); err != nil {
			c.notFoundOr(w, r, v, "call", err)
			return
		}
		v.Title = "Receipts of call 通话回执 " + d.Call
	}
	if c.receipts != nil && v.Account != "" {
		now := c.now()
		for _, typ := range dialtone.MessageTypes {
			row := receiptRow{Type: typ, QueueName: dialtone.QueueName(v.Account, typ)}
			sub, err := c.receipts.GetSubscription(ctx, v.Account, typ)
			switch {
			case err == nil:
				row.Sub, row.HasSecret = sub, sub.PushSecret != ""
				// The push secret is never put on a page.
				sub.PushSecret = ""
			case !errors.Is(err, dialtone.ErrNotFound):
				c.internal(w, r, "subscription", err)
				return
			}
			qs, err := c.receipts.QueueStats(ctx, row.QueueName, now)
			if err != nil {
				c.internal(w, r, "queue stats", err)
				return
			}
			row.Depth, row.Stats = qs.Active+qs.Inactive+qs.Delayed, qs
			if row.Results, err = c.receipts.ListPushResults(ctx, v.Account, typ, 10); err != nil {
				c.internal(w, r, "push results", err)
				return
			}
			d.Rows = append(d.Rows, row)
		}
		limit := 100
		if d.Call != "" {
			limit = 1000
		}
		dead, err := c.receipts.ListDeadLetters(ctx, v.Account, limit)
		if err != nil {
			c.internal(w, r, "dead letters", err)
			return
		}
		for _, dl := range dead {
			if d.Call == "" || receiptCallID(dl.Body) == d.Call {
				d.Dead = append(d.Dead, dl)
			}
		}
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "receipts.html", v, "")
}

func (c *Console) receiptPut(w http.ResponseWriter, r *http.Request, v *view) {
	if c.receipts == nil {
		c.notFound(w, r, v)
		return
	}
	typ := r.PostFormValue("type")
	u := dialtone.SubscriptionUpdate{Queue: r.PostFormValue("queue") == "on", PushURL: strings.TrimSpace(r.PostFormValue("push_url"))}
	if !u.Queue && u.PushURL == "" {
		// Neither: the receipts of the type are off.
		if err := c.res.DeleteSubscription(r.Context(), v.Account, typ); err != nil && !errors.Is(err, dialtone.ErrNotFound) {
			c.internal(w, r, "delete subscription", err)
			return
		}
		c.redirect(w, r, "receipts", typ+": off.", "")
		return
	}
	if s := r.PostFormValue("push_secret"); s != "" {
		u.PushSecret = &s
	}
	if r.PostFormValue("clear_secret") == "on" {
		u.PushSecret = new("")
	}
	if _, _, err := c.res.PutSubscription(r.Context(), v.Account, typ, u); err != nil {
		c.failed(w, r, v, "receipts", "put subscription", err)
		return
	}
	c.redirect(w, r, "receipts", typ+": saved.", "")
}

// sampleReceipt is a receipt body of the message type for a made-up call,
// shaped like the real ones, so the receiver's parser can be tried.
func sampleReceipt(typ, acct string, now time.Time) map[string]any {
	t := dialtone.FormatTime(now)
	c := &dialtone.Call{ID: "000000000000^0000000000", AccountUID: acct, Kind: dialtone.KindTTS, Callee: "13800000000",
		CalleeShowNumber: "057100000000", OutID: "console-test", State: dialtone.CallEnded,
		StatusCode: dialtone.StatusCompleted, StatusMsg: dialtone.StatusText(dialtone.StatusCompleted), CreatedAt: now,
		A: dialtone.LegTimes{Originate: now, Ring: now, Start: now, End: now}}
	switch typ {
	case dialtone.MsgVoiceReport:
		return receipt.VoiceReport(c)
	case dialtone.MsgVoiceCallReport:
		return map[string]any{"call_id": c.ID, "status_code": dialtone.StatusRinging, "status_msg": dialtone.StatusText(dialtone.StatusRinging),
			"status_time": t, "out_id": c.OutID, "test": true}
	default:
		return map[string]any{"call_id": c.ID, "start_time": t, "end_time": t, "duration": "0", "status_code": c.StatusCode,
			"record_file": "", "out_id": c.OutID, "test": true}
	}
}

// receiptTest pushes one sample receipt to the subscription's push URL,
// signed as the pusher signs, and records the outcome with the pusher's.
func (c *Console) receiptTest(w http.ResponseWriter, r *http.Request, v *view) {
	if c.receipts == nil {
		c.notFound(w, r, v)
		return
	}
	typ := r.PostFormValue("type")
	sub, err := c.receipts.GetSubscription(r.Context(), v.Account, typ)
	if err != nil || sub.PushURL == "" {
		c.redirect(w, r, "receipts", "", typ+" has no push URL to test.")
		return
	}
	now := c.now()
	body, _ := json.Marshal([]any{sampleReceipt(typ, v.Account, now)})
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	status, answer, perr := pushOnce(ctx, sub, body, now)
	res := &dialtone.PushResult{AccountUID: v.Account, MessageType: typ, At: now, URL: receipt.RedactURL(sub.PushURL),
		HTTPStatus: status, Count: 1, Test: true}
	summary := fmt.Sprintf("HTTP %d, accepted. %s", status, answer)
	if perr != nil {
		res.Error = perr.Error()
		summary = "not accepted: " + res.Error
		if answer != "" {
			summary += ". Answer: " + answer
		}
	}
	if err := c.receipts.RecordPushResult(r.Context(), res); err != nil {
		// The outcome is still shown in the flash message.
		c.log.WarnContext(r.Context(), "console: recording a test receipt failed", "account", v.Account, "type", typ, "err", err)
	}
	c.redirect(w, r, "receipts", "Test receipt for "+typ+": "+summary, "")
}

// pushOnce POSTs body as the pusher would and judges the answer as the
// pusher does; answer is the start of the receiver's reply, for people.
func pushOnce(ctx context.Context, sub *dialtone.Subscription, body []byte, now time.Time) (status int, answer string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.PushURL, bytes.NewReader(body))
	if err != nil {
		return 0, "", errors.New("bad push URL")
	}
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	req.Header.Set("User-Agent", "Dialtone-Console-Test/1")
	if sub.PushSecret != "" {
		req.Header.Set(receipt.SignatureHeader, receipt.Sign(sub.PushSecret, now, body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The client's error names the URL without its password.
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	answer = strings.TrimSpace(string(raw))
	if len(answer) > 300 {
		answer = strings.ToValidUTF8(answer[:300], "")
	}
	return resp.StatusCode, answer, receipt.CheckAnswer(resp.StatusCode, raw)
}

func (c *Console) receiptRedrive(w http.ResponseWriter, r *http.Request, v *view) {
	if c.receipts == nil {
		c.notFound(w, r, v)
		return
	}
	n, err := c.receipts.RedriveDeadLetters(r.Context(), v.Account, c.now())
	if err != nil {
		c.internal(w, r, "redrive", err)
		return
	}
	if c.cfg.Redriven != nil && n > 0 {
		c.cfg.Redriven()
	}
	c.redirect(w, r, "receipts", fmt.Sprintf("Re-drove %d dead letters.", n), "")
}

// --- simulated network (operator) ---

type subscriberRow struct {
	Number string
	B      sim.Behavior
	DTMF   string
	Say    string
}

type networkData struct {
	Missing bool
	Rows    []subscriberRow
	Results []sim.CallResult
	// The choices of who answers and of early-media tones.
	Answerers  []sim.Answerer
	EarlyTones []sim.EarlyTone
	TonePlans  []string
	// Edit fills the form: the subscriber picked with ?edit=, or a new one.
	Edit    subscriberRow
	Editing bool
}

var callResults = sim.CallResults

func (c *Console) networkPage(w http.ResponseWriter, r *http.Request, v *view) {
	c.messages(w, r, v)
	v.Title = "Simulated network 模拟网络"
	d := networkData{Missing: c.cfg.Net == nil, Results: callResults,
		Answerers: sim.Answerers, EarlyTones: sim.EarlyTones, TonePlans: sim.TonePlans,
		Edit: subscriberRow{B: sim.DefaultBehavior}}
	if c.cfg.Net != nil {
		edit := r.URL.Query().Get("edit")
		// The network lists what the provisioning file set and what was
		// set since, from this page or elsewhere.
		for _, s := range c.cfg.Net.Subscribers() {
			row := subscriberRow{Number: s.Number, B: s.Behavior, DTMF: formatDTMF(s.DTMF), Say: strings.Join(s.Say, "\n")}
			d.Rows = append(d.Rows, row)
			if s.Number == edit {
				d.Edit, d.Editing = row, true
			}
		}
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "network.html", v, "")
}

// formatDTMF writes key presses as "p1:1, 3s:2#": after the n-th prompt,
// or at a time after answering.
func formatDTMF(ds []sim.DTMF) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		if d.AfterPrompt > 0 {
			parts[i] = fmt.Sprintf("p%d:%s", d.AfterPrompt, d.Digits)
		} else {
			parts[i] = d.At.String() + ":" + d.Digits
		}
	}
	return strings.Join(parts, ", ")
}

// parseDTMF reads the form's key presses ("p1:1, 3s:2#"); the digits'
// rules are the network model's (sim.Behavior.Validate).
func parseDTMF(s string) ([]sim.DTMF, error) {
	var out []sim.DTMF
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		when, keys, ok := strings.Cut(part, ":")
		if !ok || keys == "" {
			return nil, dialtone.Invalid("dtmf", "%q: write p<prompt>:<keys> or <duration>:<keys>", part)
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(when, "p")); strings.HasPrefix(when, "p") && err == nil && n > 0 {
			out = append(out, sim.DTMF{AfterPrompt: n, Digits: keys})
			continue
		}
		d, err := time.ParseDuration(when)
		if err != nil {
			return nil, dialtone.Invalid("dtmf", "%q: write p<prompt>:<keys> or <duration>:<keys>", part)
		}
		out = append(out, sim.DTMF{At: d, Digits: keys})
	}
	return out, nil
}

// networkPut sets one subscriber's behaviour. The form is decoded here;
// the rules are the network model's own (sim.Subscriber.Validate), the
// same ones a provisioning file's network section is checked by.
func (c *Console) networkPut(w http.ResponseWriter, r *http.Request, v *view) {
	if c.cfg.Net == nil {
		c.notFound(w, r, v)
		return
	}
	var errs []error
	dur := func(name string) time.Duration {
		s := strings.TrimSpace(r.PostFormValue(name))
		if s == "" {
			return 0
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			errs = append(errs, dialtone.Invalid(name, "%q is not a duration: write one such as 2s or 1m30s", s))
		}
		return d
	}
	sub := sim.Subscriber{Number: strings.TrimSpace(r.PostFormValue("number")), Behavior: sim.Behavior{
		Result:      sim.CallResult(r.PostFormValue("result")),
		AnswerAfter: dur("answer_after"),
		Ring:        dur("ring"),
		HangupAfter: dur("hangup_after"),
		Silence:     dur("silence"),
		// Who answers (answering-machine detection) and the network's
		// early media.
		AnsweredBy:     sim.Answerer(r.PostFormValue("answered_by")),
		Hello:          strings.TrimSpace(r.PostFormValue("hello")),
		Greeting:       strings.TrimSpace(r.PostFormValue("greeting")),
		GreetingLength: dur("greeting_length"),
		NoBeep:         r.PostFormValue("beep") != "on",
		Voice:          strings.TrimSpace(r.PostFormValue("voice")),
		EarlyMedia:     sim.EarlyTone(r.PostFormValue("early_media")),
		TonePlan:       r.PostFormValue("tone_plan"),
	}}
	var err error
	if sub.DTMF, err = parseDTMF(r.PostFormValue("dtmf")); err != nil {
		errs = append(errs, err)
	}
	for _, line := range strings.Split(r.PostFormValue("say"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			sub.Say = append(sub.Say, line)
		}
	}
	if err := errors.Join(append(errs, sub.Validate())...); err != nil {
		c.failed(w, r, v, "network?edit="+url.QueryEscape(sub.Number)+"#sn-form", "set subscriber", err)
		return
	}
	c.cfg.Net.SetBehavior(sub.Number, sub.Behavior)
	c.log.InfoContext(r.Context(), "console: simulated subscriber changed", "number", sub.Number, "result", sub.Result, "by", v.Session.Username)
	c.redirect(w, r, "network", "Saved subscriber "+sub.Number+".", "")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
