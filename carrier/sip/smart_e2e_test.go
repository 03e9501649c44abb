package sip

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/speech"
)

// smartCallback is a business's SmartCall callback server: it records the
// form of every request, with the content JSON decoded into "c.<key>",
// and answers each with answer.
type smartCallback struct {
	*httptest.Server
	answer string
	mu     sync.Mutex
	reqs   []map[string]string
}

func newSmartCallback(t *testing.T, answer string) *smartCallback {
	t.Helper()
	s := &smartCallback{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := map[string]string{}
		for k := range r.PostForm {
			req[k] = r.PostForm.Get(k)
		}
		var content map[string]string
		if err := json.Unmarshal([]byte(req["content"]), &content); err != nil {
			req["content_error"] = err.Error()
		}
		for k, v := range content {
			req["c."+k] = v
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, s.answer)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *smartCallback) requests() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]string(nil), s.reqs...)
}

// TestE2ESmartCallOverSIP: a SmartCall through the engine and this carrier
// to a user agent that, after the first prompt, says an espeak-generated
// "yes". The callee's audio is segmented, recognised by PocketSphinx with
// the account's yes/no/operator grammar, and the business's callback gets
// content_type normal with the word; its answer hangs up.
func TestE2ESmartCallOverSIP(t *testing.T) {
	needPocketSphinx(t)
	rec := &speech.PocketSphinx{Models: map[string]speech.Hints{
		"yesno": {Words: []string{"yes", "no", "operator"}},
	}}
	ctx := context.Background()
	voice := &media.ESpeak{}
	first := dialtone.Prompt{Text: "Hello. Would you like to renew your plan?", Voice: "en", Code: "TTS_3"}
	firstAudio, err := media.SpeakPrompt(ctx, voice, first, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	yes, err := voice.Speak(ctx, "yes", "en", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Like a phone, the far end sends audio all along: quiet before and
	// after the word.
	lead, trail := 600*sampleRate/1000, 1200*sampleRate/1000
	say := make([]int16, 0, lead+len(yes.Samples)+trail)
	say = append(say, make([]int16, lead)...)
	say = append(say, yes.Samples...)
	say = append(say, make([]int16, trail)...)
	u := startUAS(t, &testUAS{say: say, sayAt: firstAudio.Duration() + 300*time.Millisecond})
	e := newE2EWith(t, u.addr, func(c *Config) {
		c.Recognizer = rec
		c.ASRAccountModels = map[string]string{e2eAccount: "yesno"}
	})

	cb := newSmartCallback(t, `{"result":"success","code":200,"msg":"ok","data":{"action":"hangup"}}`)
	got := e.run(dialtone.KindSmartCall, &dialtone.CallPlan{
		Prompt: []dialtone.Prompt{first},
		Smart: &dialtone.SmartPlan{CallbackURL: cb.URL, CallbackTrusted: true, MuteTime: 10 * time.Second, PauseTime: 800 * time.Millisecond,
			ActionCodeBreak: true, DynamicID: "start"},
	})
	if got.StatusCode != dialtone.StatusCompleted {
		t.Fatalf("call ended %s (%s) %q", got.StatusCode, got.StatusMsg, got.Reason)
	}
	reqs := cb.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d callbacks: %v", len(reqs), reqs)
	}
	r := reqs[0]
	if r["content_type"] != "normal" || r["c.words"] != "yes" || r["call_id"] != got.ID || r["c.dynamic_id"] != "start" {
		t.Errorf("callback %v", r)
	}
	// The utterance is placed after the prompt, where the far end said it.
	begin, _ := strconv.Atoi(r["c.begin_offset"])
	if d := time.Duration(begin) * time.Millisecond; d < firstAudio.Duration() || d > firstAudio.Duration()+3*time.Second {
		t.Errorf("speech began %v into the call; the prompt lasts %v", d, firstAudio.Duration())
	}
	select {
	case <-u.bye:
	case <-time.After(5 * time.Second):
		t.Fatal("far end got no BYE after the callback hung up")
	}
	// The leg's media statistics are in the call detail.
	var hangup map[string]string
	for _, ev := range e.events(got.ID) {
		if ev.Type == "hangup" && ev.Leg == "" {
			hangup = ev.Detail
		}
	}
	if hangup["A.carrier"] != "sip" || hangup["A.codec"] != CodecPCMU || hangup["A.packets_lost"] != "0" ||
		hangup["A.asr_utterances"] != "1" || hangup["A.jitter_ms"] == "" {
		t.Errorf("hangup detail %v", hangup)
	}
	// At least the lead-in and the word arrived; the call may end before
	// the trailing quiet is all sent.
	if n, _ := strconv.Atoi(hangup["A.packets_received"]); n < (lead+len(yes.Samples))/frameSamples {
		t.Errorf("received %d packets; the word ends at packet %d", n, (lead+len(yes.Samples))/frameSamples)
	}
}

// TestListenTimeBreak: a leg that listens reports a caller talking over
// the prompt for ActionCodeTimeBreak as a LegSpeech without words (the
// engine's barge-in), with no recogniser configured, and never reports
// silence (MuteTime is the engine's).
func TestListenTimeBreak(t *testing.T) {
	words, err := (&media.ESpeak{}).Speak(context.Background(), "I would like to speak to somebody about my order please", "en", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	say := append(make([]int16, 400*sampleRate/1000), words.Samples...)
	u := startUAS(t, &testUAS{say: say, sayAt: 100 * time.Millisecond})
	c := newTestCarrier(t, u.addr, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := c.Originate(ctx, dialtone.OriginateRequest{CallID: t.Name(), Leg: "A", AccountUID: "acct", To: "13800000000",
		From: "05710000000", RingTimeout: 10 * time.Second,
		Listen: &dialtone.SmartPlan{ActionCodeTimeBreak: 500 * time.Millisecond, MuteTime: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, l, dialtone.LegAnswered, 5*time.Second)
	played := make(chan bool, 1)
	go func() {
		interrupted, _ := l.Play(context.Background(), tone(6*time.Second, 400, 6000), nil)
		played <- interrupted
	}()
	ev, seen := waitFor(t, l, dialtone.LegSpeech, 5*time.Second)
	if ev.Text != "" || ev.SpeechEnd.Sub(ev.SpeechStart) < 500*time.Millisecond {
		t.Errorf("barge-in event %+v", ev)
	}
	for _, k := range seen {
		if k == dialtone.LegSilence {
			t.Errorf("silence reported: %v", seen)
		}
	}
	if err := l.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, l, 5*time.Second)
	<-played
}
