package vms

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
)

var (
	// Mainland mobile numbers and landlines with area code.
	mainlandRe = regexp.MustCompile(`^(1[3-9][0-9]{9}|0[1-9][0-9]{8,10})$`)
	// Any callable number: digits, optionally international (country code
	// + number, as the reference allows for SingleCallBy*).
	anyNumberRe = regexp.MustCompile(`^[0-9]{5,20}$`)
	// URLs in template variables are refused (isv.PARAM_NOT_SUPPORT_URL).
	urlRe  = regexp.MustCompile(`(?i)(https?://|ftp://|www\.|[a-z0-9-]+\.(com|cn|net|org|io|top|xyz|cc|me|info|biz)(/|\b))`)
	dtmfRe = regexp.MustCompile(`^[0-9*#]$`)
)

// MaxVariableText is the limit of all template variable values together
// (the reference: "total variable text < 250 chars").
const MaxVariableText = 250

func checkCallee(name, number string, mainlandOnly bool) error {
	if number == "" {
		return nil
	}
	if strings.Contains(number, ",") {
		return dialtone.Errorf(dialtone.CodeMobileNumberIllegal, "%s takes one number per request, got %q.", name, number)
	}
	if mainlandOnly {
		if !mainlandRe.MatchString(number) {
			return dialtone.Errorf(dialtone.CodeMobileNumberIllegal, "%s %q is not a mainland China mobile number (11 digits starting with 1) or landline with area code.", name, number)
		}
		return nil
	}
	if !anyNumberRe.MatchString(number) {
		return dialtone.Errorf(dialtone.CodeMobileNumberIllegal, "%s %q is not a valid phone number (5 to 20 digits; international numbers start with the country code).", name, number)
	}
	return nil
}

// displayNumber checks that show is one of the account's numbers. An empty
// show (Alibaba's "public mode") picks the account's first number.
func (s *Service) displayNumber(ctx context.Context, acct, name, show string, required bool) (string, error) {
	if show == "" {
		if required {
			return "", dialtone.Errorf(dialtone.CodeDisplayNumberIllegal, "%s is required: give one of the account's numbers.", name)
		}
		nums, err := s.Store.ListNumbers(ctx, acct)
		if err != nil {
			return "", dialtone.SystemError(err)
		}
		if len(nums) == 0 {
			return "", dialtone.Errorf(dialtone.CodeDisplayNumberIllegal, "%s is empty and the account has no numbers to call from; add a number first.", name)
		}
		return nums[0].Number, nil
	}
	if !dialtone.ValidDisplayNumber(show) {
		return "", dialtone.Errorf(dialtone.CodeDisplayNumberIllegal, "%s %q is not a display number (3 to 20 digits with an optional leading +).", name, show)
	}
	if _, err := s.Store.GetNumber(ctx, acct, show); err != nil {
		if errors.Is(err, dialtone.ErrNotFound) {
			return "", dialtone.Errorf(dialtone.CodeDisplayNumberIllegal, "%s %q is not a number of this account.", name, show)
		}
		return "", dialtone.SystemError(err)
	}
	return show, nil
}

// intRange reads an optional integer parameter and checks its range.
func intRange(p gateway.Params, name string, lo, hi, def int64) (int64, error) {
	v, ok, err := p.Int64(name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return def, nil
	}
	if v < lo || v > hi {
		return 0, dialtone.Errorf(dialtone.CodeInvalidParameters, "%s must be between %d and %d, got %d.", name, lo, hi, v)
	}
	return v, nil
}

func checkOutID(p gateway.Params) (string, error) {
	out := p.String("OutId")
	if len(out) > 15 {
		return "", dialtone.Errorf(dialtone.CodeParamLengthLimit, "OutId may be at most 15 bytes, got %d.", len(out))
	}
	return out, nil
}

// ttsPrompt resolves an approved template of the account with its
// variables (JSON text in paramName) into a Prompt.
func (s *Service) ttsPrompt(ctx context.Context, acct, code, paramName, paramText string) (dialtone.Prompt, *dialtone.TTSTemplate, error) {
	t, err := s.Store.GetTemplate(ctx, acct, code)
	if errors.Is(err, dialtone.ErrNotFound) {
		return dialtone.Prompt{}, nil, dialtone.Errorf(dialtone.CodeTTSTemplateIllegal, "TTS template %s does not exist in this account.", code)
	}
	if err != nil {
		return dialtone.Prompt{}, nil, dialtone.SystemError(err)
	}
	if t.Status != dialtone.ReviewApproved {
		return dialtone.Prompt{}, nil, dialtone.Errorf(dialtone.CodeTTSTemplateIllegal, "TTS template %s is %s, not approved.", code, t.Status)
	}
	vars, err := s.templateParams(ctx, acct, paramName, paramText, t.Kind == dialtone.TemplateVerification)
	if err != nil {
		return dialtone.Prompt{}, nil, err
	}
	var missing []string
	for _, name := range dialtone.TemplateVars(t.Content) {
		if strings.TrimSpace(vars[name]) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return dialtone.Prompt{}, nil, dialtone.Errorf(dialtone.CodeTemplateMissingParameters, "%s lacks the variable(s) %s of template %s.", paramName, strings.Join(missing, ", "), code)
	}
	text := dialtone.FillTemplate(t.Content, func(name string) string { return vars[name] })
	used := map[string]string{}
	for _, name := range dialtone.TemplateVars(t.Content) {
		used[name] = vars[name]
	}
	return dialtone.Prompt{Text: text, Voice: t.Voice, Verification: t.Kind == dialtone.TemplateVerification, Vars: used, Code: code}, t, nil
}

// templateParams parses and checks template variables: JSON (or the seed
// document's relaxed form), total length, no URLs, no blacklisted words,
// and for verification codes digits and letters only.
func (s *Service) templateParams(ctx context.Context, acct, name, text string, verification bool) (map[string]string, error) {
	vars, err := ParseTemplateParams(text)
	if err != nil {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters, "%s is not a JSON object of variables: %v.", name, err)
	}
	total := 0
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		total += utf8.RuneCountInString(vars[k])
	}
	if total >= MaxVariableText {
		return nil, dialtone.Errorf(dialtone.CodeParamLengthLimit, "%s: the variables hold %d characters; together they must be fewer than %d.", name, total, MaxVariableText)
	}
	for _, k := range keys {
		if urlRe.MatchString(vars[k]) {
			return nil, dialtone.Errorf(dialtone.CodeParamNotSupportURL, "%s: variable %s contains a URL, which templates do not allow.", name, k)
		}
	}
	words, err := s.blacklist(ctx, acct)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		lower := strings.ToLower(vars[k])
		for _, w := range words {
			if w != "" && strings.Contains(lower, strings.ToLower(w)) {
				return nil, dialtone.Errorf(dialtone.CodeBlackKeyControlLimit, "%s: variable %s contains a forbidden keyword.", name, k)
			}
		}
	}
	if verification {
		for _, k := range keys {
			for _, r := range vars[k] {
				if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
					return nil, dialtone.Errorf(dialtone.CodeTemplateParamsIllegal, "%s: verification-code variable %s may hold only digits and letters.", name, k)
				}
			}
		}
	}
	return vars, nil
}

func (s *Service) blacklist(ctx context.Context, acct string) ([]string, error) {
	var out []string
	for _, uid := range []string{"", acct} {
		st, err := s.Store.GetAccountSettings(ctx, uid)
		if err != nil {
			return nil, dialtone.SystemError(err)
		}
		out = append(out, st.Blacklist...)
	}
	return out, nil
}

// filePrompt resolves an approved voice file of the account.
func (s *Service) filePrompt(ctx context.Context, acct, name, code string, kinds ...dialtone.VoiceFileKind) (dialtone.Prompt, error) {
	if urlRe.MatchString(code) && strings.Contains(code, "://") {
		return dialtone.Prompt{}, dialtone.Errorf(dialtone.CodeParamNotSupportURL, "%s: audio URLs are not played by Dialtone; upload the audio as a voice file and use its code.", name)
	}
	f, err := s.Store.GetVoiceFile(ctx, acct, code)
	if errors.Is(err, dialtone.ErrNotFound) {
		return dialtone.Prompt{}, dialtone.Errorf(dialtone.CodeVoiceFileIllegal, "%s: voice file %s does not exist in this account.", name, code)
	}
	if err != nil {
		return dialtone.Prompt{}, dialtone.SystemError(err)
	}
	if f.Status != dialtone.ReviewApproved {
		return dialtone.Prompt{}, dialtone.Errorf(dialtone.CodeVoiceFileIllegal, "%s: voice file %s is %s, not approved.", name, code, f.Status)
	}
	if len(kinds) > 0 {
		ok := false
		for _, k := range kinds {
			ok = ok || f.Kind == k
		}
		if !ok {
			return dialtone.Prompt{}, dialtone.Errorf(dialtone.CodeVoiceFileIllegal, "%s: voice file %s is a %s file and cannot be used here.", name, code, f.Kind)
		}
	}
	return dialtone.Prompt{FileCode: f.Code, StoredPath: f.StoredPath, Code: f.Code}, nil
}

// isTemplateCode tells TTS template codes from voice file codes.
func isTemplateCode(code string) bool { return strings.HasPrefix(code, "TTS_") }

var callSeq atomic.Uint64

// NewCallID returns a unique CallId of Alibaba's form <digits>^<digits>:
// milliseconds since the epoch, then a per-process sequence mixed with
// randomness (so two nodes starting in the same millisecond differ).
func NewCallID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	r := uint64(binary.BigEndian.Uint32(b[:])) % 100000
	return strconv.FormatInt(now.UnixMilli(), 10) + "^" + fmt.Sprintf("%05d%05d", callSeq.Add(1)%100000, r)
}
