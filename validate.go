package dialtone

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The rules of account resources, once. Every front door (admin API,
// console, provisioning) and the actions (vms) use these; each resource
// checks itself with Validate, the style of benbjohnson/wtf's domain types.

// InvalidError is a resource that breaks a rule. Field names the field as
// the admin API's JSON, the console's forms and provisioning files all
// call it ("concurrency", "flow_control.per_minute", "blacklist[2]"), so
// each front door can point at it: a JSON field, a form input, a YAML key
// with its line.
//
// Node configuration (SIP, the simulated network, receipts) reports with
// the same type through internal/fielderr, which adds First and At for the
// provisioning decoder's line numbers.
type InvalidError struct {
	// Field is the field's key path; "" is the resource as a whole.
	Field string
	// Message says what is wrong, without the path.
	Message string
	// First, when set, is the path of an earlier field this one repeats
	// (a duplicate name): a file decoder reports its line.
	First string
	// At, when set, is the path whose position a file decoder shows
	// instead of Field's: a reference to something missing is shown on the
	// item that holds it.
	At string
}

func (e *InvalidError) Error() string {
	s := e.Message
	if e.Field != "" {
		s = e.Field + ": " + s
	}
	if e.First != "" {
		s += " (first at " + e.First + ")"
	}
	return s
}

// Invalid returns an *InvalidError for field.
func Invalid(field, format string, args ...any) *InvalidError {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// InvalidFields lists the *InvalidError of err: a Validate reports every
// broken rule of a resource at once, joined (errors.Join).
func InvalidFields(err error) []*InvalidError {
	var out []*InvalidError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *InvalidError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// problems collects the broken rules of one resource.
type problems []error

func (p *problems) invalid(field, format string, args ...any) {
	*p = append(*p, Invalid(field, format, args...))
}

func (p *problems) add(err error) {
	if err != nil {
		*p = append(*p, err)
	}
}

// err joins the problems; nil when there are none.
func (p problems) err() error { return errors.Join(p...) }

// Limits of account resources.
const (
	// MaxTemplateContent is Alibaba's limit on a TTS template's text, in
	// characters.
	MaxTemplateContent = 500
	// MaxConcurrency bounds a display number's simultaneous calls.
	MaxConcurrency = 100000
	// A blacklist is checked against every template variable of every
	// call; the caps keep that check and the settings row bounded.
	MaxBlacklistWords = 10000
	MaxBlacklistWord  = 100
	// MaxURL bounds the URLs an account sets (callback, push).
	MaxURL = 2048
	// MaxActions bounds the action list of one key; the API has a few
	// dozen.
	MaxActions = 200
	// MaxName bounds an account's name, in characters.
	MaxName = 128
)

var (
	// displayNumberRe is a number calls may be shown from: 3 to 20 digits
	// with an optional leading +.
	displayNumberRe = regexp.MustCompile(`^\+?[0-9]{3,20}$`)
	// templateCodeRe is a TTS template code: TTS_ and letters, digits, '_'
	// or '-'.
	templateCodeRe = regexp.MustCompile(`^TTS_[A-Za-z0-9_-]{1,60}$`)
	// ttsVoiceRe is an espeak-ng voice name with an optional variant
	// ("en-us", "cmn-latn-pinyin", "en+f3"). The first character may not be
	// '-': the voice becomes an espeak-ng argument and must never read as
	// an option; '/' and '.' would name files.
	ttsVoiceRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_+-]{0,63}$`)
	// templateVarRe is a ${variable} of a TTS template.
	templateVarRe = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)
	varNameRe     = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	// voiceFileCodeRe is a voice file code ("e271f3f2-….wav"); it names the
	// stored audio, so it cannot start with '.' (nor hold "..").
	voiceFileCodeRe = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)
	keyIDRe         = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
)

// ValidDisplayNumber reports whether s can be a display number.
func ValidDisplayNumber(s string) bool { return displayNumberRe.MatchString(s) }

// ValidTemplateCode reports whether s is a TTS template code.
func ValidTemplateCode(s string) bool { return templateCodeRe.MatchString(s) }

// ValidVoiceFileCode reports whether s can be a voice file's code.
func ValidVoiceFileCode(s string) bool {
	return voiceFileCodeRe.MatchString(s) && !strings.Contains(s, "..")
}

// Actions are the API's actions as the official clients name them (case
// matters, as it does for Alibaba Cloud): the seven voice actions and call
// detail of Dyvmsapi, and Dybaseapi's token for receipt queues. A key's
// allowed actions and an account's rate limits name these; the gateway's
// registered actions are checked against this list by a test.
var Actions = []string{
	"SingleCallByVoice", "SingleCallByTts", "IvrCall", "ClickToDial", "CancelCall",
	"SmartCall", "SmartCallOperate", "QueryCallDetailByCallId", "QueryTokenForMnsQueue",
}

// ValidAction reports whether s is one of the API's actions.
func ValidAction(s string) bool { return slices.Contains(Actions, s) }

// TemplateVars lists the ${variables} of a template's text, each once, in
// order of first use.
func TemplateVars(content string) []string {
	var out []string
	for _, m := range templateVarRe.FindAllStringSubmatch(content, -1) {
		if !containsString(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// FillTemplate replaces each ${variable} of content by value(name).
func FillTemplate(content string, value func(name string) string) string {
	return templateVarRe.ReplaceAllStringFunc(content, func(m string) string {
		return value(templateVarRe.FindStringSubmatch(m)[1])
	})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Validate checks an account: its UID, name, status and features.
func (a *Account) Validate() error {
	var p problems
	if !ValidUID(a.UID) {
		p.invalid("uid", "%s is not 1 to 32 digits", quote(a.UID))
	}
	if !validText(a.Name, MaxName) || strings.TrimSpace(a.Name) != a.Name {
		p.invalid("name", "%s must be 1 to %d characters without control characters or surrounding spaces", quote(a.Name), MaxName)
	}
	if !a.Status.Valid() {
		p.invalid("status", "%s must be active, suspended, abnormal or deleted", quote(string(a.Status)))
	}
	for i, f := range a.Features {
		if !f.Valid() {
			p.invalid("products["+strconv.Itoa(i)+"]", "%s is not a product (notify, tts, ivr, clicktodial, smartcall)", quote(string(f)))
		}
	}
	for action, rps := range a.RateLimits {
		if !ValidAction(action) {
			p.invalid("rate_limits", "%s is not an API action; the actions are %s", quote(action), strings.Join(Actions, ", "))
		} else if !(rps > 0) {
			p.invalid("rate_limits."+action, "requests per second must be greater than 0")
		}
	}
	return p.err()
}

// Validate checks an access key: its ID, secret and actions. An explicit
// empty action list is refused although Allows reads it as "every action":
// given explicitly it more likely means "none"; nil or ["*"] allow all.
func (k *AccessKey) Validate() error {
	var p problems
	if !keyIDRe.MatchString(k.ID) {
		p.invalid("id", "%s must be 1 to 128 letters, digits, '.', '_' or '-'", quote(k.ID))
	}
	// Never quote the secret: messages reach logs and HTTP answers.
	if c := utf8.RuneCountInString(k.Secret); c < 16 || c > 256 || !utf8.ValidString(k.Secret) {
		p.invalid("secret", "must be 16 to 256 characters (it has %d)", c)
	} else if strings.IndexFunc(k.Secret, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		p.invalid("secret", "must not contain spaces or control characters")
	}
	switch {
	case k.Actions == nil:
	case len(k.Actions) == 0:
		p.invalid("actions", `must not be empty: give ["*"] to allow every action, or leave it out`)
	case len(k.Actions) > MaxActions:
		p.invalid("actions", "has %d actions, more than the limit of %d", len(k.Actions), MaxActions)
	default:
		seen := make(map[string]bool, len(k.Actions))
		for i, a := range k.Actions {
			field := "actions[" + strconv.Itoa(i) + "]"
			if a != "*" && !ValidAction(a) {
				p.invalid(field, `%s is not an API action (or "*"); the actions are %s`, quote(a), strings.Join(Actions, ", "))
			} else if seen[a] {
				p.invalid(field, "duplicate action %s", quote(a))
			}
			seen[a] = true
		}
	}
	return p.err()
}

// Validate checks a display number and its concurrency cap.
func (n *Number) Validate() error {
	var p problems
	if !ValidDisplayNumber(n.Number) {
		p.invalid("number", "%s must be 3 to 20 digits with an optional leading +", quote(n.Number))
	}
	if n.Concurrency < 1 || n.Concurrency > MaxConcurrency {
		p.invalid("concurrency", "must be 1 to %d", MaxConcurrency)
	}
	return p.err()
}

func checkTemplateContent(s string) error {
	if strings.TrimSpace(s) == "" {
		return Invalid("content", "must not be empty")
	}
	if n := utf8.RuneCountInString(s); n > MaxTemplateContent {
		return Invalid("content", "has %d characters, more than the limit of %d", n, MaxTemplateContent)
	}
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0 {
		return Invalid("content", "must be text without control characters")
	}
	for rest := s; ; {
		i := strings.Index(rest, "${")
		if i < 0 {
			return nil
		}
		rest = rest[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return Invalid("content", "unterminated ${")
		}
		if name := rest[:j]; !varNameRe.MatchString(name) {
			return Invalid("content", "variable %s must be named with letters, digits or '_'", quote("${"+name+"}"))
		}
		rest = rest[j+1:]
	}
}

// Valid reports whether s is a review status.
func (s ReviewStatus) Valid() bool {
	return s == ReviewPending || s == ReviewApproved || s == ReviewRejected
}

// Validate checks a voice file's code, kind and review status (its audio
// is checked when it is imported).
func (f *VoiceFile) Validate() error {
	var p problems
	if !ValidVoiceFileCode(f.Code) {
		p.invalid("code", "%s must be 1 to 128 letters, digits, '.', '_' or '-', not starting with '.' nor holding '..'", quote(f.Code))
	}
	if f.Kind != VoiceFileNotification && f.Kind != VoiceFileSmartCall {
		p.invalid("kind", "%s must be notification or smartcall", quote(string(f.Kind)))
	}
	p.add(checkStatus(f.Status))
	return p.err()
}

func checkStatus(s ReviewStatus) error {
	if !s.Valid() {
		return Invalid("status", "%s must be pending, approved or rejected", quote(string(s)))
	}
	return nil
}

// Validate checks an account's settings: flow control, SmartCall callback
// URL and secret, blacklist (see CleanBlacklist for the form it must be
// in), machine detection and media streams.
func (s *AccountSettings) Validate() error {
	var p problems
	for _, l := range []struct {
		field string
		v     int
	}{
		{"flow_control.per_minute", s.FlowControl.PerMinute},
		{"flow_control.per_hour", s.FlowControl.PerHour},
		{"flow_control.per_day", s.FlowControl.PerDay},
	} {
		if l.v < 0 {
			p.invalid(l.field, "must not be negative (0 means no limit)")
		}
	}
	if s.SmartCallCallbackURL != "" {
		p.add(CheckHTTPURL("smartcall_callback_url", s.SmartCallCallbackURL))
	}
	if s.SmartCallCallbackSecret.Current != "" && s.SmartCallCallbackURL == "" && s.SmartCallStreamURL == "" && s.ForkStreamURL == "" {
		p.invalid("smartcall_callback_secret", "needs a smartcall_callback_url, smartcall_stream_url or fork_stream_url")
	}
	if s.SmartCallStreamURL != "" {
		p.add(CheckStreamURL("smartcall_stream_url", s.SmartCallStreamURL))
	}
	if s.ForkStreamURL != "" {
		p.add(CheckStreamURL("fork_stream_url", s.ForkStreamURL))
	}
	if len(s.ForkStreamKinds) > 0 && s.ForkStreamURL == "" {
		p.invalid("fork_stream_kinds", "needs a fork_stream_url")
	} else {
		p.add(CheckForkKinds("fork_stream_kinds", s.ForkStreamKinds))
	}
	checkSecret(&p, "smartcall_callback_secret", s.SmartCallCallbackSecret)
	p.add(CheckBlacklist("blacklist", s.Blacklist))
	p.add(CheckMachineDetection("machine_detection", s.MachineDetection))
	return p.err()
}

// CleanBlacklist trims the words of a blacklist and drops repeats, keeping
// the order; it does not drop empty words, which CheckBlacklist refuses as
// more likely a mistake than a wish.
func CleanBlacklist(words []string) []string {
	if words == nil {
		return nil
	}
	out := make([]string, 0, len(words))
	seen := make(map[string]bool, len(words))
	for _, w := range words {
		w = strings.TrimSpace(w)
		if w != "" && seen[w] {
			continue
		}
		seen[w] = true
		out = append(out, w)
	}
	return out
}

// CheckBlacklist checks a blacklist given as field: at most
// MaxBlacklistWords words, each 1 to MaxBlacklistWord characters without
// control characters or surrounding spaces.
func CheckBlacklist(field string, words []string) error {
	if len(words) > MaxBlacklistWords {
		return Invalid(field, "has %d words, more than the limit of %d", len(words), MaxBlacklistWords)
	}
	var p problems
	for i, w := range words {
		f := field + "[" + strconv.Itoa(i) + "]"
		switch {
		case strings.TrimSpace(w) == "":
			p.invalid(f, "must not be empty")
		case strings.TrimSpace(w) != w:
			p.invalid(f, "must not start or end with spaces")
		case !validText(w, MaxBlacklistWord):
			p.invalid(f, "must be at most %d characters without control characters", MaxBlacklistWord)
		}
	}
	return p.err()
}

// CheckHTTPURL checks a URL an account gives as field: http or https, with
// a host, without credentials, at most MaxURL bytes.
func CheckHTTPURL(field, s string) error {
	if len(s) > MaxURL {
		return Invalid(field, "is longer than %d bytes", MaxURL)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return Invalid(field, "%s is not an http:// or https:// URL without credentials", quote(s))
	}
	return nil
}

// Validate checks a receipt subscription: its message type, that it
// delivers somewhere, the push URL and secret, and the queue's attributes.
func (s *Subscription) Validate() error {
	var p problems
	if !ValidMessageType(s.MessageType) {
		p.invalid("message_type", "%s must be VoiceReport, VoiceCallReport or VoiceRecordReport", quote(s.MessageType))
	}
	if !s.Queue && s.PushURL == "" {
		p.invalid("", "delivers nowhere: set queue, a push_url, or both")
	}
	if s.PushURL != "" {
		p.add(CheckHTTPURL("push_url", s.PushURL))
	}
	if s.PushSecret != "" && s.PushURL == "" {
		p.invalid("push_secret", "needs a push_url")
	} else {
		checkSecret(&p, "push_secret", s.PushSigning())
	}
	if v := s.VisibilityTimeout; v != 0 && (v < time.Second || v > MaxVisibilityTimeout) {
		p.invalid("visibility_timeout_seconds", "must be between 1 and %d", int64(MaxVisibilityTimeout/time.Second))
	}
	if v := s.Retention; v != 0 && (v < time.Minute || v > MaxRetention) {
		p.invalid("message_retention_seconds", "must be between 60 and %d", int64(MaxRetention/time.Second))
	}
	return p.err()
}

// Validate checks a console user: the username and, for an account user,
// the account's UID (the password's rules belong to its hashing).
func (u *ConsoleUser) Validate() error {
	var p problems
	if !ValidConsoleUsername(u.Username) {
		p.invalid("username", "must be 1 to 64 characters without control characters or surrounding spaces")
	}
	if u.AccountUID != "" && !ValidUID(u.AccountUID) {
		p.invalid("account", "%s is not an account uid (1 to 32 digits)", quote(u.AccountUID))
	}
	return p.err()
}

// validText reports whether s is 1 to max characters of UTF-8 without
// control characters.
func validText(s string, max int) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}

// quote quotes a value for a message, shortened so that a long value does
// not flood it.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 64 {
		r := []rune(s)
		s = string(r[:64]) + "…"
	}
	return strconv.Quote(s)
}
