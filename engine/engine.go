// Package engine runs calls: it dials legs through a dialtone.Carrier,
// plays prompts, collects keys, holds SmartCall dialogues with the
// account's callback server, and records every step in the store.
//
// Durability rule: every state change of a call is one Store.UpdateCall
// (the call row, its new events and the receipts they cause, in one
// transaction), and the "dialing" state is stored before a carrier is asked
// to originate. A crash therefore never dials a call twice: at start-up
// Recover dials what was still queued and ends everything else exactly once.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/cluster"
	"github.com/dialtone-voice/dialtone/media/detect"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/smartcall"
)

// Store is what the engine needs from dialtone.Store.
type Store interface {
	GetCall(ctx context.Context, accountUID, id string) (*dialtone.Call, error)
	UpdateCall(ctx context.Context, ch *dialtone.CallChange) error
	ListCallEvents(ctx context.Context, accountUID, callID string) ([]dialtone.CallEvent, error)
	ListUnfinishedCalls(ctx context.Context, node string) ([]dialtone.Call, error)
	GetNumber(ctx context.Context, accountUID, number string) (*dialtone.Number, error)
	ClaimCall(ctx context.Context, accountUID, id, node string, lease time.Duration, now time.Time) (*dialtone.Call, error)
}

// Renderer turns a prompt into audio. Implementations cache and hand out
// shared *Audio values, which the engine never modifies.
type Renderer interface {
	Render(ctx context.Context, p dialtone.Prompt, speed, volume int) (*dialtone.Audio, error)
}

// RendererFunc adapts a function to Renderer.
type RendererFunc func(ctx context.Context, p dialtone.Prompt, speed, volume int) (*dialtone.Audio, error)

func (f RendererFunc) Render(ctx context.Context, p dialtone.Prompt, speed, volume int) (*dialtone.Audio, error) {
	return f(ctx, p, speed, volume)
}

// Callback is the SmartCall callback exchange: one callback posted, its
// answer validated (package smartcall's Client).
type Callback interface {
	Post(ctx context.Context, req smartcall.Request) (*smartcall.Answer, error)
}

// Receipts builds the receipts of one change of a call: the call as it
// will be stored and the change's new events.
type Receipts interface {
	Build(c *dialtone.Call, ev []dialtone.CallEvent) []dialtone.Receipt
}

// ReceiptsFunc adapts a function to Receipts.
type ReceiptsFunc func(c *dialtone.Call, ev []dialtone.CallEvent) []dialtone.Receipt

// Build implements Receipts.
func (f ReceiptsFunc) Build(c *dialtone.Call, ev []dialtone.CallEvent) []dialtone.Receipt {
	return f(c, ev)
}

// Prompts resolves what a SmartCall callback asks to play.
type Prompts interface {
	ResolveSmartPrompt(ctx context.Context, accountUID, code, paramJSON string) (dialtone.Prompt, error)
}

// PromptsFunc adapts a function to Prompts.
type PromptsFunc func(ctx context.Context, accountUID, code, paramJSON string) (dialtone.Prompt, error)

// ResolveSmartPrompt implements Prompts.
func (f PromptsFunc) ResolveSmartPrompt(ctx context.Context, accountUID, code, paramJSON string) (dialtone.Prompt, error) {
	return f(ctx, accountUID, code, paramJSON)
}

// Recordings keeps recorded calls; file names where it was kept (for the
// recording event), "" when nowhere in particular.
type Recordings interface {
	SaveRecording(ctx context.Context, c *dialtone.Call, wav []byte) (file string, err error)
}

// RecordDir keeps each recording as <call id>.wav in the directory.
type RecordDir string

// SaveRecording implements Recordings.
func (d RecordDir) SaveRecording(_ context.Context, c *dialtone.Call, wav []byte) (string, error) {
	name := safeName(c.ID) + ".wav"
	if err := os.MkdirAll(string(d), 0o750); err != nil {
		return "", fmt.Errorf("recording %s: %w", c.ID, err)
	}
	if err := os.WriteFile(filepath.Join(string(d), name), wav, 0o640); err != nil {
		return "", fmt.Errorf("recording %s: %w", c.ID, err)
	}
	return name, nil
}

// Defaults of Config.
const (
	DefaultRingTimeout     = 45 * time.Second
	DefaultCallbackTimeout = 3 * time.Second
	DefaultDTMFTimeout     = 5 * time.Second
	// storeTimeout bounds one store write; it runs on wall time because the
	// store does not live on the simulated clock.
	storeTimeout = 30 * time.Second
)

// Config wires an Engine.
type Config struct {
	Store    Store
	Carrier  dialtone.Carrier
	Renderer Renderer
	Clock    Clock // default RealClock
	Node     string
	Logger   *slog.Logger // default slog.Default()
	// RingTimeout is how long a leg may ring before the engine gives up.
	RingTimeout time.Duration
	// CallbackTimeout bounds one SmartCall callback exchange (clock time).
	CallbackTimeout time.Duration
	// Outbound sends what goes to an account's addresses (the SmartCall
	// callbacks of the default Callback, media streams): the node's one
	// client for requests sent on an account's behalf (egress policy,
	// per-account caps). Default: a client whose policy has no allow-list.
	Outbound *outbound.Client
	// Secrets gives the account's signing secrets, read at each callback
	// and each stream (so a rotation applies at once); nil signs nothing.
	Secrets smartcall.Secrets
	// Callback holds SmartCall's exchanges with the account's callback
	// server. Default: a smartcall.Client on Outbound and Secrets with
	// CallbackTimeout.
	Callback Callback
	// Receipts, if set, builds the receipts of every change of a call;
	// they are written in the change's transaction.
	Receipts Receipts
	// Prompts turns a SmartCall callback's action_code (and its
	// action_code_param JSON) into a prompt of the account.
	Prompts Prompts
	// Recordings, if set, keeps each recorded call (RecordDir: files
	// named <call id>.wav in a directory).
	Recordings Recordings
	// CancelElsewhere, if set, is told about a call that Cancel ended in
	// the store while node (another one) runs it, so that node can hang up
	// at once (the cluster's cross-node cancel).
	CancelElsewhere func(ctx context.Context, node, accountUID, callID string)
	// StreamsPerAccount caps an account's concurrent media streams on this
	// node (default DefaultStreamsPerAccount); a stream over it is not
	// opened (an agent's call follows its fallback, a fork is skipped) and
	// the reason is recorded.
	StreamsPerAccount int
	// MachineDetection holds the answering-machine detector's thresholds
	// (zero fields take package detect's defaults; its Mode is ignored): a
	// call's mode is its account's machine_detection setting (amd.go).
	MachineDetection detect.Config
	// Limits counts the display numbers' concurrency (slots.go); nil: in
	// this node's memory (cluster.LocalLimits).
	Limits dialtone.Limits
	// QueueTimeout bounds how long a call waits queued for a display
	// number's free slot before it ends with 200121 (call clock).
	QueueTimeout time.Duration
	// ClaimLease is the lease of the claim on a call waiting for a slot;
	// the cluster's heartbeat renews it.
	ClaimLease time.Duration
}

// Errors of the engine.
var (
	ErrShuttingDown = errors.New("engine: shutting down")
	ErrNotLive      = errors.New("engine: call is not live")
)

// Engine runs calls on one node.
type Engine struct {
	cfg    Config
	log    *slog.Logger
	limits dialtone.Limits

	// bg is the parent of every call's context; cancelling it abandons
	// calls (only when Shutdown runs out of time).
	bg     context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	live     map[string]*run
	byNumber map[string]int
	streams  map[string]int // open media streams per account
}

// Defaults returns cfg with every unset field that has a default at it
// (Node has none: "" is a node of its own).
func (cfg Config) Defaults() Config {
	if cfg.Clock == nil {
		cfg.Clock = RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = DefaultRingTimeout
	}
	if cfg.CallbackTimeout <= 0 {
		cfg.CallbackTimeout = DefaultCallbackTimeout
	}
	if cfg.Outbound == nil {
		cfg.Outbound, _ = outbound.New(outbound.Config{}) // the zero Config is valid
	}
	if cfg.Limits == nil {
		cfg.Limits = cluster.NewLocalLimits(cfg.Node)
	}
	if cfg.QueueTimeout <= 0 {
		cfg.QueueTimeout = DefaultQueueTimeout
	}
	if cfg.ClaimLease <= 0 {
		cfg.ClaimLease = DefaultClaimLease
	}
	if cfg.StreamsPerAccount <= 0 {
		cfg.StreamsPerAccount = DefaultStreamsPerAccount
	}
	if cfg.Callback == nil {
		cfg.Callback = &smartcall.Client{Outbound: cfg.Outbound, Secrets: cfg.Secrets, Timeout: cfg.CallbackTimeout}
	}
	return cfg
}

// New returns an engine; it does not start anything (see Recover).
func New(cfg Config) *Engine {
	cfg = cfg.Defaults()
	bg, cancel := context.WithCancel(context.Background())
	return &Engine{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "engine"),
		limits:   cfg.Limits,
		bg:       bg,
		cancel:   cancel,
		live:     make(map[string]*run),
		byNumber: make(map[string]int),
		streams:  make(map[string]int),
	}
}

// Start runs a queued call in its own goroutine and returns at once; a call
// already running on this engine is left alone. The engine works on its own
// copy of call.
func (e *Engine) Start(ctx context.Context, call *dialtone.Call) error {
	if call == nil {
		return errors.New("engine: start: nil call")
	}
	if call.State != dialtone.CallQueued {
		return fmt.Errorf("engine: start %s: state is %q, not queued", call.ID, call.State)
	}
	c := *call
	plan, err := dialtone.DecodePlan(&c)
	if err != nil {
		// End it now: left queued, every restart would try it again.
		if _, eerr := e.endStored(ctx, &c, Outcome{dialtone.StatusSystemError, SmartOther}, HangupMachine, "invalid call plan"); eerr != nil {
			err = errors.Join(err, eerr)
		}
		return fmt.Errorf("engine: start: %w", err)
	}
	r := newRun(e, &c, plan)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrShuttingDown
	}
	if _, dup := e.live[c.ID]; dup {
		// Already running here: this node's claimer took the call between
		// the API storing it and asking for it. Starting is idempotent, so
		// the API answers OK rather than an error for a call that proceeds.
		e.mu.Unlock()
		return nil
	}
	e.live[c.ID] = r
	e.wg.Add(1)
	e.mu.Unlock()
	go r.main()
	return nil
}

func (e *Engine) unregister(r *run) {
	e.mu.Lock()
	if e.live[r.c.ID] == r {
		delete(e.live, r.c.ID)
	}
	e.mu.Unlock()
	e.wg.Done()
}

func (e *Engine) lookup(accountUID, callID string) *run {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.live[callID]
	if r == nil || r.c.AccountUID != accountUID {
		return nil
	}
	return r
}

// Live is the number of calls running on this node.
func (e *Engine) Live() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.live)
}

// LiveByNumber is the number of live calls on this node shown from number.
func (e *Engine) LiveByNumber(number string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.byNumber[number]
}

// Cancel ends a call of the account (CancelCall). It reports true when the
// call was not yet ended and is now being ended, false when it had ended
// already, and an error wrapping dialtone.ErrNotFound when the account has
// no such call.
func (e *Engine) Cancel(ctx context.Context, accountUID, callID string) (bool, error) {
	if r := e.lookup(accountUID, callID); r != nil && !r.over.Load() {
		r.requestStop(stopCancel, "cancelled")
		return true, nil
	}
	c, err := e.cfg.Store.GetCall(ctx, accountUID, callID)
	if err != nil {
		return false, fmt.Errorf("engine: cancel %s: %w", callID, err)
	}
	if c.State == dialtone.CallEnded {
		return false, nil
	}
	// Not running here: queued and not yet started, or owned by another
	// node. Ending it in the store is enough — the owner's next write
	// conflicts, reloads, sees the end and hangs up.
	owner := c.Node
	done, err := e.endStored(ctx, c, Outcome{FailOutcome(dialtone.FailCancelled, roleOf(c.Kind, c.State)).StatusCode, SmartCancel},
		HangupMachine, "cancelled")
	if err != nil {
		return false, fmt.Errorf("engine: cancel %s: %w", callID, err)
	}
	// The store now says ended; the owner would only notice at its next
	// write, which a long prompt can put off for minutes. Tell it now so
	// that it hangs up the carrier legs at once.
	if done && owner != "" && owner != e.cfg.Node && e.cfg.CancelElsewhere != nil {
		e.cfg.CancelElsewhere(ctx, owner, accountUID, callID)
	}
	return done, nil
}

// Operate performs SmartCallOperate. Only parallelBridge exists; on a live
// smart call it is recorded (as an "operate" event) and reported true.
func (e *Engine) Operate(ctx context.Context, accountUID, callID, command, param string) (bool, error) {
	if command != "parallelBridge" {
		return false, dialtone.Errorf(dialtone.CodeInvalidParameters, "Command %q is not supported; use parallelBridge.", command)
	}
	if r := e.lookup(accountUID, callID); r != nil && !r.over.Load() {
		if r.c.Kind != dialtone.KindSmartCall {
			return false, nil
		}
		return r.operate(command, param), nil
	}
	if _, err := e.cfg.Store.GetCall(ctx, accountUID, callID); err != nil {
		return false, fmt.Errorf("engine: operate %s: %w", callID, err)
	}
	return false, nil
}

// restartReason is recorded on calls a previous run left live.
const restartReason = "system restart while the call was live"

// Recover runs at start-up, before the API accepts calls: it dials the
// calls a previous run accepted but never dialled, and ends once (status
// 999999) the calls it left live, which are never dialled again. Calls
// owned by another named node are left to that node.
func (e *Engine) Recover(ctx context.Context) error {
	calls, err := e.cfg.Store.ListUnfinishedCalls(ctx, "")
	if err != nil {
		return fmt.Errorf("engine: recover: %w", err)
	}
	var errs []error
	for i := range calls {
		c := &calls[i]
		if c.State == dialtone.CallQueued {
			if err := e.Start(ctx, c); err != nil && !errors.Is(err, dialtone.ErrConflict) {
				errs = append(errs, err)
			}
			continue
		}
		if c.Node != "" && e.cfg.Node != "" && c.Node != e.cfg.Node {
			continue
		}
		if e.lookup(c.AccountUID, c.ID) != nil {
			continue
		}
		if _, err := e.endStored(ctx, c, Outcome{dialtone.StatusSystemError, SmartOther}, HangupMachine, restartReason); err != nil {
			errs = append(errs, fmt.Errorf("engine: recover %s: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// endStored ends a call that no goroutine of this engine runs, directly in
// the store. It reports false when the call turned out to be ended already.
func (e *Engine) endStored(ctx context.Context, c *dialtone.Call, out Outcome, direction, reason string) (bool, error) {
	for attempt := 0; attempt < 3; attempt++ {
		evs, err := e.cfg.Store.ListCallEvents(ctx, c.AccountUID, c.ID)
		if err != nil {
			return false, err
		}
		seq := 0
		last := c.CreatedAt
		for _, ev := range evs {
			seq = max(seq, ev.Seq)
			if ev.At.After(last) {
				last = ev.At
			}
		}
		now := callClock(e.cfg.Clock).Now()
		if c.State == dialtone.CallQueued {
			last = now
		}
		// The last event is the best evidence of how long the call lived.
		endLeg(&c.A, last)
		endLeg(&c.B, last)
		c.State = dialtone.CallEnded
		c.StatusCode, c.SmartStatusCode = out.StatusCode, out.SmartStatusCode
		c.StatusMsg = reason
		c.HangupDirection = direction
		c.Reason = reason
		c.Duration = talkSeconds(c)
		ev := endedEvent(c, seq+1, now)
		ch := &dialtone.CallChange{Call: c, Events: []dialtone.CallEvent{ev}}
		if e.cfg.Receipts != nil {
			ch.Receipts = e.cfg.Receipts.Build(c, ch.Events)
		}
		err = e.cfg.Store.UpdateCall(ctx, ch)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, dialtone.ErrConflict) {
			return false, err
		}
		fresh, gerr := e.cfg.Store.GetCall(ctx, c.AccountUID, c.ID)
		if gerr != nil {
			return false, gerr
		}
		if fresh.State == dialtone.CallEnded {
			return false, nil
		}
		*c = *fresh
	}
	return false, fmt.Errorf("end %s: %w", c.ID, dialtone.ErrConflict)
}

// Shutdown stops accepting calls, ends the live ones (recording a system
// reason) and waits for their goroutines until ctx ends; then it abandons
// what is left, which Recover ends at the next start.
func (e *Engine) Shutdown(ctx context.Context) {
	e.mu.Lock()
	e.closed = true
	runs := make([]*run, 0, len(e.live))
	for _, r := range e.live {
		runs = append(runs, r)
	}
	e.mu.Unlock()
	for _, r := range runs {
		r.requestStop(stopShutdown, "system shutdown while the call was live")
	}
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		e.log.Warn("shutdown timed out; abandoning live calls", "live", e.Live())
		e.cancel()
		<-done
	}
	e.cancel()
}

func endLeg(l *dialtone.LegTimes, at time.Time) {
	if !l.Originate.IsZero() && l.End.IsZero() {
		if at.Before(l.Originate) {
			at = l.Originate
		}
		l.End = at
	}
}

// talkSeconds is the billed duration: answered (for two-leg calls, bridged)
// time rounded up to whole seconds.
func talkSeconds(c *dialtone.Call) int {
	start, end := c.A.Start, c.A.End
	if c.Kind == dialtone.KindClickToDial {
		start, end = c.B.Start, c.B.End
		if !c.A.End.IsZero() && (end.IsZero() || c.A.End.Before(end)) {
			end = c.A.End
		}
	}
	if start.IsZero() || end.IsZero() || !end.After(start) {
		return 0
	}
	d := end.Sub(start)
	return int((d + time.Second - 1) / time.Second)
}

// roleOf is the role whose table row describes an unanswered end of a call
// of kind in state.
func roleOf(kind dialtone.CallKind, state dialtone.CallState) LegRole {
	if kind != dialtone.KindClickToDial {
		return RoleSingle
	}
	if state == dialtone.CallAnswered {
		return RoleCallee
	}
	return RoleCaller
}

func endedEvent(c *dialtone.Call, seq int, at time.Time) dialtone.CallEvent {
	d := map[string]string{
		"status_code":       c.StatusCode,
		"smart_status_code": c.SmartStatusCode,
		"hangup_direction":  c.HangupDirection,
		"status_msg":        c.StatusMsg,
	}
	if c.Reason != "" {
		d["reason"] = c.Reason
	}
	return dialtone.CallEvent{CallID: c.ID, Seq: seq, At: at, Type: "ended", StatusCode: dialtone.StatusTwoLegEnded, Detail: d}
}
