package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
	"github.com/dialtone-voice/dialtone/poptest"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
	"github.com/dialtone-voice/dialtone/vms"
)

const (
	goodKey   = "LTAIgood00000000000001"
	goodSec   = "goodSecret00000000000000000001"
	offKey    = "LTAIoff000000000000001"
	ramKey    = "LTAIram000000000000001"
	acctUID   = "1000000000000001"
	otherUID  = "2000000000000002"
	otherKey  = "LTAIother0000000000001"
	tempKey   = "STS.temp00000000000001"
	tempSec   = "tempSecret0000000000000000001"
	tempToken = "tempToken"
)

type env struct {
	store  dialtone.Store
	srv    *httptest.Server
	logs   *bytes.Buffer
	reg    *prometheus.Registry
	path   string
	sealer *secret.Sealer
}

func openStore(t testing.TB, path string, sealer *secret.Sealer) dialtone.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sealer)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newEnv(t *testing.T) *env { return newEnvB(t) }

func newEnvB(t testing.TB) *env {
	t.Helper()
	sealer, _ := secret.NewSealer(make([]byte, 32))
	e := &env{path: filepath.Join(t.TempDir(), "db"), sealer: sealer, logs: &bytes.Buffer{}}
	e.store = openStore(t, e.path, sealer)
	ctx := context.Background()
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.store.PutAccount(ctx, &dialtone.Account{UID: acctUID, Name: "a", Status: dialtone.AccountActive, VoiceService: true,
		RateLimits: map[string]float64{"QueryCallDetailByCallId": 1e9}, CreatedAt: now}))
	must(e.store.PutAccount(ctx, &dialtone.Account{UID: otherUID, Name: "b", Status: dialtone.AccountActive, VoiceService: true, CreatedAt: now}))
	must(e.store.PutAccessKey(ctx, &dialtone.AccessKey{ID: goodKey, AccountUID: acctUID, Secret: goodSec, Enabled: true, CreatedAt: now}))
	must(e.store.PutAccessKey(ctx, &dialtone.AccessKey{ID: offKey, AccountUID: acctUID, Secret: goodSec, Enabled: false, CreatedAt: now}))
	must(e.store.PutAccessKey(ctx, &dialtone.AccessKey{ID: ramKey, AccountUID: acctUID, Secret: goodSec, Enabled: true, Actions: []string{"QueryTokenForMnsQueue"}, CreatedAt: now}))
	must(e.store.PutAccessKey(ctx, &dialtone.AccessKey{ID: otherKey, AccountUID: otherUID, Secret: goodSec, Enabled: true, CreatedAt: now}))
	must(e.store.PutTempCredential(ctx, &dialtone.TempCredential{AccessKeyID: tempKey, Secret: tempSec, SecurityToken: tempToken, AccountUID: acctUID,
		Scope: []string{"action:QueryCallDetailByCallId"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	e.start(t)
	return e
}

func (e *env) start(t testing.TB) {
	e.reg = prometheus.NewRegistry()
	g := gateway.New(gateway.Config{
		Store:   e.store,
		Logger:  slog.New(slog.NewTextHandler(e.logs, nil)),
		Metrics: gateway.NewMetrics(e.reg),
	})
	(&vms.Service{Store: e.store, Clock: dialtone.SystemClock{}}).Register(g)
	e.srv = httptest.NewServer(g)
	t.Cleanup(func() {
		e.srv.Close()
		e.store.Close()
	})
}

type reply struct {
	status int
	body   map[string]any
	header http.Header
	raw    string
}

func do(t *testing.T, r *http.Request) reply {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("body is not JSON: %s", raw)
		}
	}
	return out
}

func (e *env) signer(key, sec string) *poptest.Signer {
	return &poptest.Signer{Endpoint: e.srv.URL, AccessKeyID: key, Secret: sec}
}

var detailParams = map[string]string{"CallId": "1^1", "ProdId": "11000000300006", "QueryDate": "1764000000000"}

func TestValidRequestsEveryPlacement(t *testing.T) {
	e := newEnv(t)
	s := e.signer(goodKey, goodSec)
	for name, r := range map[string]*http.Request{
		"v1 GET query":  s.V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery),
		"v1 POST query": s.V1("POST", "QueryCallDetailByCallId", detailParams, poptest.InQuery),
		"v1 POST body":  s.V1("POST", "QueryCallDetailByCallId", detailParams, poptest.InBody),
		"v1 POST split": s.V1("POST", "QueryCallDetailByCallId", detailParams, poptest.Split),
		"v3":            s.V3("QueryCallDetailByCallId", detailParams),
	} {
		got := do(t, r)
		if got.status != 200 || got.body["Code"] != "OK" || got.body["Message"] != "OK" {
			t.Errorf("%s: %d %s", name, got.status, got.raw)
			continue
		}
		rid, _ := got.body["RequestId"].(string)
		if len(rid) != 36 || got.header.Get("x-acs-request-id") != rid {
			t.Errorf("%s: RequestId %q header %q", name, rid, got.header.Get("x-acs-request-id"))
		}
		if _, ok := got.body["Data"]; ok {
			t.Errorf("%s: unknown call has Data: %s", name, got.raw)
		}
	}
}

func TestGatewayErrors(t *testing.T) {
	e := newEnv(t)
	good := e.signer(goodKey, goodSec)
	stale := e.signer(goodKey, goodSec)
	stale.Now = time.Now().Add(-16 * time.Minute)
	future := e.signer(goodKey, goodSec)
	future.Now = time.Now().Add(16 * time.Minute)
	cases := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"wrong secret v1", e.signer(goodKey, "wrong").V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery), 400, "SignatureDoesNotMatch"},
		{"wrong secret v3", e.signer(goodKey, "wrong").V3("QueryCallDetailByCallId", detailParams), 400, "SignatureDoesNotMatch"},
		{"unknown key", e.signer("LTAInobody", goodSec).V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery), 404, "InvalidAccessKeyId.NotFound"},
		{"disabled key", e.signer(offKey, goodSec).V3("QueryCallDetailByCallId", detailParams), 400, "InvalidAccessKeyId.Inactive"},
		{"stale timestamp", stale.V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery), 400, "InvalidTimeStamp.Expired"},
		{"future timestamp", future.V3("QueryCallDetailByCallId", detailParams), 400, "InvalidTimeStamp.Expired"},
		{"unknown action", good.V1("GET", "SendSms", detailParams, poptest.InQuery), 404, "InvalidAction.NotFound"},
		{"missing CallId", good.V1("GET", "QueryCallDetailByCallId", map[string]string{"ProdId": "11000000300006", "QueryDate": "1"}, poptest.InQuery), 400, "MissingCallId"},
		{"ram deny", e.signer(ramKey, goodSec).V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery), 200, "isp.RAM_PERMISSION_DENY"},
		{"bad ProdId", good.V3("QueryCallDetailByCallId", map[string]string{"CallId": "1^1", "ProdId": "12", "QueryDate": "1"}), 200, "isv.INVALID_PARAMETERS"},
		{"non-integer QueryDate", good.V3("QueryCallDetailByCallId", map[string]string{"CallId": "1^1", "ProdId": "11000000300006", "QueryDate": "today"}), 200, "isv.INVALID_PARAMETERS"},
	}
	for _, c := range cases {
		got := do(t, c.req)
		if got.status != c.status || got.body["Code"] != c.code {
			t.Errorf("%s: got %d %s, want %d %s", c.name, got.status, got.raw, c.status, c.code)
			continue
		}
		for _, k := range []string{"RequestId", "Message"} {
			if v, ok := got.body[k].(string); !ok || v == "" {
				t.Errorf("%s: %s is not a non-empty string: %s", c.name, k, got.raw)
			}
		}
		if c.status >= 400 {
			for _, k := range []string{"HostId", "Recommend"} {
				if _, ok := got.body[k].(string); !ok {
					t.Errorf("%s: %s missing: %s", c.name, k, got.raw)
				}
			}
		}
	}
	// The mismatch message carries the server's string to sign.
	got := do(t, e.signer(goodKey, "wrong").V1("POST", "QueryCallDetailByCallId", detailParams, poptest.InBody))
	if msg, _ := got.body["Message"].(string); !strings.Contains(msg, "server string to sign is:POST&%2F&AccessKeyId%3D"+goodKey) {
		t.Errorf("mismatch message: %s", msg)
	}
	// Bad version: v1 with Version changed after signing gives a mismatch, so
	// sign the bad version.
	r := good.V1("GET", "QueryCallDetailByCallId", map[string]string{"Version": "2020-01-01", "CallId": "1", "ProdId": "1", "QueryDate": "1"}, poptest.InQuery)
	if got := do(t, r); got.status != 400 || got.body["Code"] != "InvalidVersion" {
		t.Errorf("version: %d %s", got.status, got.raw)
	}
}

func TestReplayRefusedAndSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	s := e.signer(goodKey, goodSec)
	s.Nonce = "fixed-nonce-1"
	r1 := s.V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery)
	r2, _ := http.NewRequest("GET", r1.URL.String(), nil)
	if got := do(t, r1); got.status != 200 {
		t.Fatalf("first: %s", got.raw)
	}
	if got := do(t, r2); got.status != 400 || got.body["Code"] != "SignatureNonceUsed" {
		t.Fatalf("replay: %d %s", got.status, got.raw)
	}
	// A request that fails its signature does not burn the nonce.
	bad := e.signer(goodKey, "wrong")
	bad.Nonce = "fixed-nonce-2"
	if got := do(t, bad.V3("QueryCallDetailByCallId", detailParams)); got.body["Code"] != "SignatureDoesNotMatch" {
		t.Fatalf("bad: %s", got.raw)
	}
	s.Nonce = "fixed-nonce-2"
	if got := do(t, s.V3("QueryCallDetailByCallId", detailParams)); got.status != 200 {
		t.Fatalf("nonce burnt by a bad signature: %s", got.raw)
	}
	// Restart: a new store on the same file still refuses the nonce.
	e.srv.Close()
	e.store.Close()
	e.store = openStore(t, e.path, e.sealer)
	e.start(t)
	s.Endpoint = e.srv.URL
	s.Nonce = "fixed-nonce-1"
	if got := do(t, s.V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery)); got.body["Code"] != "SignatureNonceUsed" {
		t.Fatalf("after restart: %d %s", got.status, got.raw)
	}
}

func TestAccountStates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cases := []struct {
		mutate func(a *dialtone.Account)
		code   string
	}{
		{func(a *dialtone.Account) { a.Status = dialtone.AccountSuspended }, "isv.OUT_OF_SERVICE"},
		{func(a *dialtone.Account) { a.Status = dialtone.AccountAbnormal }, "isv.ACCOUNT_ABNORMAL"},
		{func(a *dialtone.Account) { a.Status = dialtone.AccountDeleted }, "isv.ACCOUNT_NOT_EXISTS"},
		{func(a *dialtone.Account) { a.VoiceService = false }, "isv.PRODUCT_UN_SUBSCRIPT"},
	}
	for _, c := range cases {
		a, err := e.store.GetAccount(ctx, acctUID)
		if err != nil {
			t.Fatal(err)
		}
		a.Status, a.VoiceService = dialtone.AccountActive, true
		c.mutate(a)
		if err := e.store.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		got := do(t, e.signer(goodKey, goodSec).V3("QueryCallDetailByCallId", detailParams))
		if got.status != 200 || got.body["Code"] != c.code {
			t.Errorf("want %s, got %d %s", c.code, got.status, got.raw)
		}
	}
	// A feature the account lacks.
	a := &dialtone.Account{UID: acctUID, Status: dialtone.AccountActive, VoiceService: true, Features: []dialtone.Feature{dialtone.FeatureTTS}}
	if e := gateway.CheckAccount(a, dialtone.FeatureIVR); e == nil || e.Code != "isv.PRODUCT_UNSUBSCRIBE" {
		t.Fatalf("feature: %v", e)
	}
	if e := gateway.CheckAccount(a, dialtone.FeatureTTS); e != nil {
		t.Fatalf("feature present: %v", e)
	}
}

func TestThrottling(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, _ := e.store.GetAccount(ctx, otherUID)
	a.RateLimits = map[string]float64{"QueryCallDetailByCallId": 2}
	if err := e.store.PutAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	var throttled int
	for i := 0; i < 6; i++ {
		got := do(t, e.signer(otherKey, goodSec).V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery))
		if got.status == 400 && got.body["Code"] == "Throttling.User" {
			throttled++
		} else if got.status != 200 {
			t.Fatalf("unexpected %d %s", got.status, got.raw)
		}
	}
	if throttled < 3 {
		t.Fatalf("throttled %d of 6 at 2/s", throttled)
	}
	// The other account is not affected.
	if got := do(t, e.signer(goodKey, goodSec).V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery)); got.status != 200 {
		t.Fatalf("other account throttled: %s", got.raw)
	}
}

func TestTemporaryCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sts := &poptest.Signer{Endpoint: e.srv.URL, AccessKeyID: tempKey, Secret: tempSec, SecurityToken: tempToken}
	for name, r := range map[string]*http.Request{"v1": sts.V1("POST", "QueryCallDetailByCallId", detailParams, poptest.InQuery), "v3": sts.V3("QueryCallDetailByCallId", detailParams)} {
		if got := do(t, r); got.status != 200 || got.body["Code"] != "OK" {
			t.Errorf("%s: %s", name, got.raw)
		}
	}
	wrongToken := *sts
	wrongToken.SecurityToken = "other"
	if got := do(t, wrongToken.V3("QueryCallDetailByCallId", detailParams)); got.body["Code"] != "InvalidSecurityToken.Mismatch" {
		t.Errorf("token mismatch: %s", got.raw)
	}
	noToken := *sts
	noToken.SecurityToken = ""
	if got := do(t, noToken.V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery)); got.body["Code"] != "MissingSecurityToken" {
		t.Errorf("no token: %s", got.raw)
	}
	// Out of scope: the credential is for QueryCallDetailByCallId only.
	if got := do(t, sts.V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery)); got.status != 200 {
		t.Errorf("in scope: %s", got.raw)
	}
	c, _ := e.store.GetTempCredential(ctx, tempKey)
	c.Scope = []string{"queue:Alicom-Queue-1-VoiceReport"}
	if err := e.store.PutTempCredential(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := do(t, sts.V1("GET", "QueryCallDetailByCallId", detailParams, poptest.InQuery)); got.body["Code"] != "isp.RAM_PERMISSION_DENY" {
		t.Errorf("out of scope: %s", got.raw)
	}
	c.ExpiresAt = time.Now().Add(-time.Second)
	if err := e.store.PutTempCredential(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := do(t, sts.V3("QueryCallDetailByCallId", detailParams)); got.status != 400 || got.body["Code"] != "InvalidSecurityToken.Expired" {
		t.Errorf("expired: %d %s", got.status, got.raw)
	}
}

func TestXMLFormat(t *testing.T) {
	e := newEnv(t)
	p := map[string]string{"Format": "xml"}
	for k, v := range detailParams {
		p[k] = v
	}
	got := do(t, e.signer(goodKey, goodSec).V1("GET", "QueryCallDetailByCallId", p, poptest.InQuery))
	if got.status != 200 || !strings.HasPrefix(got.header.Get("Content-Type"), "text/xml") ||
		!strings.Contains(got.raw, "<QueryCallDetailByCallIdResponse>") || !strings.Contains(got.raw, "<Code>OK</Code>") {
		t.Fatalf("xml: %d %s", got.status, got.raw)
	}
	got = do(t, e.signer(goodKey, "bad").V1("GET", "QueryCallDetailByCallId", p, poptest.InQuery))
	if got.status != 400 || !strings.Contains(got.raw, "<Error>") || !strings.Contains(got.raw, "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("xml error: %d %s", got.status, got.raw)
	}
}

func TestLogsAndMetrics(t *testing.T) {
	e := newEnv(t)
	do(t, e.signer(goodKey, goodSec).V1("POST", "QueryCallDetailByCallId", detailParams, poptest.InBody))
	do(t, e.signer(goodKey, "wrong-secret-value").V3("QueryCallDetailByCallId", detailParams))
	logs := e.logs.String()
	if strings.Count(logs, "pop request") != 2 {
		t.Fatalf("want one log line per request:\n%s", logs)
	}
	for _, secretish := range []string{goodSec, "wrong-secret-value", "Signature=", "1^1"} {
		if strings.Contains(logs, secretish) {
			t.Fatalf("log contains %q:\n%s", secretish, logs)
		}
	}
	n, err := testutil.GatherAndCount(e.reg, "dialtone_api_requests_total")
	if err != nil || n != 2 {
		t.Fatalf("series %d, %v", n, err)
	}
	if v := testutil.ToFloat64(mustCounter(t, e.reg, "OK")); v != 1 {
		t.Fatalf("OK count %v", v)
	}
}

func mustCounter(t *testing.T, reg *prometheus.Registry, code string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "dialtone_api_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" && l.GetValue() == code {
					return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x"}, func() float64 { return m.GetCounter().GetValue() })
				}
			}
		}
	}
	t.Fatalf("no series with code %s", code)
	return nil
}

// The store caches keys and accounts; a change through it is seen by the
// very next request (sqlstore/authcache.go).
func TestKeyChangesTakeEffectAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.signer(goodKey, goodSec)
	put := func(k dialtone.AccessKey) {
		t.Helper()
		k.ID, k.AccountUID, k.CreatedAt = goodKey, acctUID, time.Now()
		if err := e.store.PutAccessKey(ctx, &k); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []struct {
		change func()
		code   string
	}{
		{func() {}, "OK"},
		{func() { put(dialtone.AccessKey{Secret: goodSec, Enabled: false}) }, "InvalidAccessKeyId.Inactive"},
		{func() { put(dialtone.AccessKey{Secret: goodSec, Enabled: true}) }, "OK"},
		{func() { put(dialtone.AccessKey{Secret: "rotated", Enabled: true}) }, "SignatureDoesNotMatch"},
		{func() {
			put(dialtone.AccessKey{Secret: goodSec, Enabled: true, Actions: []string{"QueryTokenForMnsQueue"}})
		}, "isp.RAM_PERMISSION_DENY"},
		{func() {
			if err := e.store.DeleteAccessKey(ctx, acctUID, goodKey); err != nil {
				t.Fatal(err)
			}
		}, "InvalidAccessKeyId.NotFound"},
	} {
		c.change()
		if got := do(t, s.V3("QueryCallDetailByCallId", detailParams)); got.body["Code"] != c.code {
			t.Fatalf("step %d: want %s, got %d %s", i, c.code, got.status, got.raw)
		}
	}
}
