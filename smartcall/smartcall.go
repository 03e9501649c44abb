// Package smartcall is Alibaba's SmartCall callback protocol, as Dialtone
// speaks it to an account's callback server: the form a callback posts
// (call_id, timestamp, content_type and the content JSON, reference §5.1),
// the answer it expects (reference §5.2, with Dialtone's "stream" action)
// and the client that sends it signed through the node's outbound client.
// The engine holds the dialogue; this package only speaks it.
package smartcall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dialtone-voice/dialtone/outbound"
)

// MaxAnswer bounds the answer's body.
const MaxAnswer = 64 << 10

// Content types of a callback.
const (
	ContentNormal    = "normal"    // a recognised utterance
	ContentTimeBreak = "timebreak" // the callee talking over a prompt
	ContentMute      = "mute"      // silence past MuteTime
	ContentDTMF      = "dtmf"      // a key
)

// Actions of an answer. ActionStream is Dialtone's extension: it connects
// the call to a media stream (stream_url, stream_params).
const (
	ActionPlay      = "play"
	ActionBreak     = "break"
	ActionContinue  = "continue"
	ActionDoNothing = "donothing"
	ActionHangup    = "hangup"
	ActionTransfer  = "transfer"
	ActionStream    = "stream"
)

// Answer is the callback server's reply (reference §5.2).
type Answer struct {
	Result string          `json:"result"`
	Code   json.RawMessage `json:"code"`
	Msg    string          `json:"msg"`
	Data   Data            `json:"data"`
}

// Data is the answer's data: what the call does next.
type Data struct {
	Action          string          `json:"action"`
	ActionCode      string          `json:"action_code"`
	ActionCodeParam json.RawMessage `json:"action_code_param"`
	ActionBreak     FlexBool        `json:"action_break"`
	ActionCodeBreak FlexBool        `json:"action_code_break"`
	DynamicID       string          `json:"dynamic_id"`
	Number          string          `json:"number"`
	MuteTime        json.Number     `json:"mute_time"`
	// StreamURL and StreamParams go with action stream (Dialtone's
	// extension): the WebSocket to connect the call to, and its
	// parameters (stream.ParseParams).
	StreamURL    string          `json:"stream_url"`
	StreamParams json.RawMessage `json:"stream_params"`
}

// FlexBool accepts true, "true", 1 and their negations: callback servers
// written in loosely typed languages send any of them.
type FlexBool struct {
	set, v bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *FlexBool) UnmarshalJSON(p []byte) error {
	s := strings.Trim(string(p), `"`)
	switch strings.ToLower(s) {
	case "true", "1":
		*b = FlexBool{true, true}
	case "false", "0":
		*b = FlexBool{true, false}
	case "null", "":
		*b = FlexBool{}
	default:
		return fmt.Errorf("not a boolean: %s", p)
	}
	return nil
}

// Or is the value, or def when the answer left it out.
func (b FlexBool) Or(def bool) bool {
	if b.set {
		return b.v
	}
	return def
}

// ParamText returns action_code_param as JSON text, whether it came as a
// string holding JSON (as documented) or as an object.
func ParamText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	return string(raw), nil
}

// ParseAnswer reads the body of a callback server's answer, which is
// outside input: anything but a successful answer is an error.
func ParseAnswer(body []byte) (*Answer, error) {
	var ans Answer
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("callback answered bad JSON: %w", err)
	}
	if ans.Result != "success" {
		return nil, fmt.Errorf("callback answered result %q: %s", ans.Result, ans.Msg)
	}
	return &ans, nil
}

// Content is what one callback tells the business (reference §5.1).
type Content struct {
	Type string // ContentNormal, ContentTimeBreak, ContentMute, ContentDTMF
	// Turn numbers the callbacks of a call from 1 (identity "id<turn>").
	Turn      int
	DynamicID string
	// Playing says whether a prompt plays; MediaCode is its label.
	Playing   bool
	MediaCode string
	// Answered is when the callee answered (record_begin_time and the
	// origin of the offsets); PlayBegin and PlayEnd bound the last prompt.
	Answered, PlayBegin, PlayEnd time.Time
	// Words and the utterance's bounds (normal, timebreak).
	Words                  string
	SpeechStart, SpeechEnd time.Time
	// Digits (dtmf).
	Digits string
}

func ms(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// JSON is the callback's content field.
func (c Content) JSON() string {
	m := map[string]string{
		"role":               "B",
		"identity":           "id" + strconv.Itoa(c.Turn),
		"is_playing":         strconv.FormatBool(c.Playing),
		"current_media_code": "",
		"dynamic_id":         c.DynamicID,
		"record_begin_time":  ms(c.Answered),
		"play_begin_time":    ms(c.PlayBegin),
		"play_end_time":      "0",
	}
	if c.Playing {
		m["current_media_code"] = c.MediaCode
	} else {
		m["play_end_time"] = ms(c.PlayEnd)
	}
	offset := func(t time.Time) string {
		if t.IsZero() || c.Answered.IsZero() {
			return "0"
		}
		return strconv.FormatInt(t.Sub(c.Answered).Milliseconds(), 10)
	}
	switch c.Type {
	case ContentNormal, ContentTimeBreak:
		m["words"] = c.Words
		m["begin_offset"] = offset(c.SpeechStart)
		m["end_offset"] = offset(c.SpeechEnd)
		m["begin_time"] = ms(c.SpeechStart)
		m["asr_begin_time"] = ms(c.SpeechStart)
		m["asr_end_time"] = ms(c.SpeechEnd)
	case ContentDTMF:
		m["dtmf_digits"] = c.Digits
	}
	b, _ := json.Marshal(m) // a map of strings always marshals
	return string(b)
}

// Request is one callback of a call.
type Request struct {
	Account, CallID string
	// URL is the account's callback URL; Trusted says the operator set it
	// (the egress policy's trust).
	URL     string
	Trusted bool
	// Timestamp is the call's time of the callback (its own timeline).
	Timestamp time.Time
	Content   Content
}

// Secrets gives an account's signing secrets, read at each request so a
// rotation applies to calls in progress. They sign the callbacks and the
// upgrades of the account's media streams.
type Secrets interface {
	Signer(ctx context.Context, accountUID string) (outbound.Signer, error)
}

// SecretsFunc adapts a function to Secrets.
type SecretsFunc func(ctx context.Context, accountUID string) (outbound.Signer, error)

// Signer implements Secrets.
func (f SecretsFunc) Signer(ctx context.Context, accountUID string) (outbound.Signer, error) {
	return f(ctx, accountUID)
}

// DefaultTimeout bounds one exchange.
const DefaultTimeout = 3 * time.Second

// Client posts callbacks through the node's outbound client (egress
// policy, per-account caps), signed with the account's secrets.
type Client struct {
	Outbound *outbound.Client
	// Secrets signs; nil signs nothing.
	Secrets Secrets
	// Timeout bounds one exchange, waiting for a slot of the account's
	// caps included; it runs on wall time, as the business's server does,
	// whatever the simulated network's time scale. Default DefaultTimeout.
	Timeout time.Duration
}

// Post sends one callback and validates the answer.
func (c *Client) Post(ctx context.Context, req Request) (*Answer, error) {
	if req.URL == "" {
		return nil, errors.New("no callback URL configured")
	}
	if c.Outbound == nil {
		return nil, errors.New("no outbound client configured")
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var slow atomic.Bool
	t := time.AfterFunc(timeout, func() {
		slow.Store(true)
		cancel()
	})
	defer t.Stop()
	form := url.Values{
		"call_id":      {req.CallID},
		"timestamp":    {strconv.FormatInt(req.Timestamp.UnixMilli(), 10)},
		"content_type": {req.Content.Type},
		"content":      {req.Content.JSON()},
	}
	var signer *outbound.Signer
	if c.Secrets != nil {
		s, err := c.Secrets.Signer(ctx, req.Account)
		if err != nil {
			return nil, fmt.Errorf("callback: reading the account's callback secret: %w", err)
		}
		signer = &s
	}
	trust := outbound.Untrusted
	if req.Trusted {
		trust = outbound.Trusted
	}
	m := outbound.Meta{Account: req.Account, Purpose: outbound.PurposeCallback, Trust: trust, Wait: timeout}
	resp, err := c.Outbound.Send(ctx, m, outbound.Request{
		URL:    req.URL,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=UTF-8"}},
		Body:   []byte(form.Encode()),
		Signer: signer,
	})
	if err != nil {
		if slow.Load() {
			return nil, fmt.Errorf("callback timed out after %s", timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which the call's plan holds
		}
		return nil, fmt.Errorf("callback: %s", strings.TrimPrefix(err.Error(), "outbound: "))
	}
	if len(resp.Body) > MaxAnswer {
		return nil, fmt.Errorf("callback answered %d bytes, more than %d", len(resp.Body), MaxAnswer)
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, fmt.Errorf("callback answered HTTP %d", resp.Status)
	}
	return ParseAnswer(resp.Body)
}
