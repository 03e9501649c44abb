package receipt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/outbound"
)

// SignatureHeader carries the push signature (outbound.SignatureHeader):
//
//	X-Dialtone-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(push_secret, "<t>.<body>")>
//
// While a rotated secret's grace runs, one v1 per secret (new first). A
// receiver recomputes v1 over the raw body it received, compares it in
// constant time and rejects a t too far from its clock (replays).
const SignatureHeader = outbound.SignatureHeader

// Sign returns the SignatureHeader value of body sent at t with one secret.
func Sign(secret string, t time.Time, body []byte) string { return outbound.Sign(secret, t, body) }

// VerifySignature checks a SignatureHeader value as a receiver should: a
// v1 matches body and t is within tolerance of now (outbound.Verify).
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	return outbound.Verify(secret, header, body, now, tolerance)
}

// Signer is the outbound signer of a subscription's push secrets.
func Signer(sub *dialtone.Subscription) *outbound.Signer {
	return &outbound.Signer{Secret: sub.PushSecret, Previous: sub.PushSecretPrevious, PreviousUntil: sub.PushSecretPreviousUntil}
}

// PushStore is what the Pusher needs from the store.
type PushStore interface {
	GetSubscription(ctx context.Context, accountUID, messageType string) (*dialtone.Subscription, error)
	RecordPushAttempt(ctx context.Context, a *dialtone.PushAttempt) error
	ClaimPushDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]dialtone.PushDelivery, error)
	CompletePushDeliveries(ctx context.Context, ids []string) error
	FailPushDeliveries(ctx context.Context, fails []dialtone.PushFailure) error
	ReleasePushDeliveries(ctx context.Context, ids []string, due time.Time) error
}

// Defaults of PusherConfig (Alibaba's push behaviour, vms-api §4.3).
var (
	DefaultPushTimeout = 700 * time.Millisecond
	DefaultRetries     = []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute}
)

// PusherConfig configures a Pusher.
type PusherConfig struct {
	Store PushStore
	// Client sends the pushes under the egress policy and the per-account
	// caps (the node's one outbound client); default a client whose policy
	// has no allow-list.
	Client *outbound.Client
	Clock  dialtone.Clock
	Logger *slog.Logger
	// Timeout bounds one POST, answer included; default 700 ms.
	Timeout time.Duration
	// Retries are the waits after the 1st, 2nd, ... failed attempt; when
	// they run out the delivery becomes a dead letter. Default 1, 5, 10 min.
	Retries []time.Duration
	// Concurrency bounds simultaneous POSTs of all accounts; default 64.
	// Fairness comes from the outbound client's caps, which fail a push
	// at once beyond them (it is retried on its schedule): one account's
	// dead receiver holds at most PerDestination (8) of these for as long
	// as the Timeout, so the other accounts' pushes always find a free
	// one.
	Concurrency int
	// BatchSize bounds the receipts of one POST; default (and max) 100.
	BatchSize int
	// PerReceiver bounds the batches of one account and message type (one
	// push URL) in flight at once; default 4, below the outbound client's
	// cap per destination (8), which the console's test pushes share.
	PerReceiver int
	// Sweep is the period of the scan for due retries; default 1 s.
	Sweep time.Duration
	// Lease is how long a claimed delivery is hidden from other workers;
	// a crash mid-push retries it after the lease. Default 30 s.
	Lease time.Duration
}

// Pusher delivers push deliveries by HTTP batch push. It runs on its own
// goroutines and never blocks call processing: the engine only writes the
// outbox, and the dispatcher only signals the pusher.
type Pusher struct {
	cfg  PusherConfig
	log  *slog.Logger
	wake chan struct{}
	sem  chan struct{}
	wg   sync.WaitGroup

	mu        sync.Mutex
	receivers map[pushKey]*receiverState
}

// Defaults returns c with every unset field at its default.
func (cfg PusherConfig) Defaults() PusherConfig {
	if cfg.Client == nil {
		cfg.Client, _ = outbound.New(outbound.Config{}) // the zero Config is valid
	}
	if cfg.Clock == nil {
		cfg.Clock = dialtone.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultPushTimeout
	}
	if cfg.Retries == nil {
		cfg.Retries = DefaultRetries
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > 100 {
		cfg.BatchSize = 100
	}
	if cfg.PerReceiver <= 0 {
		cfg.PerReceiver = 4
	}
	if cfg.Sweep <= 0 {
		cfg.Sweep = time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	return cfg
}

// NewPusher returns a pusher; Run starts it.
func NewPusher(cfg PusherConfig) *Pusher {
	cfg = cfg.Defaults()
	return &Pusher{
		cfg: cfg, log: cfg.Logger.With("component", "receipt-push"),
		wake: make(chan struct{}, 1), sem: make(chan struct{}, cfg.Concurrency),
		receivers: map[pushKey]*receiverState{},
	}
}

// Notify tells the pusher that deliveries may be due. It never blocks.
func (p *Pusher) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run pushes due deliveries until ctx ends, then hands the claimed ones
// that had not started back to the store (another node may take them at
// once) and waits for the POSTs in flight (each bounded by Timeout).
func (p *Pusher) Run(ctx context.Context) {
	defer p.wg.Wait()
	t := time.NewTicker(p.cfg.Sweep)
	defer t.Stop()
	for {
		if err := p.drain(ctx); err != nil && ctx.Err() == nil {
			p.log.WarnContext(ctx, "claiming push deliveries failed; retrying at the next sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			p.handBackWaiting()
			return
		case <-p.wake:
		case <-t.C:
		}
	}
}

type pushKey struct{ account, msgType string }

// receiverState is one push URL's (one account and message type's)
// batches: in flight, and claimed and waiting for a slot.
type receiverState struct {
	inflight int
	queue    []queuedBatch
	// slow: the receiver's last push took more than half the push timeout
	// (or timed out); what it cannot take now waits a push timeout in the
	// store, instead of coming back at once.
	slow bool
}

type queuedBatch struct {
	batch []dialtone.PushDelivery
	// leaseEnd is when the store hands the batch out again: a batch still
	// waiting then is dropped here rather than pushed twice at once.
	leaseEnd time.Time
}

// maxWaiting is how many batches of one receiver wait for a slot, in
// PerReceivers: enough to keep a healthy receiver busy between claims,
// few enough that a hung receiver's (PerReceiver per push Timeout) are all
// pushed within their lease.
const maxWaiting = 16

// drain claims due deliveries and queues them by receiver: each receiver
// has at most PerReceiver batches in flight and maxWaiting times as many
// waiting;
// more are handed back to the store, due again a push timeout later,
// without counting an attempt. A receiver that hangs thus holds at most
// PerReceiver of the pusher's slots, and its backlog stays in the store.
func (p *Pusher) drain(ctx context.Context) error {
	for ctx.Err() == nil {
		now := p.cfg.Clock.Now()
		limit := p.cfg.BatchSize * p.cfg.Concurrency
		ds, err := p.cfg.Store.ClaimPushDeliveries(ctx, now, now.Add(p.cfg.Lease), limit)
		if err != nil {
			return err
		}
		groups := map[pushKey][]dialtone.PushDelivery{}
		var order []pushKey
		for _, d := range ds {
			k := pushKey{d.AccountUID, d.MessageType}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], d)
		}
		var back, backSoon []string
		queued := 0
		p.mu.Lock()
		for _, k := range order {
			st := p.receivers[k]
			if st == nil {
				st = &receiverState{}
				p.receivers[k] = st
			}
			for g := groups[k]; len(g) > 0; {
				n := min(len(g), p.cfg.BatchSize)
				batch := g[:n]
				g = g[n:]
				if len(st.queue) >= maxWaiting*p.cfg.PerReceiver {
					for _, d := range batch {
						if st.slow {
							back = append(back, d.ID)
						} else {
							backSoon = append(backSoon, d.ID)
						}
					}
					continue
				}
				st.queue = append(st.queue, queuedBatch{batch: batch, leaseEnd: now.Add(p.cfg.Lease)})
				queued++
			}
			if st.inflight == 0 && len(st.queue) == 0 {
				delete(p.receivers, k)
			}
		}
		p.mu.Unlock()
		p.handBack(ctx, back, now.Add(p.cfg.Timeout))
		p.handBack(ctx, backSoon, now.Add(handBackSoon))
		p.pump(ctx)
		// A full claim may mean more are due, unless every receiver had
		// enough waiting already: the rest waits for their turn.
		if len(ds) < limit || queued == 0 {
			return nil
		}
	}
	return nil
}

// handBackWaiting hands every batch still waiting for a slot back to the
// store, due now (the pusher is stopping).
func (p *Pusher) handBackWaiting() {
	var ids []string
	p.mu.Lock()
	for _, st := range p.receivers {
		for _, qb := range st.queue {
			for _, d := range qb.batch {
				ids = append(ids, d.ID)
			}
		}
		st.queue = nil
	}
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.handBack(ctx, ids, p.cfg.Clock.Now())
}

// handBackSoon is when the deliveries a healthy receiver had no room for
// are due again.
const handBackSoon = 50 * time.Millisecond

// handBack ends the lease of deliveries that were not pushed: due again at
// due, no attempt counted.
func (p *Pusher) handBack(ctx context.Context, ids []string, due time.Time) {
	if len(ids) == 0 {
		return
	}
	if err := p.cfg.Store.ReleasePushDeliveries(ctx, ids, due); err != nil {
		p.log.WarnContext(ctx, "handing back push deliveries failed; they are pushed after their lease", "err", err)
	}
}

// pump starts the waiting batches that have room: a slot of their
// receiver and one of the pusher's. It is called after a claim and
// whenever a push ends.
func (p *Pusher) pump(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for progress := true; progress && ctx.Err() == nil; {
		progress = false
		for k, st := range p.receivers { // map order: no receiver always first
			if st.inflight >= p.cfg.PerReceiver || len(st.queue) == 0 {
				continue
			}
			qb := st.queue[0]
			if !p.cfg.Clock.Now().Before(qb.leaseEnd) {
				// Waited past its lease: the store hands it out again.
				st.queue = st.queue[1:]
				progress = true
				continue
			}
			select {
			case p.sem <- struct{}{}:
			default:
				return // every slot is busy: the next push to end pumps again
			}
			st.queue = st.queue[1:]
			st.inflight++
			progress = true
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				// The slots are given back when the receiver has answered,
				// before the outcome is written down.
				began := time.Now()
				p.deliver(context.WithoutCancel(ctx), k, qb.batch, func() {
					<-p.sem
					p.mu.Lock()
					st.inflight--
					st.slow = time.Since(began) > p.cfg.Timeout/2
					if st.inflight == 0 && len(st.queue) == 0 && p.receivers[k] == st {
						delete(p.receivers, k)
					}
					p.mu.Unlock()
					p.pump(ctx)
				})
			}()
		}
	}
}

// deliver POSTs one batch and records the outcome of each delivery and of
// the attempt; answered is called once the receiver has answered (or the
// push ended without an answer), before anything is recorded.
func (p *Pusher) deliver(ctx context.Context, k pushKey, batch []dialtone.PushDelivery, answered func()) {
	var once sync.Once
	defer once.Do(answered)
	ids := make([]string, len(batch))
	for i, d := range batch {
		ids[i] = d.ID
	}
	sub, err := p.cfg.Store.GetSubscription(ctx, k.account, k.msgType)
	switch {
	case errors.Is(err, dialtone.ErrNotFound) || (err == nil && sub.PushURL == ""):
		// Kept as dead letters rather than dropped: the operator may
		// restore the subscription and redrive them.
		a := &dialtone.PushAttempt{AccountUID: k.account, MessageType: k.msgType, At: p.cfg.Clock.Now(),
			Error: "no push subscription", ReceiptIDs: ids, Count: len(batch), Dead: true}
		p.fail(ctx, batch, errors.New("no push subscription"), true)
		p.record(ctx, a)
		return
	case err != nil:
		p.log.WarnContext(ctx, "push: subscription lookup failed; the batch is retried", "account", k.account, "type", k.msgType, "err", err)
		a := &dialtone.PushAttempt{AccountUID: k.account, MessageType: k.msgType, At: p.cfg.Clock.Now(),
			Error: "subscription lookup failed", ReceiptIDs: ids, Count: len(batch)}
		a.NextRetry, a.Dead = p.fail(ctx, batch, errors.New(a.Error), false)
		p.record(ctx, a)
		return
	}
	at := p.cfg.Clock.Now()
	pctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	o := Push(pctx, p.cfg.Client, outbound.PurposePush, sub, Batch(batch))
	cancel()
	once.Do(answered)
	if errors.Is(o.Err, outbound.ErrBusy) {
		// Not an attempt: nothing was sent (the account's requests to the
		// receiver are at their cap). Pushed again shortly.
		p.handBack(ctx, ids, p.cfg.Clock.Now().Add(p.cfg.Timeout))
		return
	}
	a := o.Attempt(sub, at)
	a.ReceiptIDs, a.Count = ids, len(batch)
	if o.Err == nil {
		if err := p.cfg.Store.CompletePushDeliveries(ctx, ids); err != nil {
			// They stay leased and are pushed again after the lease: a
			// duplicate, which receipts allow, rather than a loss.
			p.log.WarnContext(ctx, "recording delivered pushes failed", "account", k.account, "type", k.msgType, "err", err)
		}
		p.record(ctx, a)
		return
	}
	p.log.InfoContext(ctx, "push failed", "account", k.account, "type", k.msgType, "receipts", len(batch), "err", o.Err)
	a.NextRetry, a.Dead = p.fail(ctx, batch, o.Err, false)
	p.record(ctx, a)
}

// record keeps one attempt for the console. A failure to record is only
// logged: the history is for people, the delivery itself already happened.
func (p *Pusher) record(ctx context.Context, a *dialtone.PushAttempt) {
	if err := p.cfg.Store.RecordPushAttempt(ctx, a); err != nil {
		p.log.WarnContext(ctx, "recording a push attempt failed", "account", a.AccountUID, "type", a.MessageType, "err", err)
	}
}

// RedactURL drops a password from a push URL before it is stored or shown
// (a receiver may take basic-auth credentials in the URL).
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Redacted()
}

// fail records a failed attempt of each delivery of the batch and
// returns when the batch is tried again (the earliest of its deliveries;
// zero when none is) and whether every one became a dead letter.
func (p *Pusher) fail(ctx context.Context, batch []dialtone.PushDelivery, cause error, dead bool) (next time.Time, allDead bool) {
	now := p.cfg.Clock.Now()
	fails := make([]dialtone.PushFailure, len(batch))
	allDead = true
	for i, d := range batch {
		f := dialtone.PushFailure{ID: d.ID, Error: truncate(cause.Error(), 500), Dead: dead}
		if !dead {
			if d.Attempts < len(p.cfg.Retries) {
				f.Next = now.Add(p.cfg.Retries[d.Attempts])
			} else {
				f.Dead = true
			}
		}
		if !f.Dead && (next.IsZero() || f.Next.Before(next)) {
			next = f.Next
		}
		allDead = allDead && f.Dead
		fails[i] = f
	}
	if err := p.cfg.Store.FailPushDeliveries(ctx, fails); err != nil {
		p.log.WarnContext(ctx, "recording failed pushes failed; they are retried after their lease", "err", err)
	}
	return next, allDead
}

// Batch is the body of one push: the receipts' JSON objects in a JSON
// array.
func Batch(batch []dialtone.PushDelivery) []byte {
	var body bytes.Buffer
	body.WriteByte('[')
	for i, d := range batch {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(d.Body)
	}
	body.WriteByte(']')
	return body.Bytes()
}

// Outcome is what one push came to.
type Outcome struct {
	Status int // 0: no HTTP answer
	// Answer is the start of the receiver's answer (at most
	// dialtone.MaxPushAnswer bytes of valid UTF-8), for the operator.
	Answer string
	// Code and Msg are the answer's "code" (as written) and "msg" when it
	// is the receipt format ({"code": <number>, ...}); ReceiptFormat says
	// whether it is.
	Code, Msg     string
	ReceiptFormat bool
	Latency       time.Duration
	// Err is nil when the receiver accepted the push; Rule is the egress
	// policy's rule when it refused the URL.
	Err  error
	Rule string
}

// Push sends body, a JSON array of receipts, to the subscription's push
// URL with client (purpose PurposePush or PurposeTestPush), signed with
// its secrets, under the trust its URL was set with, and judges the
// answer as Alibaba does (CheckAnswer). ctx bounds the request. A push
// over the account's caps fails at once (the retry schedule takes it).
func Push(ctx context.Context, client *outbound.Client, purpose outbound.Purpose, sub *dialtone.Subscription, body []byte) Outcome {
	trust := outbound.Untrusted
	if sub.PushURLTrusted {
		trust = outbound.Trusted
	}
	start := time.Now()
	resp, err := client.Send(ctx, outbound.Meta{Account: sub.AccountUID, Purpose: purpose, Trust: trust}, outbound.Request{
		URL:    sub.PushURL,
		Header: http.Header{"Content-Type": {"application/json;charset=utf-8"}, "User-Agent": {"Dialtone-Receipts/1"}},
		Body:   body,
		Signer: Signer(sub),
	})
	o := Outcome{Latency: time.Since(start)}
	if resp != nil {
		o.Status = resp.Status
		o.Answer = answerStart(resp.Body)
		o.Code, o.Msg, o.ReceiptFormat = ReceiptAnswer(resp.Body)
	}
	switch {
	case err != nil:
		o.Err = pushError(ctx, err)
		var rerr *outbound.RefusedError
		if errors.As(err, &rerr) {
			o.Rule = string(rerr.Rule)
		}
	default:
		o.Err = CheckAnswer(resp.Status, resp.Body)
	}
	return o
}

// Attempt is the record of the outcome of a push to sub that started at.
func (o Outcome) Attempt(sub *dialtone.Subscription, at time.Time) *dialtone.PushAttempt {
	a := &dialtone.PushAttempt{AccountUID: sub.AccountUID, MessageType: sub.MessageType, At: at, URL: RedactURL(sub.PushURL),
		HTTPStatus: o.Status, Answer: o.Answer, AnswerCode: o.Code, AnswerMsg: o.Msg, Latency: o.Latency, Rule: o.Rule}
	if o.Err != nil {
		a.Error = truncate(o.Err.Error(), 500)
	}
	return a
}

// pushError says why a push got no usable answer, without the URL (which
// the attempt shows apart) or the package prefixes.
func pushError(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return errors.New("no answer in time")
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return errors.New(strings.TrimPrefix(err.Error(), "outbound: "))
}

// answerStart is the start of an answer as it is kept: at most
// dialtone.MaxPushAnswer bytes, cut on a character boundary.
func answerStart(b []byte) string {
	if len(b) > dialtone.MaxPushAnswer {
		b = b[:dialtone.MaxPushAnswer]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	return strings.ToValidUTF8(string(b), "\ufffd")
}

// ReceiptAnswer reads an answer in Dialtone's receipt format, a JSON
// object whose "code" is a number ({"code": 0, "msg": "成功"}): its code as
// written and its msg (a string, at most 200 bytes; "" when absent or not
// a string). ok is false for any other answer: nothing of it may be shown
// to an account user.
func ReceiptAnswer(answer []byte) (code, msg string, ok bool) {
	var reply map[string]json.RawMessage
	if err := json.Unmarshal(answer, &reply); err != nil {
		return "", "", false
	}
	raw := bytes.TrimSpace(reply["code"])
	var n float64
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') || json.Unmarshal(raw, &n) != nil {
		return "", "", false
	}
	code = string(raw)
	if len(code) > 32 {
		code = code[:32]
	}
	if json.Unmarshal(reply["msg"], &msg) != nil {
		msg = ""
	}
	return code, answerStart([]byte(msg)), true
}

// CheckAnswer decides whether a receiver accepted a push from its answer,
// as Alibaba does (HTTP 200 and a JSON object with a numeric "code"); the
// console's test receipt judges by it too.
func CheckAnswer(status int, answer []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d", status)
	}
	var reply map[string]json.RawMessage
	if err := json.Unmarshal(answer, &reply); err != nil {
		return errors.New("answer is not a JSON object")
	}
	// A JSON number, not a string holding one (json.Number would take "0").
	raw := bytes.TrimSpace(reply["code"])
	var code float64
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') || json.Unmarshal(raw, &code) != nil {
		return errors.New(`answer has no numeric "code"`)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
