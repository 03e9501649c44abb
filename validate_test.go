package dialtone_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// validator is any resource that checks itself.
type validator interface{ Validate() error }

// TestValidate: each resource reports every broken rule at once, each as
// an InvalidError naming the field as the front doors name it.
func TestValidate(t *testing.T) {
	key := func(actions ...string) *dialtone.AccessKey {
		return &dialtone.AccessKey{ID: "LTAI-test", Secret: "0123456789abcdef", Actions: actions}
	}
	tpl := func(code, kind, content, voice string) *dialtone.TTSTemplate {
		return &dialtone.TTSTemplate{Code: code, Kind: dialtone.TemplateKind(kind), Content: content, Voice: voice, Status: dialtone.ReviewApproved}
	}
	for _, tc := range []struct {
		name   string
		v      validator
		fields []string // the fields reported, in order; none: valid
	}{
		{"key every action", &dialtone.AccessKey{ID: "AK", Secret: "0123456789abcdef"}, nil},
		{"key star", key("*"), nil},
		{"key real actions", key("SingleCallByTts", "QueryTokenForMnsQueue"), nil},
		{"key made-up action", key("MakeCoffee"), []string{"actions[0]"}},
		{"key lower-case action", key("SingleCallByTts", "singlecallbytts"), []string{"actions[1]"}},
		{"key duplicate action", key("IvrCall", "IvrCall"), []string{"actions[1]"}},
		{"key empty list", &dialtone.AccessKey{ID: "AK", Secret: "0123456789abcdef", Actions: []string{}}, []string{"actions"}},
		{"key short secret and bad id", &dialtone.AccessKey{ID: "a b", Secret: "short"}, []string{"id", "secret"}},
		{"account rate limit on a made-up action", &dialtone.Account{UID: "1", Name: "a", Status: dialtone.AccountActive, RateLimits: map[string]float64{"MakeCoffee": 1}}, []string{"rate_limits"}},
		{"account", &dialtone.Account{UID: "1", Name: "a", Status: dialtone.AccountActive, RateLimits: map[string]float64{"SingleCallByTts": 5}}, nil},
		{"account everything wrong", &dialtone.Account{UID: "x", Name: " a", Status: "gone", Features: []dialtone.Feature{"fax"}}, []string{"uid", "name", "status", "products[0]"}},
		{"number", &dialtone.Number{Number: "+8657188880000", Concurrency: 3}, nil},
		{"number short, no concurrency", &dialtone.Number{Number: "12", Concurrency: 0}, []string{"number", "concurrency"}},
		{"number with letters", &dialtone.Number{Number: "0571-8888", Concurrency: 1}, []string{"number"}},
		{"template", tpl("TTS_1-a_b", "notification", "Hi ${name}", "en+f3"), nil},
		{"template no voice", tpl("TTS_1", "verification", "code ${code}", ""), nil},
		{"template voice as an option", tpl("TTS_1", "verification", "x", "-w/tmp/x"), []string{"voice"}},
		{"template everything wrong", tpl("SMS_1", "ad", "${a b}", "en/../x"), []string{"code", "kind", "content", "voice"}},
		{"template too long", tpl("TTS_1", "notification", strings.Repeat("字", dialtone.MaxTemplateContent+1), ""), []string{"content"}},
		{"template unterminated variable", tpl("TTS_1", "notification", "Hi ${name", ""), []string{"content"}},
		{"voice file", &dialtone.VoiceFile{Code: "e271f3f2.wav", Kind: dialtone.VoiceFileNotification, Status: dialtone.ReviewPending}, nil},
		{"voice file escaping", &dialtone.VoiceFile{Code: "../x.wav", Kind: "music", Status: "maybe"}, []string{"code", "kind", "status"}},
		{"settings", &dialtone.AccountSettings{SmartCallCallbackURL: "https://example.test/cb", Blacklist: []string{"spam"}}, nil},
		{"settings wrong", &dialtone.AccountSettings{FlowControl: dialtone.FlowControl{PerMinute: -1}, SmartCallCallbackURL: "ftp://u:p@x", Blacklist: []string{"ok", " "}},
			[]string{"flow_control.per_minute", "smartcall_callback_url", "blacklist[1]"}},
		{"subscription", &dialtone.Subscription{MessageType: "VoiceReport", Queue: true, VisibilityTimeout: 30 * time.Second}, nil},
		{"subscription nowhere", &dialtone.Subscription{MessageType: "SmsReport", PushSecret: "s"}, []string{"message_type", "", "push_secret"}},
		{"console user", &dialtone.ConsoleUser{Username: "ops", AccountUID: "102"}, nil},
		{"console user wrong", &dialtone.ConsoleUser{Username: "", AccountUID: "acct"}, []string{"username", "account"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.v.Validate()
			var got []string
			for _, ie := range dialtone.InvalidFields(err) {
				got = append(got, ie.Field)
				if ie.Message == "" || !strings.Contains(err.Error(), ie.Message) {
					t.Errorf("field %q: message %q not in %q", ie.Field, ie.Message, err)
				}
			}
			if !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %q, want %q (error: %v)", got, tc.fields, err)
			}
			if (err == nil) != (len(tc.fields) == 0) {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// TestActionMessageListsTheActions: the message of a made-up action says
// which actions there are, so a user can fix it without the docs.
func TestActionMessageListsTheActions(t *testing.T) {
	err := (&dialtone.AccessKey{ID: "AK", Secret: "0123456789abcdef", Actions: []string{"MakeCoffee"}}).Validate()
	for _, a := range dialtone.Actions {
		if !strings.Contains(err.Error(), a) {
			t.Errorf("%q does not name %s", err, a)
		}
	}
}
