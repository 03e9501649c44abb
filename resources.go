package dialtone

import "time"

// Number is a display number an account bought; calls shown from it are
// capped at Concurrency at a time (status 200121 beyond that).
type Number struct {
	AccountUID  string
	Number      string
	Concurrency int
	CreatedAt   time.Time
}

// TemplateKind tells verification-code templates from notifications; they
// have different variable rules and ProdIds.
type TemplateKind string

const (
	TemplateVerification TemplateKind = "verification"
	TemplateNotification TemplateKind = "notification"
)

// ReviewStatus is the review state of a template or voice file; only
// approved ones may be used by calls.
type ReviewStatus string

const (
	ReviewPending  ReviewStatus = "pending"
	ReviewApproved ReviewStatus = "approved"
	ReviewRejected ReviewStatus = "rejected"
)

// TTSTemplate is a text-to-speech template with ${var} variables.
type TTSTemplate struct {
	AccountUID string
	Code       string // TTS_...
	Kind       TemplateKind
	Content    string
	Status     ReviewStatus
	Voice      string // TTS voice; "" chooses by the text's language
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// VoiceFileKind says which calls may play a voice file.
type VoiceFileKind string

const (
	VoiceFileNotification VoiceFileKind = "notification"
	VoiceFileSmartCall    VoiceFileKind = "smartcall"
)

// VoiceFile is an uploaded audio file, converted once to 8 kHz mono PCM and
// stored under the data directory.
type VoiceFile struct {
	AccountUID string
	Code       string // e.g. <uuid>.wav
	Kind       VoiceFileKind
	Status     ReviewStatus
	// StoredPath is relative to the data directory.
	StoredPath string
	Format     string // original format: wav or mp3
	Duration   time.Duration
	CreatedAt  time.Time
}

// FlowControl limits how often one callee may be called by an account.
type FlowControl struct {
	PerMinute int
	PerHour   int
	PerDay    int
}

// DefaultFlowControl is Alibaba's default: 1/minute, 5/hour, 20/24 hours.
var DefaultFlowControl = FlowControl{PerMinute: 1, PerHour: 5, PerDay: 20}

// FlowLimitError reports which window of FlowControl a call would exceed.
type FlowLimitError struct {
	Window string // "minute", "hour" or "day"
	Limit  int
}

func (e *FlowLimitError) Error() string {
	return "flow control: more than " + itoa(e.Limit) + " calls to this callee per " + e.Window
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
