package sdk

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Receipt message types.
const (
	VoiceReportType       = "VoiceReport"       // one call record per finished call
	VoiceCallReportType   = "VoiceCallReport"   // progress events (ringing, answered, DTMF, ...)
	VoiceRecordReportType = "VoiceRecordReport" // recording URL
)

// Receipt is one receipt message, from a queue (Consumer) or a push
// (PushHandler). Exactly one of Voice, Call and Record is set when the
// body is a JSON object of a known type.
type Receipt struct {
	Type   string // VoiceReport, VoiceCallReport or VoiceRecordReport
	ID     string // receipt_id: stable, for de-duplication (deliveries repeat)
	CallID string
	// Raw is the decoded JSON object; Body its bytes.
	Raw  map[string]any
	Body []byte

	Voice  *VoiceReport
	Call   *VoiceCallReport
	Record *VoiceRecordReport

	// Queue delivery only.
	MessageID    string
	DequeueCount int // 1 on first delivery
	EnqueueTime  time.Time
	handle       string
}

// VoiceReport is a call record (vms-api §4.4). Times are zero when empty.
type VoiceReport struct {
	CallID          string
	Caller, Callee  string
	StartTime       time.Time
	EndTime         time.Time
	Duration        time.Duration
	StatusCode      string
	SmartStatusCode string
	StatusMsg       string
	OutID           string
	DTMF            string
	HangupDirection string
	OriginateTime   time.Time
	RingTime        time.Time
	VoiceType       string
}

// VoiceCallReport is a progress event of a call.
type VoiceCallReport struct {
	CallID          string
	StatusCode      string
	SmartStatusCode string
	StatusTime      time.Time
	OutID           string
	DTMF            string
}

// VoiceRecordReport carries a call's recording URL.
type VoiceRecordReport struct {
	CallID          string
	StartTime       time.Time
	EndTime         time.Time
	Duration        time.Duration
	StatusCode      string
	SmartStatusCode string
	RecordFile      string
	OutID           string
	RecordBeginTime time.Time
}

// decodeReceipt decodes one JSON receipt object; msgType may be empty, in
// which case it is inferred from receipt_id or from the fields.
func decodeReceipt(body []byte, msgType string) Receipt {
	r := Receipt{Type: msgType, Body: body}
	if err := json.Unmarshal(body, &r.Raw); err != nil || r.Raw == nil {
		return r
	}
	s := func(k string) string {
		switch v := r.Raw[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	t := func(k string) time.Time { tm, _ := ParseTime(s(k)); return tm }
	d := func(k string) time.Duration {
		f, _ := strconv.ParseFloat(s(k), 64)
		return time.Duration(f * float64(time.Second))
	}
	r.ID, r.CallID = s("receipt_id"), s("call_id")
	if r.Type == "" {
		r.Type = inferType(r.ID, r.Raw)
	}
	switch r.Type {
	case VoiceReportType:
		r.Voice = &VoiceReport{CallID: r.CallID, Caller: s("caller"), Callee: s("callee"), StartTime: t("start_time"), EndTime: t("end_time"),
			Duration: d("duration"), StatusCode: s("status_code"), SmartStatusCode: s("smart_status_code"), StatusMsg: s("status_msg"),
			OutID: s("out_id"), DTMF: s("dtmf"), HangupDirection: s("hangup_direction"), OriginateTime: t("originate_time"),
			RingTime: t("ring_time"), VoiceType: s("voice_type")}
	case VoiceCallReportType:
		r.Call = &VoiceCallReport{CallID: r.CallID, StatusCode: s("status_code"), SmartStatusCode: s("smart_status_code"),
			StatusTime: t("status_time"), OutID: s("out_id"), DTMF: s("dtmf")}
	case VoiceRecordReportType:
		r.Record = &VoiceRecordReport{CallID: r.CallID, StartTime: t("start_time"), EndTime: t("end_time"), Duration: d("duration"),
			StatusCode: s("status_code"), SmartStatusCode: s("smart_status_code"), RecordFile: s("record_file"), OutID: s("out_id"),
			RecordBeginTime: t("record_begin_time")}
	}
	return r
}

// inferType: Dialtone's receipt IDs end in "-<MessageType>"; otherwise the
// fields tell (record_file: recording; status_time: progress event).
func inferType(id string, raw map[string]any) string {
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		switch t := id[i+1:]; t {
		case VoiceReportType, VoiceCallReportType, VoiceRecordReportType:
			return t
		}
	}
	if _, ok := raw["record_file"]; ok {
		return VoiceRecordReportType
	}
	if _, ok := raw["status_time"]; ok {
		return VoiceCallReportType
	}
	return VoiceReportType
}
