// Package sim is the simulated telephone network: a dialtone.Carrier whose
// subscribers behave as the provisioning file's network section says
// (answer after a while, be busy, press keys, speak lines, hang up early).
// Every delay and every playback runs on a Clock, so a scaled clock runs a
// whole call in a fraction of its simulated length.
//
// A sim leg costs one goroutine (its subscriber) plus a few hundred bytes;
// audio is never copied — recordings keep references to the shared *Audio
// and render the WAV only when asked.
package sim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/speech"
)

// Clock is the time source of the network; engine.Clock satisfies it.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) *time.Timer
	AfterFunc(d time.Duration, f func()) *time.Timer
}

// FailDelay is how long the network takes to report a failure that happens
// without ringing (busy, powered off, invalid number, ...).
const FailDelay = 500 * time.Millisecond

// DefaultMaxTranscripts bounds how many calls' transcripts are kept, so a
// long load run does not grow memory without end; the oldest go first.
const DefaultMaxTranscripts = 10000

// ErrLegEnded is returned by operations on a leg that has ended.
var ErrLegEnded = errors.New("sim: leg ended")

// TranscriptEntry is one thing that happened on a simulated call, as the
// subscriber experienced it.
type TranscriptEntry struct {
	At time.Time `json:"at"`
	// Wall is the wall-clock time of the entry (At is on the network's
	// possibly scaled clock): what happened on the legs of several nodes
	// can be lined up by it.
	Wall time.Time `json:"wall"`
	Leg  string    `json:"leg"`
	// Kind is originate, ringing, answered, failed, play, dtmf, speech,
	// bridge, hangup; and, bridged to another carrier's leg, voice (a line
	// the subscriber said into the bridge), heard (the other party spoke)
	// and heard_dtmf (the other party pressed keys); on a media stream,
	// stream (connected, then each utterance the application played: how
	// long, and the recognised words when the network has a recogniser).
	Kind string `json:"kind"`
	// Text is the prompt label, the keys pressed, the words spoken, the
	// failure reason, or how long the other party spoke.
	Text string `json:"text,omitempty"`
	// Interrupted marks a play cut short (barge-in or hang-up).
	Interrupted bool `json:"interrupted,omitempty"`
	// By says who ended the leg (hangup): "subscriber" or "platform".
	By string `json:"by,omitempty"`
}

// Network is the simulated network. It is safe for concurrent use.
type Network struct {
	clock Clock

	mu          sync.RWMutex
	def         Behavior
	subscribers map[string]Behavior

	spkMu sync.Mutex
	spk   dialtone.Speaker  // hellos and greetings (answerer.go), say lines on streams (feed.go)
	rec   speech.Recognizer // what media streams play (feed.go); nil: none

	tmu         sync.Mutex
	transcripts map[string][]TranscriptEntry
	order       []string // call IDs in first-seen order, for eviction
	maxTx       int
}

// New builds the network cfg describes (nil: built-in defaults). The
// clock runs at cfg's time scale; New does not read TimeScale.
func New(cfg *Config, clock Clock) *Network {
	n := &Network{
		clock:       clock,
		def:         cfg.Behavior(""),
		subscribers: make(map[string]Behavior),
		transcripts: make(map[string][]TranscriptEntry),
		maxTx:       DefaultMaxTranscripts,
	}
	if cfg != nil {
		n.def = cfg.Default
		for _, s := range cfg.Subscribers {
			n.subscribers[s.Number] = s.Behavior
		}
	}
	return n
}

// SetBehavior changes how number behaves from the next call on.
func (n *Network) SetBehavior(number string, b Behavior) {
	n.mu.Lock()
	n.subscribers[number] = b
	n.mu.Unlock()
}

// Behavior returns how number behaves.
func (n *Network) Behavior(number string) Behavior {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if b, ok := n.subscribers[number]; ok {
		return b
	}
	return n.def
}

// Subscribers returns every listed number with its behaviour (the
// provisioning file's subscribers and those set since with SetBehavior),
// ordered by number, for the console to show and edit.
func (n *Network) Subscribers() []Subscriber {
	n.mu.RLock()
	out := make([]Subscriber, 0, len(n.subscribers))
	for num, b := range n.subscribers {
		out = append(out, Subscriber{Number: num, Behavior: b})
	}
	n.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// SetMaxTranscripts changes how many calls' transcripts are retained.
func (n *Network) SetMaxTranscripts(max int) {
	n.tmu.Lock()
	n.maxTx = max
	n.tmu.Unlock()
}

// Transcript returns what happened on the call's legs so far (nil when the
// call is unknown or its transcript was evicted).
func (n *Network) Transcript(callID string) []TranscriptEntry {
	n.tmu.Lock()
	defer n.tmu.Unlock()
	t := n.transcripts[callID]
	if t == nil {
		return nil
	}
	return append([]TranscriptEntry(nil), t...)
}

func (n *Network) note(callID string, e TranscriptEntry) {
	e.Wall = time.Now()
	n.tmu.Lock()
	defer n.tmu.Unlock()
	t, ok := n.transcripts[callID]
	if !ok {
		n.order = append(n.order, callID)
		for len(n.order) > n.maxTx && n.maxTx > 0 {
			delete(n.transcripts, n.order[0])
			n.order[0] = ""
			n.order = n.order[1:]
		}
	}
	n.transcripts[callID] = append(t, e)
}

// Originate places a leg to req.To. The subscriber's behaviour is read now;
// later SetBehavior calls do not change a call in progress.
func (n *Network) Originate(ctx context.Context, req dialtone.OriginateRequest) (dialtone.Leg, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sim: originate %s: %w", req.To, err)
	}
	l := &leg{
		net:      n,
		callID:   req.CallID,
		name:     req.Leg,
		beh:      n.Behavior(req.To),
		events:   make(chan dialtone.LegEvent, 8),
		done:     make(chan struct{}),
		hangupRq: make(chan struct{}),
		kick:     make(chan struct{}, 1),
	}
	n.note(req.CallID, TranscriptEntry{At: n.clock.Now(), Leg: req.Leg, Kind: "originate", Text: req.To})
	go l.run()
	return l, nil
}

// sipStatus is the SIP final response a real network would give, reported
// in LegEvent.Detail for logs.
var sipStatus = map[CallResult]string{
	ResultBusy:        "486",
	ResultNoAnswer:    "480",
	ResultRejected:    "603",
	ResultPoweredOff:  "480",
	ResultSuspended:   "403",
	ResultInvalid:     "404",
	ResultUnreachable: "503",
}

var failReason = map[CallResult]dialtone.FailReason{
	ResultBusy:        dialtone.FailBusy,
	ResultNoAnswer:    dialtone.FailNoAnswer,
	ResultRejected:    dialtone.FailRejected,
	ResultPoweredOff:  dialtone.FailPoweredOff,
	ResultSuspended:   dialtone.FailSuspended,
	ResultInvalid:     dialtone.FailInvalid,
	ResultUnreachable: dialtone.FailUnreachable,
}
