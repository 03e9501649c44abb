package gateway_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/certs"
	"github.com/dialtone-voice/dialtone/poptest"
)

// BenchmarkGatewayHTTPS measures signed V3 QueryCallDetailByCallId
// requests per second through the gateway over HTTPS (the node's TLS
// settings and a local-CA certificate for dyvmsapi.aliyuncs.com) beside
// plain HTTP, in the same run, with the same client: HTTP/1.1 keep-alive,
// TLS sessions resumed from a client session cache. The ratio https/http
// is what TLS costs.
func BenchmarkGatewayHTTPS(b *testing.B) {
	e := newEnvB(b)
	mgr, err := certs.New(certs.Config{DataDir: filepath.Join(b.TempDir(), "data"), HTTPSAddr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: e.srv.Config.Handler, TLSConfig: mgr.TLSConfig(), ReadHeaderTimeout: 5 * time.Second}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()

	var full, resumed atomic.Int64
	client := func(addr string) *http.Client {
		d := &net.Dialer{Timeout: 5 * time.Second}
		return &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 64,
			DialContext:         func(ctx context.Context, n, _ string) (net.Conn, error) { return d.DialContext(ctx, n, addr) },
			TLSClientConfig: &tls.Config{RootCAs: mgr.CA().Pool(), ClientSessionCache: tls.NewLRUClientSessionCache(256),
				VerifyConnection: func(cs tls.ConnectionState) error {
					if cs.DidResume {
						resumed.Add(1)
					} else {
						full.Add(1)
					}
					return nil
				}},
		}}
	}
	rates := map[string]float64{}
	run := func(name, endpoint, addr string) {
		b.Run(name, func(b *testing.B) {
			c := client(addr)
			var failed atomic.Int64
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				s := &poptest.Signer{Endpoint: endpoint, AccessKeyID: goodKey, Secret: goodSec}
				for pb.Next() {
					resp, err := c.Do(s.V3("QueryCallDetailByCallId", detailParams))
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						failed.Add(1)
					}
				}
			})
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d requests failed", n, b.N)
			}
			rps := float64(b.N) / time.Since(start).Seconds()
			b.ReportMetric(rps, "req/s")
			rates[name] = rps
		})
	}
	run("http", "http://dyvmsapi.aliyuncs.com", e.srv.Listener.Addr().String())
	run("https", "https://dyvmsapi.aliyuncs.com", ln.Addr().String())
	if rates["http"] > 0 {
		b.Logf("https/http ratio %.2f (http %.0f req/s, https %.0f req/s); TLS handshakes: %d full, %d resumed",
			rates["https"]/rates["http"], rates["http"], rates["https"], full.Load(), resumed.Load())
	}
}
