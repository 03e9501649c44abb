package receipt_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/mns"
	"github.com/dialtone-voice/dialtone/receipt"
)

var (
	queueA = dialtone.QueueName(acctA, dialtone.MsgVoiceReport)
	queueB = dialtone.QueueName(acctB, dialtone.MsgVoiceReport)
)

func TestQueryTokenForMnsQueue(t *testing.T) {
	e := newEnv(t)
	before := time.Now().Truncate(time.Second)
	tok := e.token(akA, secA, dialtone.MsgVoiceReport)
	if !strings.HasPrefix(tok.AccessKeyId, "STS.") || tok.AccessKeySecret == "" || tok.SecurityToken == "" {
		t.Fatalf("token = %+v", tok)
	}
	created, err := time.ParseInLocation(dialtone.TimeLayout, tok.CreateTime, dialtone.ChinaTime)
	must(t, err)
	expires, err := time.ParseInLocation(dialtone.TimeLayout, tok.ExpireTime, dialtone.ChinaTime)
	must(t, err)
	if created.Before(before) || expires.Sub(created) != receipt.DefaultTokenLifetime {
		t.Errorf("CreateTime %s ExpireTime %s (parsed %v, %v)", tok.CreateTime, tok.ExpireTime, created, expires)
	}
	cred, err := e.store.GetTempCredential(context.Background(), tok.AccessKeyId)
	must(t, err)
	if cred.AccountUID != acctA || len(cred.Scope) != 1 || cred.Scope[0] != "queue:"+queueA {
		t.Errorf("stored credential = %+v", cred)
	}

	for _, c := range []struct {
		name   string
		params map[string]string
		code   string
		msg    string
	}{
		{"right queue name", map[string]string{"MessageType": "VoiceReport", "QueueName": queueA}, "OK", ""},
		{"unknown type", map[string]string{"MessageType": "SmsReport"}, dialtone.CodeInvalidParameters, "SmsReport"},
		{"other account's queue", map[string]string{"MessageType": "VoiceReport", "QueueName": queueB}, dialtone.CodeInvalidParameters, queueA},
		{"no queue subscription", map[string]string{"MessageType": "VoiceCallReport"}, dialtone.CodeInvalidParameters, "no queue subscription"},
	} {
		r := e.queryToken(akA, secA, c.params)
		if r.Code != c.code || !strings.Contains(r.Message, c.msg) {
			t.Errorf("%s: Code %q Message %q, want %q containing %q", c.name, r.Code, r.Message, c.code, c.msg)
		}
	}
	// Missing MessageType is the gateway's 400 MissingMessageType.
	resp, err := http.DefaultClient.Do(e.signer(akA, secA).V1(http.MethodPost, "QueryTokenForMnsQueue", nil, 0))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("missing MessageType: HTTP %d", resp.StatusCode)
	}
}

func TestTokenCannotReadAnotherAccountsQueue(t *testing.T) {
	e := newEnv(t)
	e.endCall(acctA, `{"call_id":"a"}`)
	_, err := e.dispatcher.Drain(context.Background())
	must(t, err)
	tokB := e.token(akB, secB, dialtone.MsgVoiceReport)
	status, _, xe := e.receive(tokB, queueA, 16, 0)
	if status != http.StatusForbidden || xe.Code != "AccessDenied" {
		t.Errorf("B's token on A's queue: %d %+v, want 403 AccessDenied", status, xe)
	}
	// Not even with B's own AccessKey.
	status, _, xe = e.receive(tokenDTO{AccessKeyId: akB, AccessKeySecret: secB}, queueA, 1, 0)
	if status != http.StatusForbidden || xe.Code != "AccessDenied" {
		t.Errorf("B's key on A's queue: %d %+v", status, xe)
	}
	// A token for another message type of the same account is refused too.
	must(t, e.store.PutSubscription(context.Background(), &dialtone.Subscription{AccountUID: acctA, MessageType: dialtone.MsgVoiceCallReport, Queue: true}))
	tokCall := e.token(akA, secA, dialtone.MsgVoiceCallReport)
	if status, _, xe = e.receive(tokCall, queueA, 1, 0); xe.Code != "AccessDenied" {
		t.Errorf("VoiceCallReport token on VoiceReport queue: %d %+v", status, xe)
	}
	// A's own token and A's own key read it.
	tokA := e.token(akA, secA, dialtone.MsgVoiceReport)
	status, msgs, xe := e.receive(tokA, queueA, 16, 0)
	if status != http.StatusOK || len(msgs) != 1 {
		t.Fatalf("A's token: %d %+v %+v", status, msgs, xe)
	}
	// B's queue exists but is empty.
	if status, _, xe = e.receive(tokB, queueB, 16, 0); status != http.StatusNotFound || xe.Code != "MessageNotExist" {
		t.Errorf("empty queue: %d %+v", status, xe)
	}
	// Bad signature, wrong token, unknown key.
	bad := tokA
	bad.AccessKeySecret = "wrong"
	if status, _, xe = e.receive(bad, queueA, 1, 0); status != http.StatusForbidden || xe.Code != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %d %+v", status, xe)
	}
	bad = tokA
	bad.SecurityToken = "CAISnope"
	if status, _, xe = e.receive(bad, queueA, 1, 0); status != http.StatusForbidden || xe.Code != "InvalidSecurityToken" {
		t.Errorf("wrong token: %d %+v", status, xe)
	}
	bad = tokA
	bad.AccessKeyId = "STS.unknown"
	if status, _, xe = e.receive(bad, queueA, 1, 0); status != http.StatusForbidden || xe.Code != "InvalidAccessKeyId" {
		t.Errorf("unknown key: %d %+v", status, xe)
	}
}

func TestExpiredTokenAndStaleDateRefused(t *testing.T) {
	e := newEnv(t)
	tok := e.token(akA, secA, dialtone.MsgVoiceReport)
	e.clock.Advance(receipt.DefaultTokenLifetime + time.Second)
	status, _, xe := e.receive(tok, queueA, 1, 0)
	if status != http.StatusForbidden || xe.Code != "SecurityTokenExpired" {
		t.Errorf("expired token: %d %+v, want 403 SecurityTokenExpired", status, xe)
	}
	// A Date 16 minutes off the server's clock.
	tok = e.token(akA, secA, dialtone.MsgVoiceReport)
	e.clock.Advance(-16 * time.Minute)
	signed := e.clock.signDate()
	e.clock.Advance(16 * time.Minute)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/queues/"+queueA+"/messages", nil)
	req.Header.Set("Date", signed)
	req.Header.Set("security-token", tok.SecurityToken)
	req.Header.Set("Authorization", "MNS "+tok.AccessKeyId+":"+mns.Sign(tok.AccessKeySecret, mns.StringToSign("GET", req.Header, "/queues/"+queueA+"/messages")))
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stale Date: HTTP %d, want 408", resp.StatusCode)
	}
}

func TestUnacknowledgedMessageReappears(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.store.GetSubscription(ctx, acctA, dialtone.MsgVoiceReport)
	must(t, err)
	sub.VisibilityTimeout = time.Second
	must(t, e.store.PutSubscription(ctx, sub))
	body := `{"call_id":"c1","status_code":"200000"}`
	e.endCall(acctA, body)
	_, err = e.dispatcher.Drain(ctx)
	must(t, err)
	tok := e.token(akA, secA, dialtone.MsgVoiceReport)

	status, msgs, _ := e.receive(tok, queueA, 16, 0)
	if status != http.StatusOK || len(msgs) != 1 {
		t.Fatalf("first receive: %d %+v", status, msgs)
	}
	m := msgs[0]
	decoded, err := base64.StdEncoding.DecodeString(m.MessageBody)
	if err != nil || string(decoded) != body || m.MessageBodyMD5 != mns.BodyMD5(m.MessageBody) || m.DequeueCount != 1 || m.Priority != 8 {
		t.Errorf("message = %+v (decoded %q)", m, decoded)
	}
	for _, c := range m.ReceiptHandle {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			t.Errorf("handle %q has %q", m.ReceiptHandle, c)
		}
	}
	if m.NextVisibleTime-m.FirstDequeueTime < 900 || m.EnqueueTime == 0 || m.EnqueueTime > m.FirstDequeueTime {
		t.Errorf("times = enqueue %d first %d next %d", m.EnqueueTime, m.FirstDequeueTime, m.NextVisibleTime)
	}
	// Hidden now; a long poll wakes when it becomes visible again.
	start := time.Now()
	status, msgs, _ = e.receive(tok, queueA, 16, 5)
	if status != http.StatusOK || len(msgs) != 1 {
		t.Fatalf("second receive: %d %+v", status, msgs)
	}
	if waited := time.Since(start); waited < 500*time.Millisecond || waited > 3*time.Second {
		t.Errorf("second receive after %v, want about the 1 s visibility timeout", waited)
	}
	m2 := msgs[0]
	if m2.DequeueCount != 2 || m2.MessageId != m.MessageId || m2.ReceiptHandle == m.ReceiptHandle || m2.FirstDequeueTime != m.FirstDequeueTime {
		t.Errorf("redelivered = %+v, first %+v", m2, m)
	}
	// The first handle is dead; the second deletes; the message is gone.
	if status, body := e.mnsReq(tok, http.MethodDelete, "/queues/"+queueA+"/messages?ReceiptHandle="+m.ReceiptHandle, ""); status != http.StatusBadRequest || !strings.Contains(body, "ReceiptHandleError") {
		t.Errorf("delete with old handle: %d %s", status, body)
	}
	if status, body := e.mnsReq(tok, http.MethodDelete, "/queues/"+queueA+"/messages?ReceiptHandle="+m2.ReceiptHandle, ""); status != http.StatusNoContent {
		t.Errorf("delete: %d %s", status, body)
	}
	e.clock.Advance(2 * time.Second)
	if status, _, xe := e.receive(tok, queueA, 16, 0); status != http.StatusNotFound || xe.Code != "MessageNotExist" {
		t.Errorf("after delete: %d %+v", status, xe)
	}
}

func TestLongPollWakesEarly(t *testing.T) {
	e := newEnv(t)
	e.runDispatcher()
	tok := e.token(akA, secA, dialtone.MsgVoiceReport)
	type result struct {
		status int
		msgs   []xmlMessage
		took   time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		status, msgs, _ := e.receive(tok, queueA, 16, 20)
		done <- result{status, msgs, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond)
	ended := time.Now()
	e.endCall(acctA, `{"call_id":"late"}`)
	e.dispatcher.Notify()
	select {
	case r := <-done:
		if r.status != http.StatusOK || len(r.msgs) != 1 {
			t.Fatalf("long poll: %d %+v", r.status, r.msgs)
		}
		if lag := time.Since(ended); lag > time.Second {
			t.Errorf("long poll returned %v after the call ended", lag)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long poll did not wake when the message arrived")
	}
}

func TestBatchDeletePartialFailure(t *testing.T) {
	e := newEnv(t)
	e.endCall(acctA, `{"n":1}`, `{"n":2}`)
	_, err := e.dispatcher.Drain(context.Background())
	must(t, err)
	tok := e.token(akA, secA, dialtone.MsgVoiceReport)
	_, msgs, _ := e.receive(tok, queueA, 16, 0)
	if len(msgs) != 2 {
		t.Fatalf("received %d", len(msgs))
	}
	bogus := "not+a/handle"
	stale := msgs[1].MessageId + "-0000000000000000"
	status, body := e.mnsReq(tok, http.MethodDelete, "/queues/"+queueA+"/messages", deleteBody(msgs[0].ReceiptHandle, bogus, stale))
	if status != http.StatusNotFound || !strings.Contains(body, "<Errors") ||
		!strings.Contains(body, "<ErrorCode>ReceiptHandleError</ErrorCode><ErrorMessage>The receipt handle you provide is not valid.</ErrorMessage><ReceiptHandle>not+a/handle</ReceiptHandle>") ||
		!strings.Contains(body, "<ReceiptHandle>"+stale+"</ReceiptHandle>") || strings.Contains(body, msgs[0].ReceiptHandle) {
		t.Errorf("partial failure: %d %s", status, body)
	}
	// The valid one was deleted; the other still needs its own handle.
	status, body = e.mnsReq(tok, http.MethodDelete, "/queues/"+queueA+"/messages", deleteBody(msgs[0].ReceiptHandle))
	if status != http.StatusNotFound || !strings.Contains(body, "MessageNotExist") {
		t.Errorf("delete again: %d %s", status, body)
	}
	if status, body = e.mnsReq(tok, http.MethodDelete, "/queues/"+queueA+"/messages", deleteBody(msgs[1].ReceiptHandle)); status != http.StatusNoContent {
		t.Errorf("delete second: %d %s", status, body)
	}
}

func TestQueueAPIMisc(t *testing.T) {
	e := newEnv(t)
	tok := e.token(akA, secA, dialtone.MsgVoiceReport)
	// SendMessage, PeekMessage, GetQueueAttributes, ChangeMessageVisibility.
	status, body := e.mnsReq(tok, http.MethodPost, "/queues/"+queueA+"/messages",
		`<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>aGk=</MessageBody></Message>`)
	if status != http.StatusCreated || !strings.Contains(body, "<MessageBodyMD5>"+mns.BodyMD5("aGk=")+"</MessageBodyMD5>") {
		t.Fatalf("send: %d %s", status, body)
	}
	status, body = e.mnsReq(tok, http.MethodGet, "/queues/"+queueA+"/messages?peekonly=true", "")
	if status != http.StatusOK || !strings.Contains(body, "<MessageBody>aGk=</MessageBody>") || strings.Contains(body, "ReceiptHandle") {
		t.Errorf("peek: %d %s", status, body)
	}
	status, body = e.mnsReq(tok, http.MethodGet, "/queues/"+queueA, "")
	if status != http.StatusOK || !strings.Contains(body, "<ActiveMessages>1</ActiveMessages>") || !strings.Contains(body, "<VisibilityTimeout>30</VisibilityTimeout>") {
		t.Errorf("attributes: %d %s", status, body)
	}
	status, body = e.mnsReq(tok, http.MethodGet, "/queues/"+queueA+"/messages?waitseconds=0", "")
	if status != http.StatusOK || !strings.HasPrefix(body[strings.Index(body, "\n")+1:], `<Message xmlns=`) {
		t.Fatalf("receive one: %d %s", status, body)
	}
	h := body[strings.Index(body, "<ReceiptHandle>")+15 : strings.Index(body, "</ReceiptHandle>")]
	status, body = e.mnsReq(tok, http.MethodPut, "/queues/"+queueA+"/messages?receiptHandle="+h+"&visibilityTimeout=0", "")
	if status != http.StatusOK || !strings.Contains(body, "<ChangeVisibility") || strings.Contains(body, h) {
		t.Errorf("change visibility: %d %s", status, body)
	}
	if status, _, _ := e.receive(tok, queueA, 1, 0); status != http.StatusOK {
		t.Errorf("visible again after visibilityTimeout=0: %d", status)
	}
	for _, c := range []struct{ q, code string }{
		{"numOfMessages=17", "InvalidArgument"}, {"numOfMessages=1&waitseconds=31", "InvalidArgument"},
	} {
		if status, body := e.mnsReq(tok, http.MethodGet, "/queues/"+queueA+"/messages?"+c.q, ""); status != http.StatusBadRequest || !strings.Contains(body, c.code) {
			t.Errorf("%s: %d %s", c.q, status, body)
		}
	}
	// A queue whose subscription is off does not exist, for its owner too.
	must(t, e.store.PutSubscription(context.Background(), &dialtone.Subscription{AccountUID: acctA, MessageType: dialtone.MsgVoiceReport, PushURL: "http://127.0.0.1:1/"}))
	if status, body := e.mnsReq(tokenDTO{AccessKeyId: akA, AccessKeySecret: secA}, http.MethodGet, "/queues/"+queueA+"/messages", ""); status != http.StatusNotFound || !strings.Contains(body, "QueueNotExist") {
		t.Errorf("queue off: %d %s", status, body)
	}
}

func TestOutboxRoutesExactlyOnceWithTwoDispatchers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var ids []string
	for range 20 {
		ids = append(ids, e.endCall(acctA, `{"a":1}`, `{"a":2}`, `{"a":3}`, `{"a":4}`, `{"a":5}`)...)
	}
	// Receipts of an account without subscription are routed to nothing,
	// at their creation: they are kept, and no dispatcher sees them.
	must(t, e.store.DeleteSubscription(ctx, acctB, dialtone.MsgVoiceReport))
	bIDs := e.endCall(acctB, `{"b":1}`)
	if bs, err := e.store.ListReceipts(ctx, dialtone.ReceiptFilter{AccountUID: acctB}); err != nil || len(bs) != 1 || bs[0].ID != bIDs[0] || bs[0].RoutedAt.IsZero() {
		t.Fatalf("unsubscribed receipt = %+v, %v: want it kept and routed", bs, err)
	}
	d1 := receipt.NewDispatcher(receipt.DispatcherConfig{Store: e.store, Batch: 7})
	d2 := receipt.NewDispatcher(receipt.DispatcherConfig{Store: e.store, Batch: 7})
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, d := range []*receipt.Dispatcher{d1, d2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := d.Drain(ctx)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != len(ids) {
		t.Errorf("dispatchers routed %d + %d, want %d in all", counts[0], counts[1], len(ids))
	}
	un, err := e.store.ListUnroutedReceipts(ctx, 1000)
	must(t, err)
	if len(un) != 0 {
		t.Errorf("%d receipts left unrouted", len(un))
	}
	st, err := e.store.QueueStats(ctx, queueA, time.Now())
	must(t, err)
	if st.Active != len(ids) {
		t.Errorf("queue holds %d messages, want %d (one per receipt)", st.Active, len(ids))
	}
	// Every message is a distinct receipt.
	tok := e.token(akA, secA, dialtone.MsgVoiceReport)
	seen := map[string]bool{}
	for {
		status, msgs, _ := e.receive(tok, queueA, 16, 0)
		if status != http.StatusOK {
			break
		}
		var handles []string
		for _, m := range msgs {
			seen[m.MessageId] = true
			handles = append(handles, m.ReceiptHandle)
		}
		if status, body := e.mnsReq(tok, http.MethodDelete, "/queues/"+queueA+"/messages", deleteBody(handles...)); status != http.StatusNoContent {
			t.Fatalf("batch delete: %d %s", status, body)
		}
	}
	if len(seen) != len(ids) {
		t.Errorf("received %d distinct messages, want %d", len(seen), len(ids))
	}
}

// TestClosedAccountQueuesRefused: once an account is deleted or abnormal,
// neither the token it fetched before nor its own AccessKey opens its
// queue; a suspended account still drains receipts of calls it made.
func TestClosedAccountQueuesRefused(t *testing.T) {
	e := newEnv(t)
	e.endCall(acctA, `{"call_id":"a"}`)
	_, err := e.dispatcher.Drain(context.Background())
	must(t, err)
	tok := e.token(akA, secA, dialtone.MsgVoiceReport)
	ctx := context.Background()
	setStatus := func(st dialtone.AccountStatus) {
		t.Helper()
		a, err := e.store.GetAccount(ctx, acctA)
		must(t, err)
		a.Status = st
		must(t, e.store.PutAccount(ctx, a))
	}
	setStatus(dialtone.AccountSuspended)
	if status, msgs, xe := e.receive(tok, queueA, 16, 0); status != http.StatusOK || len(msgs) != 1 {
		t.Fatalf("suspended account draining: %d %+v %+v", status, msgs, xe)
	}
	for _, st := range []dialtone.AccountStatus{dialtone.AccountDeleted, dialtone.AccountAbnormal} {
		setStatus(st)
		if status, _, xe := e.receive(tok, queueA, 16, 0); status != http.StatusForbidden || xe.Code != "AccessDenied" {
			t.Errorf("%s account, its token: %d %+v, want 403 AccessDenied", st, status, xe)
		}
		if status, _, xe := e.receive(tokenDTO{AccessKeyId: akA, AccessKeySecret: secA}, queueA, 1, 0); status != http.StatusForbidden || xe.Code != "AccessDenied" {
			t.Errorf("%s account, its key: %d %+v, want 403 AccessDenied", st, status, xe)
		}
	}
	// Reopened, the queue answers again: the message received while
	// suspended is still hidden by its visibility timeout.
	setStatus(dialtone.AccountActive)
	if status, _, xe := e.receive(tok, queueA, 16, 0); status != http.StatusNotFound || xe.Code != "MessageNotExist" {
		t.Errorf("reopened account: %d %+v, want 404 MessageNotExist", status, xe)
	}
}
