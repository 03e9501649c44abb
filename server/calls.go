package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/admin"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/engine"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/smartcall"
	"github.com/dialtone-voice/dialtone/vms"
)

// The call side of a node: the Dyvmsapi actions, the call engine and the
// carrier it dials through (the simulated network unless a SIP trunk is
// configured). Kept apart from server.go, which only calls these functions.

// CallConfig tunes the call side of a node; zero values take the
// defaults.
type CallConfig struct {
	// Engine tunes the call engine: Node (this node's name in call
	// ownership; default the host name), RingTimeout, CallbackTimeout. The
	// node wires in the rest (store, carrier, clock, hooks).
	Engine engine.Config
	// TTSCacheBytes bounds the synthesised-speech cache; default
	// media.DefaultCacheBytes.
	TTSCacheBytes int64
	// Cluster tunes capacity, claiming and node liveness (package cluster).
	Cluster ClusterConfig
}

type calls struct {
	vms     *vms.Service
	engine  *engine.Engine
	network *sim.Network
	sim     *simNet
}

// initCalls builds the engine over the cluster's simulated network (net,
// at version; nil: the defaults, none stored), on a clock at its time
// scale that follows the network's changes (network.go).
func (n *Node) initCalls(net *sim.Config, version int64) {
	cc := n.cfg.Calls
	clock := engine.NewNetworkClock(net.Scale())
	// The engine never changes the audio it plays (engine.Renderer): one
	// copy of a prompt serves every call.
	speaker := media.NewSharedCachedSpeaker(n.espeak, cc.TTSCacheBytes)
	dataDir := n.cfg.DataDir
	render := engine.RendererFunc(func(ctx context.Context, p dialtone.Prompt, speed, volume int) (*dialtone.Audio, error) {
		if p.IsTTS() {
			return media.SpeakPrompt(ctx, speaker, p, speed, volume)
		}
		a, err := media.LoadVoiceFile(dataDir, p.StoredPath)
		if err != nil {
			return nil, err
		}
		media.ApplyVolume(a, volume)
		return a, nil
	})
	c := &calls{network: sim.New(net, clock)}
	// Simulated voicemail greetings and hellos share the prompts' cache.
	c.network.SetSpeaker(speaker)
	c.sim = &simNet{n: n, clock: clock, net: c.network, kick: make(chan struct{}, 1), version: version}
	n.bus.OnNetworkChanged(c.sim.wake)
	// What media streams play to its subscribers is recognised as SIP
	// calls are, when the node has a recogniser.
	if n.recognizer != nil {
		c.network.SetRecognizer(n.recognizer)
	}
	// Calls are created at wall time; each call then runs on its own
	// (possibly scaled) timeline anchored there.
	c.vms = &vms.Service{Store: n.store, Clock: dialtone.SystemClock{}}
	ec := cc.Engine
	ec.Limits = n.cluster.Limits()
	ec.ClaimLease = n.cluster.Config().NodeLease
	ec.Store, ec.Carrier, ec.Renderer, ec.Clock = n.EngineStore(n.store), n.callCarrier(c.network), render, clock
	ec.Logger = n.log.With("component", "engine")
	ec.Receipts, ec.Prompts = n.ReceiptBuilder(), c.vms
	ec.Recordings = engine.RecordDir(RecordDir(dataDir))
	// SmartCall callbacks go through the node's outbound client, signed
	// with the account's callback secrets.
	ec.Outbound, ec.Secrets = n.out, smartcall.SecretsFunc(n.callbackSigner)
	ec.CancelElsewhere = n.cluster.CancelElsewhere
	c.engine = engine.New(ec)
	n.cluster.Attach(c.engine)
	c.vms.Dialer = clusterDialer{Engine: c.engine, c: n.cluster}
	n.calls = c
}

// mountCalls registers the Dyvmsapi actions and the operator's view of the
// simulated network.
func (n *Node) mountCalls(mux *http.ServeMux, register func(*vms.Service)) {
	register(n.calls.vms)
	tok := n.tokens
	mux.Handle("GET /admin/v1/sim/calls/{id}/transcript", admin.RequireToken(tok, http.HandlerFunc(n.serveTranscript)))
	mux.Handle("GET /admin/v1/accounts/{uid}/calls/{id}/events", admin.RequireToken(tok, http.HandlerFunc(n.serveCallEvents)))
	mux.Handle("GET /admin/v1/sim/network", admin.RequireToken(tok, http.HandlerFunc(n.serveNetwork)))
	mux.Handle("GET /admin/v1/limits", admin.RequireToken(tok, http.HandlerFunc(n.serveLimits)))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// serveTranscript shows what a simulated subscriber heard, pressed and said
// during a call, so developers can assert on it.
func (n *Node) serveTranscript(w http.ResponseWriter, r *http.Request) {
	entries := n.calls.network.Transcript(r.PathValue("id"))
	if entries == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "NotFound", "message": "no simulated call with that id (the network keeps the most recent 10,000)"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"call_id": r.PathValue("id"), "transcript": entries})
}

// serveCallEvents lists a call's timeline.
func (n *Node) serveCallEvents(w http.ResponseWriter, r *http.Request) {
	uid, id := r.PathValue("uid"), r.PathValue("id")
	c, err := n.store.GetCall(r.Context(), uid, id)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "NotFound", "message": "no call " + id + " in account " + uid})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"code": "InternalError", "message": "the call could not be read"})
		return
	}
	evs, err := n.store.ListCallEvents(r.Context(), uid, id)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"code": "InternalError", "message": "the events could not be read"})
		return
	}
	detail := vms.CallDetail(c)
	vms.AddAnsweredBy(detail, evs)
	writeJSON(w, http.StatusOK, map[string]any{"call": detail, "state": c.State, "reason": c.Reason, "events": evs})
}

// LiveCalls is the number of calls this node's engine runs now.
func (n *Node) LiveCalls() int { return n.calls.engine.Live() }

// startCalls ends or redials what a previous run left unfinished.
func (n *Node) startCalls(ctx context.Context) error {
	return n.cluster.Start(ctx)
}

// stopCalls ends live calls with a recorded system reason.
func (n *Node) stopCalls() {
	n.cluster.Shutdown(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.calls.engine.Shutdown(ctx)
	})
	n.closeSIP()
}
