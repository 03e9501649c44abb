// Command smartcallback is a SmartCall callback server (the HTTP
// interface of Alibaba's reference §5): Dialtone POSTs each recognised
// sentence, silence and key press of a SmartCall as a form (call_id,
// timestamp, content_type, content), and the answer says what the call
// does next. This one echoes what the callee said, then hangs up. Set the
// account's smartcall_callback_url to it (admin API, console or
// provisioning).
//
//	smartcallback ADDR       e.g. 127.0.0.1:9998
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
)

// answer is the callback's reply: {"result":"success","code":200,"data":{…}}.
type answer struct {
	Result string `json:"result"`
	Msg    string `json:"msg"`
	Code   int    `json:"code"`
	Data   action `json:"data"`
}

type action struct {
	CallID          string `json:"call_id"`
	Action          string `json:"action"` // play, break, continue, hangup, transfer, donothing
	ActionCode      string `json:"action_code,omitempty"`
	ActionCodeParam string `json:"action_code_param,omitempty"`
	DynamicID       string `json:"dynamic_id,omitempty"`
}

func main() {
	addr := local.Arg(1, "")
	if addr == "" {
		local.Fail(errors.New("usage: smartcallback ADDR"))
	}
	http.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		callID, kind := r.FormValue("call_id"), r.FormValue("content_type")
		var content struct {
			Words     string `json:"words"`
			DynamicID string `json:"dynamic_id"`
		}
		json.Unmarshal([]byte(r.FormValue("content")), &content)
		fmt.Printf("%s %s %q\n", callID, kind, content.Words)
		reply := action{CallID: callID, Action: "hangup"}
		if kind == "normal" && content.DynamicID != "echoed" {
			// First sentence: say it back (a TTS variable), then wait for
			// the next callback, which hangs up.
			reply = action{CallID: callID, Action: "play", ActionCode: "$tts$", DynamicID: "echoed"}
			b, _ := json.Marshal(map[string]string{"tts": "您说的是：" + content.Words})
			reply.ActionCodeParam = string(b)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer{Result: "success", Msg: "成功", Code: 200, Data: reply})
	})
	fmt.Fprintln(os.Stderr, "SmartCall callbacks on http://"+addr)
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 10 * time.Second}
	local.Fail(srv.ListenAndServe())
}
