package test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/poptest"
)

const callsDoc = `accounts:
  - uid: "4000000000000004"
    name: caller
    access_keys:
      - id: LTAIcalls0000000000001
        secret: callsSecret0000000000000000001
    numbers:
      - number: "057188880000"
        concurrency: 10
    tts_templates:
      - code: TTS_100001
        kind: verification
        content: "您的验证码是${code}，5分钟内有效。"
      - code: TTS_100002
        kind: notification
        content: "Hello ${name}, your order ${order} has shipped."
    flow_control: {per_minute: 0, per_hour: 0, per_day: 0}
network:
  time_scale: 0.02
  default:
    answer_after: 2s
  subscribers:
    - number: "13800000001"
      answer_after: 3s
    - number: "13800000002"
      result: busy
    - number: "13800000004"
      answer_after: 1s
      hangup_after: 1s
`

func startCallsNode(t *testing.T) (*node, *poptest.Signer) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, []byte(callsDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, filepath.Join(dir, "data"), []string{"DIALTONE_ADMIN_TOKEN=tok"}, "--provision", file)
	return n, &poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIcalls0000000000001", Secret: "callsSecret0000000000000000001"}
}

// waitDetail polls QueryCallDetailByCallId until the call has a final state.
func waitDetail(t *testing.T, s *poptest.Signer, callID, prodID string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		_, body := call(t, s.V3("QueryCallDetailByCallId", map[string]string{"CallId": callID, "ProdId": prodID,
			"QueryDate": strconv.FormatInt(time.Now().Add(-time.Hour).UnixMilli(), 10)}))
		if body["Code"] != "OK" {
			t.Fatalf("detail: %v", body)
		}
		if data, ok := body["Data"].(string); ok && data != "" {
			var d map[string]any
			if err := json.Unmarshal([]byte(data), &d); err != nil {
				t.Fatalf("Data is not JSON: %s", data)
			}
			if st, _ := d["state"].(string); st != "" && !strings.HasPrefix(st, "2001") && st != "200201" {
				return d
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("call %s did not finish", callID)
	return nil
}

func TestCallsOnTheSimulatedNetwork(t *testing.T) {
	n, s := startCallsNode(t)
	place := func(callee, code, param string) string {
		t.Helper()
		status, body := call(t, s.V3("SingleCallByTts", map[string]string{"CalledNumber": callee, "CalledShowNumber": "057188880000", "TtsCode": code, "TtsParam": param}))
		if status != 200 || body["Code"] != "OK" {
			t.Fatalf("SingleCallByTts %s: %d %v", callee, status, body)
		}
		return body["CallId"].(string)
	}
	answered := place("13800000001", "TTS_100001", `{"code":"1234"}`)
	busy := place("13800000002", "TTS_100002", `{name:'Ann',order:'A-1'}`)
	early := place("13800000004", "TTS_100002", `{"name":"Bob","order":"B-2"}`)

	d := waitDetail(t, s, answered, "11010000138001")
	if d["state"] != "200000" || d["callee"] != "13800000001" || d["calleeShowNumber"] != "057188880000" || d["startDate"] == "" || d["endDate"] == "" || d["duration"].(float64) < 1 {
		t.Fatalf("answered call detail %v", d)
	}
	if d := waitDetail(t, s, busy, "11000000300006"); d["state"] != "200002" || d["startDate"] != "" || d["duration"].(float64) != 0 {
		t.Fatalf("busy call detail %v", d)
	}
	if d := waitDetail(t, s, early, "11000000300006"); d["state"] != "200001" {
		t.Fatalf("early hang-up detail %v", d)
	}
	// The wrong ProdId finds nothing.
	_, body := call(t, s.V3("QueryCallDetailByCallId", map[string]string{"CallId": answered, "ProdId": "11000000300005", "QueryDate": strconv.FormatInt(time.Now().UnixMilli(), 10)}))
	if _, has := body["Data"]; has {
		t.Fatalf("wrong ProdId returned data: %v", body)
	}
	// The subscriber heard the verification code.
	req, _ := http.NewRequest("GET", n.url()+"/admin/v1/sim/calls/"+answered+"/transcript", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "1234") {
		t.Fatalf("transcript %d %s", resp.StatusCode, b)
	}
}
