package console

import (
	"strconv"
	"strings"
)

// fieldLabels are the labels the console's forms give the fields the
// domain's rules name (by their JSON names), so that a refusal speaks of
// what the user sees on the page, not of internal names.
var fieldLabels = map[string]string{
	"number":                     "Number",
	"concurrency":                "Concurrency cap",
	"code":                       "Code",
	"kind":                       "Kind",
	"content":                    "Content",
	"voice":                      "Voice",
	"status":                     "Status",
	"actions":                    "Allowed actions",
	"username":                   "Username",
	"password":                   "Password",
	"account":                    "Account",
	"role":                       "Role",
	"operator":                   "Role",
	"push_url":                   "Push URL",
	"push_secret":                "Push signing secret",
	"message_type":               "Message type",
	"visibility_timeout_seconds": "Visibility timeout",
	"message_retention_seconds":  "Message retention",
	"smartcall_callback_url":     "SmartCall callback URL",
	"smartcall_callback_secret":  "Callback signing secret",
	"push_secret_grace_seconds":  "Old secret keeps signing for",
	"smartcall_callback_secret_grace_seconds": "Old secret keeps signing for",
	"blacklist":               "Blacklist",
	"machine_detection":       "Answering-machine detection",
	"smartcall_stream_url":    "SmartCall agent stream URL",
	"fork_stream_url":         "Listen-only fork URL",
	"fork_stream_kinds":       "Calls forked",
	"flow_control.per_minute": "Calls per callee per minute",
	"flow_control.per_hour":   "Calls per callee per hour",
	"flow_control.per_day":    "Calls per callee per day",
	"file":                    "Audio file",
	"result":                  "Result",
	"answer_after":            "Answer after",
	"ring":                    "Ring for",
	"hangup_after":            "Hang up after",
	"dtmf":                    "Key presses",
	"say":                     "Says",
	"silence":                 "Silence before each line",
	"answered_by":             "Answered by",
	"hello":                   "A person's first words",
	"greeting":                "Voicemail greeting",
	"greeting_length":         "Greeting lasts",
	"early_media":             "Tone while ringing",
	"tone_plan":               "Tone plan",
}

// inputName is the form input a field is typed into: "actions[2]" is
// typed into "actions".
func inputName(field string) string {
	name, _, _ := strings.Cut(field, "[")
	return name
}

// label names a field as the page does; an item of a list says which
// ("Blacklist, item 3").
func label(field string) string {
	name := inputName(field)
	l, ok := fieldLabels[name]
	if !ok {
		l = strings.NewReplacer("_", " ", ".", " ").Replace(name)
		if l != "" {
			l = strings.ToUpper(l[:1]) + l[1:]
		}
	}
	if _, rest, ok := strings.Cut(field, "["); ok {
		if n, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil {
			return l + ", item " + strconv.Itoa(n+1)
		}
	}
	return l
}
