package dialtone

import (
	"strings"
	"time"
)

// Number is a display number an account bought; calls shown from it are
// capped at Concurrency at a time (status 200121 beyond that).
type Number struct {
	AccountUID  string    `json:"-"`
	Number      string    `json:"number"`
	Concurrency int       `json:"concurrency"`
	CreatedAt   time.Time `json:"created_at"`
}

// DefaultConcurrency is the concurrency of a number added without one.
const DefaultConcurrency = 10

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

// TTSTemplate is a text-to-speech template with ${var} variables. The
// JSON names are those of the admin API, the console's forms and
// provisioning files alike.
type TTSTemplate struct {
	AccountUID string       `json:"-"`
	Code       string       `json:"code"` // TTS_...
	Kind       TemplateKind `json:"kind"`
	Content    string       `json:"content"`
	Voice      string       `json:"voice"` // TTS voice; "" chooses by the text's language
	// Remark is a note for the people who manage the template; never spoken.
	Remark    string       `json:"remark"`
	Status    ReviewStatus `json:"status"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// TemplateUpdate changes a template; nil fields keep their value. The code
// and the review status are not changed this way.
type TemplateUpdate struct {
	Kind    *TemplateKind `json:"kind"`
	Content *string       `json:"content"`
	Voice   *string       `json:"voice"`
	Remark  *string       `json:"remark"`
}

// Empty reports whether u changes nothing.
func (u TemplateUpdate) Empty() bool { return u == TemplateUpdate{} }

// Apply sets t's fields from u and reports whether anything changed, and
// whether what a call would say did (which takes the template back to
// review).
func (u TemplateUpdate) Apply(t *TTSTemplate) (changed, spoken bool) {
	set := func(dst *string, v *string) {
		if v != nil && *v != *dst {
			*dst, spoken = *v, true
		}
	}
	if u.Kind != nil && *u.Kind != t.Kind {
		t.Kind, spoken = *u.Kind, true
	}
	set(&t.Content, u.Content)
	set(&t.Voice, u.Voice)
	// A remark is not spoken: changing it does not need a new review.
	remarked := u.Remark != nil && *u.Remark != t.Remark
	if remarked {
		t.Remark = *u.Remark
	}
	return spoken || remarked, spoken
}

// Validate checks a TTS template: code, kind, text and its variables,
// voice and review status.
func (t *TTSTemplate) Validate() error {
	var p problems
	if !ValidTemplateCode(t.Code) {
		p.invalid("code", "%s must be TTS_ followed by 1 to 60 letters, digits, '_' or '-'", quote(t.Code))
	}
	if t.Kind != TemplateVerification && t.Kind != TemplateNotification {
		p.invalid("kind", "%s must be verification or notification", quote(string(t.Kind)))
	}
	p.add(checkTemplateContent(t.Content))
	if t.Voice != "" && !ttsVoiceRe.MatchString(t.Voice) {
		p.invalid("voice", `%s is not an espeak-ng voice name (e.g. en-us, zh, en+f3); leave it empty to choose by the text's language`, quote(t.Voice))
	}
	if t.Remark != "" && (!validText(strings.ReplaceAll(t.Remark, "\n", " "), MaxRemark) || strings.TrimSpace(t.Remark) != t.Remark) {
		p.invalid("remark", "must be at most %d characters without control characters or surrounding spaces", MaxRemark)
	}
	p.add(checkStatus(t.Status))
	return p.err()
}

// MaxRemark bounds a template's remark, in characters.
const MaxRemark = 500

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
