package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
)

// gwSlice is how long each target is measured before the next one takes
// its turn: the targets alternate in slices this short so that the load
// other processes put on the machine falls on all of them alike, and
// their ratio holds even when the absolute rates do not.
const gwSlice = 250 * time.Millisecond

// gwResult is the gateway rows' measurement: requests per second of each
// signing style through the node's gateway and through a bare net/http
// handler, and the CPU time of this process per request.
type gwResult struct {
	v3, v1, bareV3, bareV1 float64
	// cpu* are µs of this process's CPU time (client and server alike) per
	// request.
	cpuV3, cpuV1, cpuBareV3, cpuBareV1 float64
}

func (r gwResult) rowV3() benchRow {
	return benchRow{"gateway signed requests/s (V3, SQLite)", fmtRate(r.v3, "req/s"),
		fmt.Sprintf("bare net/http %s; ratio %.2f; CPU/request %.0f µs vs bare %.0f µs (client included); slices of %v alternating with the bare handler and RPC v1",
			fmtRate(r.bareV3, "req/s"), r.v3/max(r.bareV3, 1), r.cpuV3, r.cpuBareV3, gwSlice)}
}

func (r gwResult) rowV1() benchRow {
	return benchRow{"gateway signed requests/s (RPC v1, SQLite)", fmtRate(r.v1, "req/s"),
		fmt.Sprintf("bare net/http %s; ratio %.2f; CPU/request %.0f µs vs bare %.0f µs (client included); same run as V3",
			fmtRate(r.bareV1, "req/s"), r.v1/max(r.bareV1, 1), r.cpuV1, r.cpuBareV1)}
}

// benchGateway runs signed QueryCallDetailByCallId requests, V3 and RPC
// v1, through the node's gateway (signature check, nonce recorded in the
// store, key and account checks, the call looked up) and through a bare
// net/http handler on loopback that answers without checking anything;
// the client signs in both, so each ratio is the gateway's own cost. Each
// of the four targets gets d in all, in alternating slices.
func benchGateway(ctx context.Context, n *benchNode, d time.Duration) (gwResult, error) {
	var res gwResult
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		io.WriteString(w, `{"RequestId":"X","Code":"OK","Message":"OK"}`)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	client := func(addr string, sig sdk.Signature) (*sdk.Client, error) {
		// Enough idle connections for every sender: without them the
		// default transport would open new connections all the time.
		return sdk.New(sdk.Config{AccessKeyID: benchKeyID, AccessKeySecret: benchSecret, Endpoint: addr,
			MaxRetries: -1, Signature: sig, HTTPClient: benchHTTPClient(64)})
	}
	targets := []struct {
		addr      string
		sig       sdk.Signature
		rate, cpu *float64
	}{
		{ln.Addr().String(), sdk.SignatureV3, &res.bareV3, &res.cpuBareV3},
		{n.addr, sdk.SignatureV3, &res.v3, &res.cpuV3},
		{ln.Addr().String(), sdk.SignatureV1, &res.bareV1, &res.cpuBareV1},
		{n.addr, sdk.SignatureV1, &res.v1, &res.cpuV1},
	}
	clients := make([]*sdk.Client, len(targets))
	for i, t := range targets {
		if clients[i], err = client(t.addr, t.sig); err != nil {
			return res, err
		}
	}
	ok := make([]int64, len(targets))
	wall := make([]time.Duration, len(targets))
	cpu := make([]time.Duration, len(targets))
	for spent := time.Duration(0); spent < d; spent += gwSlice {
		for i, c := range clients {
			c0 := processCPU()
			t0 := time.Now()
			k, err := sendSigned(ctx, c, min(gwSlice, d-spent))
			wall[i] += time.Since(t0)
			cpu[i] += processCPU() - c0
			if err != nil {
				return res, fmt.Errorf("%s: %w", targets[i].addr, err)
			}
			ok[i] += k
		}
	}
	for i, t := range targets {
		*t.rate = float64(ok[i]) / wall[i].Seconds()
		*t.cpu = float64(cpu[i].Microseconds()) / float64(max(ok[i], 1))
	}
	return res, nil
}

// sendSigned sends signed QueryCallDetailByCallId requests with c from 4
// goroutines per CPU for d and returns how many were answered; any failure
// fails the measurement.
func sendSigned(ctx context.Context, c *sdk.Client, d time.Duration) (int64, error) {
	params := benchParams()
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range 4 * runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) && ctx.Err() == nil {
				if _, err := c.Do(ctx, "QueryCallDetailByCallId", params, true); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return 0, fmt.Errorf("%d of %d requests failed, first: %v", f, f+ok.Load(), firstErr.Load())
	}
	return ok.Load(), nil
}

// benchHTTPClient keeps up to conns idle connections per host, so that as
// many senders never wait for a new connection (the default keeps 2).
func benchHTTPClient(conns int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns}}
}
