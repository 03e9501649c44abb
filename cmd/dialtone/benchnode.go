package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dialtone-voice/dialtone/engine"
	"github.com/dialtone-voice/dialtone/sdk"
	"github.com/dialtone-voice/dialtone/server"
)

// In-process nodes for `dialtone bench` and `dialtone soak`: real nodes
// (server.Open and Run) on loopback, in temporary directories.

const (
	benchUID    = "9000000000000009"
	benchKeyID  = "LTAIbench000000000001"
	benchSecret = "benchSecret0000000000000001"
)

// benchDoc provisions one account; scale is the simulated network's
// time_scale, so that a call of a few simulated seconds takes
// milliseconds of wall time.
func benchDoc(scale string) string { return benchDocAnswer(scale, "2s") }

// benchDocAnswer is benchDoc with the simulated subscribers answering
// after answerAfter (simulated time).
func benchDocAnswer(scale, answerAfter string) string {
	return `accounts:
  - uid: "` + benchUID + `"
    name: bench
    access_keys:
      - id: ` + benchKeyID + `
        secret: ` + benchSecret + `
    numbers:
      - number: "057188880000"
        concurrency: 100000
    tts_templates:
      - code: TTS_100002
        kind: notification
        content: "Your order has shipped."
    flow_control: {per_minute: 0, per_hour: 0, per_day: 0}
    # A bench measures the node, not the per-account limits.
    rate_limits: {SingleCallByTts: 1000000, QueryCallDetailByCallId: 1000000, QueryTokenForMnsQueue: 1000000}
    subscriptions:
      - {message_type: VoiceReport, queue: true}
      # The receipts row's own queue: the calls rows' VoiceReports, routed
      # after their calls ended, would otherwise land among its messages.
      - {message_type: VoiceRecordReport, queue: true}
network:
  time_scale: ` + scale + `
  default:
    answer_after: ` + answerAfter + `
`
}

// benchTimeout is the bench nodes' ring timeout and queue timeout, in
// simulated time. The simulated subscribers answer after 2 s, and the
// display number's cap is never reached; but at 1/1000 time the defaults
// (45 s of ringing, 10 min queued) are 45 ms and 0.6 s of wall time,
// which a node saturated by the bench (or held to a tenth of a core in
// the scale-out rows: 1 ms of each 10 ms) can let pass: a call then ends
// unanswered, or over concurrency while a second run of it (a claim that
// raced the API's start) waits for its twin's slots. Either skips the
// rest of the call's path, and callsEndedNormally refuses the row.
const benchTimeout = time.Hour

// benchNode is one running in-process node.
type benchNode struct {
	node *server.Node
	addr string
	// httpsAddr is the HTTPS listener (local CA), data the data directory.
	httpsAddr, data string
	client          *sdk.Client
	stop            func() error
}

func newMasterKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// startBenchNode starts a node with its own data directory under dir.
// storeURL "" is SQLite; nodes given the same PostgreSQL URL must share
// masterKey.
func startBenchNode(ctx context.Context, dir, name, storeURL, masterKey, scale string, maxLive int) (*benchNode, error) {
	return startBenchNodeDoc(ctx, dir, name, storeURL, masterKey, benchDoc(scale), maxLive)
}

// startBenchNodeDoc is startBenchNode provisioned with doc.
func startBenchNodeDoc(ctx context.Context, dir, name, storeURL, masterKey, doc string, maxLive int) (*benchNode, error) {
	data := filepath.Join(dir, name)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	prov := filepath.Join(data, "provision.yaml")
	if err := os.WriteFile(prov, []byte(doc), 0o600); err != nil {
		return nil, err
	}
	ready, readyTLS := make(chan string, 1), make(chan string, 1)
	cfg := server.Config{
		DataDir: data, StoreURL: storeURL, HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", ProvisionFile: prov,
		SignatureWindow: 15 * time.Minute, MasterKey: masterKey,
		Calls: server.CallConfig{Engine: engine.Config{Node: name, RingTimeout: benchTimeout, QueueTimeout: benchTimeout},
			Cluster: server.ClusterConfig{MaxLiveCalls: maxLive}},
		Logger:     slog.New(slog.DiscardHandler),
		Ready:      func(addr string) { ready <- addr },
		ReadyHTTPS: func(addr string) { readyTLS <- addr },
	}
	n, err := server.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- n.Run(runCtx) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		return nil, fmt.Errorf("node %s: %w", name, err)
	case <-time.After(30 * time.Second):
		cancel()
		return nil, fmt.Errorf("node %s did not start in 30 s", name)
	}
	client, err := sdk.New(sdk.Config{AccessKeyID: benchKeyID, AccessKeySecret: benchSecret, Endpoint: addr, MaxRetries: -1})
	if err != nil {
		cancel()
		return nil, err
	}
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			return errors.New("node did not stop in 60 s")
		}
	}
	return &benchNode{node: n, addr: addr, httpsAddr: <-readyTLS, data: data, client: client, stop: stop}, nil
}

// unfinished counts the calls of the node's store that have not ended.
func (b *benchNode) unfinished(ctx context.Context) (int, error) {
	calls, err := b.node.Store().ListUnfinishedCalls(ctx, "")
	return len(calls), err
}
