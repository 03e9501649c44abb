package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/mns"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/receipt"
)

// --- receipts ---
//
// The receipts page shows what Dialtone sent and what came back: per
// message type the subscription (who set its push URL, whether a secret
// rotation runs), a summary computed from real deliveries only, every push
// attempt (time, URL without password, HTTP status, latency, error or the
// egress rule that refused it, next retry) with test pushes apart, recent
// receipts, the retries waiting and the dead letters with "retry now".
// ?call=ID shows one call's receipts in full: the JSON as delivered, the
// queue message's base64 MessageBody as MNS delivers it, the delivery's
// state and the attempts that carried each. Account users see of an
// answer only its HTTP status and, in the receipt format, its code and
// msg; operators also its first bytes.

type receiptRow struct {
	Type      string
	Sub       *dialtone.Subscription
	QueueName string
	Depth     int
	Stats     dialtone.QueueStats
	HasSecret bool
	// RotatingUntil is the end of a push secret rotation's grace; zero
	// when none runs.
	RotatingUntil time.Time
	// Attempts are the newest deliveries (test pushes apart, in Tests);
	// Last the newest of them, LastOK the newest accepted; Accepted and
	// Failed count Attempts.
	Attempts         []dialtone.PushAttempt
	Tests            []dialtone.PushAttempt
	Last, LastOK     *dialtone.PushAttempt
	Accepted, Failed int
	// Receipts are the type's newest receipts.
	Receipts []receiptView
}

// receiptView is one receipt with what became of it.
type receiptView struct {
	R        dialtone.Receipt
	JSON     string // the body exactly as delivered
	Pretty   string // indented, to read
	Base64   string // the queue message's MessageBody
	BodyMD5  string
	Delivery *dialtone.PushDelivery // nil: no push pending (delivered, or none)
	Attempts []dialtone.PushAttempt
	State    string
}

type receiptsData struct {
	Missing bool
	Rows    []receiptRow
	Dead    []dialtone.PushDelivery
	Retries []dialtone.PushDelivery
	// Call is the call whose receipts the page shows (?call=ID); "" for
	// the whole account. Types are its receipts by message type.
	Call  string
	Types []callReceipts
	// Graces are the choices of a secret rotation's grace.
	Graces []graceChoice
}

type callReceipts struct {
	Type     string
	Receipts []receiptView
}

type graceChoice struct {
	Seconds int64
	Label   string
}

// graces are the rotation grace periods the forms offer.
var graces = []graceChoice{
	{0, "none: the old secret stops signing at once"},
	{3600, "1 hour: pushes carry both signatures"},
	{86400, "24 hours: pushes carry both signatures"},
	{7 * 86400, "7 days: pushes carry both signatures"},
}

// Limits of the receipts page.
const (
	attemptsShown = 20
	testsShown    = 5
	receiptsShown = 10
)

func (c *Console) receiptsPage(w http.ResponseWriter, r *http.Request, v *view) {
	c.messages(w, r, v)
	v.Title = "Receipts 回执"
	d := receiptsData{Missing: c.receipts == nil, Call: strings.TrimSpace(r.URL.Query().Get("call")), Graces: graces}
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
	if c.receipts == nil || v.Account == "" {
		v.Data = d
		c.render(w, r, http.StatusOK, "receipts.html", v, "")
		return
	}
	var err error
	if d.Call != "" {
		d.Types, err = c.callReceipts(ctx, v.Account, d.Call)
	} else {
		d.Rows, err = c.receiptRows(ctx, v.Account)
	}
	if err != nil {
		c.internal(w, r, "receipts", err)
		return
	}
	if d.Dead, err = c.receipts.ListDeadLetters(ctx, v.Account, 100); err != nil {
		c.internal(w, r, "dead letters", err)
		return
	}
	if d.Retries, err = c.receipts.ListPushRetries(ctx, v.Account, 100); err != nil {
		c.internal(w, r, "push retries", err)
		return
	}
	if d.Call != "" {
		d.Dead, d.Retries = ofCall(d.Dead, d.Types), ofCall(d.Retries, d.Types)
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "receipts.html", v, "")
}

// receiptRows is the account's page: one row per message type.
func (c *Console) receiptRows(ctx context.Context, acct string) ([]receiptRow, error) {
	now := c.now()
	no, yes := false, true
	var rows []receiptRow
	for _, typ := range dialtone.MessageTypes {
		row := receiptRow{Type: typ, QueueName: dialtone.QueueName(acct, typ)}
		sub, err := c.receipts.GetSubscription(ctx, acct, typ)
		switch {
		case err == nil:
			row.Sub, row.HasSecret = sub, sub.PushSecret != ""
			if k := sub.PushSigning(); k.Rotating(now) {
				row.RotatingUntil = k.PreviousUntil
			}
			// The push secrets are never put on a page.
			sub.PushSecret, sub.PushSecretPrevious = "", ""
		case !errors.Is(err, dialtone.ErrNotFound):
			return nil, err
		}
		qs, err := c.receipts.QueueStats(ctx, row.QueueName, now)
		if err != nil {
			return nil, err
		}
		row.Depth, row.Stats = qs.Active+qs.Inactive+qs.Delayed, qs
		if row.Attempts, err = c.receipts.ListPushAttempts(ctx, dialtone.PushAttemptFilter{AccountUID: acct, MessageType: typ, Test: &no, Limit: 100}); err != nil {
			return nil, err
		}
		for i := range row.Attempts {
			a := &row.Attempts[i]
			if row.Last == nil {
				row.Last = a
			}
			if a.Error == "" {
				row.Accepted++
				if row.LastOK == nil {
					row.LastOK = a
				}
			} else {
				row.Failed++
			}
		}
		row.Attempts = row.Attempts[:min(len(row.Attempts), attemptsShown)]
		if row.Tests, err = c.receipts.ListPushAttempts(ctx, dialtone.PushAttemptFilter{AccountUID: acct, MessageType: typ, Test: &yes, Limit: testsShown}); err != nil {
			return nil, err
		}
		rs, err := c.receipts.ListReceipts(ctx, dialtone.ReceiptFilter{AccountUID: acct, MessageType: typ, Limit: receiptsShown})
		if err != nil {
			return nil, err
		}
		if row.Receipts, err = c.receiptViews(ctx, acct, rs, false); err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// callReceipts are one call's receipts, by message type, in full.
func (c *Console) callReceipts(ctx context.Context, acct, callID string) ([]callReceipts, error) {
	rs, err := c.receipts.ListReceipts(ctx, dialtone.ReceiptFilter{AccountUID: acct, CallID: callID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	// Oldest first: the order they were made in.
	slices.Reverse(rs)
	views, err := c.receiptViews(ctx, acct, rs, true)
	if err != nil {
		return nil, err
	}
	var out []callReceipts
	for _, typ := range dialtone.MessageTypes {
		g := callReceipts{Type: typ}
		for _, rv := range views {
			if rv.R.MessageType == typ {
				g.Receipts = append(g.Receipts, rv)
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// receiptViews adds to receipts their delivery's state and, with full,
// their content and attempts.
func (c *Console) receiptViews(ctx context.Context, acct string, rs []dialtone.Receipt, full bool) ([]receiptView, error) {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	ds, err := c.receipts.GetPushDeliveries(ctx, acct, ids)
	if err != nil {
		return nil, err
	}
	open := make(map[string]*dialtone.PushDelivery, len(ds))
	for i := range ds {
		open[ds[i].ID] = &ds[i]
	}
	out := make([]receiptView, len(rs))
	for i, r := range rs {
		rv := receiptView{R: r, Delivery: open[r.ID]}
		if full {
			rv.JSON = string(r.Body)
			var buf bytes.Buffer
			if json.Indent(&buf, r.Body, "", "  ") == nil {
				rv.Pretty = buf.String()
			}
			rv.Base64, rv.BodyMD5 = mns.EncodeBody(r.Body)
			if rv.Attempts, err = c.receipts.ListPushAttempts(ctx, dialtone.PushAttemptFilter{AccountUID: acct, ReceiptID: r.ID, Limit: 100}); err != nil {
				return nil, err
			}
		}
		rv.State = deliveryState(&rv, full)
		out[i] = rv
	}
	return out, nil
}

// deliveryState says where a receipt's push stands.
func deliveryState(rv *receiptView, full bool) string {
	d := rv.Delivery
	switch {
	case rv.R.RoutedAt.IsZero():
		return "not routed yet 待投递"
	case d != nil && d.Dead:
		return fmt.Sprintf("dead letter after %d attempts 死信", d.Attempts)
	case d != nil && d.Attempts > 0:
		return fmt.Sprintf("failed %d times; next attempt %s 等待重试", d.Attempts, fmtTime(d.DueAt))
	case d != nil:
		return "being pushed 推送中"
	case !full:
		return "no push pending"
	}
	for _, a := range rv.Attempts {
		if a.Error == "" {
			return "pushed 已推送 " + fmtTime(a.At)
		}
	}
	if len(rv.Attempts) > 0 {
		return "pushed (its accepted attempt is no longer kept)"
	}
	return "no push (the subscription had no push URL) 未推送"
}

// ofCall keeps the deliveries of the receipts listed in types.
func ofCall(ds []dialtone.PushDelivery, types []callReceipts) []dialtone.PushDelivery {
	ids := map[string]bool{}
	for _, g := range types {
		for _, rv := range g.Receipts {
			ids[rv.R.ID] = true
		}
	}
	var out []dialtone.PushDelivery
	for _, d := range ds {
		if ids[d.ID] {
			out = append(out, d)
		}
	}
	return out
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
		if g, err := strconv.ParseInt(r.PostFormValue("push_secret_grace_seconds"), 10, 64); err == nil && g > 0 {
			u.PushSecretGraceSeconds = &g
		}
	}
	if r.PostFormValue("clear_secret") == "on" {
		u.PushSecret = new("")
	}
	if _, _, err := c.res.PutSubscription(r.Context(), v.Account, typ, u); err != nil {
		c.failed(w, r, v, "receipts#rc-"+url.PathEscape(typ), "put subscription", err)
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

// receiptTest pushes one sample receipt to the subscription's push URL as
// the pusher would (the same client, policy, trust and signatures) and
// records the attempt as a test, apart from the deliveries.
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
	o := receipt.Push(ctx, c.out, outbound.PurposeTestPush, sub, body)
	a := o.Attempt(sub, now)
	a.Test, a.Count = true, 1
	if err := c.receipts.RecordPushAttempt(r.Context(), a); err != nil {
		// The outcome is still shown in the flash message.
		c.log.WarnContext(r.Context(), "console: recording a test receipt failed", "account", v.Account, "type", typ, "err", err)
	}
	msg := "Test receipt for " + typ + ": " + testSummary(o, v.Operator)
	if o.Err != nil {
		c.redirect(w, r, "receipts#rc-"+url.PathEscape(typ), "", msg)
		return
	}
	c.redirect(w, r, "receipts#rc-"+url.PathEscape(typ), msg, "")
}

// testSummary says how a test push went. Nothing of the receiver's answer
// is repeated to an account user but its HTTP status and, when it is the
// receipt format, its code and msg: a push URL must not become a way to
// read what answers at an address. Operators also see its first bytes.
func testSummary(o receipt.Outcome, operator bool) string {
	var b strings.Builder
	switch {
	case o.Err == nil:
		fmt.Fprintf(&b, "HTTP %d, accepted", o.Status)
	case o.Status == 0:
		fmt.Fprintf(&b, "not accepted: %s", o.Err)
	default:
		fmt.Fprintf(&b, "not accepted: HTTP %d", o.Status)
		if e := o.Err.Error(); e != fmt.Sprintf("HTTP %d", o.Status) {
			b.WriteString(" (" + e + ")")
		}
		if o.Status >= 300 && o.Status < 400 {
			b.WriteString(" (a redirect, which is never followed)")
		}
	}
	switch {
	case o.ReceiptFormat:
		fmt.Fprintf(&b, "; the receiver answered code %s", o.Code)
		if o.Msg != "" {
			fmt.Fprintf(&b, ", msg %q", o.Msg)
		}
	case o.Status != 0 && !operator:
		b.WriteString(`; the answer is not the receipt format ({"code": 0, "msg": "…"}), so it is not shown`)
	}
	if operator && o.Answer != "" {
		fmt.Fprintf(&b, ". Answer (first %d bytes, shown to operators only): %s", dialtone.MaxPushAnswer, o.Answer)
	}
	return b.String() + "."
}

// receiptRetry pushes one dead letter again now ("retry now").
func (c *Console) receiptRetry(w http.ResponseWriter, r *http.Request, v *view) {
	if c.receipts == nil {
		c.notFound(w, r, v)
		return
	}
	id := r.PostFormValue("id")
	back := "receipts"
	if call := r.PostFormValue("call"); call != "" {
		back = "receipts?call=" + url.QueryEscape(call)
	}
	switch err := c.receipts.RetryDeadLetter(r.Context(), v.Account, id, c.now()); {
	case errors.Is(err, dialtone.ErrNotFound):
		c.redirect(w, r, back, "", "That receipt is not a dead letter of this account (any more).")
		return
	case err != nil:
		c.internal(w, r, "retry dead letter", err)
		return
	}
	c.log.InfoContext(r.Context(), "console: dead letter pushed again", "account", v.Account, "receipt", id, "by", v.Session.Username)
	if c.cfg.Redriven != nil {
		c.cfg.Redriven()
	}
	c.redirect(w, r, back, "Receipt "+id+" is being pushed again; its attempt appears below.", "")
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
