package storetest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// ReceiptStore is the store as RunReceipts takes it (dialtone.Store has
// receipt delivery).
type ReceiptStore interface {
	dialtone.Store
}

// RunReceipts is the conformance suite of dialtone.ReceiptStore. Choices it
// fixes beyond the interface comments:
//
//   - Subscription durations and times are kept to the millisecond; the
//     push secret round-trips.
//   - ListUnroutedReceipts orders by CreatedAt, then ID.
//   - A receipt of a type its account has no subscription for when the
//     call change writes it goes nowhere: it is routed at its creation
//     and never listed as unrouted.
//   - Messages of a queue are received in Priority order (lower first),
//     then enqueue order; a message whose retention ended is never received.
//   - ClaimPushDeliveries orders by DueAt, then CreatedAt, then ID.
func RunReceipts(t *testing.T, open func(t *testing.T) ReceiptStore) {
	r := &rsuite{open: open}
	t.Run("Subscription", func(t *testing.T) {
		t.Run("RoundTrip", r.subRoundTrip)
		t.Run("UnknownAccount", r.subUnknownAccount)
		t.Run("Isolation", r.subIsolation)
	})
	t.Run("Route", func(t *testing.T) {
		t.Run("ExactlyOnce", r.routeExactlyOnce)
		t.Run("NoSubscription", r.routeNoSubscription)
		t.Run("Concurrent", r.routeConcurrent)
		t.Run("Batch", r.routeBatch)
		t.Run("Purge", r.routePurge)
	})
	t.Run("Queue", func(t *testing.T) {
		t.Run("ReceiveVisibility", r.queueReceive)
		t.Run("Delete", r.queueDelete)
		t.Run("ChangeVisibility", r.queueChangeVisibility)
		t.Run("OrderPeekStats", r.queueOrder)
		t.Run("Retention", r.queueRetention)
		t.Run("ConcurrentReceivers", r.queueConcurrent)
	})
	t.Run("Push", func(t *testing.T) {
		t.Run("ClaimFailDead", r.pushLifecycle)
		t.Run("DeadLetterIsolation", r.pushIsolation)
	})
	t.Run("PushAttempts", func(t *testing.T) {
		t.Run("RoundTripOrder", r.attemptRoundTrip)
		t.Run("ByReceiptAndIsolation", r.attemptByReceipt)
		t.Run("Purge", r.attemptPurge)
	})
	t.Run("Read", func(t *testing.T) {
		t.Run("SubscriptionTrustAndRotation", r.subTrustRotation)
		t.Run("ListReceipts", r.listReceipts)
		t.Run("DeliveriesRetriesRetryNow", r.deliveriesRead)
	})
}

type rsuite struct {
	open func(t *testing.T) ReceiptStore
}

func (r *rsuite) store(t *testing.T) ReceiptStore {
	t.Helper()
	st := r.open(t)
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

func normSub(s dialtone.Subscription) dialtone.Subscription {
	s.CreatedAt, s.UpdatedAt = normTime(s.CreatedAt), normTime(s.UpdatedAt)
	s.PushSecretPreviousUntil = normTime(s.PushSecretPreviousUntil)
	return s
}

func (r *rsuite) subRoundTrip(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	_, err := st.GetSubscription(ctx(t), "100", dialtone.MsgVoiceReport)
	wantErr(t, "GetSubscription before Put", err, dialtone.ErrNotFound)
	list, err := st.ListSubscriptions(ctx(t), "100")
	must(t, "ListSubscriptions", err)
	if len(list) != 0 || list == nil {
		t.Errorf("ListSubscriptions of none = %#v, want empty", list)
	}
	a := dialtone.Subscription{AccountUID: "100", MessageType: dialtone.MsgVoiceReport, Queue: true,
		PushURL: "http://push.example/r", PushSecret: "s3cr3t", VisibilityTimeout: 45 * time.Second,
		Retention: time.Hour, CreatedAt: at(0).In(elsewhere), UpdatedAt: at(time.Second)}
	b := dialtone.Subscription{AccountUID: "100", MessageType: dialtone.MsgVoiceCallReport, Queue: true, CreatedAt: at(0), UpdatedAt: at(0)}
	must(t, "PutSubscription a", st.PutSubscription(ctx(t), &a))
	must(t, "PutSubscription b", st.PutSubscription(ctx(t), &b))
	got, err := st.GetSubscription(ctx(t), "100", dialtone.MsgVoiceReport)
	must(t, "GetSubscription", err)
	equal(t, "subscription", *got, a, normSub)

	// Put replaces every field.
	a2 := dialtone.Subscription{AccountUID: "100", MessageType: dialtone.MsgVoiceReport, CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
	must(t, "PutSubscription a2", st.PutSubscription(ctx(t), &a2))
	got, err = st.GetSubscription(ctx(t), "100", dialtone.MsgVoiceReport)
	must(t, "GetSubscription", err)
	equal(t, "replaced subscription", *got, a2, normSub)

	list, err = st.ListSubscriptions(ctx(t), "100")
	must(t, "ListSubscriptions", err)
	if len(list) != 2 || list[0].MessageType != dialtone.MsgVoiceCallReport || list[1].MessageType != dialtone.MsgVoiceReport {
		t.Errorf("ListSubscriptions = %+v, want VoiceCallReport then VoiceReport", list)
	}
	must(t, "DeleteSubscription", st.DeleteSubscription(ctx(t), "100", dialtone.MsgVoiceReport))
	wantErr(t, "DeleteSubscription again", st.DeleteSubscription(ctx(t), "100", dialtone.MsgVoiceReport), dialtone.ErrNotFound)
}

func (r *rsuite) subUnknownAccount(t *testing.T) {
	st := r.store(t)
	err := st.PutSubscription(ctx(t), &dialtone.Subscription{AccountUID: "404", MessageType: dialtone.MsgVoiceReport, Queue: true})
	wantErr(t, "PutSubscription of unknown account", err, dialtone.ErrNotFound)
}

func (r *rsuite) subIsolation(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	must(t, "Put", st.PutSubscription(ctx(t), &dialtone.Subscription{AccountUID: "100", MessageType: dialtone.MsgVoiceReport, Queue: true}))
	_, err := st.GetSubscription(ctx(t), "200", dialtone.MsgVoiceReport)
	wantErr(t, "other account's subscription", err, dialtone.ErrNotFound)
	wantErr(t, "delete other account's subscription", st.DeleteSubscription(ctx(t), "200", dialtone.MsgVoiceReport), dialtone.ErrNotFound)
	list, err := st.ListSubscriptions(ctx(t), "200")
	must(t, "ListSubscriptions", err)
	if len(list) != 0 {
		t.Errorf("account 200 lists %+v", list)
	}
}

// addReceipts writes n VoiceReports of a new call through UpdateCall,
// the account subscribed to them (so they wait in the outbox).
func addReceipts(t *testing.T, st dialtone.Store, acct, callID string, n int, created time.Time) []string {
	t.Helper()
	must(t, "PutSubscription", st.PutSubscription(ctx(t), &dialtone.Subscription{AccountUID: acct,
		MessageType: dialtone.MsgVoiceReport, Queue: true, CreatedAt: t0, UpdatedAt: t0}))
	c := createCall(t, st, acct, callID, "13800000000", created)
	var rs []dialtone.Receipt
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-r%02d", callID, i)
		ids = append(ids, id)
		rs = append(rs, dialtone.Receipt{ID: id, MessageType: dialtone.MsgVoiceReport,
			Body: []byte(`{"call_id":"` + callID + `"}`), CreatedAt: created.Add(time.Duration(i) * time.Millisecond)})
	}
	must(t, "UpdateCall", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: c, Receipts: rs}))
	return ids
}

func message(id, queue, acct string, enq time.Time) *dialtone.QueueMessage {
	return &dialtone.QueueMessage{ID: id, Queue: queue, AccountUID: acct, ReceiptID: "r-" + id, Body: "e30=",
		BodyMD5: "X", Priority: 8, EnqueuedAt: enq, NextVisibleAt: enq, ExpiresAt: enq.Add(72 * time.Hour)}
}

// routeNoSubscription: of one change's receipts, the one whose type the
// account subscribed to waits in the outbox; the others are routed at
// their creation, to nowhere, and only that one is listed unrouted.
func (r *rsuite) routeNoSubscription(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	// Another account's subscription to the type routes nothing of 100's.
	must(t, "PutSubscription", st.PutSubscription(ctx(t), &dialtone.Subscription{AccountUID: "200",
		MessageType: dialtone.MsgVoiceCallReport, Queue: true, CreatedAt: t0, UpdatedAt: t0}))
	must(t, "PutSubscription", st.PutSubscription(ctx(t), &dialtone.Subscription{AccountUID: "100",
		MessageType: dialtone.MsgVoiceReport, Queue: true, CreatedAt: t0, UpdatedAt: t0}))
	c := createCall(t, st, "100", "c1", "13800000000", at(0))
	rs := []dialtone.Receipt{
		{ID: "r-report", MessageType: dialtone.MsgVoiceReport, Body: []byte(`{}`), CreatedAt: at(time.Second)},
		{ID: "r-call", MessageType: dialtone.MsgVoiceCallReport, Body: []byte(`{}`), CreatedAt: at(2 * time.Second)},
		{ID: "r-record", MessageType: dialtone.MsgVoiceRecordReport, Body: []byte(`{}`), CreatedAt: at(3 * time.Second)},
	}
	must(t, "UpdateCall", st.UpdateCall(ctx(t), &dialtone.CallChange{Call: c, Receipts: rs}))
	un, err := st.ListUnroutedReceipts(ctx(t), 10)
	must(t, "ListUnroutedReceipts", err)
	if len(un) != 1 || un[0].ID != "r-report" {
		t.Fatalf("unrouted = %+v, want only the subscribed r-report", un)
	}
	all, err := st.ListReceipts(ctx(t), dialtone.ReceiptFilter{AccountUID: "100"})
	must(t, "ListReceipts", err)
	routed := map[string]time.Time{}
	for _, r := range all {
		routed[r.ID] = r.RoutedAt
	}
	if len(all) != 3 || !routed["r-report"].IsZero() ||
		!routed["r-call"].Equal(normTime(at(2*time.Second))) || !routed["r-record"].Equal(normTime(at(3*time.Second))) {
		t.Fatalf("receipts = %+v: want all three kept, the unsubscribed ones routed at their creation", all)
	}
	// Routing the unrouted one claims it; the pre-routed ones are no
	// longer claimable (already routed).
	got, err := st.RouteReceipts(ctx(t), []dialtone.RouteReceipt{{ReceiptID: "r-report"}, {ReceiptID: "r-call"}}, at(time.Minute))
	must(t, "RouteReceipts", err)
	if fmt.Sprint(got) != "[r-report]" {
		t.Errorf("routed = %v, want only r-report", got)
	}
}

func (r *rsuite) routeExactlyOnce(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	ids := addReceipts(t, st, "100", "c1", 3, at(0))
	un, err := st.ListUnroutedReceipts(ctx(t), 10)
	must(t, "ListUnroutedReceipts", err)
	if len(un) != 3 || un[0].ID != ids[0] || un[0].AccountUID != "100" || un[0].CallID != "c1" ||
		un[0].MessageType != dialtone.MsgVoiceReport || string(un[0].Body) != `{"call_id":"c1"}` || !un[0].CreatedAt.Equal(normTime(at(0))) {
		t.Fatalf("unrouted = %+v", un)
	}
	q := dialtone.QueueName("100", dialtone.MsgVoiceReport)
	routes := []dialtone.RouteReceipt{
		{ReceiptID: ids[0], Message: message("M0", q, "100", at(time.Second)),
			Push: &dialtone.PushDelivery{ID: ids[0], AccountUID: "100", MessageType: dialtone.MsgVoiceReport, Body: []byte(`{}`), CreatedAt: at(time.Second), DueAt: at(time.Second)}},
		{ReceiptID: ids[1]}, // no subscription: nothing created
		{ReceiptID: "unknown", Message: message("MX", q, "100", at(time.Second))},
	}
	routed, err := st.RouteReceipts(ctx(t), routes, at(time.Second))
	must(t, "RouteReceipts", err)
	sort.Strings(routed)
	if fmt.Sprint(routed) != fmt.Sprint([]string{ids[0], ids[1]}) {
		t.Errorf("routed = %v, want %v", routed, ids[:2])
	}
	// Again: already routed, so nothing happens (no second message).
	routes[0].Message = message("M0b", q, "100", at(time.Second))
	routed, err = st.RouteReceipts(ctx(t), routes[:2], at(2*time.Second))
	must(t, "RouteReceipts again", err)
	if len(routed) != 0 {
		t.Errorf("second RouteReceipts routed %v", routed)
	}
	un, err = st.ListUnroutedReceipts(ctx(t), 10)
	must(t, "ListUnroutedReceipts", err)
	if len(un) != 1 || un[0].ID != ids[2] {
		t.Errorf("unrouted after routing = %+v, want only %s", un, ids[2])
	}
	msgs, err := st.PeekMessages(ctx(t), q, 16, at(time.Hour))
	must(t, "PeekMessages", err)
	if len(msgs) != 1 || msgs[0].ID != "M0" {
		t.Errorf("queue holds %+v, want only M0", msgs)
	}
	ds, err := st.ClaimPushDeliveries(ctx(t), at(time.Hour), at(2*time.Hour), 10)
	must(t, "ClaimPushDeliveries", err)
	if len(ds) != 1 || ds[0].ID != ids[0] {
		t.Errorf("push deliveries = %+v", ds)
	}
}

// routeBatch: one call routing more receipts than one statement writes
// creates every message and push delivery, each as given.
func (r *rsuite) routeBatch(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	ids := addReceipts(t, st, "100", "c1", 37, at(0))
	q := dialtone.QueueName("100", dialtone.MsgVoiceReport)
	var routes []dialtone.RouteReceipt
	want := map[string]*dialtone.QueueMessage{}
	wantPush := map[string]bool{}
	for i, id := range ids {
		m := message("M-"+id, q, "100", at(time.Duration(i)*time.Second))
		m.Priority = 1 + i%16
		m.Body = fmt.Sprintf("body-%d", i)
		want[m.ID] = m
		rt := dialtone.RouteReceipt{ReceiptID: id, Message: m}
		if i%2 == 1 {
			rt.Push = &dialtone.PushDelivery{ID: "P-" + id, AccountUID: "100", MessageType: dialtone.MsgVoiceReport,
				Body: []byte(id), CreatedAt: at(0), DueAt: at(0)}
			wantPush[rt.Push.ID] = true
		}
		routes = append(routes, rt)
	}
	routed, err := st.RouteReceipts(ctx(t), routes, at(time.Second))
	must(t, "RouteReceipts", err)
	if len(routed) != len(ids) {
		t.Fatalf("routed %d of %d receipts", len(routed), len(ids))
	}
	stats, err := st.QueueStats(ctx(t), q, at(time.Hour))
	must(t, "QueueStats", err)
	if stats.Active != len(ids) {
		t.Errorf("queue holds %d messages, want %d", stats.Active, len(ids))
	}
	msgs, err := st.PeekMessages(ctx(t), q, 16, at(time.Hour))
	must(t, "PeekMessages", err)
	if len(msgs) != 16 {
		t.Fatalf("peeked %d messages, want 16", len(msgs))
	}
	for _, m := range msgs {
		w := want[m.ID]
		if w == nil || m.Body != w.Body || m.Priority != w.Priority || m.ReceiptID != w.ReceiptID ||
			!m.EnqueuedAt.Equal(normTime(w.EnqueuedAt)) || !m.ExpiresAt.Equal(normTime(w.ExpiresAt)) {
			t.Errorf("message %+v, want %+v", m, w)
		}
	}
	ds, err := st.ClaimPushDeliveries(ctx(t), at(time.Hour), at(2*time.Hour), 100)
	must(t, "ClaimPushDeliveries", err)
	if len(ds) != len(wantPush) {
		t.Errorf("%d push deliveries, want %d", len(ds), len(wantPush))
	}
	for _, d := range ds {
		if !wantPush[d.ID] || string(d.Body) != strings.TrimPrefix(d.ID, "P-") {
			t.Errorf("push delivery %s with body %q", d.ID, d.Body)
		}
	}
}

func (r *rsuite) routeConcurrent(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	ids := addReceipts(t, st, "100", "c1", 20, at(0))
	q := dialtone.QueueName("100", dialtone.MsgVoiceReport)
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		wg     sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var routes []dialtone.RouteReceipt
			for _, id := range ids {
				routes = append(routes, dialtone.RouteReceipt{ReceiptID: id, Message: message(fmt.Sprintf("W%d-%s", w, id), q, "100", at(0))})
			}
			routed, err := st.RouteReceipts(ctx(t), routes, at(time.Second))
			if err != nil {
				t.Errorf("RouteReceipts: %v", err)
				return
			}
			mu.Lock()
			for _, id := range routed {
				counts[id]++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if counts[id] != 1 {
			t.Errorf("receipt %s routed %d times", id, counts[id])
		}
	}
	msgs, err := st.PeekMessages(ctx(t), q, 16, at(time.Hour))
	must(t, "PeekMessages", err)
	st2, err := st.QueueStats(ctx(t), q, at(time.Hour))
	must(t, "QueueStats", err)
	if len(msgs) != 16 || st2.Active != 20 {
		t.Errorf("queue has %d active (peek %d), want 20", st2.Active, len(msgs))
	}
}

func (r *rsuite) routePurge(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	ids := addReceipts(t, st, "100", "c1", 2, at(0))
	_, err := st.RouteReceipts(ctx(t), []dialtone.RouteReceipt{{ReceiptID: ids[0]}}, at(time.Second))
	must(t, "RouteReceipts", err)
	n, err := st.PurgeRoutedReceipts(ctx(t), at(2*time.Second))
	must(t, "PurgeRoutedReceipts", err)
	if n != 1 {
		t.Errorf("purged %d, want 1 (the routed one)", n)
	}
	un, err := st.ListUnroutedReceipts(ctx(t), 10)
	must(t, "ListUnroutedReceipts", err)
	if len(un) != 1 || un[0].ID != ids[1] {
		t.Errorf("unrouted = %+v", un)
	}
}

func (r *rsuite) queueReceive(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	q := dialtone.QueueName("100", dialtone.MsgVoiceReport)
	must(t, "Enqueue", st.EnqueueMessage(ctx(t), message("M1", q, "100", at(0))))
	wantErr(t, "Enqueue duplicate", st.EnqueueMessage(ctx(t), message("M1", q, "100", at(0))), dialtone.ErrConflict)
	wantErr(t, "Enqueue unknown account", st.EnqueueMessage(ctx(t), message("M2", q, "404", at(0))), dialtone.ErrNotFound)

	got, err := st.ReceiveMessages(ctx(t), q, 4, at(time.Second), 30*time.Second, []string{"h1", "x", "x", "x"})
	must(t, "Receive", err)
	if len(got) != 1 || got[0].ID != "M1" || got[0].Handle != "h1" || got[0].DequeueCount != 1 ||
		!got[0].FirstDequeueAt.Equal(normTime(at(time.Second))) || !got[0].NextVisibleAt.Equal(normTime(at(31*time.Second))) {
		t.Fatalf("first receive = %+v", got)
	}
	// Invisible until the timeout ends.
	got, err = st.ReceiveMessages(ctx(t), q, 1, at(30*time.Second), 30*time.Second, []string{"h2"})
	must(t, "Receive while invisible", err)
	if len(got) != 0 {
		t.Errorf("received an invisible message: %+v", got)
	}
	got, err = st.ReceiveMessages(ctx(t), q, 1, at(31*time.Second), 30*time.Second, []string{"h3"})
	must(t, "Receive after timeout", err)
	if len(got) != 1 || got[0].DequeueCount != 2 || got[0].Handle != "h3" || !got[0].FirstDequeueAt.Equal(normTime(at(time.Second))) {
		t.Fatalf("second receive = %+v", got)
	}
	// The old handle no longer deletes it.
	errs, err := st.DeleteMessages(ctx(t), q, []dialtone.HandleRef{{MessageID: "M1", Handle: "h1"}}, at(32*time.Second))
	must(t, "Delete", err)
	wantErr(t, "delete with old handle", errs[0], dialtone.ErrStaleHandle)
}

func (r *rsuite) queueDelete(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	q := dialtone.QueueName("100", dialtone.MsgVoiceReport)
	q2 := dialtone.QueueName("200", dialtone.MsgVoiceReport)
	must(t, "Enqueue", st.EnqueueMessage(ctx(t), message("M1", q, "100", at(0))))
	must(t, "Enqueue", st.EnqueueMessage(ctx(t), message("M2", q, "100", at(1))))
	_, err := st.ReceiveMessages(ctx(t), q, 2, at(time.Second), 30*time.Second, []string{"h1", "h2"})
	must(t, "Receive", err)
	refs := []dialtone.HandleRef{{MessageID: "M1", Handle: "h1"}, {MessageID: "M2", Handle: "wrong"}, {MessageID: "M9", Handle: "h9"}}
	errs, err := st.DeleteMessages(ctx(t), q, refs, at(2*time.Second))
	must(t, "DeleteMessages", err)
	if errs[0] != nil {
		t.Errorf("delete M1: %v", errs[0])
	}
	wantErr(t, "delete M2 with a wrong handle", errs[1], dialtone.ErrStaleHandle)
	wantErr(t, "delete unknown M9", errs[2], dialtone.ErrNotFound)
	// Another queue cannot delete it even with the right handle.
	errs, err = st.DeleteMessages(ctx(t), q2, []dialtone.HandleRef{{MessageID: "M2", Handle: "h2"}}, at(2*time.Second))
	must(t, "DeleteMessages other queue", err)
	wantErr(t, "delete through another queue", errs[0], dialtone.ErrNotFound)
	// An expired handle (the message is visible again) is not found.
	errs, err = st.DeleteMessages(ctx(t), q, []dialtone.HandleRef{{MessageID: "M2", Handle: "h2"}}, at(31*time.Second))
	must(t, "DeleteMessages expired", err)
	wantErr(t, "delete with an expired handle", errs[0], dialtone.ErrNotFound)
	errs, err = st.DeleteMessages(ctx(t), q, []dialtone.HandleRef{{MessageID: "M1", Handle: "h1"}}, at(3*time.Second))
	must(t, "DeleteMessages again", err)
	wantErr(t, "delete deleted M1", errs[0], dialtone.ErrNotFound)
}

func (r *rsuite) queueChangeVisibility(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	q := dialtone.QueueName("100", dialtone.MsgVoiceReport)
	must(t, "Enqueue", st.EnqueueMessage(ctx(t), message("M1", q, "100", at(0))))
	_, err := st.ReceiveMessages(ctx(t), q, 1, at(time.Second), 30*time.Second, []string{"h1"})
	must(t, "Receive", err)
	m, err := st.ChangeVisibility(ctx(t), q, dialtone.HandleRef{MessageID: "M1", Handle: "h1"}, "h2", at(2*time.Second), 5*time.Second)
	must(t, "ChangeVisibility", err)
	if m.Handle != "h2" || !m.NextVisibleAt.Equal(normTime(at(7*time.Second))) {
		t.Errorf("changed = %+v", m)
	}
	_, err = st.ChangeVisibility(ctx(t), q, dialtone.HandleRef{MessageID: "M1", Handle: "h1"}, "h3", at(2*time.Second), 5*time.Second)
	wantErr(t, "ChangeVisibility with old handle", err, dialtone.ErrStaleHandle)
	got, err := st.ReceiveMessages(ctx(t), q, 1, at(7*time.Second), 30*time.Second, []string{"h4"})
	must(t, "Receive", err)
	if len(got) != 1 {
		t.Errorf("message not visible after its changed timeout")
	}
}

func (r *rsuite) queueOrder(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	q := dialtone.QueueName("100", dialtone.MsgVoiceReport)
	for i, p := range []int{8, 8, 1} {
		m := message(fmt.Sprintf("M%d", i), q, "100", at(time.Duration(i)*time.Millisecond))
		m.Priority = p
		must(t, "Enqueue", st.EnqueueMessage(ctx(t), m))
	}
	peek, err := st.PeekMessages(ctx(t), q, 16, at(time.Second))
	must(t, "Peek", err)
	if len(peek) != 3 || peek[0].ID != "M2" || peek[1].ID != "M0" || peek[2].ID != "M1" || peek[0].DequeueCount != 0 {
		t.Errorf("peek order = %+v, want M2 (priority 1), M0, M1", peek)
	}
	got, err := st.ReceiveMessages(ctx(t), q, 1, at(time.Second), 30*time.Second, []string{"h"})
	must(t, "Receive", err)
	if len(got) != 1 || got[0].ID != "M2" {
		t.Errorf("received %+v, want M2", got)
	}
	stats, err := st.QueueStats(ctx(t), q, at(time.Second))
	must(t, "QueueStats", err)
	if stats.Active != 2 || stats.Inactive != 1 {
		t.Errorf("stats = %+v, want 2 active, 1 inactive", stats)
	}
}

func (r *rsuite) queueRetention(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	q := dialtone.QueueName("100", dialtone.MsgVoiceReport)
	m := message("M1", q, "100", at(0))
	m.ExpiresAt = at(time.Minute)
	must(t, "Enqueue", st.EnqueueMessage(ctx(t), m))
	must(t, "Enqueue", st.EnqueueMessage(ctx(t), message("M2", q, "100", at(0))))
	got, err := st.ReceiveMessages(ctx(t), q, 2, at(time.Minute), time.Second, []string{"a", "b"})
	must(t, "Receive", err)
	if len(got) != 1 || got[0].ID != "M2" {
		t.Errorf("received %+v, want only M2 (M1's retention ended)", got)
	}
	n, err := st.PurgeQueueMessages(ctx(t), at(time.Minute))
	must(t, "Purge", err)
	if n != 1 {
		t.Errorf("purged %d, want 1", n)
	}
}

func (r *rsuite) queueConcurrent(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	q := dialtone.QueueName("100", dialtone.MsgVoiceReport)
	for i := range 40 {
		must(t, "Enqueue", st.EnqueueMessage(ctx(t), message(fmt.Sprintf("M%02d", i), q, "100", at(time.Duration(i)))))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				hs := []string{"a", "b", "c", "d"}
				got, err := st.ReceiveMessages(ctx(t), q, 4, at(time.Second), time.Minute, hs)
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 40 {
		t.Errorf("received %d distinct messages, want 40", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %s received %d times within its visibility timeout", id, n)
		}
	}
}

func (r *rsuite) pushLifecycle(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	ids := addReceipts(t, st, "100", "c1", 3, at(0))
	var routes []dialtone.RouteReceipt
	for i, id := range ids {
		routes = append(routes, dialtone.RouteReceipt{ReceiptID: id, Push: &dialtone.PushDelivery{
			ID: id, AccountUID: "100", MessageType: dialtone.MsgVoiceReport, Body: []byte(`{"n":1}`),
			CreatedAt: at(time.Duration(i)), DueAt: at(time.Second)}})
	}
	_, err := st.RouteReceipts(ctx(t), routes, at(0))
	must(t, "RouteReceipts", err)
	got, err := st.ClaimPushDeliveries(ctx(t), at(500*time.Millisecond), at(time.Minute), 10)
	must(t, "Claim before due", err)
	if len(got) != 0 {
		t.Errorf("claimed %d before they were due", len(got))
	}
	got, err = st.ClaimPushDeliveries(ctx(t), at(time.Second), at(time.Minute), 10)
	must(t, "Claim", err)
	if len(got) != 3 || string(got[0].Body) != `{"n":1}` || got[0].ID != ids[0] || got[0].Attempts != 0 {
		t.Fatalf("claimed %+v", got)
	}
	// Leased: a second worker gets nothing until the lease ends.
	again, err := st.ClaimPushDeliveries(ctx(t), at(2*time.Second), at(time.Minute), 10)
	must(t, "Claim leased", err)
	if len(again) != 0 {
		t.Errorf("claimed leased deliveries: %+v", again)
	}
	must(t, "Complete", st.CompletePushDeliveries(ctx(t), []string{ids[0]}))
	must(t, "Fail", st.FailPushDeliveries(ctx(t), []dialtone.PushFailure{
		{ID: ids[1], Error: "HTTP 500", Next: at(3 * time.Second)},
		{ID: ids[2], Error: "timeout", Dead: true},
	}))
	got, err = st.ClaimPushDeliveries(ctx(t), at(3*time.Second), at(time.Minute), 10)
	must(t, "Claim retry", err)
	if len(got) != 1 || got[0].ID != ids[1] || got[0].Attempts != 1 || got[0].LastError != "HTTP 500" {
		t.Errorf("retry claim = %+v", got)
	}
	dead, err := st.ListDeadLetters(ctx(t), "100", 0)
	must(t, "ListDeadLetters", err)
	if len(dead) != 1 || dead[0].ID != ids[2] || !dead[0].Dead || dead[0].LastError != "timeout" || dead[0].Attempts != 1 {
		t.Errorf("dead letters = %+v", dead)
	}
	n, err := st.RedriveDeadLetters(ctx(t), "100", at(4*time.Second))
	must(t, "Redrive", err)
	if n != 1 {
		t.Errorf("redrove %d, want 1", n)
	}
	got, err = st.ClaimPushDeliveries(ctx(t), at(4*time.Second), at(time.Minute), 10)
	must(t, "Claim redriven", err)
	if len(got) != 1 || got[0].ID != ids[2] || got[0].Attempts != 0 || got[0].Dead {
		t.Errorf("redriven claim = %+v", got)
	}
}

func (r *rsuite) pushIsolation(t *testing.T) {
	st := r.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	ids := addReceipts(t, st, "100", "c1", 1, at(0))
	_, err := st.RouteReceipts(ctx(t), []dialtone.RouteReceipt{{ReceiptID: ids[0], Push: &dialtone.PushDelivery{
		ID: ids[0], AccountUID: "100", MessageType: dialtone.MsgVoiceReport, Body: []byte(`{}`), CreatedAt: at(0), DueAt: at(0)}}}, at(0))
	must(t, "Route", err)
	must(t, "Fail", st.FailPushDeliveries(ctx(t), []dialtone.PushFailure{{ID: ids[0], Error: "x", Dead: true}}))
	dead, err := st.ListDeadLetters(ctx(t), "200", 0)
	must(t, "ListDeadLetters 200", err)
	if len(dead) != 0 {
		t.Errorf("account 200 sees %+v", dead)
	}
	n, err := st.RedriveDeadLetters(ctx(t), "200", at(time.Second))
	must(t, "Redrive 200", err)
	if n != 0 {
		t.Errorf("account 200 redrove %d of account 100's dead letters", n)
	}
}
