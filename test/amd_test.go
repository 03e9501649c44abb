package test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/poptest"
)

// The whole path of answering-machine detection through the binary: the
// account's machine_detection from the provisioning file, calls placed by
// the API to simulated subscribers answered by a voicemail box and by a
// person, answered_by in the call detail, the VoiceReport pushed to the
// business and the admin API's timeline.
const amdDoc = `accounts:
  - uid: "4000000000000018"
    name: amd
    access_keys:
      - id: LTAIamd00000000000001
        secret: amdSecret00000000000000000001
    numbers:
      - number: "057188880018"
    tts_templates:
      - code: TTS_100018
        kind: notification
        content: "Your parcel ${id} arrives tomorrow."
    flow_control: {per_minute: 0, per_hour: 0, per_day: 0}
    machine_detection: message
    subscriptions:
      - message_type: VoiceReport
        push_url: RECEIVER/receipts
network:
  time_scale: 0.05
  default:
    answer_after: 1s
  subscribers:
    - number: "13700000018"
      answered_by: voicemail
      greeting: "Hi, this is Ann. Leave a message after the tone."
    - number: "13700000019"
      hello: "Hello?"
`

func TestMachineDetectionThroughTheBinary(t *testing.T) {
	if _, err := os.Stat("/usr/bin/espeak-ng"); err != nil {
		t.Fatalf("espeak-ng is needed (Debian package espeak-ng): %v", err)
	}
	var mu sync.Mutex
	reports := map[string]map[string]any{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var batch []map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &batch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, m := range batch {
			reports[m["call_id"].(string)] = m
		}
		mu.Unlock()
		_, _ = io.WriteString(w, `{"code":0,"msg":"ok"}`)
	}))
	defer recv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(amdDoc, "RECEIVER", recv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, filepath.Join(dir, "data"), []string{"DIALTONE_ADMIN_TOKEN=tok"}, "--provision", file)
	s := &poptest.Signer{Endpoint: n.url(), AccessKeyID: "LTAIamd00000000000001", Secret: "amdSecret00000000000000000001"}
	place := func(callee string) string {
		t.Helper()
		status, body := call(t, s.V3("SingleCallByTts", map[string]string{"CalledNumber": callee, "CalledShowNumber": "057188880018",
			"TtsCode": "TTS_100018", "TtsParam": `{"id":"A-18"}`, "PlayTimes": "1"}))
		if status != 200 || body["Code"] != "OK" {
			t.Fatalf("SingleCallByTts %s: %d %v", callee, status, body)
		}
		return body["CallId"].(string)
	}
	machine, person := place("13700000018"), place("13700000019")
	for id, want := range map[string]string{machine: "machine_end_beep", person: "human"} {
		d := waitDetail(t, s, id, "11000000300006")
		ms, _ := d["answeredByMs"].(float64)
		if d["state"] != "200000" || d["answeredBy"] != want || ms <= 0 {
			t.Errorf("%s: detail %v, want answeredBy %s", id, d, want)
		}
	}
	// The VoiceReport carries it too.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		m, p := reports[machine], reports[person]
		mu.Unlock()
		if m != nil && p != nil {
			ms, err := strconv.Atoi(m["answered_by_ms"].(string))
			if m["answered_by"] != "machine_end_beep" || err != nil || ms < 2000 || p["answered_by"] != "human" || m["status_code"] != "200000" {
				t.Errorf("VoiceReports %v\n%v", m, p)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("VoiceReports not pushed: %v", reports)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The timeline through the admin API, and what the voicemail heard.
	get := func(path string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("GET", n.url()+path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return out
	}
	ev := get("/admin/v1/accounts/4000000000000018/calls/" + machine + "/events")
	if c := ev["call"].(map[string]any); c["answeredBy"] != "machine_end_beep" {
		t.Errorf("admin call detail %v", c)
	}
	var types []string
	for _, e := range ev["events"].([]any) {
		types = append(types, e.(map[string]any)["Type"].(string))
	}
	if !strings.Contains(strings.Join(types, ","), "machine_detection,machine_detection,play") {
		t.Errorf("timeline %v", types)
	}
	var kinds []string
	for _, e := range get("/admin/v1/sim/calls/" + machine + "/transcript")["transcript"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	if k := strings.Join(kinds, ","); !strings.Contains(k, "greeting,beep,play") {
		t.Errorf("the voicemail's transcript %v: the message is not after the beep", kinds)
	}
}
