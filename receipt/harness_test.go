package receipt_test

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
	"github.com/dialtone-voice/dialtone/mns"
	"github.com/dialtone-voice/dialtone/poptest"
	"github.com/dialtone-voice/dialtone/receipt"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
)

// env is a small node for end-to-end tests: SQLite store, gateway with
// QueryTokenForMnsQueue, queue API, dispatcher, on one httptest server.
type env struct {
	t          testing.TB
	store      *sqlite.Store
	clock      *fakeClock
	waker      *mns.LocalWaker
	dispatcher *receipt.Dispatcher
	srv        *httptest.Server
	calls      atomic.Int64
}

// fakeClock is the wall clock plus an adjustable offset.
type fakeClock struct{ off atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *fakeClock) Advance(d time.Duration) { c.off.Add(int64(d)) }
func (c *fakeClock) signDate() string        { return c.Now().UTC().Format(http.TimeFormat) }
func (e *env) signer(ak, sec string) *poptest.Signer {
	return &poptest.Signer{Endpoint: e.srv.URL, AccessKeyID: ak, Secret: sec}
}

const (
	acctA = "100"
	acctB = "200"
	akA   = "LTAItestA000000000001"
	secA  = "secretA"
	akB   = "LTAItestB000000000001"
	secB  = "secretB"
)

func newEnv(t testing.TB) *env {
	t.Helper()
	sealer, _ := secret.NewSealer(make([]byte, secret.KeySize))
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sealer, sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st, clock: &fakeClock{}, waker: &mns.LocalWaker{}}
	ctx := context.Background()
	now := time.Now()
	for _, a := range []struct{ uid, ak, sec string }{{acctA, akA, secA}, {acctB, akB, secB}} {
		must(t, st.PutAccount(ctx, &dialtone.Account{UID: a.uid, Name: a.uid, Status: dialtone.AccountActive, VoiceService: true, CreatedAt: now, UpdatedAt: now}))
		must(t, st.PutAccessKey(ctx, &dialtone.AccessKey{ID: a.ak, AccountUID: a.uid, Secret: a.sec, Enabled: true, CreatedAt: now}))
		must(t, st.PutSubscription(ctx, &dialtone.Subscription{AccountUID: a.uid, MessageType: dialtone.MsgVoiceReport, Queue: true, CreatedAt: now, UpdatedAt: now}))
	}
	gw := gateway.New(gateway.Config{Store: st})
	(&receipt.Tokens{Store: st, Clock: e.clock}).Register(gw)
	queues := mns.New(mns.Config{Store: st, Waker: e.waker, Clock: e.clock, Recheck: 50 * time.Millisecond})
	e.dispatcher = receipt.NewDispatcher(receipt.DispatcherConfig{Store: st, QueueReady: e.waker.Wake})
	mux := http.NewServeMux()
	mux.Handle("/queues/", queues)
	mux.Handle("/", gw)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// runDispatcher runs the dispatcher until the test ends.
func (e *env) runDispatcher() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.dispatcher.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// endCall writes a call that ends with one VoiceReport receipt per body,
// through UpdateCall like the engine, and returns the receipt IDs.
func (e *env) endCall(acct string, bodies ...string) []string {
	e.t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("call-%d", e.calls.Add(1))
	c := &dialtone.Call{ID: id, AccountUID: acct, Kind: dialtone.KindTTS, Callee: "13800000000", State: dialtone.CallQueued, CreatedAt: time.Now()}
	must(e.t, e.store.CreateCall(ctx, c, nil))
	var rs []dialtone.Receipt
	var ids []string
	for i, b := range bodies {
		rid := fmt.Sprintf("%s-%d-VoiceReport", id, i+1)
		ids = append(ids, rid)
		rs = append(rs, dialtone.Receipt{ID: rid, MessageType: dialtone.MsgVoiceReport, Body: []byte(b), CreatedAt: time.Now()})
	}
	c.State = dialtone.CallEnded
	must(e.t, e.store.UpdateCall(ctx, &dialtone.CallChange{Call: c, Receipts: rs}))
	return ids
}

type tokenDTO struct {
	AccessKeyId, AccessKeySecret, SecurityToken, CreateTime, ExpireTime string
}

type tokenReply struct {
	Code, Message, RequestId string
	MessageTokenDTO          tokenDTO
}

// queryToken calls QueryTokenForMnsQueue like alibaba-cloud-sdk-go.
func (e *env) queryToken(ak, sec string, params map[string]string) tokenReply {
	e.t.Helper()
	req := e.signer(ak, sec).V1(http.MethodPost, "QueryTokenForMnsQueue", params, poptest.InQuery)
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	var out tokenReply
	must(e.t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

func (e *env) token(ak, sec, msgType string) tokenDTO {
	e.t.Helper()
	r := e.queryToken(ak, sec, map[string]string{"MessageType": msgType})
	if r.Code != "OK" {
		e.t.Fatalf("QueryTokenForMnsQueue: %+v", r)
	}
	return r.MessageTokenDTO
}

// mnsReq sends a signed MNS request as alibaba-cloud-sdk-go does.
func (e *env) mnsReq(tok tokenDTO, method, pathQuery, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+pathQuery, strings.NewReader(body))
	must(e.t, err)
	sum := md5.Sum([]byte(body))
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("Date", e.clock.signDate())
	req.Header.Set("x-mns-version", "2015-06-06")
	if tok.SecurityToken != "" {
		req.Header.Set("security-token", tok.SecurityToken)
	}
	sig := mns.Sign(tok.AccessKeySecret, mns.StringToSign(method, req.Header, pathQuery))
	req.Header.Set("Authorization", "MNS "+tok.AccessKeyId+":"+sig)
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type xmlMessage struct {
	MessageId        string
	ReceiptHandle    string
	MessageBodyMD5   string
	MessageBody      string
	EnqueueTime      int64
	NextVisibleTime  int64
	FirstDequeueTime int64
	DequeueCount     int
	Priority         int
}

type xmlMessages struct {
	Messages []xmlMessage `xml:"Message"`
}

type xmlError struct {
	Code, Message, RequestId, HostId string
}

func (e *env) receive(tok tokenDTO, queue string, n, wait int) (int, []xmlMessage, xmlError) {
	e.t.Helper()
	status, body := e.mnsReq(tok, http.MethodGet, fmt.Sprintf("/queues/%s/messages?numOfMessages=%d&waitseconds=%d", queue, n, wait), "")
	var msgs xmlMessages
	var xe xmlError
	if status == http.StatusOK {
		must(e.t, xml.Unmarshal([]byte(body), &msgs))
	} else {
		must(e.t, xml.Unmarshal([]byte(body), &xe))
	}
	return status, msgs.Messages, xe
}

func deleteBody(handles ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ReceiptHandles xmlns="http://mns.aliyuncs.com/doc/v1/">`)
	for _, h := range handles {
		b.WriteString("<ReceiptHandle>" + h + "</ReceiptHandle>")
	}
	b.WriteString("</ReceiptHandles>")
	return b.String()
}

// pushReceiver is an HTTP push endpoint that can be down, and records
// every batch it accepted.
type pushReceiver struct {
	srv     *httptest.Server
	down    atomic.Bool
	mu      sync.Mutex
	batches [][]map[string]any
	headers []http.Header
	bodies  [][]byte
	hits    atomic.Int64
}

func newPushReceiver(t testing.TB) *pushReceiver {
	p := &pushReceiver{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		if p.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var batch []map[string]any
		if err := json.Unmarshal(body, &batch); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.batches = append(p.batches, batch)
		p.headers = append(p.headers, r.Header.Clone())
		p.bodies = append(p.bodies, body)
		p.mu.Unlock()
		io.WriteString(w, `{"code": 0, "msg": "接收成功"}`)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pushReceiver) received() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for _, b := range p.batches {
		for _, r := range b {
			id, _ := r["receipt_id"].(string)
			out[id]++
		}
	}
	return out
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
