// Command smartcallback is a SmartCall callback server (the HTTP
// interface of Alibaba's reference §5): Dialtone POSTs each recognised
// sentence, silence and key press of a SmartCall as a form (call_id,
// timestamp, content_type, content), and the answer says what the call
// does next. This one echoes what the callee said, then hangs up. Set the
// account's smartcall_callback_url to it (admin API, console or
// provisioning).
//
// With SECRET (the account's smartcall_callback_secret) it checks each
// request's X-Dialtone-Signature, as receipt pushes are checked, with
// nothing but Go's standard library, and refuses (401) any request that
// Dialtone did not sign.
//
//	smartcallback ADDR [SECRET]      e.g. 127.0.0.1:9998 s3cret
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
)

// maxSkew bounds how old a signed callback may be: a captured request
// cannot be replayed later.
const maxSkew = 5 * time.Minute

// verify checks header "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>"
// against the body exactly as received. While Dialtone rotates the secret
// the header carries one v1 per secret (t=…,v1=<new>,v1=<old>): any match
// is enough.
func verify(secret, header string, body []byte, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("no t= and v1= in X-Dialtone-Signature")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("signed %s ago: too old or from the future", d.Round(time.Second))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%s.", ts)
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	for _, sig := range sigs {
		if hmac.Equal([]byte(sig), []byte(want)) { // constant time
			return nil
		}
	}
	return errors.New("signature does not match")
}

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
	addr, secret := local.Arg(1, ""), local.Arg(2, "")
	if addr == "" {
		local.Fail(errors.New("usage: smartcallback ADDR [SECRET]"))
	}
	http.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		// The body is read as received: the signature covers these bytes.
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if secret != "" {
			if err := verify(secret, r.Header.Get("X-Dialtone-Signature"), body, time.Now()); err != nil {
				fmt.Fprintln(os.Stderr, "refused a callback:", err)
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "not a form", http.StatusBadRequest)
			return
		}
		callID, kind := form.Get("call_id"), form.Get("content_type")
		var content struct {
			Words     string `json:"words"`
			DynamicID string `json:"dynamic_id"`
		}
		json.Unmarshal([]byte(form.Get("content")), &content)
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
