package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"
)

// SmartCallEvent is one SmartCall callback request (vms-api §5.1): the
// platform posts it on every user sentence, silence, key press, ...
type SmartCallEvent struct {
	CallID      string
	Timestamp   time.Time
	ContentType string // "normal", "mute", "timebreak", "dtmf", "parallel_transfer", "callin"
	// Words is content.words of a "normal" event; Digits is
	// content.dtmf_digits of a "dtmf" event; DynamicID is content.dynamic_id.
	Words     string
	Digits    string
	DynamicID string
	// Content is the decoded content document.
	Content map[string]any
}

// SmartCallAction is the answer to a callback (vms-api §5.2). The zero
// value answers "donothing".
type SmartCallAction struct {
	Action          string            // play, break, continue, hangup, transfer, donothing, dtmf, ...
	ActionCode      string            // media: voice file, URL or "$var$"
	ActionCodeParam map[string]string // values of the $var$ items
	// ActionBreak lets this action interrupt the prompt playing now.
	ActionBreak bool
	// DisableActionCodeBreak makes the new media uninterruptible
	// (action_code_break=false; the default is interruptible).
	DisableActionCodeBreak bool
	DynamicID              string
	Number                 string        // transfer target
	MuteTime               time.Duration // new silence timeout; sent in ms
}

// SmartCallOption configures SmartCallHandler.
type SmartCallOption func(*smartCallConfig)

type smartCallConfig struct {
	secrets []string
}

// SmartCallSecrets makes SmartCallHandler check every request's
// X-Dialtone-Signature (HMAC-SHA256 over "<t>.<body>", as on receipt
// pushes) against the account's smartcall_callback_secret: a request
// whose signature matches none of secrets, or whose t is more than 5
// minutes off, is refused with HTTP 401 before fn sees it. While Dialtone
// rotates the secret its requests carry a signature with the new and the
// old one, so either verifies; give two secrets to accept both while you
// switch your own side.
func SmartCallSecrets(secrets ...string) SmartCallOption {
	return func(c *smartCallConfig) {
		for _, s := range secrets {
			if s != "" {
				c.secrets = append(c.secrets, s)
			}
		}
	}
}

// SmartCallHandler serves the SmartCall callback URL: it decodes each
// request (query or form fields call_id, timestamp, content_type, content),
// asks fn for the next action and answers the documented envelope
// {"result":"success","msg":"成功","code":200,"data":{...}}. A non-nil error
// from fn answers {"result":"fail"}, which ends the call. With
// SmartCallSecrets it verifies each request's signature first.
func SmartCallHandler(fn func(ctx context.Context, ev SmartCallEvent) (SmartCallAction, error), opts ...SmartCallOption) http.Handler {
	var cfg smartCallConfig
	for _, o := range opts {
		o(&cfg)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if len(cfg.secrets) > 0 {
			if msg := verifyAny(cfg.secrets, r.Header.Get(PushSignatureHeader), body, time.Now()); msg != "" {
				http.Error(w, msg, http.StatusUnauthorized)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		ev := SmartCallEvent{CallID: r.Form.Get("call_id"), ContentType: r.Form.Get("content_type")}
		if ms, err := strconv.ParseInt(r.Form.Get("timestamp"), 10, 64); err == nil {
			ev.Timestamp = time.UnixMilli(ms)
		}
		if c := r.Form.Get("content"); c != "" {
			_ = json.Unmarshal([]byte(c), &ev.Content)
		}
		s := func(k string) string { v, _ := ev.Content[k].(string); return v }
		ev.Words, ev.Digits, ev.DynamicID = s("words"), s("dtmf_digits"), s("dynamic_id")
		a, err := fn(r.Context(), ev)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		if err != nil {
			enc.Encode(map[string]any{"result": "fail", "msg": err.Error(), "data": map[string]any{}})
			return
		}
		if a.Action == "" {
			a.Action = "donothing"
		}
		data := map[string]any{"call_id": ev.CallID, "action": a.Action}
		if a.ActionCode != "" {
			data["action_code"] = a.ActionCode
		}
		if p := jsonMap(a.ActionCodeParam); p != "" {
			data["action_code_param"] = p
		}
		if a.ActionBreak {
			data["action_break"] = true
		}
		if a.DisableActionCodeBreak {
			data["action_code_break"] = false
		}
		if a.DynamicID != "" {
			data["dynamic_id"] = a.DynamicID
		}
		if a.Number != "" {
			data["number"] = a.Number
		}
		if a.MuteTime > 0 {
			data["mute_time"] = a.MuteTime.Milliseconds()
		}
		enc.Encode(map[string]any{"result": "success", "msg": "成功", "code": 200, "data": data})
	})
}
