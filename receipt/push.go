package receipt

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// SignatureHeader carries the push signature:
//
//	X-Dialtone-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(push_secret, "<t>.<body>")>
//
// A receiver recomputes v1 over the raw body it received, compares it in
// constant time and rejects a t too far from its clock (replays).
const SignatureHeader = "X-Dialtone-Signature"

// Sign returns the SignatureHeader value of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + signature(secret, ts, body)
}

func signature(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a SignatureHeader value as a receiver should: the
// HMAC matches body and t is within tolerance of now.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, v1 string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v1 == "" {
		return errors.New("receipt: malformed signature header")
	}
	if !hmac.Equal([]byte(signature(secret, ts, body)), []byte(v1)) {
		return errors.New("receipt: signature mismatch")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("receipt: signature timestamp outside tolerance")
	}
	return nil
}

// PushStore is what the Pusher needs from the store.
type PushStore interface {
	GetSubscription(ctx context.Context, accountUID, messageType string) (*dialtone.Subscription, error)
	ClaimPushDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]dialtone.PushDelivery, error)
	CompletePushDeliveries(ctx context.Context, ids []string) error
	FailPushDeliveries(ctx context.Context, fails []dialtone.PushFailure) error
}

// Defaults of PusherConfig (Alibaba's push behaviour, vms-api §4.3).
var (
	DefaultPushTimeout = 700 * time.Millisecond
	DefaultRetries     = []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute}
)

// PusherConfig configures a Pusher.
type PusherConfig struct {
	Store  PushStore
	Client *http.Client // default: a client without its own timeout
	Clock  dialtone.Clock
	Logger *slog.Logger
	// Timeout bounds one POST, answer included; default 700 ms.
	Timeout time.Duration
	// Retries are the waits after the 1st, 2nd, ... failed attempt; when
	// they run out the delivery becomes a dead letter. Default 1, 5, 10 min.
	Retries []time.Duration
	// Concurrency bounds simultaneous POSTs; default 8.
	Concurrency int
	// BatchSize bounds the receipts of one POST; default (and max) 100.
	BatchSize int
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
}

// Defaults returns c with every unset field at its default.
func (cfg PusherConfig) Defaults() PusherConfig {
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
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
		cfg.Concurrency = 8
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > 100 {
		cfg.BatchSize = 100
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
	}
}

// Notify tells the pusher that deliveries may be due. It never blocks.
func (p *Pusher) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run pushes due deliveries until ctx ends, then waits for the POSTs in
// flight (each bounded by Timeout).
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
			return
		case <-p.wake:
		case <-t.C:
		}
	}
}

type pushKey struct{ account, msgType string }

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
		for _, k := range order {
			g := groups[k]
			for len(g) > 0 {
				n := min(len(g), p.cfg.BatchSize)
				batch := g[:n]
				g = g[n:]
				// Bounded concurrency: the claim loop waits here when
				// every slot is busy, so a backlog is not read ahead.
				select {
				case p.sem <- struct{}{}:
				case <-ctx.Done():
					return nil // the lease returns the rest
				}
				p.wg.Add(1)
				go func() {
					defer func() { <-p.sem; p.wg.Done() }()
					p.deliver(context.WithoutCancel(ctx), k, batch)
				}()
			}
		}
		if len(ds) < limit {
			return nil
		}
	}
	return nil
}

// deliver POSTs one batch and records the outcome of each delivery.
func (p *Pusher) deliver(ctx context.Context, k pushKey, batch []dialtone.PushDelivery) {
	ids := make([]string, len(batch))
	for i, d := range batch {
		ids[i] = d.ID
	}
	sub, err := p.cfg.Store.GetSubscription(ctx, k.account, k.msgType)
	var failErr error
	switch {
	case errors.Is(err, dialtone.ErrNotFound) || (err == nil && sub.PushURL == ""):
		// Kept as dead letters rather than dropped: the operator may
		// restore the subscription and redrive them.
		p.record(ctx, k, "", 0, errors.New("no push subscription"), len(batch))
		p.fail(ctx, batch, errors.New("no push subscription"), true)
		return
	case err != nil:
		failErr = fmt.Errorf("subscription lookup: %w", err)
	default:
		var status int
		status, failErr = p.post(ctx, sub, batch)
		p.record(ctx, k, sub.PushURL, status, failErr, len(batch))
	}
	if failErr == nil {
		if err := p.cfg.Store.CompletePushDeliveries(ctx, ids); err != nil {
			// They stay leased and are pushed again after the lease: a
			// duplicate, which receipts allow, rather than a loss.
			p.log.WarnContext(ctx, "recording delivered pushes failed", "account", k.account, "type", k.msgType, "err", err)
		}
		return
	}
	p.log.InfoContext(ctx, "push failed", "account", k.account, "type", k.msgType, "receipts", len(batch), "err", failErr)
	p.fail(ctx, batch, failErr, false)
}

// PushResultRecorder is a PushStore that also keeps the outcome of each
// POST for the console (dialtone.ReceiptStore has it); the pusher records
// only when its store is one.
type PushResultRecorder interface {
	RecordPushResult(ctx context.Context, r *dialtone.PushResult) error
}

// record keeps the outcome of one POST. A failure to record is only
// logged: the history is for people, the delivery itself already happened.
func (p *Pusher) record(ctx context.Context, k pushKey, pushURL string, status int, cause error, n int) {
	rec, ok := p.cfg.Store.(PushResultRecorder)
	if !ok {
		return
	}
	r := &dialtone.PushResult{AccountUID: k.account, MessageType: k.msgType, At: p.cfg.Clock.Now(),
		URL: RedactURL(pushURL), HTTPStatus: status, Count: n}
	if cause != nil {
		r.Error = truncate(cause.Error(), 500)
	}
	if err := rec.RecordPushResult(ctx, r); err != nil {
		p.log.WarnContext(ctx, "recording a push result failed", "account", k.account, "type", k.msgType, "err", err)
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

func (p *Pusher) fail(ctx context.Context, batch []dialtone.PushDelivery, cause error, dead bool) {
	now := p.cfg.Clock.Now()
	fails := make([]dialtone.PushFailure, len(batch))
	for i, d := range batch {
		f := dialtone.PushFailure{ID: d.ID, Error: truncate(cause.Error(), 500), Dead: dead}
		if !dead {
			if d.Attempts < len(p.cfg.Retries) {
				f.Next = now.Add(p.cfg.Retries[d.Attempts])
			} else {
				f.Dead = true
			}
		}
		fails[i] = f
	}
	if err := p.cfg.Store.FailPushDeliveries(ctx, fails); err != nil {
		p.log.WarnContext(ctx, "recording failed pushes failed; they are retried after their lease", "err", err)
	}
}

// post sends the batch as a JSON array of the receipt objects and decides
// success as Alibaba does: HTTP 200 with a JSON body whose "code" is a
// number (its value is not checked). status is the HTTP status, 0 when no
// answer came.
func (p *Pusher) post(ctx context.Context, sub *dialtone.Subscription, batch []dialtone.PushDelivery) (status int, err error) {
	var body bytes.Buffer
	body.WriteByte('[')
	for i, d := range batch {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(d.Body)
	}
	body.WriteByte(']')
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.PushURL, bytes.NewReader(body.Bytes()))
	if err != nil {
		return 0, fmt.Errorf("push URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	req.Header.Set("User-Agent", "Dialtone-Receipts/1")
	if sub.PushSecret != "" {
		req.Header.Set(SignatureHeader, Sign(sub.PushSecret, p.cfg.Clock.Now(), body.Bytes()))
	}
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return status, fmt.Errorf("reading the answer: %w", err)
	}
	return status, CheckAnswer(status, answer)
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
