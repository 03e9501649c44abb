package outbound

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// Tests talk to loopback only. Every test client dials through
// loopbackOnly, which fails the test, without dialling, for any other
// address: the policy's refusals happen before it, so it never sees one.
func loopbackOnly(t *testing.T) func(ctx context.Context, nd *net.Dialer, network, address string) (net.Conn, error) {
	return func(ctx context.Context, nd *net.Dialer, network, address string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			t.Errorf("asked to dial %s: tests dial loopback only", address)
			return nil, errors.New("test: not a loopback address")
		}
		return nd.DialContext(ctx, network, address)
	}
}

// newClient returns a client whose allow-list holds allow and whose
// resolver is r (nil: the system's, for literal addresses only).
func newClient(t *testing.T, cfg Config, allow ...string) *Client {
	t.Helper()
	if cfg.Policy == nil {
		cfg.Policy = mustPolicy(t, allow...)
	}
	cfg.dial = loopbackOnly(t)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// receiver is an httptest server on 127.0.0.1 counting its requests.
type receiver struct {
	*httptest.Server
	hits atomic.Int64
}

func newReceiver(t *testing.T, h http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func okHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"code":0,"msg":"ok"}`))
}

// port is the receiver's port.
func (r *receiver) port() string {
	_, p, _ := net.SplitHostPort(r.Listener.Addr().String())
	return p
}

// refusedRule is the rule of err's *RefusedError, "" when there is none.
func refusedRule(err error) Rule {
	var rerr *RefusedError
	if errors.As(err, &rerr) {
		return rerr.Rule
	}
	return ""
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
