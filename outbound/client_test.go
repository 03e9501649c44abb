package outbound

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/internal/dnstest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var push = Meta{Account: "1000000000000001", Purpose: PurposePush}

// A literal loopback URL is refused for an account user before anything
// is dialled, allowed by the allow-list or for the operator.
func TestSendLiteralAddresses(t *testing.T) {
	ctx := ctxT(t)
	rcv := newReceiver(t, okHandler)
	for _, host := range []string{"127.0.0.1", "2130706433", "0177.0.0.1", "127.1", "0x7f.1", "[::ffff:127.0.0.1]", "127.0.0.1."} {
		u := "http://" + host + ":" + rcv.port() + "/receipts"
		strict := newClient(t, Config{})
		if _, err := strict.Send(ctx, push, Request{URL: u, Body: []byte("[]")}); refusedRule(err) != RuleLoopback {
			t.Errorf("%s, no allow-list: %v", u, err)
		}
		allowed := newClient(t, Config{}, "127.0.0.1")
		resp, err := allowed.Send(ctx, push, Request{URL: u, Body: []byte("[]")})
		if err != nil || resp.Status != 200 || string(resp.Body) != `{"code":0,"msg":"ok"}` {
			t.Errorf("%s, allowed: %v %+v", u, err, resp)
		}
		trusted := push
		trusted.Trust = Trusted
		if resp, err := strict.Send(ctx, trusted, Request{URL: u}); err != nil || resp.Status != 200 {
			t.Errorf("%s, trusted: %v", u, err)
		}
	}
	if got := rcv.hits.Load(); got != 14 {
		t.Errorf("the receiver got %d requests, want 14 (the allowed and trusted ones)", got)
	}
}

// Host names are resolved by the client and every address is checked
// before it is dialled: a name resolving to loopback, a private network
// or the metadata address is refused at connection time, though the URL
// passed CheckURL.
func TestSendResolvedAddresses(t *testing.T) {
	ctx := ctxT(t)
	d := dnstest.New(t)
	d.Set("loop.dialtone.test", "127.0.0.1")
	d.Set("loop6.dialtone.test", "::1")
	d.Set("private.dialtone.test", "10.0.0.1")
	d.Set("meta.dialtone.test", "169.254.169.254")
	d.Set("mapped.dialtone.test", "::ffff:127.0.0.1")
	d.Set("mixed.dialtone.test", "10.20.30.40", "127.0.0.1") // one refused address, one allowed
	rcv := newReceiver(t, okHandler)
	url := func(name string) string { return "http://" + name + ":" + rcv.port() + "/push" }

	strict := newClient(t, Config{Resolver: d.Resolver()})
	for name, rule := range map[string]Rule{
		"loop.dialtone.test":    RuleLoopback,
		"loop6.dialtone.test":   RuleLoopback,
		"private.dialtone.test": RulePrivate,
		"meta.dialtone.test":    RuleMetadata,
		"mapped.dialtone.test":  RuleLoopback,
		"mixed.dialtone.test":   "", // either of its addresses' rules
	} {
		if _, err := strict.Policy().CheckURL(url(name), Untrusted); err != nil {
			t.Fatalf("%s: CheckURL refused a name: %v", name, err)
		}
		err := strict.Check(ctx, url(name), Untrusted)
		if got := refusedRule(err); got == "" || rule != "" && got != rule {
			t.Errorf("Check %s: %v, want rule %s", name, err, rule)
		}
		_, err = strict.Send(ctx, push, Request{URL: url(name)})
		if got := refusedRule(err); got == "" || rule != "" && got != rule {
			t.Errorf("Send %s: %v, want rule %s", name, err, rule)
		}
		if err != nil && !strings.Contains(err.Error(), name) {
			t.Errorf("Send %s: the error does not name the host: %v", name, err)
		}
	}
	if n := rcv.hits.Load(); n != 0 {
		t.Fatalf("the receiver got %d requests through refused names", n)
	}

	// Allowed by address, by host name, or for the operator.
	byAddr := newClient(t, Config{Resolver: d.Resolver()}, "127.0.0.1", "::1")
	byName := newClient(t, Config{Resolver: d.Resolver()}, "loop.dialtone.test", "*.dialtone.test")
	trusted := push
	trusted.Trust = Trusted
	for _, try := range []struct {
		c    *Client
		m    Meta
		name string
	}{
		{byAddr, push, "loop.dialtone.test"}, {byAddr, push, "mapped.dialtone.test"},
		{byAddr, push, "mixed.dialtone.test"}, // dialled on 127.0.0.1 only: loopbackOnly fails the test otherwise
		{byName, push, "loop.dialtone.test"}, {byName, push, "mixed.dialtone.test"},
		{strict, trusted, "loop.dialtone.test"},
	} {
		if resp, err := try.c.Send(ctx, try.m, Request{URL: url(try.name)}); err != nil || resp.Status != 200 {
			t.Errorf("%s (%s, allow %v): %v", try.name, try.m.Trust, try.c.Policy().Allowed(), err)
		}
	}
	// Metadata stays refused for the operator and through a host allowed by name.
	if _, err := byName.Send(ctx, trusted, Request{URL: url("meta.dialtone.test")}); refusedRule(err) != RuleMetadata {
		t.Errorf("metadata by an allowed name, trusted: %v", err)
	}
	// A name without addresses.
	if err := strict.Check(ctx, url("nowhere.dialtone.test"), Untrusted); !errors.Is(err, ErrNotResolved) {
		t.Errorf("Check of an unknown name: %v", err)
	}
	if _, err := strict.Send(ctx, push, Request{URL: url("nowhere.dialtone.test")}); !errors.Is(err, ErrNotResolved) {
		t.Errorf("Send to an unknown name: %v", err)
	}
}

// DNS rebinding: the name resolves to a public address when the URL is
// entered and to loopback when the request is sent. The client resolves
// once per connection, checks what it got and dials that address.
func TestRebinding(t *testing.T) {
	ctx := ctxT(t)
	d := dnstest.New(t)
	rcv := newReceiver(t, okHandler)
	u := "http://rebind.dialtone.test:" + rcv.port() + "/push"
	c := newClient(t, Config{Resolver: d.Resolver()})

	d.Set("rebind.dialtone.test", "8.8.8.8") // resolved only, never dialled
	if err := c.Check(ctx, u, Untrusted); err != nil {
		t.Fatalf("entered while public: %v", err)
	}
	d.Set("rebind.dialtone.test", "127.0.0.1")
	if _, err := c.Send(ctx, push, Request{URL: u}); refusedRule(err) != RuleLoopback {
		t.Fatalf("sent after the rebinding: %v", err)
	}
	if rcv.hits.Load() != 0 {
		t.Fatal("the request reached loopback")
	}
}

// Redirects: not followed by default; when followed, each hop is checked
// by the policy before any connection, and https never goes down to http.
func TestRedirects(t *testing.T) {
	ctx := ctxT(t)
	// The refused target listens on 127.0.0.2, outside the allow-list
	// (127.0.0.1/32): still loopback, so nothing leaves the machine.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 on this machine: %v", err)
	}
	var targetHits atomic.Int64
	target := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		okHandler(w, r)
	})}}
	target.Start()
	t.Cleanup(target.Close)

	var rcv *receiver
	rcv = newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-refused":
			http.Redirect(w, r, target.URL+"/x", http.StatusTemporaryRedirect)
		case "/to-metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/to-ipv6-loopback":
			http.Redirect(w, r, "http://[::1]:"+rcv.port()+"/ok", http.StatusFound)
		case "/to-decimal":
			http.Redirect(w, r, "http://2130706434:"+rcv.port()+"/ok", http.StatusFound) // 127.0.0.2
		case "/to-allowed":
			http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect)
		case "/ok":
			body, _ := io.ReadAll(r.Body)
			w.Write([]byte(`{"code":0,"body":"` + string(body) + `"}`))
		}
	})

	// By default a 3xx is the answer.
	c := newClient(t, Config{}, "127.0.0.1/32")
	resp, err := c.Send(ctx, push, Request{URL: rcv.URL + "/to-refused", Body: []byte("b")})
	if err != nil || resp.Status != http.StatusTemporaryRedirect {
		t.Fatalf("not following: %v %+v", err, resp)
	}

	// Following, up to 3: every refused hop is refused, naming its rule.
	c = newClient(t, Config{MaxRedirects: 3}, "127.0.0.1/32")
	for path, rule := range map[string]Rule{
		"/to-refused":       RuleLoopback,
		"/to-metadata":      RuleMetadata,
		"/to-ipv6-loopback": RuleLoopback,
		"/to-decimal":       RuleLoopback,
	} {
		_, err := c.Send(ctx, push, Request{URL: rcv.URL + path, Body: []byte("b")})
		if refusedRule(err) != rule {
			t.Errorf("%s: %v, want rule %s", path, err, rule)
		}
	}
	if n := targetHits.Load(); n != 0 {
		t.Fatalf("the refused target got %d requests", n)
	}
	resp, err = c.Send(ctx, push, Request{URL: rcv.URL + "/to-allowed", Body: []byte("b")})
	if err != nil || resp.Status != 200 || string(resp.Body) != `{"code":0,"body":"b"}` {
		t.Fatalf("an allowed redirect (307 keeps the body): %v %+v", err, resp)
	}

	// https to http is not followed.
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, rcv.URL+"/ok", http.StatusFound)
	}))
	t.Cleanup(tlsSrv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(tlsSrv.Certificate())
	c = newClient(t, Config{MaxRedirects: 3, TLSConfig: &tls.Config{RootCAs: roots}}, "127.0.0.1/32")
	if _, err := c.Send(ctx, push, Request{URL: tlsSrv.URL + "/"}); refusedRule(err) != RuleScheme {
		t.Errorf("https to http: %v", err)
	}
}

// The answer is capped: reading more than MaxResponseBytes is an error,
// decompressed bytes included.
func TestResponseCap(t *testing.T) {
	ctx := ctxT(t)
	const max = 1000
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/exact":
			w.Write(bytes.Repeat([]byte("a"), max))
		case "/over": // streamed, no Content-Length
			w.Write(bytes.Repeat([]byte("a"), max/2))
			w.(http.Flusher).Flush()
			w.Write(bytes.Repeat([]byte("a"), max/2+1))
		case "/declared":
			w.Header().Set("Content-Length", "5000")
			w.Write(bytes.Repeat([]byte("a"), 5000))
		case "/gzip": // 64 KiB of zeros in a few hundred bytes
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(make([]byte, 64<<10))
			zw.Close()
		}
	})
	c := newClient(t, Config{MaxResponseBytes: max}, "127.0.0.1")
	resp, err := c.Send(ctx, push, Request{URL: rcv.URL + "/exact"})
	if err != nil || len(resp.Body) != max {
		t.Fatalf("exactly the cap: %v", err)
	}
	for _, path := range []string{"/over", "/declared", "/gzip"} {
		if _, err := c.Send(ctx, push, Request{URL: rcv.URL + path}); !errors.Is(err, ErrResponseTooLarge) {
			t.Errorf("%s: %v", path, err)
		}
	}
	// Do: the caller reads; the cap holds there too, and Close frees the slots.
	req, _ := http.NewRequest(http.MethodGet, rcv.URL+"/over", nil)
	r, err := c.Do(ctx, push, req)
	if err != nil {
		t.Fatal(err)
	}
	if c.inFlight(push.Account) != 1 {
		t.Errorf("an open answer holds no slot")
	}
	if _, err := io.ReadAll(r.Body); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("Do's body: %v", err)
	}
	r.Body.Close()
	if c.inFlight(push.Account) != 0 {
		t.Errorf("a closed answer still holds its slot")
	}
}

func TestTimeout(t *testing.T) {
	ctx := ctxT(t)
	stop := make(chan struct{})
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
	defer close(stop)
	c := newClient(t, Config{Timeout: 200 * time.Millisecond}, "127.0.0.1")
	start := time.Now()
	_, err := c.Send(ctx, push, Request{URL: rcv.URL})
	if !errors.Is(err, context.DeadlineExceeded) || outcomeOf(0, err) != "timeout" {
		t.Fatalf("a receiver that never answers: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the timeout took %s", d)
	}
	if c.inFlight(push.Account) != 0 {
		t.Fatal("a timed-out request kept its slot")
	}
}

// gate is a receiver that holds every request on /hold until released.
type gate struct {
	*receiver
	release chan struct{}
	held    atomic.Int64
}

func newGate(t *testing.T) *gate {
	g := &gate{release: make(chan struct{})}
	g.receiver = newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			g.held.Add(1)
			select {
			case <-g.release:
			case <-r.Context().Done():
			}
		}
		okHandler(w, r)
	})
	return g
}

// waitHeld waits until n requests are held.
func (g *gate) waitHeld(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.held.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests held, want %d", g.held.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The caps: per account and destination, then per account; another
// account is never held by them; a request over a cap fails at once, or
// waits for a slot when its Meta says so.
func TestConcurrencyCaps(t *testing.T) {
	ctx := ctxT(t)
	g1, g2, g3 := newGate(t), newGate(t), newGate(t)
	c := newClient(t, Config{PerAccount: 4, PerDestination: 2}, "127.0.0.1")
	a := Meta{Account: "A", Purpose: PurposeCallback}
	b := Meta{Account: "B", Purpose: PurposePush}

	var wg sync.WaitGroup
	hold := func(g *gate) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Send(ctx, a, Request{URL: g.URL + "/hold"}); err != nil {
				t.Errorf("held request: %v", err)
			}
		}()
	}
	hold(g1)
	hold(g1)
	g1.waitHeld(t, 2)

	var busy *BusyError
	_, err := c.Send(ctx, a, Request{URL: g1.URL + "/hold"})
	if !errors.As(err, &busy) || busy.Cap != "destination" || !errors.Is(err, ErrBusy) {
		t.Fatalf("third request to one destination: %v", err)
	}
	hold(g2)
	hold(g2)
	g2.waitHeld(t, 2)
	if c.inFlight("A") != 4 {
		t.Fatalf("account A has %d in flight", c.inFlight("A"))
	}
	_, err = c.Send(ctx, a, Request{URL: g3.URL + "/hold"})
	if !errors.As(err, &busy) || busy.Cap != "account" {
		t.Fatalf("fifth request of the account: %v", err)
	}
	if !strings.Contains(err.Error(), `"A"`) {
		t.Errorf("the error does not name the account: %v", err)
	}

	// Account B goes to the same destinations, unhindered.
	for _, g := range []*gate{g1, g2, g3} {
		if resp, err := c.Send(ctx, b, Request{URL: g.URL + "/fast"}); err != nil || resp.Status != 200 {
			t.Fatalf("account B beside A's full caps: %v", err)
		}
	}

	// Waiting: a request with Wait gets the slot freed by another, and
	// gives up when its context ends.
	waiting := a
	waiting.Wait = 10 * time.Second
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = c.Send(cctx, waiting, Request{URL: g3.URL + "/fast"})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past the context: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Send(ctx, waiting, Request{URL: g3.URL + "/fast"})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a waiting request did not wait: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(g1.release) // frees two of A's slots
	if err := <-done; err != nil {
		t.Fatalf("the waiting request: %v", err)
	}
	close(g2.release)
	close(g3.release)
	wg.Wait()

	// Every semaphore is dropped once unused.
	c.accounts.mu.Lock()
	c.dests.mu.Lock()
	n := len(c.accounts.sems) + len(c.dests.sems)
	c.dests.mu.Unlock()
	c.accounts.mu.Unlock()
	if n != 0 {
		t.Errorf("%d semaphores left", n)
	}
}

// Connections are kept alive and reused per destination; trusted and
// untrusted requests never share a connection (a connection checked for
// the operator's URL is not handed to an account's).
func TestConnectionReuse(t *testing.T) {
	ctx := ctxT(t)
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(okHandler))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newClient(t, Config{}, "127.0.0.1")
	for i := range 20 {
		m := push
		m.Account = fmt.Sprint("account-", i%3)
		if _, err := c.Send(ctx, m, Request{URL: srv.URL}); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("20 requests opened %d connections, want 1", n)
	}
	trusted := push
	trusted.Trust = Trusted
	if _, err := c.Send(ctx, trusted, Request{URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("a trusted request after untrusted ones: %d connections, want 2", n)
	}
}

// Send signs with the Signer, sets a User-Agent, and the receiver's
// verifier accepts both secrets during a rotation.
func TestSendSigns(t *testing.T) {
	ctx := ctxT(t)
	var got http.Header
	var gotBody []byte
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		gotBody, _ = io.ReadAll(r.Body)
		okHandler(w, r)
	})
	now := time.Unix(1800000000, 0)
	c := newClient(t, Config{Now: func() time.Time { return now }}, "127.0.0.1")
	s := Signer{Secret: "old"}.Rotate("new", now.Add(-time.Hour), 2*time.Hour)
	body := []byte(`[{"receipt_id":"r1"}]`)
	if _, err := c.Send(ctx, push, Request{URL: rcv.URL, Body: body, Signer: &s,
		Header: http.Header{"Content-Type": {"application/json;charset=utf-8"}}}); err != nil {
		t.Fatal(err)
	}
	h := got.Get(SignatureHeader)
	for _, secret := range []string{"new", "old"} {
		if err := Verify(secret, h, gotBody, now, 0); err != nil {
			t.Errorf("%s: %v (%s)", secret, err, h)
		}
	}
	if got.Get("User-Agent") != "Dialtone/1" || got.Get("Content-Type") != "application/json;charset=utf-8" {
		t.Errorf("headers: %v", got)
	}
	// No signer, no header.
	if _, err := c.Send(ctx, push, Request{URL: rcv.URL, Body: body}); err != nil || got.Get(SignatureHeader) != "" {
		t.Errorf("unsigned: %v %q", err, got.Get(SignatureHeader))
	}
}

func TestMetrics(t *testing.T) {
	ctx := ctxT(t)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Error("registering twice is not an error")
	}
	rcv := newReceiver(t, okHandler)
	c := newClient(t, Config{Metrics: m})
	c.Send(ctx, push, Request{URL: rcv.URL})
	c.Send(ctx, push, Request{URL: "http://169.254.169.254/"})
	trusted := Meta{Account: "x", Purpose: PurposeRecognizer, Trust: Trusted}
	c.Send(ctx, trusted, Request{URL: rcv.URL})
	for _, want := range []struct {
		c     prometheus.Collector
		value float64
	}{
		{m.requests.WithLabelValues("push", "refused"), 2},
		{m.refused.WithLabelValues("push", "loopback"), 1},
		{m.refused.WithLabelValues("push", "metadata"), 1},
		{m.requests.WithLabelValues("recognizer", "2xx"), 1},
		{m.inFlight.WithLabelValues("recognizer"), 0},
	} {
		if got := testutil.ToFloat64(want.c); got != want.value {
			t.Errorf("%v: %v, want %v", want.c, got, want.value)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := New(Config{MaxRedirects: -1}); err == nil {
		t.Error("negative MaxRedirects accepted")
	}
}

// Spellings of one address are one destination: its cap holds whichever
// spelling a request uses.
func TestDestinationKey(t *testing.T) {
	for _, raw := range []string{"http://127.0.0.1/", "http://127.1:80/", "http://0x7f.1/", "http://2130706433", "http://[::ffff:127.0.0.1]:80/", "ws://127.0.0.1./"} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := destination(u); got != "http://127.0.0.1:80" {
			t.Errorf("%s: destination %q", raw, got)
		}
	}
	u, _ := url.Parse("https://Hooks.Example.COM./x")
	if got := destination(u); got != "https://hooks.example.com:443" {
		t.Errorf("a name: %q", got)
	}
}
