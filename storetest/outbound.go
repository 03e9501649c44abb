package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Conformance of what requests sent on an account's behalf and the
// console's receipt pages need (migration 0010): who set each URL, rotated
// secrets, the audit trail, push attempts, and the reads of receipts and
// deliveries. Choices fixed beyond the interface comments:
//
//   - ListAudit and ListPushAttempts order by At, then ID, descending;
//     ListReceipts by CreatedAt, then ID, descending.
//   - An audit record's Detail: nil and empty are interchangeable.
//   - PurgePushAttempts groups by account, message type and Test.

func (s *suite) settingsCallback(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	want := &dialtone.AccountSettings{
		FlowControl:              dialtone.DefaultFlowControl,
		SmartCallCallbackURL:     "http://10.0.0.7/smart",
		SmartCallCallbackTrusted: true,
		SmartCallCallbackSecret:  dialtone.SigningSecret{Current: "new-secret", Previous: "old-secret", PreviousUntil: at(time.Hour).In(elsewhere)},
	}
	must(t, "PutAccountSettings", st.PutAccountSettings(ctx(t), "100", want))
	got, err := st.GetAccountSettings(ctx(t), "100")
	must(t, "GetAccountSettings", err)
	equal(t, "settings with the callback's trust and secrets", *got, *want, normSettings)
	other, err := st.GetAccountSettings(ctx(t), "200")
	must(t, "GetAccountSettings 200", err)
	equal(t, "another account's settings", *other, dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl}, normSettings)
	// Replacing every field clears them.
	plain := &dialtone.AccountSettings{SmartCallCallbackURL: "http://10.0.0.7/smart"}
	must(t, "PutAccountSettings plain", st.PutAccountSettings(ctx(t), "100", plain))
	got, err = st.GetAccountSettings(ctx(t), "100")
	must(t, "GetAccountSettings", err)
	equal(t, "settings without trust or secret", *got, *plain, normSettings)
}

func (r *rsuite) subTrustRotation(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	a := dialtone.Subscription{AccountUID: "100", MessageType: dialtone.MsgVoiceReport, Queue: true,
		PushURL: "http://127.0.0.1:9/r", PushURLTrusted: true, PushSecret: "new", PushSecretPrevious: "old",
		PushSecretPreviousUntil: at(time.Hour).In(elsewhere), CreatedAt: at(0), UpdatedAt: at(0)}
	must(t, "PutSubscription", st.PutSubscription(ctx(t), &a))
	got, err := st.GetSubscription(ctx(t), "100", dialtone.MsgVoiceReport)
	must(t, "GetSubscription", err)
	equal(t, "subscription with trust and rotation", *got, a, normSub)
	list, err := st.ListSubscriptions(ctx(t), "100")
	must(t, "ListSubscriptions", err)
	if len(list) != 1 {
		t.Fatalf("ListSubscriptions = %+v", list)
	}
	equal(t, "listed subscription", list[0], a, normSub)
	b := dialtone.Subscription{AccountUID: "100", MessageType: dialtone.MsgVoiceReport, PushURL: "http://x.example/", CreatedAt: at(0), UpdatedAt: at(0)}
	must(t, "PutSubscription replace", st.PutSubscription(ctx(t), &b))
	got, err = st.GetSubscription(ctx(t), "100", dialtone.MsgVoiceReport)
	must(t, "GetSubscription", err)
	equal(t, "replaced subscription", *got, b, normSub)
}

func normAudit(r dialtone.AuditRecord) dialtone.AuditRecord {
	r.At = normTime(r.At)
	if len(r.Detail) == 0 {
		r.Detail = nil
	}
	return r
}

func (s *suite) auditRoundTrip(t *testing.T) {
	st := s.store(t)
	recs := []dialtone.AuditRecord{
		{ID: "a1", At: at(0).In(elsewhere), Actor: "admin-api", AccountUID: "100", Resource: "subscription", ResourceID: "VoiceReport",
			Action: "created", Detail: map[string]string{"push_url": "http://127.0.0.1:9/r", "push_secret": "set"}},
		{ID: "a2", At: at(time.Second), Actor: "console:alice", AccountUID: "100", Resource: "settings", ResourceID: "100", Action: "updated"},
		{ID: "a3", At: at(time.Second), Actor: "provision:p.yaml", AccountUID: "200", Resource: "settings", ResourceID: "200", Action: "updated",
			Detail: map[string]string{"smartcall_callback_url": "https://cb.example/☎"}},
		{ID: "n1", At: at(2 * time.Second), Actor: "console:admin", Resource: "console_user", ResourceID: "bob", Action: "created"},
	}
	must(t, "AppendAudit", st.AppendAudit(ctx(t), recs))
	must(t, "AppendAudit none", st.AppendAudit(ctx(t), nil))
	all, err := st.ListAudit(ctx(t), dialtone.AuditFilter{})
	must(t, "ListAudit", err)
	if len(all) != 4 {
		t.Fatalf("ListAudit = %d records, want 4", len(all))
	}
	for i, want := range []dialtone.AuditRecord{recs[3], recs[2], recs[1], recs[0]} {
		equal(t, fmt.Sprintf("record %d (newest first, then ID descending)", i), all[i], want, normAudit)
	}
	acct, err := st.ListAudit(ctx(t), dialtone.AuditFilter{AccountUID: "100"})
	must(t, "ListAudit 100", err)
	if len(acct) != 2 || acct[0].ID != "a2" || acct[1].ID != "a1" {
		t.Errorf("account 100's records = %+v, want a2, a1 only", acct)
	}
	node, err := st.ListAudit(ctx(t), dialtone.AuditFilter{Node: true})
	must(t, "ListAudit node", err)
	if len(node) != 1 || node[0].ID != "n1" {
		t.Errorf("the node's records = %+v, want n1 only", node)
	}
	kind, err := st.ListAudit(ctx(t), dialtone.AuditFilter{Resource: "settings"})
	must(t, "ListAudit settings", err)
	if len(kind) != 2 || kind[0].ID != "a3" || kind[1].ID != "a2" {
		t.Errorf("settings records = %+v, want a3, a2", kind)
	}
	none, err := st.ListAudit(ctx(t), dialtone.AuditFilter{AccountUID: "999"})
	must(t, "ListAudit 999", err)
	if none == nil || len(none) != 0 {
		t.Errorf("unknown account's records = %#v, want an empty list", none)
	}
	// An empty ID is filled in.
	noID := []dialtone.AuditRecord{{At: at(0), Actor: "x", AccountUID: "300", Resource: "r", ResourceID: "i", Action: "deleted"}}
	must(t, "AppendAudit without ID", st.AppendAudit(ctx(t), noID))
	if noID[0].ID == "" {
		t.Error("AppendAudit left the ID empty")
	}
}

func (s *suite) auditCursor(t *testing.T) {
	st := s.store(t)
	var recs []dialtone.AuditRecord
	for i := range 5 {
		recs = append(recs, dialtone.AuditRecord{ID: fmt.Sprintf("r%d", i), At: at(time.Duration(i/2) * time.Second),
			Actor: "admin-api", AccountUID: "100", Resource: "number", ResourceID: "n", Action: "created"})
	}
	must(t, "AppendAudit", st.AppendAudit(ctx(t), recs))
	page1, err := st.ListAudit(ctx(t), dialtone.AuditFilter{AccountUID: "100", Limit: 2})
	must(t, "ListAudit page 1", err)
	if len(page1) != 2 || page1[0].ID != "r4" || page1[1].ID != "r3" {
		t.Fatalf("page 1 = %+v, want r4, r3", page1)
	}
	page2, err := st.ListAudit(ctx(t), dialtone.AuditFilter{AccountUID: "100", Limit: 2, Before: page1[1].ID})
	must(t, "ListAudit page 2", err)
	if len(page2) != 2 || page2[0].ID != "r2" || page2[1].ID != "r1" {
		t.Fatalf("page 2 = %+v, want r2, r1", page2)
	}
	_, err = st.ListAudit(ctx(t), dialtone.AuditFilter{Before: "nope"})
	wantErr(t, "ListAudit with an unknown cursor", err, dialtone.ErrNotFound)
	n, err := st.PurgeAudit(ctx(t), at(time.Second))
	must(t, "PurgeAudit", err)
	if n != 2 {
		t.Errorf("purged %d, want 2 (those before the cutoff)", n)
	}
	left, err := st.ListAudit(ctx(t), dialtone.AuditFilter{})
	must(t, "ListAudit", err)
	if len(left) != 3 || left[2].ID != "r2" {
		t.Errorf("left = %+v, want r4, r3, r2", left)
	}
}

func normAttempt(a dialtone.PushAttempt) dialtone.PushAttempt {
	a.At, a.NextRetry = normTime(a.At), normTime(a.NextRetry)
	a.ReceiptIDs = nil // not read back
	return a
}

func (r *rsuite) attemptRoundTrip(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	list, err := st.ListPushAttempts(ctx(t), dialtone.PushAttemptFilter{AccountUID: "100"})
	must(t, "ListPushAttempts empty", err)
	if list == nil || len(list) != 0 {
		t.Errorf("empty list = %#v, want an empty non-nil slice", list)
	}
	ok := &dialtone.PushAttempt{ID: "a", AccountUID: "100", MessageType: dialtone.MsgVoiceReport, At: at(0).In(elsewhere),
		URL: "https://example.com/r", HTTPStatus: 200, Answer: `{"code":0,"msg":"成功"}`, AnswerCode: "0", AnswerMsg: "成功",
		Latency: 42 * time.Millisecond, Count: 2, ReceiptIDs: []string{"r1", "r2"}}
	failed := &dialtone.PushAttempt{ID: "b", AccountUID: "100", MessageType: dialtone.MsgVoiceReport, At: at(time.Second),
		URL: "http://127.0.0.1:1/回执", Error: "refused by the egress policy (rule loopback)", Rule: "loopback", Count: 1,
		ReceiptIDs: []string{"r3"}, NextRetry: at(time.Minute)}
	tie := &dialtone.PushAttempt{ID: "c", AccountUID: "100", MessageType: dialtone.MsgVoiceReport, At: at(time.Second),
		URL: "https://example.com/r", HTTPStatus: 500, Answer: "oops", Error: "HTTP 500", Count: 1, Dead: true, ReceiptIDs: []string{"r3"}}
	test := &dialtone.PushAttempt{ID: "d", AccountUID: "100", MessageType: dialtone.MsgVoiceReport, At: at(2 * time.Second),
		URL: "https://example.com/r", HTTPStatus: 200, Count: 1, Test: true}
	for _, a := range []*dialtone.PushAttempt{ok, failed, tie, test} {
		must(t, "RecordPushAttempt "+a.ID, st.RecordPushAttempt(ctx(t), a))
	}
	list, err = st.ListPushAttempts(ctx(t), dialtone.PushAttemptFilter{AccountUID: "100", MessageType: dialtone.MsgVoiceReport})
	must(t, "ListPushAttempts", err)
	if len(list) != 4 {
		t.Fatalf("ListPushAttempts = %d attempts, want 4", len(list))
	}
	for i, want := range []*dialtone.PushAttempt{test, tie, failed, ok} {
		equal(t, fmt.Sprintf("attempt %d", i), list[i], *want, normAttempt)
	}
	no, yes := false, true
	deliv, err := st.ListPushAttempts(ctx(t), dialtone.PushAttemptFilter{AccountUID: "100", Test: &no, Limit: 2})
	must(t, "ListPushAttempts deliveries", err)
	if len(deliv) != 2 || deliv[0].ID != "c" || deliv[1].ID != "b" {
		t.Errorf("deliveries, limit 2 = %+v, want c, b", deliv)
	}
	tests, err := st.ListPushAttempts(ctx(t), dialtone.PushAttemptFilter{AccountUID: "100", Test: &yes})
	must(t, "ListPushAttempts tests", err)
	if len(tests) != 1 || tests[0].ID != "d" {
		t.Errorf("tests = %+v, want d", tests)
	}
	other, err := st.ListPushAttempts(ctx(t), dialtone.PushAttemptFilter{AccountUID: "100", MessageType: dialtone.MsgVoiceCallReport})
	must(t, "ListPushAttempts other type", err)
	if len(other) != 0 {
		t.Errorf("VoiceCallReport attempts = %+v", other)
	}
	noID := &dialtone.PushAttempt{AccountUID: "100", MessageType: dialtone.MsgVoiceCallReport, At: at(0), URL: "u", HTTPStatus: 200}
	must(t, "RecordPushAttempt without ID", st.RecordPushAttempt(ctx(t), noID))
	if noID.ID == "" {
		t.Error("RecordPushAttempt left the ID empty")
	}
	err = st.RecordPushAttempt(ctx(t), &dialtone.PushAttempt{AccountUID: "999", MessageType: dialtone.MsgVoiceReport, At: t0})
	wantErr(t, "RecordPushAttempt unknown account", err, dialtone.ErrNotFound)
}

func (r *rsuite) attemptByReceipt(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	for i, ids := range [][]string{{"r1", "r2"}, {"r2"}, {"r3"}} {
		must(t, "RecordPushAttempt", st.RecordPushAttempt(ctx(t), &dialtone.PushAttempt{ID: fmt.Sprintf("a%d", i), AccountUID: "100",
			MessageType: dialtone.MsgVoiceReport, At: at(time.Duration(i) * time.Second), ReceiptIDs: ids, Count: len(ids)}))
	}
	// Account 200 names the same receipt IDs: never mixed up.
	must(t, "RecordPushAttempt 200", st.RecordPushAttempt(ctx(t), &dialtone.PushAttempt{ID: "b0", AccountUID: "200",
		MessageType: dialtone.MsgVoiceReport, At: at(5 * time.Second), ReceiptIDs: []string{"r2"}, Count: 1}))
	got, err := st.ListPushAttempts(ctx(t), dialtone.PushAttemptFilter{AccountUID: "100", ReceiptID: "r2"})
	must(t, "ListPushAttempts r2", err)
	if len(got) != 2 || got[0].ID != "a1" || got[1].ID != "a0" {
		t.Errorf("attempts carrying r2 = %+v, want a1, a0", got)
	}
	got, err = st.ListPushAttempts(ctx(t), dialtone.PushAttemptFilter{AccountUID: "200", ReceiptID: "r1"})
	must(t, "ListPushAttempts 200 r1", err)
	if len(got) != 0 {
		t.Errorf("account 200 sees account 100's attempts: %+v", got)
	}
	got, err = st.ListPushAttempts(ctx(t), dialtone.PushAttemptFilter{AccountUID: "200"})
	must(t, "ListPushAttempts 200", err)
	if len(got) != 1 || got[0].ID != "b0" {
		t.Errorf("account 200's attempts = %+v", got)
	}
}

func (r *rsuite) attemptPurge(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	rec := func(id, acct, typ string, test bool, off time.Duration) {
		must(t, "RecordPushAttempt "+id, st.RecordPushAttempt(ctx(t), &dialtone.PushAttempt{ID: id, AccountUID: acct, MessageType: typ,
			At: at(off), Test: test, ReceiptIDs: []string{"r-" + id}, Count: 1}))
	}
	for i := range 5 {
		rec(fmt.Sprintf("v%d", i), "100", dialtone.MsgVoiceReport, false, time.Duration(i)*time.Hour)
	}
	rec("t0", "100", dialtone.MsgVoiceReport, true, 0)
	rec("c0", "100", dialtone.MsgVoiceCallReport, false, time.Hour)
	rec("o0", "200", dialtone.MsgVoiceReport, false, time.Hour)
	// Keep 2 per group; drop everything before 30 minutes in.
	n, err := st.PurgePushAttempts(ctx(t), at(30*time.Minute), 2)
	must(t, "PurgePushAttempts", err)
	if n != 4 { // v0, v1, v2 (beyond 2 and v0 old), t0 (old)
		t.Errorf("purged %d, want 4", n)
	}
	left, err := st.ListPushAttempts(ctx(t), dialtone.PushAttemptFilter{AccountUID: "100", MessageType: dialtone.MsgVoiceReport})
	must(t, "ListPushAttempts", err)
	if len(left) != 2 || left[0].ID != "v4" || left[1].ID != "v3" {
		t.Errorf("left = %+v, want v4, v3", left)
	}
	for _, q := range []struct{ acct, typ, id string }{{"100", dialtone.MsgVoiceCallReport, "c0"}, {"200", dialtone.MsgVoiceReport, "o0"}} {
		got, err := st.ListPushAttempts(ctx(t), dialtone.PushAttemptFilter{AccountUID: q.acct, MessageType: q.typ})
		must(t, "ListPushAttempts "+q.id, err)
		if len(got) != 1 || got[0].ID != q.id {
			t.Errorf("%s/%s = %+v, want only %s (groups are purged apart)", q.acct, q.typ, got, q.id)
		}
	}
	// The purged attempts' receipts went with them.
	got, err := st.ListPushAttempts(ctx(t), dialtone.PushAttemptFilter{AccountUID: "100", ReceiptID: "r-v0"})
	must(t, "ListPushAttempts r-v0", err)
	if len(got) != 0 {
		t.Errorf("a purged attempt is still found by its receipt: %+v", got)
	}
}

func (r *rsuite) listReceipts(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	c1 := addReceipts(t, st, "100", "c1", 2, at(0))
	c2 := addReceipts(t, st, "100", "c2", 1, at(time.Second))
	addReceipts(t, st, "200", "c3", 1, at(0))
	_, err := st.RouteReceipts(ctx(t), []dialtone.RouteReceipt{{ReceiptID: c1[0]}}, at(time.Minute))
	must(t, "RouteReceipts", err)
	all, err := st.ListReceipts(ctx(t), dialtone.ReceiptFilter{AccountUID: "100"})
	must(t, "ListReceipts", err)
	if len(all) != 3 || all[0].ID != c2[0] || all[1].ID != c1[1] || all[2].ID != c1[0] {
		t.Fatalf("ListReceipts = %+v, want newest first", all)
	}
	r0 := all[2]
	if r0.AccountUID != "100" || r0.CallID != "c1" || r0.MessageType != dialtone.MsgVoiceReport || string(r0.Body) != `{"call_id":"c1"}` ||
		!r0.CreatedAt.Equal(normTime(at(0))) || !r0.RoutedAt.Equal(normTime(at(time.Minute))) || !all[1].RoutedAt.IsZero() {
		t.Errorf("receipt read back = %+v", r0)
	}
	call, err := st.ListReceipts(ctx(t), dialtone.ReceiptFilter{AccountUID: "100", CallID: "c1", Limit: 1})
	must(t, "ListReceipts c1", err)
	if len(call) != 1 || call[0].ID != c1[1] {
		t.Errorf("c1, limit 1 = %+v", call)
	}
	typ, err := st.ListReceipts(ctx(t), dialtone.ReceiptFilter{AccountUID: "100", MessageType: dialtone.MsgVoiceCallReport})
	must(t, "ListReceipts by type", err)
	if len(typ) != 0 {
		t.Errorf("VoiceCallReport receipts = %+v", typ)
	}
	other, err := st.ListReceipts(ctx(t), dialtone.ReceiptFilter{AccountUID: "200", CallID: "c1"})
	must(t, "ListReceipts 200", err)
	if len(other) != 0 {
		t.Errorf("account 200 sees account 100's receipts: %+v", other)
	}
}

func (r *rsuite) deliveriesRead(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	ids := addReceipts(t, st, "100", "c1", 3, at(0))
	var routes []dialtone.RouteReceipt
	for _, id := range ids {
		routes = append(routes, dialtone.RouteReceipt{ReceiptID: id, Push: &dialtone.PushDelivery{
			ID: id, AccountUID: "100", MessageType: dialtone.MsgVoiceReport, Body: []byte(`{}`), CreatedAt: at(0), DueAt: at(0)}})
	}
	_, err := st.RouteReceipts(ctx(t), routes, at(0))
	must(t, "RouteReceipts", err)
	_, err = st.ClaimPushDeliveries(ctx(t), at(0), at(time.Minute), 10)
	must(t, "Claim", err)
	must(t, "Fail", st.FailPushDeliveries(ctx(t), []dialtone.PushFailure{
		{ID: ids[1], Error: "HTTP 500", Next: at(5 * time.Minute)},
		{ID: ids[2], Error: "HTTP 502", Dead: true},
	}))
	must(t, "Complete", st.CompletePushDeliveries(ctx(t), []string{ids[0]}))
	got, err := st.GetPushDeliveries(ctx(t), "100", []string{ids[2], ids[0], ids[1], "nope"})
	must(t, "GetPushDeliveries", err)
	if len(got) != 2 || got[0].ID != ids[2] || !got[0].Dead || got[1].ID != ids[1] || got[1].Attempts != 1 ||
		!got[1].DueAt.Equal(normTime(at(5*time.Minute))) || got[1].LastError != "HTTP 500" {
		t.Errorf("GetPushDeliveries = %+v", got)
	}
	none, err := st.GetPushDeliveries(ctx(t), "200", ids)
	must(t, "GetPushDeliveries 200", err)
	if len(none) != 0 {
		t.Errorf("account 200 sees %+v", none)
	}
	retries, err := st.ListPushRetries(ctx(t), "100", 0)
	must(t, "ListPushRetries", err)
	if len(retries) != 1 || retries[0].ID != ids[1] {
		t.Errorf("retries = %+v, want %s only (not the dead one)", retries, ids[1])
	}
	wantErr(t, "RetryDeadLetter of another account", st.RetryDeadLetter(ctx(t), "200", ids[2], at(time.Minute)), dialtone.ErrNotFound)
	wantErr(t, "RetryDeadLetter of a live delivery", st.RetryDeadLetter(ctx(t), "100", ids[1], at(time.Minute)), dialtone.ErrNotFound)
	// Handing a claimed delivery back moves its due time, counting no
	// attempt; a dead letter is left alone.
	_, err = st.ClaimPushDeliveries(ctx(t), at(5*time.Minute), at(6*time.Minute), 10)
	must(t, "Claim the retry", err)
	must(t, "ReleasePushDeliveries", st.ReleasePushDeliveries(ctx(t), []string{ids[1], ids[2], "nope"}, at(5*time.Minute+time.Second)))
	back, err := st.GetPushDeliveries(ctx(t), "100", []string{ids[1], ids[2]})
	must(t, "GetPushDeliveries after release", err)
	if len(back) != 2 || !back[0].DueAt.Equal(normTime(at(5*time.Minute+time.Second))) || back[0].Attempts != 1 || !back[1].Dead {
		t.Errorf("after release = %+v", back)
	}
	must(t, "RetryDeadLetter", st.RetryDeadLetter(ctx(t), "100", ids[2], at(time.Minute)))
	claimed, err := st.ClaimPushDeliveries(ctx(t), at(time.Minute), at(2*time.Minute), 10)
	must(t, "Claim retried", err)
	if len(claimed) != 1 || claimed[0].ID != ids[2] || claimed[0].Attempts != 0 || claimed[0].Dead {
		t.Errorf("claimed after retry now = %+v", claimed)
	}
}
