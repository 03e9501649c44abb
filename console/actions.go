package console

// The API Explorer's form is generated from this table, which restates the
// parameters of reference vms-api.md §3: name, wire type, required mark,
// range and help. Kept as data so that the form, the browser's validation
// and the code snippets all read the same definitions.

// Param types as the form knows them.
const (
	TString  = "string"
	TInt32   = "int32"
	TInt64   = "int64"
	TBool    = "bool"
	TFloat   = "float64"
	TJSON    = "json"    // a JSON object given as a string (TtsParam, ...)
	TMenuMap = "menumap" // IvrCall's MenuKeyMap: a JSON array expanded to MenuKeyMap.N.*
)

// Param is one request parameter of an action.
type Param struct {
	Name     string
	Type     string
	Required bool
	// Min and Max bound integers (when HasRange); MaxLen bounds strings in
	// characters (0: unbounded).
	HasRange bool
	Min, Max int64
	MinLen   int
	MaxLen   int
	Enum     []string
	Help     string
	// Example is shown as the empty field's placeholder ("e.g. ...").
	Example string
	// Pick names the account's values the page offers for this field
	// (and fills in): one of the Pick* kinds, or "".
	Pick string
}

// Kinds of values the Explorer offers from the account (see explorerPicks).
const (
	PickNumber    = "number"     // the account's display numbers
	PickCallee    = "callee"     // the simulated network's subscribers
	PickTemplate  = "template"   // approved TTS templates
	PickVoice     = "voice"      // approved notification voice files
	PickPrompt    = "prompt"     // approved templates and notification voice files
	PickSmartCode = "smartcode"  // approved smart-call voice files
	PickCall      = "call"       // recent calls
	PickCallCTD   = "call-ctd"   // recent ClickToDial calls
	PickCallSmart = "call-smart" // recent SmartCall calls
)

// ActionDef is one action of the Explorer.
type ActionDef struct {
	Name    string
	Summary string
	Params  []Param
}

func rng(lo, hi int64) (bool, int64, int64) { return true, lo, hi }

func intParam(name, typ string, lo, hi int64, help string) Param {
	p := Param{Name: name, Type: typ, Help: help}
	p.HasRange, p.Min, p.Max = rng(lo, hi)
	return p
}

var (
	pCalledNumber = Param{Name: "CalledNumber", Type: TString, Required: true, MaxLen: 20, Pick: PickCallee,
		Help: "One callee per request: mobile (159xxxx0000), landline with area code (0571xxxx5678), or country code + number outside the mainland.", Example: "13800000001"}
	pCalledShowNumber = Param{Name: "CalledShowNumber", Type: TString, MaxLen: 20, Pick: PickNumber,
		Help: "Display number: empty in public mode, a purchased number in dedicated mode.", Example: "057188880000"}
	pOutID = Param{Name: "OutId", Type: TString, MinLen: 1, MaxLen: 15,
		Help: "Your own ID for the call, returned in receipts; 1–15 characters.", Example: "order-42"}
	pVolume = intParam("Volume", TInt32, 0, 100, "Playback volume 0–100, default 100.")
	pSpeed  = intParam("Speed", TInt32, -500, 500, "Speech rate −500…500.")
)

// Actions lists the Explorer's actions in the reference's order.
var Actions = []ActionDef{
	{Name: "SingleCallByTts", Summary: "Voice verification code or TTS notification from an approved template (§3.2).", Params: []Param{
		pCalledNumber, pCalledShowNumber,
		{Name: "TtsCode", Type: TString, Pick: PickTemplate, Required: true, Help: "Approved template ID of the calling account, e.g. TTS_100001.", Example: "TTS_100001"},
		{Name: "TtsParam", Type: TJSON, MaxLen: 1000, Help: `Template variables as a JSON object, e.g. {"code":"1234"}. Total variable text under 250 characters, no URLs; verification codes take digits and letters only.`, Example: `{"code":"1234"}`},
		intParam("PlayTimes", TInt32, 1, 3, "Times to play 1–3, default 3."),
		pVolume, pSpeed, pOutID,
	}},
	{Name: "SingleCallByVoice", Summary: "Voice notification playing an approved voice file (§3.1).", Params: []Param{
		pCalledNumber, pCalledShowNumber,
		{Name: "VoiceCode", Type: TString, Pick: PickVoice, Required: true, Help: "Voice ID of an approved notification file, e.g. 2d4c-4e78-8d2a-afbb06cf****.wav.", Example: "e271f3f2-e155-4366-a9f4-0fe55765b3ec.wav"},
		intParam("PlayTimes", TInt32, 1, 3, "Times to play 1–3."),
		pVolume, pSpeed, pOutID,
	}},
	{Name: "IvrCall", Summary: "Interactive voice: a start prompt, then a DTMF menu (§3.3).", Params: []Param{
		{Name: "CalledNumber", Type: TString, Pick: PickCallee, Required: true, MaxLen: 20, Help: "Mainland China number; one per request.", Example: "13800000001"},
		{Name: "CalledShowNumber", Type: TString, Pick: PickNumber, Required: true, MaxLen: 20, Help: "Purchased number shown to the callee; numbers have concurrency caps.", Example: "057188880000"},
		{Name: "StartCode", Type: TString, Pick: PickPrompt, Required: true, Help: "Prompt at call start: a voice file ID or a TTS template ID.", Example: "TTS_100002"},
		{Name: "StartTtsParams", Type: TJSON, Help: "Variables of StartCode when it is a TTS template with variables.", Example: `{"name":"张三","order":"42"}`},
		{Name: "MenuKeyMap", Type: TMenuMap, Required: true, Help: `Up to 15 items as a JSON array: [{"Key":"1","Code":"TTS_100002","TtsParams":"{\"name\":\"x\"}"}]; sent as MenuKeyMap.N.Key/Code/TtsParams.`, Example: `[{"Key":"1","Code":"TTS_100002","TtsParams":"{\"name\":\"张三\",\"order\":\"42\"}"}]`},
		intParam("PlayTimes", TInt64, 1, 3, "Replay count 1–3."),
		{Name: "ByeCode", Type: TString, Pick: PickPrompt, Help: "Closing prompt; must be the same kind (file or TTS) as StartCode."},
		{Name: "ByeTtsParams", Type: TJSON, Help: "Variables of ByeCode when it is a TTS template with variables."},
		intParam("Timeout", TInt32, 1, 60000, "Wait for a key press, in milliseconds (e.g. 3000)."),
		pOutID,
	}},
	{Name: "ClickToDial", Summary: "Two-leg call: the platform calls the caller, then the callee, and bridges them (§3.4).", Params: []Param{
		{Name: "CallerShowNumber", Type: TString, Pick: PickNumber, Required: true, MaxLen: 20, Help: "Purchased number shown to the caller leg.", Example: "057188880000"},
		{Name: "CallerNumber", Type: TString, Pick: PickCallee, Required: true, MaxLen: 20, Help: "Caller (A leg), mainland only.", Example: "13800000001"},
		{Name: "CalledShowNumber", Type: TString, Pick: PickNumber, Required: true, MaxLen: 20, Help: "Purchased number shown to the callee.", Example: "057188880000"},
		{Name: "CalledNumber", Type: TString, Pick: PickCallee, Required: true, MaxLen: 20, Help: "Callee (B leg), mainland only.", Example: "13800000004"},
		{Name: "RecordFlag", Type: TBool, Help: "Record the call."},
		{Name: "AsrFlag", Type: TBool, Help: "Enable real-time ASR."},
		{Name: "AsrModelId", Type: TString, Help: "ASR model ID."},
		intParam("SessionTimeout", TInt32, 1, 86400, "Maximum whole-call duration in seconds; the platform hangs up when reached."),
		pOutID,
	}},
	{Name: "CancelCall", Summary: "Cancel a ClickToDial call (§3.5).", Params: []Param{
		{Name: "CallId", Type: TString, Pick: PickCallCTD, Required: true, Help: "CallId returned by ClickToDial."},
	}},
	{Name: "SmartCall", Summary: "Intelligent voice interaction driven by your callback (§3.6).", Params: []Param{
		{Name: "CalledNumber", Type: TString, Pick: PickCallee, Required: true, MaxLen: 20, Help: "Mainland China only.", Example: "13800000003"},
		{Name: "CalledShowNumber", Type: TString, Pick: PickNumber, Required: true, MaxLen: 20, Help: "Purchased number.", Example: "057188880000"},
		{Name: "VoiceCode", Type: TString, Pick: PickSmartCode, Required: true, Help: "What to play first: comma-separated smart-call voice IDs, audio URLs and $name$ TTS variables.", Example: "$name$"},
		{Name: "VoiceCodeParam", Type: TJSON, Help: `Values of the $var$ items, e.g. {"name":"hello"}.`, Example: `{"name":"您好，请问有什么可以帮您？"}`},
		{Name: "RecordFlag", Type: TBool, Help: "Record the conversation."},
		intParam("Volume", TInt32, -4, 4, "Playback volume −4…4; 1 recommended."),
		intParam("Speed", TInt32, -500, 500, "Not supported yet by the platform."),
		{Name: "AsrModelId", Type: TString, Help: "Custom ASR model ID."},
		{Name: "AsrBaseId", Type: TString, Enum: []string{"", "customer_service_8k", "dialect_customer_service_8k"}, Help: "Base ASR model; default customer_service_8k."},
		intParam("PauseTime", TInt32, 300, 1200, "End-of-sentence pause in ms, 300–1200 (out of range → 800)."),
		intParam("MuteTime", TInt32, 1000, 20000, "Silence before the turn ends, ms, 1000–20000 (out of range → 10000)."),
		{Name: "ActionCodeBreak", Type: TBool, Help: "Can the user barge in on this playback? Default true."},
		intParam("ActionCodeTimeBreak", TInt32, 0, 60000, "Barge in only after this many ms of continuous speech."),
		intParam("SessionTimeout", TInt32, 1, 3600, "Maximum call duration in seconds, at most 3600."),
		{Name: "DynamicId", Type: TString, Help: "Opaque ID echoed to the callback as dynamic_id."},
		{Name: "EarlyMediaAsr", Type: TBool, Help: "ASR on early media (ringback); default false."},
		{Name: "TtsStyle", Type: TString, Help: "TTS voice, default xiaoyun."},
		intParam("TtsVolume", TInt32, 0, 100, "TTS volume 0–100."),
		intParam("TtsSpeed", TInt32, -200, 200, "TTS speed −200…200."),
		{Name: "TtsConf", Type: TBool, Help: "true: use TtsStyle/TtsVolume/TtsSpeed."},
		intParam("StreamAsr", TInt32, 0, 1, "0 off, 1 streaming ASR."),
		{Name: "BackgroundFileCode", Type: TString, Pick: PickSmartCode, Help: "Voice ID of background audio."},
		{Name: "EnableITN", Type: TBool, Help: "Inverse text normalization (Chinese numerals → digits)."},
		{Name: "NoiseThreshold", Type: TFloat, Help: "Undocumented noise threshold."},
		pOutID,
	}},
	{Name: "SmartCallOperate", Summary: "Operate a live smart call (§3.7).", Params: []Param{
		{Name: "CallId", Type: TString, Pick: PickCallSmart, Required: true, Help: "CallId from SmartCall."},
		{Name: "Command", Type: TString, Required: true, Enum: []string{"parallelBridge"}, Help: "Only parallelBridge: bridge the callee with an agent."},
		{Name: "Param", Type: TString, Help: "Extension field (free-form)."},
	}},
	{Name: "QueryCallDetailByCallId", Summary: "Details of one call (§3.8).", Params: []Param{
		{Name: "CallId", Type: TString, Pick: PickCall, Required: true, Help: "CallId from the outbound API; must match ProdId and the day of QueryDate."},
		{Name: "ProdId", Type: TInt64, Required: true, Enum: []string{"11000000300006", "11010000138001", "11000000300005", "11000000300004", "11000000300009", "11030000180001"},
			Help: "Product: 11000000300006 voice notification, 11010000138001 verification code, 11000000300005 IVR, 11000000300004 click-to-dial, 11000000300009 SIP, 11030000180001 smart call."},
		{Name: "QueryDate", Type: TInt64, Required: true, Help: "Unix milliseconds; searches the 24 h starting at this instant."},
	}},
}

// actionDef finds an action of the table.
func actionDef(name string) (*ActionDef, bool) {
	for i := range Actions {
		if Actions[i].Name == name {
			return &Actions[i], true
		}
	}
	return nil, false
}
