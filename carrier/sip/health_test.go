package sip

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

func TestTrunkHealthCounts(t *testing.T) {
	var h trunkHealth
	now := time.Now()
	for i := 1; i <= 2; i++ {
		if h.noResponse(now, 3, time.Minute) || !h.up(now) {
			t.Fatalf("down after %d failures", i)
		}
	}
	h.responded() // a response clears the count
	for i := 1; i <= 2; i++ {
		h.noResponse(now, 3, time.Minute)
	}
	if !h.noResponse(now, 3, time.Minute) || h.up(now) || h.up(now.Add(59*time.Second)) {
		t.Fatal("not down after 3 failures in a row")
	}
	if !h.up(now.Add(time.Minute)) {
		t.Fatal("still down after the cool-off")
	}
	// Tried again after the cool-off: one more failure is enough.
	if !h.noResponse(now.Add(time.Minute), 3, time.Minute) {
		t.Fatal("a failed retry did not mark it down again")
	}
	var never trunkHealth
	for range 10 {
		if never.noResponse(now, -1, time.Minute) {
			t.Fatal("marked down although disabled")
		}
	}
}

func TestPickTrunksFailoverOrder(t *testing.T) {
	routes := []Route{
		{Prefix: "86", Trunk: "a"},
		{Prefix: "86", Trunk: "b"},
		{Account: "acme", Prefix: "86", Trunk: "c"},
		{Prefix: "8675", Trunk: "d"},
		{Prefix: "86", Trunk: "a"},
	}
	for _, c := range []struct {
		account, callee, want string
	}{
		{"x", "8613800000000", "a,b"},
		{"acme", "8613800000000", "c"},
		{"x", "8675500000000", "d"},
		{"x", "1555", "dflt"},
	} {
		got := pickTrunks(routes, "dflt", c.account, c.callee)
		if s := joinNames(got); s != c.want {
			t.Errorf("%s %s: %s, want %s", c.account, c.callee, s, c.want)
		}
	}
	if got := pickTrunks(routes, "", "x", "1555"); got != nil {
		t.Errorf("no route, no default: %v", got)
	}
}

func joinNames(ns []string) string {
	s := ""
	for i, n := range ns {
		if i > 0 {
			s += ","
		}
		s += n
	}
	return s
}

// deadTrunk is a loopback UDP address where nothing listens: the kernel
// refuses with ICMP port unreachable, and no SIP response ever comes.
func deadTrunk(t *testing.T) string {
	return "127.0.0.1:" + strconv.Itoa(freeUDPPort(t))
}

// TestTrunkDownFailsOver: the first trunk routed for the prefix does not
// answer; each call moves to the second (a SIPp that answers) after the
// invite timeout, and after three such calls the dead trunk is down and
// calls go straight to the live one.
func TestTrunkDownFailsOver(t *testing.T) {
	p := startSipp(t, "uas", "-m", "4")
	c := newTestCarrier(t, deadTrunk(t), func(cfg *Config) {
		cfg.Trunks = append(cfg.Trunks, Trunk{Name: "live", Address: p.addr})
		cfg.Trunks[0].Name = "dead"
		cfg.DefaultTrunk = ""
		cfg.Routes = []Route{{Prefix: "138", Trunk: "dead"}, {Prefix: "138", Trunk: "live"}}
		cfg.InviteTimeout = 300 * time.Millisecond
		cfg.CoolOff = time.Minute
	})
	for i := 1; i <= 4; i++ {
		start := time.Now()
		l := originate(t, c, "13800000000", 10*time.Second)
		waitFor(t, l, dialtone.LegAnswered, 10*time.Second)
		took := time.Since(start)
		if tr := l.Stats()["trunk"]; tr != "live" {
			t.Errorf("call %d answered on trunk %q", i, tr)
		}
		switch {
		case i <= 3 && took < 250*time.Millisecond:
			t.Errorf("call %d answered in %v: it skipped the dead trunk too early", i, took)
		case i == 4 && took > 250*time.Millisecond:
			t.Errorf("call %d took %v: the dead trunk was tried again", i, took)
		}
		if up := c.TrunkUp("dead"); up != (i < 3) {
			t.Errorf("after call %d the dead trunk is up=%v", i, up)
		}
		if err := l.Hangup(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, l, 5*time.Second)
	}
	if !c.TrunkUp("live") {
		t.Error("the live trunk is down")
	}
	p.wait(t, 5*time.Second)
}

// TestTrunkDownFailsCleanly: with no other trunk, calls to a dead trunk end
// as unreachable (status 200005) through the engine, the first three after
// the invite timeout, the next at once.
func TestTrunkDownFailsCleanly(t *testing.T) {
	e := newE2EWith(t, deadTrunk(t), func(cfg *Config) {
		cfg.InviteTimeout = 300 * time.Millisecond
		cfg.CoolOff = time.Minute
	})
	plan := &dialtone.CallPlan{Prompt: []dialtone.Prompt{{Text: "Hello.", Voice: "en", Code: "TTS_1"}}, PlayTimes: 1}
	for i := 1; i <= 4; i++ {
		start := time.Now()
		got := e.run(dialtone.KindTTS, plan)
		took := time.Since(start)
		if got.StatusCode != dialtone.StatusUnreachable {
			t.Errorf("call %d ended %s (%s) %q", i, got.StatusCode, got.StatusMsg, got.Reason)
		}
		var failed map[string]string
		for _, ev := range e.events(got.ID) {
			if ev.Type == "failed" {
				failed = ev.Detail
			}
		}
		want := "no response"
		if i == 4 {
			want = "trunk down"
			if took > 250*time.Millisecond {
				t.Errorf("call %d to a down trunk took %v", i, took)
			}
		}
		// The carrier's detail says why the trunk was unreachable.
		if failed["reason"] != want {
			t.Errorf("call %d failed event %v, want reason %q", i, failed, want)
		}
		if i == 4 && failed["trunks"] != "t" {
			t.Errorf("call %d failed event %v, want the trunk named", i, failed)
		}
	}
}
