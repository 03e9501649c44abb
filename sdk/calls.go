package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Product IDs for QueryCallDetailByCallId.
const (
	ProdVoiceNotify      int64 = 11000000300006 // SingleCallByVoice (and TTS notifications)
	ProdVerificationCode int64 = 11010000138001 // SingleCallByTts
	ProdIVR              int64 = 11000000300005 // IvrCall
	ProdClickToDial      int64 = 11000000300004 // ClickToDial
	ProdSIP              int64 = 11000000300009
	ProdSmartCall        int64 = 11030000180001 // SmartCall
)

// TimeLayout is the layout of the API's times, in ChinaTime.
const TimeLayout = "2006-01-02 15:04:05"

// ChinaTime is UTC+8, the zone of every "yyyy-MM-dd HH:mm:ss" time of the
// API.
var ChinaTime = time.FixedZone("CST", 8*3600)

// Call is the reply of the actions that place a call.
type Call struct {
	CallID    string
	RequestID string
}

type callReply struct {
	CallID    string `json:"CallId"`
	RequestID string `json:"RequestId"`
}

// params collects request parameters, omitting zero values.
type params map[string]string

func (p params) str(k, v string) {
	if v != "" {
		p[k] = v
	}
}

func (p params) int(k string, v int) {
	if v != 0 {
		p[k] = strconv.Itoa(v)
	}
}

func (p params) bool(k string, v bool) {
	if v {
		p[k] = "true"
	}
}

func (p params) ms(k string, d time.Duration) {
	if d != 0 {
		p[k] = strconv.FormatInt(d.Milliseconds(), 10)
	}
}

func (p params) secs(k string, d time.Duration) {
	if d != 0 {
		s := int64((d + time.Second - 1) / time.Second) // round up: never shorter than asked
		p[k] = strconv.FormatInt(s, 10)
	}
}

// jsonMap encodes m as a JSON object; nil or empty gives "".
func jsonMap(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (c *Client) placeCall(ctx context.Context, action string, p params) (*Call, error) {
	var r callReply
	if _, err := c.call(ctx, action, p, retryUnsent, &r); err != nil {
		return nil, err
	}
	return &Call{CallID: r.CallID, RequestID: r.RequestID}, nil
}

// VoiceCall is a SingleCallByVoice request: play an approved voice file.
// Zero values are omitted (the server's defaults apply).
type VoiceCall struct {
	CalledNumber     string // required
	CalledShowNumber string // empty: the public number pool
	VoiceCode        string // required: voice file ID
	PlayTimes        int    // 1–3
	Volume           int    // 0–100 (0 = omit: default 100)
	Speed            int    // -500…500
	OutID            string // returned in receipts, ≤ 15 characters
}

// SingleCallByVoice places a voice notification call.
func (c *Client) SingleCallByVoice(ctx context.Context, r VoiceCall) (*Call, error) {
	p := params{}
	p.str("CalledNumber", r.CalledNumber)
	p.str("CalledShowNumber", r.CalledShowNumber)
	p.str("VoiceCode", r.VoiceCode)
	p.int("PlayTimes", r.PlayTimes)
	p.int("Volume", r.Volume)
	p.int("Speed", r.Speed)
	p.str("OutId", r.OutID)
	return c.placeCall(ctx, "SingleCallByVoice", p)
}

// TtsCall is a SingleCallByTts request: a verification code or a TTS
// notification from an approved template.
type TtsCall struct {
	CalledNumber     string // required
	CalledShowNumber string
	TtsCode          string            // required: template ID
	TtsParam         map[string]string // template variables, sent as JSON
	PlayTimes        int               // 1–3 (server default 3)
	Volume           int               // 0–100
	Speed            int               // -500…500
	OutID            string
}

// SingleCallByTts places a TTS call.
func (c *Client) SingleCallByTts(ctx context.Context, r TtsCall) (*Call, error) {
	p := params{}
	p.str("CalledNumber", r.CalledNumber)
	p.str("CalledShowNumber", r.CalledShowNumber)
	p.str("TtsCode", r.TtsCode)
	p.str("TtsParam", jsonMap(r.TtsParam))
	p.int("PlayTimes", r.PlayTimes)
	p.int("Volume", r.Volume)
	p.int("Speed", r.Speed)
	p.str("OutId", r.OutID)
	return c.placeCall(ctx, "SingleCallByTts", p)
}

// MenuItem is one key of an IVR menu.
type MenuItem struct {
	Key       string            // DTMF key, e.g. "1"
	Code      string            // voice file or TTS template played after the key
	TtsParams map[string]string // variables of Code when it is a template
}

// IvrCall is an IvrCall request: a prompt, DTMF collection and per-key
// prompts (at most 15 menu items).
type IvrCall struct {
	CalledNumber     string // required
	CalledShowNumber string // required: a purchased number
	StartCode        string // required: voice file or TTS template
	StartTtsParams   map[string]string
	MenuKeyMap       []MenuItem
	PlayTimes        int // 1–3
	ByeCode          string
	ByeTtsParams     map[string]string
	Timeout          time.Duration // wait for a key press; sent in ms
	OutID            string
}

// IvrCall places an interactive voice call; pressed keys come back in
// receipts (dtmf).
func (c *Client) IvrCall(ctx context.Context, r IvrCall) (*Call, error) {
	p := params{}
	p.str("CalledNumber", r.CalledNumber)
	p.str("CalledShowNumber", r.CalledShowNumber)
	p.str("StartCode", r.StartCode)
	p.str("StartTtsParams", jsonMap(r.StartTtsParams))
	for i, m := range r.MenuKeyMap {
		n := "MenuKeyMap." + strconv.Itoa(i+1) + "."
		p.str(n+"Key", m.Key)
		p.str(n+"Code", m.Code)
		p.str(n+"TtsParams", jsonMap(m.TtsParams))
	}
	p.int("PlayTimes", r.PlayTimes)
	p.str("ByeCode", r.ByeCode)
	p.str("ByeTtsParams", jsonMap(r.ByeTtsParams))
	p.ms("Timeout", r.Timeout)
	p.str("OutId", r.OutID)
	return c.placeCall(ctx, "IvrCall", p)
}

// ClickToDial is a two-leg call request: the platform calls CallerNumber,
// then CalledNumber, and bridges them.
type ClickToDial struct {
	CallerShowNumber string // required: purchased number shown to the caller
	CallerNumber     string // required
	CalledShowNumber string // required: purchased number shown to the callee
	CalledNumber     string // required
	RecordFlag       bool
	AsrFlag          bool
	AsrModelID       string
	SessionTimeout   time.Duration // whole-call limit; sent in seconds (rounded up)
	OutID            string
}

// ClickToDial places a two-leg call.
func (c *Client) ClickToDial(ctx context.Context, r ClickToDial) (*Call, error) {
	p := params{}
	p.str("CallerShowNumber", r.CallerShowNumber)
	p.str("CallerNumber", r.CallerNumber)
	p.str("CalledShowNumber", r.CalledShowNumber)
	p.str("CalledNumber", r.CalledNumber)
	p.bool("RecordFlag", r.RecordFlag)
	p.bool("AsrFlag", r.AsrFlag)
	p.str("AsrModelId", r.AsrModelID)
	p.secs("SessionTimeout", r.SessionTimeout)
	p.str("OutId", r.OutID)
	return c.placeCall(ctx, "ClickToDial", p)
}

// CancelCall cancels a two-leg call; it reports whether the call was
// cancelled (false when it had already ended). Being idempotent, it is
// retried like a read.
func (c *Client) CancelCall(ctx context.Context, callID string) (bool, error) {
	var r struct {
		Status flexBool `json:"Status"`
	}
	if _, err := c.call(ctx, "CancelCall", params{"CallId": callID}, retryRead, &r); err != nil {
		return false, err
	}
	return bool(r.Status), nil
}

// flexBool decodes true, "true" and their negations (old documents show
// Status as a string).
type flexBool bool

func (b *flexBool) UnmarshalJSON(p []byte) error {
	switch string(p) {
	case "true", `"true"`:
		*b = true
	case "false", `"false"`, "null", `""`:
		*b = false
	default:
		return fmt.Errorf("not a boolean: %s", p)
	}
	return nil
}

// SmartCall is a SmartCall request: ASR text goes to the account's
// callback URL, which answers with the next action (see SmartCallHandler).
//
// Zero values are omitted so that the server's defaults apply. The one
// boolean whose server default is true, ActionCodeBreak, is set off with
// DisableActionCodeBreak.
type SmartCall struct {
	CalledNumber     string            // required
	CalledShowNumber string            // required
	VoiceCode        string            // required: files, URLs and $var$ items, comma-separated
	VoiceCodeParam   map[string]string // values of the $var$ items, sent as JSON
	RecordFlag       bool
	Volume           int // -4…4
	Speed            int
	AsrModelID       string
	AsrBaseID        string
	PauseTime        time.Duration // end-of-sentence pause, 300–1200 ms
	MuteTime         time.Duration // silence timeout, 1–20 s; sent in ms
	// DisableActionCodeBreak sends ActionCodeBreak=false: the user cannot
	// barge in on the first prompt. (The server default is true.)
	DisableActionCodeBreak bool
	ActionCodeTimeBreak    time.Duration // sent in ms
	SessionTimeout         time.Duration // ≤ 1 h; sent in seconds
	DynamicID              string
	EarlyMediaAsr          bool
	TtsStyle               string
	TtsVolume              int
	TtsSpeed               int
	TtsConf                bool
	StreamAsr              bool
	BackgroundFileCode     string
	BackgroundVolume       int
	BackgroundSpeed        int
	EnableITN              bool
	NoiseThreshold         float64
	OutID                  string
}

// SmartCall places an intelligent interaction call.
func (c *Client) SmartCall(ctx context.Context, r SmartCall) (*Call, error) {
	p := params{}
	p.str("CalledNumber", r.CalledNumber)
	p.str("CalledShowNumber", r.CalledShowNumber)
	p.str("VoiceCode", r.VoiceCode)
	p.str("VoiceCodeParam", jsonMap(r.VoiceCodeParam))
	p.bool("RecordFlag", r.RecordFlag)
	p.int("Volume", r.Volume)
	p.int("Speed", r.Speed)
	p.str("AsrModelId", r.AsrModelID)
	p.str("AsrBaseId", r.AsrBaseID)
	p.ms("PauseTime", r.PauseTime)
	p.ms("MuteTime", r.MuteTime)
	if r.DisableActionCodeBreak {
		p["ActionCodeBreak"] = "false"
	}
	p.ms("ActionCodeTimeBreak", r.ActionCodeTimeBreak)
	p.secs("SessionTimeout", r.SessionTimeout)
	p.str("DynamicId", r.DynamicID)
	p.bool("EarlyMediaAsr", r.EarlyMediaAsr)
	p.str("TtsStyle", r.TtsStyle)
	p.int("TtsVolume", r.TtsVolume)
	p.int("TtsSpeed", r.TtsSpeed)
	p.bool("TtsConf", r.TtsConf)
	if r.StreamAsr {
		p["StreamAsr"] = "1"
	}
	p.str("BackgroundFileCode", r.BackgroundFileCode)
	p.int("BackgroundVolume", r.BackgroundVolume)
	p.int("BackgroundSpeed", r.BackgroundSpeed)
	p.bool("EnableITN", r.EnableITN)
	if r.NoiseThreshold != 0 {
		p["NoiseThreshold"] = strconv.FormatFloat(r.NoiseThreshold, 'f', -1, 64)
	}
	p.str("OutId", r.OutID)
	return c.placeCall(ctx, "SmartCall", p)
}

// SmartCallOperate sends a command to a live smart call (only
// "parallelBridge" exists); it returns the command's Status.
func (c *Client) SmartCallOperate(ctx context.Context, callID, command, param string) (bool, error) {
	p := params{"CallId": callID, "Command": command}
	p.str("Param", param)
	var r struct {
		Status flexBool `json:"Status"`
	}
	if _, err := c.call(ctx, "SmartCallOperate", p, retryUnsent, &r); err != nil {
		return false, err
	}
	return bool(r.Status), nil
}
