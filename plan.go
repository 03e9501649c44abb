package dialtone

import (
	"encoding/json"
	"fmt"
	"time"
)

// Prompt is one thing to play, resolved when the API call was accepted: a
// TTS text with its template variables already substituted, or an approved
// voice file.
type Prompt struct {
	// TTS: the text to speak and its voice ("" = by language).
	Text  string `json:"text,omitempty"`
	Voice string `json:"voice,omitempty"`
	// Verification is true for verification-code templates, whose variables
	// are read digit by digit.
	Verification bool `json:"verification,omitempty"`
	// Vars are the substituted variables (so the reader can read codes digit
	// by digit and transcripts can show them).
	Vars map[string]string `json:"vars,omitempty"`
	// Voice file: its code and stored 8 kHz audio, relative to the data dir.
	FileCode   string `json:"file_code,omitempty"`
	StoredPath string `json:"stored_path,omitempty"`
	// Code is the template or file code the caller named (for transcripts).
	Code string `json:"code,omitempty"`
}

// IsTTS reports whether the prompt is synthesised speech.
func (p Prompt) IsTTS() bool { return p.FileCode == "" }

// MenuItem is one IVR key and what it plays.
type MenuItem struct {
	Key    string   `json:"key"`
	Prompt []Prompt `json:"prompt"`
}

// SmartPlan holds SmartCall's conversation settings.
type SmartPlan struct {
	CallbackURL string `json:"callback_url"`
	// CallbackTrusted says the operator set CallbackURL (the account's
	// SmartCallCallbackTrusted when the call was made).
	CallbackTrusted     bool          `json:"callback_trusted,omitempty"`
	PauseTime           time.Duration `json:"pause_time"`
	MuteTime            time.Duration `json:"mute_time"`
	ActionCodeBreak     bool          `json:"action_code_break"`
	ActionCodeTimeBreak time.Duration `json:"action_code_time_break"`
	DynamicID           string        `json:"dynamic_id,omitempty"`
	AsrModelID          string        `json:"asr_model_id,omitempty"`
	AsrBaseID           string        `json:"asr_base_id,omitempty"`
	EarlyMediaAsr       bool          `json:"early_media_asr,omitempty"`
	TTSStyle            string        `json:"tts_style,omitempty"`
	TTSVolume           int           `json:"tts_volume,omitempty"`
	TTSSpeed            int           `json:"tts_speed,omitempty"`
	TTSConf             bool          `json:"tts_conf,omitempty"`
	StreamAsr           int           `json:"stream_asr,omitempty"`
	BackgroundFile      *Prompt       `json:"background_file,omitempty"`
	EnableITN           bool          `json:"enable_itn,omitempty"`
	NoiseThreshold      float64       `json:"noise_threshold,omitempty"`
}

// CallPlan is what the engine does with a call, stored in Call.Params.
type CallPlan struct {
	// Prompt is played first (notification, IVR start, SmartCall VoiceCode).
	Prompt    []Prompt `json:"prompt,omitempty"`
	PlayTimes int      `json:"play_times,omitempty"`
	Volume    int      `json:"volume,omitempty"`
	Speed     int      `json:"speed,omitempty"`

	// IVR.
	Menu        []MenuItem    `json:"menu,omitempty"`
	Bye         []Prompt      `json:"bye,omitempty"`
	DTMFTimeout time.Duration `json:"dtmf_timeout,omitempty"`

	// Two-leg and smart calls.
	Record         bool          `json:"record,omitempty"`
	SessionTimeout time.Duration `json:"session_timeout,omitempty"`
	AsrFlag        bool          `json:"asr_flag,omitempty"`
	AsrModelID     string        `json:"asr_model_id,omitempty"`

	Smart *SmartPlan `json:"smart,omitempty"`

	// MachineDetection is the account's machine_detection setting when
	// the call was accepted ("" is off).
	MachineDetection MachineDetection `json:"machine_detection,omitempty"`

	// Stream is a SmartCall's agent stream (the account's
	// smartcall_stream_url), Fork the listen-only copy of the call (its
	// fork_stream_url, when the call's kind is forked), as the account's
	// settings said when the call was accepted.
	Stream *StreamPlan `json:"stream,omitempty"`
	Fork   *StreamPlan `json:"fork,omitempty"`
}

// EncodePlan marshals a plan into Call.Params.
func EncodePlan(p *CallPlan) ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode call plan: %w", err)
	}
	return b, nil
}

// DecodePlan reads the plan of a call.
func DecodePlan(c *Call) (*CallPlan, error) {
	var p CallPlan
	if len(c.Params) == 0 {
		return &p, nil
	}
	if err := json.Unmarshal(c.Params, &p); err != nil {
		return nil, fmt.Errorf("decode call plan of %s: %w", c.ID, err)
	}
	return &p, nil
}

// CallEvent is one timestamped thing that happened to a call: a progress
// step, a prompt played, a key pressed, words heard, a callback exchanged.
type CallEvent struct {
	CallID string
	Seq    int // 1-based order within the call
	At     time.Time
	Type   string // e.g. "originate", "ringing", "answered", "play", "dtmf", "speech", "callback", "hangup", "ended"
	Leg    string // "A", "B" or ""
	// StatusCode is the receipt status code this event reports, if any
	// (200101, 200201, 200102, 300000, ...).
	StatusCode string
	Detail     map[string]string
}

// Receipt is one outbound receipt message (VoiceReport, VoiceCallReport,
// VoiceRecordReport), written in the same transaction as the call change
// that caused it (the outbox) and delivered at least once.
type Receipt struct {
	ID          string // stable unique ID, for consumers to de-duplicate
	AccountUID  string
	CallID      string
	MessageType string
	Body        []byte // the JSON object as delivered
	CreatedAt   time.Time
	// RoutedAt is when the receipt was routed to its subscription (zero
	// before); read back by ListReceipts, never written from here.
	RoutedAt time.Time
}

// Receipt message types.
const (
	MsgVoiceReport       = "VoiceReport"
	MsgVoiceCallReport   = "VoiceCallReport"
	MsgVoiceRecordReport = "VoiceRecordReport"
)
