package sip

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/engine"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/speech"
	"github.com/dialtone-voice/dialtone/sqlite"
)

// End to end over loopback: the call engine dials through this carrier to
// a sipgo user agent, as a SingleCallByTts or IvrCall does in a server.

const e2eAccount = "1000001"

type e2e struct {
	t     *testing.T
	st    *sqlite.Store
	eng   *engine.Engine
	voice *media.CachedSpeaker
	seq   int
}

func newE2E(t *testing.T, trunkAddr string) *e2e {
	t.Helper()
	return newE2EWith(t, trunkAddr, nil)
}

// newE2EWith is newE2E with the carrier's configuration changed by mod.
func newE2EWith(t *testing.T, trunkAddr string, mod func(*Config)) *e2e {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatalf("espeak-ng not found (Debian package espeak-ng, or scripts/install-deps.sh): %v", err)
	}
	st := newAccountStore(t, e2eAccount)
	c := newTestCarrier(t, trunkAddr, mod)
	e := &e2e{t: t, st: st, voice: media.NewCachedSpeaker(&media.ESpeak{}, 16<<20)}
	e.eng = engine.New(engine.Config{
		Store:   st,
		Carrier: c,
		Renderer: engine.RendererFunc(func(ctx context.Context, p dialtone.Prompt, speed, volume int) (*dialtone.Audio, error) {
			return media.SpeakPrompt(ctx, e.voice, p, speed, volume)
		}),
		Clock:       engine.RealClock{},
		Node:        "e2e",
		Logger:      quietLog,
		RingTimeout: 10 * time.Second,
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.eng.Shutdown(ctx)
	})
	return e
}

func (e *e2e) run(kind dialtone.CallKind, plan *dialtone.CallPlan) *dialtone.Call {
	e.t.Helper()
	params, err := dialtone.EncodePlan(plan)
	if err != nil {
		e.t.Fatal(err)
	}
	e.seq++
	c := &dialtone.Call{
		ID: fmt.Sprintf("%d^%d", 116000000000+e.seq, time.Now().UnixNano()%1e9), AccountUID: e2eAccount,
		Kind: kind, ProdID: dialtone.ProdIDFor(kind, false), Callee: "13800000000",
		CallerShowNumber: "057100000001", Params: params, State: dialtone.CallQueued,
		CreatedAt: time.Now(), Version: 1,
	}
	ctx := context.Background()
	if err := e.st.CreateCall(ctx, c, nil); err != nil {
		e.t.Fatal(err)
	}
	if err := e.eng.Start(ctx, c); err != nil {
		e.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := e.st.GetCall(ctx, e2eAccount, c.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		if got.State == dialtone.CallEnded {
			return got
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("call %s still %s", c.ID, got.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *e2e) events(id string) []dialtone.CallEvent {
	evs, err := e.st.ListCallEvents(context.Background(), e2eAccount, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

var codePrompt = dialtone.Prompt{Text: "Your verification code is 1234.", Verification: true, Vars: map[string]string{"code": "1234"}, Voice: "en", Code: "TTS_1"}

// TestE2ENotifyOverSIP: a verification-code call through the engine. The
// user agent hears the prompt for as long as it lasts (±10%), not as
// silence, and PocketSphinx hears the code in it.
func TestE2ENotifyOverSIP(t *testing.T) {
	u := startUAS(t, &testUAS{})
	e := newE2E(t, u.addr)
	prompt, err := media.SpeakPrompt(context.Background(), e.voice, codePrompt, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := e.run(dialtone.KindTTS, &dialtone.CallPlan{Prompt: []dialtone.Prompt{codePrompt}, PlayTimes: 1})
	if got.StatusCode != dialtone.StatusCompleted {
		t.Fatalf("call ended %s (%s) %q", got.StatusCode, got.StatusMsg, got.Reason)
	}
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Fatal("far end got no BYE")
	}
	span, rms := u.heardSpan()
	want := prompt.Duration()
	if d := span - want; d < -want/10 || d > want/10 {
		t.Errorf("far end heard %v of a %v prompt", span, want)
	}
	if rms < 300 {
		t.Errorf("far end heard near silence (rms %.0f)", rms)
	}
	// What a person on the line understood of the code: the digits alone,
	// recognised by PocketSphinx one by one.
	needPocketSphinx(t)
	u.mu.Lock()
	heard := append([]int16(nil), u.heard...)
	u.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	digits, err := speech.RecognizeDigits(ctx, &dialtone.Audio{Samples: trimSilence(heard)})
	if err != nil {
		t.Fatal(err)
	}
	if digits != "1234" {
		t.Errorf("pocketsphinx heard the code as %q, not 1234", digits)
	}
}

// needPocketSphinx fails the test when the recogniser is not installed:
// speech recognition is part of what these tests prove.
func needPocketSphinx(t *testing.T) {
	t.Helper()
	if err := (&speech.PocketSphinx{}).Check(); err != nil {
		t.Fatalf("install the Debian packages pocketsphinx and pocketsphinx-en-us (or run scripts/install-deps.sh): %v", err)
	}
}

// trimSilence keeps what lies between the first and last audible sample,
// with 300 ms of margin: the far end records the whole call, and the
// oracle takes at most speech.MaxUtterance.
func trimSilence(pcm []int16) []int16 {
	first, last := -1, -1
	for i, v := range pcm {
		if v > 64 || v < -64 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	margin := 300 * sampleRate / 1000
	return pcm[max(first-margin, 0):min(last+margin, len(pcm))]
}

// TestE2EIVROverSIP: the user agent presses 2 by RFC 4733 during the menu
// prompt and the IVR plays item 2, then the goodbye.
func TestE2EIVROverSIP(t *testing.T) {
	u := startUAS(t, &testUAS{keys: "2", keysAt: 800 * time.Millisecond})
	e := newE2E(t, u.addr)
	p := func(s string) []dialtone.Prompt { return []dialtone.Prompt{{Text: s, Voice: "en", Code: "TTS_2"}} }
	got := e.run(dialtone.KindIVR, &dialtone.CallPlan{
		Prompt:      p("For orders press one. For an agent press two."),
		PlayTimes:   1,
		Menu:        []dialtone.MenuItem{{Key: "1", Prompt: p("Your order has shipped.")}, {Key: "2", Prompt: p("Connecting you.")}},
		Bye:         p("Goodbye."),
		DTMFTimeout: 3 * time.Second,
	})
	if got.StatusCode != dialtone.StatusCompleted || got.DTMF != "2" {
		t.Fatalf("call ended %s with keys %q", got.StatusCode, got.DTMF)
	}
	var types []string
	for _, ev := range e.events(got.ID) {
		types = append(types, ev.Type)
		if ev.Type == "dtmf" && ev.Detail["digits"] != "2" {
			t.Errorf("dtmf event %+v", ev)
		}
	}
	if !strings.Contains(strings.Join(types, ","), "dtmf") {
		t.Errorf("events %v", types)
	}
	// It heard the start prompt (cut by the key), item 2 and goodbye: more
	// than the last two alone.
	span, rms := u.heardSpan()
	if span < 1500*time.Millisecond || rms < 300 {
		t.Errorf("far end heard %v at rms %.0f", span, rms)
	}
}

var quietLog = slog.New(slog.DiscardHandler)

// newAccountStore opens a SQLite store in a temporary directory with one
// active account that has the voice service.
func newAccountStore(t *testing.T, uid string) *sqlite.Store {
	t.Helper()
	sealer, err := secret.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sealer, sqlite.WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutAccount(ctx, &dialtone.Account{UID: uid, Name: uid, Status: dialtone.AccountActive, VoiceService: true}); err != nil {
		t.Fatal(err)
	}
	return st
}
