package outbound

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone/internal/dnstest"

	"github.com/coder/websocket"
)

// Media streams dial under the same policy: refused addresses are never
// dialled, redirects never followed, and a message larger than the cap
// ends the stream.
func TestDialStream(t *testing.T) {
	ctx := ctxT(t)
	var rcv *receiver
	rcv = newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "ws://127.0.0.1:"+rcv.port()+"/stream", http.StatusFound)
			return
		}
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		typ, msg, err := conn.Read(r.Context())
		if err != nil {
			return
		}
		if string(msg) == "big" {
			msg = []byte(strings.Repeat("x", 2000))
		}
		conn.Write(r.Context(), typ, msg)
		conn.Close(websocket.StatusNormalClosure, "")
	})
	wsURL := "ws://127.0.0.1:" + rcv.port() + "/stream"
	stream := Meta{Account: "A", Purpose: PurposeStream}

	strict := newClient(t, Config{})
	if _, err := strict.DialStream(ctx, stream, wsURL, nil); refusedRule(err) != RuleLoopback {
		t.Fatalf("no allow-list: %v", err)
	}
	if _, err := strict.DialStream(ctx, stream, "http://127.0.0.1:"+rcv.port()+"/stream", nil); refusedRule(err) != RuleScheme {
		t.Fatalf("an http URL for a stream: %v", err)
	}
	d := dnstest.New(t)
	d.Set("stream.dialtone.test", "127.0.0.1")
	named := newClient(t, Config{Resolver: d.Resolver()})
	if _, err := named.DialStream(ctx, stream, "ws://stream.dialtone.test:"+rcv.port()+"/stream", nil); refusedRule(err) != RuleLoopback {
		t.Fatalf("a name resolving to loopback: %v", err)
	}
	if n := rcv.hits.Load(); n != 0 {
		t.Fatalf("the receiver got %d handshakes", n)
	}

	c := newClient(t, Config{MaxResponseBytes: 1000, MaxRedirects: 5}, "127.0.0.1")
	conn, err := c.DialStream(ctx, stream, wsURL, &StreamOptions{Header: http.Header{"X-Test": {"1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c.inFlight("A") != 0 {
		t.Error("an open stream holds a slot after its handshake")
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := conn.Read(ctx); err != nil || string(msg) != "hello" {
		t.Fatalf("echo: %q %v", msg, err)
	}
	conn.CloseNow()

	conn, err = c.DialStream(ctx, stream, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(ctx, websocket.MessageText, []byte("big"))
	if _, _, err := conn.Read(ctx); err == nil || !strings.Contains(err.Error(), "read limited") {
		t.Errorf("a message over the cap: %v", err)
	}
	conn.CloseNow()

	// A redirect is never followed for a stream, whatever MaxRedirects says.
	before := rcv.hits.Load()
	if _, err := c.DialStream(ctx, stream, "ws://127.0.0.1:"+rcv.port()+"/moved", nil); err == nil {
		t.Fatal("a redirected handshake succeeded")
	}
	if got := rcv.hits.Load() - before; got != 1 {
		t.Errorf("the redirect was followed: %d handshakes", got)
	}

	trusted := stream
	trusted.Trust = Trusted
	conn, err = strict.DialStream(ctx, trusted, wsURL, nil)
	if err != nil {
		t.Fatalf("trusted: %v", err)
	}
	conn.CloseNow()
	if _, err := strict.DialStream(ctx, trusted, "ws://169.254.169.254/", nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("metadata, trusted: %v", err)
	}
}
