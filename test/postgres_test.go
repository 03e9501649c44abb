package test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/poptest"
)

const pgUID = "7000000000000007"

const pgDoc = `accounts:
  - uid: "` + pgUID + `"
    name: pg
    access_keys:
      - id: LTAIpostgres000000001
        secret: postgresSecret0000000000001
    numbers:
      - number: "057188880000"
      - number: "057188880001"
    tts_templates:
      - code: TTS_100002
        kind: notification
        content: "Hello ${name}, your order ${order} has shipped."
    flow_control: {per_minute: 0, per_hour: 0, per_day: 0}
network:
  time_scale: 1
  subscribers:
    - number: "13800000031"
      answer_after: 200ms
    - number: "13800000032"
      answer_after: 200ms
    - number: "13800000033"
      answer_after: 200ms
`

// TestPostgresTwoNodes runs the main call flow on PostgreSQL with two
// nodes: a call placed on one is visible, with its receipt, from the
// other, and a CancelCall received by the other node hangs it up on the
// node that runs it at once (not at its next write).
func TestPostgresTwoNodes(t *testing.T) {
	dsn := pgtest.DB(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, []byte(pgDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"DIALTONE_ADMIN_TOKEN=tok", "DIALTONE_MASTER_KEY=" + masterKey(t), "DIALTONE_STORE=" + dsn}
	a := startNode(t, filepath.Join(dir, "a"), env, "--provision", file, "--node", "a")
	b := startNode(t, filepath.Join(dir, "b"), env, "--provision", file, "--node", "b")
	sa := &poptest.Signer{Endpoint: a.url(), AccessKeyID: "LTAIpostgres000000001", Secret: "postgresSecret0000000000001"}
	sb := &poptest.Signer{Endpoint: b.url(), AccessKeyID: "LTAIpostgres000000001", Secret: "postgresSecret0000000000001"}

	waitState := func(n *node, id string, want ...string) eventsReply {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			ev := callEvents(t, n, pgUID, id)
			for _, w := range want {
				if ev.State == w {
					return ev
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("call %s is %s, want %v", id, ev.State, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// A TTS call placed on a, followed from b.
	_, body := call(t, sa.V3("SingleCallByTts", map[string]string{"CalledNumber": "13800000031", "CalledShowNumber": "057188880000",
		"TtsCode": "TTS_100002", "TtsParam": `{"name":"Ann","order":"1"}`}))
	if body["Code"] != "OK" {
		t.Fatalf("SingleCallByTts: %v", body)
	}
	tts := body["CallId"].(string)
	ev := waitState(b, tts, "ended")
	if ev.Call["state"] != "200000" {
		t.Errorf("TTS call ended with %v", ev.Call)
	}
	_, detail := call(t, sb.V3("QueryCallDetailByCallId", map[string]string{"CallId": tts, "ProdId": "11000000300006",
		"QueryDate": strconv.FormatInt(time.Now().UnixMilli(), 10)}))
	if detail["Code"] != "OK" {
		t.Errorf("QueryCallDetailByCallId on the other node: %v", detail)
	}

	// A bridged ClickToDial call runs on a (which accepted it); b cancels.
	_, body = call(t, sa.V3("ClickToDial", map[string]string{"CallerShowNumber": "057188880000", "CallerNumber": "13800000032",
		"CalledShowNumber": "057188880001", "CalledNumber": "13800000033"}))
	if body["Code"] != "OK" {
		t.Fatalf("ClickToDial: %v", body)
	}
	c2d := body["CallId"].(string)
	waitState(b, c2d, "bridged")
	_, body = call(t, sb.V3("CancelCall", map[string]string{"CallId": c2d}))
	if body["Code"] != "OK" || body["Status"] != true {
		t.Fatalf("CancelCall on the other node: %v", body)
	}
	ev = waitState(a, c2d, "ended")
	if ev.Reason != "cancelled" {
		t.Errorf("cancelled call: reason %q", ev.Reason)
	}
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(a.stderr.String(), "stopped a call cancelled on another node") {
		if time.Now().After(deadline) {
			t.Fatalf("node a did not stop the call within 3 s:\n%s", a.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Both calls: one end and one VoiceReport each, in the shared store.
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Give a's run the moment it needs to notice the end and stop.
	time.Sleep(200 * time.Millisecond)
	checkFacts(t, dbFacts(t, context.Background(), conn), []string{tts, c2d})
}
