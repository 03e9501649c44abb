package test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/poptest"
)

const restartDoc = `accounts:
  - uid: "5000000000000005"
    name: restart
    access_keys:
      - id: LTAIrestart00000000001
        secret: restartSecret0000000000000001
    numbers:
      - number: "057188880000"
    tts_templates:
      - code: TTS_100002
        kind: notification
        content: "Hello ${name}, your order ${order} has shipped."
    flow_control: {per_minute: 0, per_hour: 0, per_day: 0}
network:
  time_scale: 1
  subscribers:
    - number: "13800000011"
      answer_after: 200ms
    - number: "13800000012"
      answer_after: 60s
`

type eventsReply struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
	Call   map[string]any
	Events []struct {
		Type       string
		StatusCode string
	}
}

func callEvents(t *testing.T, n *node, uid, id string) eventsReply {
	t.Helper()
	req, _ := http.NewRequest("GET", n.url()+"/admin/v1/accounts/"+uid+"/calls/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out eventsReply
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil {
		t.Fatalf("events %d %s", resp.StatusCode, b)
	}
	return out
}

// TestKilledWhileCallsAreLive: SIGKILL while one call is answered and
// another rings; after a restart both are ended exactly once with a
// recorded system reason, and neither is dialled again.
func TestKilledWhileCallsAreLive(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	os.WriteFile(file, []byte(restartDoc), 0o600)
	data := filepath.Join(dir, "data")
	env := []string{"DIALTONE_ADMIN_TOKEN=tok"}
	n := startNode(t, data, env, "--provision", file)
	s := &poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIrestart00000000001", Secret: "restartSecret0000000000000001"}
	ids := map[string]string{}
	for _, callee := range []string{"13800000011", "13800000012"} {
		_, body := call(t, s.V3("SingleCallByTts", map[string]string{"CalledNumber": callee, "CalledShowNumber": "057188880000",
			"TtsCode": "TTS_100002", "TtsParam": `{"name":"Ann","order":"` + callee + `"}`, "PlayTimes": "3"}))
		if body["Code"] != "OK" {
			t.Fatalf("%v", body)
		}
		ids[callee] = body["CallId"].(string)
	}
	// Wait until the first call is answered (playing) and the second rings.
	deadline := time.Now().Add(15 * time.Second)
	for {
		a := callEvents(t, n, "5000000000000005", ids["13800000011"])
		b := callEvents(t, n, "5000000000000005", ids["13800000012"])
		if a.State == "answered" && b.State == "ringing" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls did not reach answered/ringing: %s %s", a.State, b.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.cmd.Process.Kill()
	<-n.done
	n2 := startNode(t, data, env, "--provision", file)
	for callee, id := range ids {
		var ev eventsReply
		deadline := time.Now().Add(10 * time.Second)
		for {
			ev = callEvents(t, n2, "5000000000000005", id)
			if ev.State == "ended" || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if ev.State != "ended" || ev.Reason == "" || ev.Call["state"] != "999999" {
			t.Fatalf("%s after restart: state %s reason %q detail %v", callee, ev.State, ev.Reason, ev.Call)
		}
		originates, ends := 0, 0
		for _, e := range ev.Events {
			switch e.Type {
			case "originate":
				originates++
			case "ended":
				ends++
			}
		}
		if originates != 1 || ends != 1 {
			t.Fatalf("%s: %d originate and %d ended events: %+v", callee, originates, ends, ev.Events)
		}
	}
	// A second restart changes nothing.
	if err := n2.stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	n3 := startNode(t, data, env, "--provision", file)
	for _, id := range ids {
		ev := callEvents(t, n3, "5000000000000005", id)
		ends := 0
		for _, e := range ev.Events {
			if e.Type == "ended" {
				ends++
			}
		}
		if ends != 1 {
			t.Fatalf("second restart ended %s again: %+v", id, ev.Events)
		}
	}
}
