package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/poptest"
)

// BenchmarkGateway measures signed QueryCallDetailByCallId requests per
// second through the whole gateway (HTTP over loopback, signature check,
// nonce write to SQLite, account checks, store read) beside a bare net/http
// handler answering the same signed requests on the same machine in the same
// run. The ratio gateway/bare is the figure: it shows what the gateway costs
// on top of Go's HTTP stack and the client's own signing.
func BenchmarkGateway(b *testing.B) {
	e := newEnvB(b)
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		io.WriteString(w, `{"RequestId":"X","Code":"OK","Message":"OK"}`)
	}))
	defer bare.Close()
	rates := map[string]float64{}
	run := func(name, endpoint string, v3 bool) {
		b.Run(name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var failed atomic.Int64
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				s := &poptest.Signer{Endpoint: endpoint, AccessKeyID: goodKey, Secret: goodSec}
				for pb.Next() {
					var r *http.Request
					if v3 {
						r = s.V3("QueryCallDetailByCallId", detailParams)
					} else {
						r = s.V1("POST", "QueryCallDetailByCallId", detailParams, poptest.InQuery)
					}
					resp, err := client.Do(r)
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
	run("bare", bare.URL, false)
	run("gateway-v1", e.srv.URL, false)
	run("gateway-v3", e.srv.URL, true)
	if rates["bare"] > 0 {
		b.Logf("gateway/bare ratio: v1 %.2f, v3 %.2f (bare %.0f req/s)", rates["gateway-v1"]/rates["bare"], rates["gateway-v3"]/rates["bare"], rates["bare"])
	}
}

// BenchmarkServeSigned measures the gateway's own work per signed request,
// without HTTP or the client: the handler is called directly with requests
// signed before the timer runs (in batches, so memory stays bounded). A
// missing call is queried, as in BenchmarkGateway; ns/op and allocs/op are
// the server's cost per request.
func BenchmarkServeSigned(b *testing.B) {
	e := newEnvB(b)
	h := e.srv.Config.Handler
	for _, v3 := range []bool{true, false} {
		name := "v1"
		if v3 {
			name = "v3"
		}
		b.Run(name, func(b *testing.B) {
			s := &poptest.Signer{Endpoint: e.srv.URL, AccessKeyID: goodKey, Secret: goodSec}
			const batch = 1024
			reqs := make([]*http.Request, 0, batch)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if len(reqs) == 0 {
					b.StopTimer()
					for range min(batch, b.N-i) {
						if v3 {
							reqs = append(reqs, s.V3("QueryCallDetailByCallId", detailParams))
						} else {
							reqs = append(reqs, s.V1("POST", "QueryCallDetailByCallId", detailParams, poptest.InQuery))
						}
					}
					b.StartTimer()
				}
				r := reqs[len(reqs)-1]
				if r.Body == nil {
					r.Body = http.NoBody // as a server's request always has one
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				reqs = reqs[:len(reqs)-1]
				if w.Code != http.StatusOK && w.Code != http.StatusBadRequest && w.Code != http.StatusNotFound {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
