package provision

import (
	"context"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

func TestApplySubscriptionsAndCallback(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	doc := `
accounts:
  - uid: "42"
    name: a
    smartcall_callback_url: "http://127.0.0.1:9/cb"
    subscriptions:
      - {message_type: VoiceReport, queue: true}
      - {message_type: VoiceRecordReport, push_url: "https://example.com/r", push_secret: s3cr3t}
`
	res, err := Apply(ctx, svcOf(st), mustParse(t, doc))
	if err != nil {
		t.Fatal(err)
	}
	if res.SubscriptionsCreated != 2 {
		t.Errorf("first apply = %+v", res)
	}
	rs := st
	sub, err := rs.GetSubscription(ctx, "42", dialtone.MsgVoiceRecordReport)
	if err != nil || sub.Queue || sub.PushURL != "https://example.com/r" || sub.PushSecret != "s3cr3t" {
		t.Errorf("record subscription = %+v, %v", sub, err)
	}
	set, err := st.GetAccountSettings(ctx, "42")
	if err != nil || set.SmartCallCallbackURL != "http://127.0.0.1:9/cb" || set.FlowControl != dialtone.DefaultFlowControl {
		t.Errorf("settings = %+v, %v", set, err)
	}
	// Queue attributes set elsewhere survive, and re-applying changes nothing.
	sub, _ = rs.GetSubscription(ctx, "42", dialtone.MsgVoiceReport)
	sub.VisibilityTimeout = 5e9
	if err := rs.PutSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	res, err = Apply(ctx, svcOf(st), mustParse(t, doc))
	if err != nil || res.SubscriptionsUnchanged != 2 || res.SubscriptionsCreated+res.SubscriptionsUpdated != 0 {
		t.Errorf("second apply = %+v, %v", res, err)
	}
	res, err = Apply(ctx, svcOf(st), mustParse(t, `
accounts:
  - uid: "42"
    name: a
    subscriptions:
      - {message_type: VoiceReport, queue: true, push_url: "http://127.0.0.1:9/p"}
`))
	if err != nil || res.SubscriptionsUpdated != 1 {
		t.Errorf("third apply = %+v, %v", res, err)
	}
	sub, _ = rs.GetSubscription(ctx, "42", dialtone.MsgVoiceReport)
	if sub.VisibilityTimeout != 5e9 || sub.PushURL != "http://127.0.0.1:9/p" {
		t.Errorf("updated subscription = %+v", sub)
	}
	if _, err := rs.GetSubscription(ctx, "42", dialtone.MsgVoiceRecordReport); err != nil {
		t.Errorf("unlisted subscription was removed: %v", err)
	}
}

// URLs a provisioning file sets are the operator's (trusted); its secrets
// rotate with their grace when the file changes them, and the same file
// applied again changes nothing.
func TestApplyTrustAndRotation(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	doc := func(push, callback string) string {
		return `
accounts:
  - uid: "42"
    name: a
    smartcall_callback_url: "http://127.0.0.1:9/cb"
    smartcall_callback_secret: ` + callback + `
    smartcall_callback_secret_grace: 1h
    subscriptions:
      - {message_type: VoiceReport, push_url: "http://10.0.0.9/r", push_secret: ` + push + `, push_secret_grace: 24h}
`
	}
	if _, err := Apply(ctx, svcOf(st), mustParse(t, doc("push-1", "callback-1"))); err != nil {
		t.Fatal(err)
	}
	sub, err := st.GetSubscription(ctx, "42", dialtone.MsgVoiceReport)
	if err != nil || !sub.PushURLTrusted || sub.PushSecret != "push-1" || sub.PushSecretPrevious != "" {
		t.Fatalf("first apply: %+v, %v", sub, err)
	}
	set, err := st.GetAccountSettings(ctx, "42")
	if err != nil || !set.SmartCallCallbackTrusted || set.SmartCallCallbackSecret.Current != "callback-1" {
		t.Fatalf("first apply: %+v, %v", set, err)
	}
	before := time.Now()
	if _, err := Apply(ctx, svcOf(st), mustParse(t, doc("push-2", "callback-2"))); err != nil {
		t.Fatal(err)
	}
	sub, _ = st.GetSubscription(ctx, "42", dialtone.MsgVoiceReport)
	set, _ = st.GetAccountSettings(ctx, "42")
	if sub.PushSecret != "push-2" || sub.PushSecretPrevious != "push-1" || sub.PushSecretPreviousUntil.Before(before.Add(23*time.Hour)) ||
		set.SmartCallCallbackSecret.Previous != "callback-1" || set.SmartCallCallbackSecret.PreviousUntil.After(time.Now().Add(time.Hour)) {
		t.Errorf("rotated: %#v, %#v", sub.PushSigning(), set.SmartCallCallbackSecret)
	}
	res, err := Apply(ctx, svcOf(st), mustParse(t, doc("push-2", "callback-2")))
	if err != nil || res.SubscriptionsUnchanged != 1 || res.Accounts[0].Settings != ActionUnchanged {
		t.Errorf("applied again: %+v, %v", res, err)
	}
	again, _ := st.GetSubscription(ctx, "42", dialtone.MsgVoiceReport)
	if !again.PushSecretPreviousUntil.Equal(sub.PushSecretPreviousUntil) {
		t.Errorf("applying again moved the grace: %s -> %s", sub.PushSecretPreviousUntil, again.PushSecretPreviousUntil)
	}
}
