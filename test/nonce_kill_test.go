package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/poptest"
)

// TestNonceSurvivesKill: signed requests from many senders at once while
// the SQLite node is SIGKILLed; their nonces go to the node's nonce
// journal (package replay: a check and an append under its lock), their
// calls to the writer's group commit. Every request that was answered
// before the kill must be refused when it is replayed, unchanged, to the
// restarted node: a nonce acknowledged is never forgotten. Half the
// senders place calls (SingleCallByTts), half read
// (QueryCallDetailByCallId). Every call answered with a CallId before the
// kill must exist after the restart: group commit never acknowledges a
// call that the kill then loses.
func TestNonceSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, []byte(clusterDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	env := []string{"DIALTONE_ADMIN_TOKEN=tok"}
	args := []string{"--provision", file, "--node", "solo", "--log-level", "warn"}
	n := startNode(t, data, env, args...)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}

	type sent struct {
		nonce  string
		at     time.Time
		action string
		callID string // of an answered SingleCallByTts
	}
	request := func(s *poptest.Signer, r sent) *http.Request {
		s.Nonce, s.Now = r.nonce, r.at
		if r.action == "SingleCallByTts" {
			return s.V3(r.action, map[string]string{"CalledNumber": "13700000000", "CalledShowNumber": "057188880000",
				"TtsCode": "TTS_100002", "TtsParam": `{"name":"Ann","order":"` + r.nonce + `"}`})
		}
		return s.V1("POST", r.action, map[string]string{"CallId": "1^2", "ProdId": "11000000300006",
			"QueryDate": strconv.FormatInt(r.at.UnixMilli(), 10)}, poptest.InQuery)
	}
	answer := func(resp *http.Response) (code, callID string) {
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var body map[string]any
		if json.Unmarshal(b, &body) != nil {
			return fmt.Sprintf("%d %s", resp.StatusCode, b), ""
		}
		code, _ = body["Code"].(string)
		callID, _ = body["CallId"].(string)
		return code, callID
	}
	code := func(resp *http.Response) string {
		c, _ := answer(resp)
		return c
	}

	var (
		mu       sync.Mutex
		acked    []sent
		stop     atomic.Bool
		wg       sync.WaitGroup
		killOnce sync.Once
	)
	const senders, killAfter = 16, 300
	for g := range senders {
		wg.Go(func() {
			s := &poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIcluster0000000001", Secret: "clusterSecret00000000000001"}
			action := "QueryCallDetailByCallId"
			if g%2 == 0 {
				action = "SingleCallByTts"
			}
			for i := 0; i < 2000 && !stop.Load(); i++ {
				r := sent{nonce: fmt.Sprintf("kill-%d-%d", g, i), at: time.Now(), action: action}
				resp, err := client.Do(request(s, r))
				if err != nil {
					return // the node is gone
				}
				if c, id := answer(resp); c == "OK" {
					if action == "SingleCallByTts" {
						if id == "" {
							t.Errorf("SingleCallByTts %s answered OK without a CallId", r.nonce)
						}
						r.callID = id
					}
					mu.Lock()
					acked = append(acked, r)
					k := len(acked)
					mu.Unlock()
					// Killed the moment a read's answer arrives: its nonce
					// was written by the batch just committed, or not at
					// all. (A call's answer comes after its own insert,
					// which commits after its nonce.)
					if k >= killAfter && action == "QueryCallDetailByCallId" {
						killOnce.Do(func() { _ = n.cmd.Process.Kill() })
					}
				}
			}
		})
	}
	select {
	case <-n.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("%d requests answered in 60 s, not %d", len(acked), killAfter)
	}
	stop.Store(true)
	wg.Wait()
	if len(acked) < 100 {
		t.Fatalf("only %d requests answered before the kill", len(acked))
	}

	n2 := startNode(t, data, env, args...)
	s := &poptest.Signer{Endpoint: n2.url(), AccessKeyID: "LTAIcluster0000000001", Secret: "clusterSecret00000000000001"}
	forgotten := 0
	for _, r := range acked {
		resp, err := client.Do(request(s, r))
		if err != nil {
			t.Fatal(err)
		}
		if c := code(resp); c != "SignatureNonceUsed" {
			forgotten++
			if forgotten <= 5 {
				t.Errorf("%s with nonce %s, answered before the kill, replayed after it: %s", r.action, r.nonce, c)
			}
		}
	}
	// Every call acknowledged before the kill is in the store (callEvents
	// fails the test on anything but 200).
	calls := 0
	for _, r := range acked {
		if r.callID != "" {
			callEvents(t, n2, clusterUID, r.callID)
			calls++
		}
	}
	if calls == 0 {
		t.Fatal("no call was answered before the kill")
	}
	t.Logf("%d requests answered before the SIGKILL (%d calls, all found after the restart), %d of them replayed successfully after the restart", len(acked), calls, forgotten)
}
