// Package server assembles a Dialtone node: store, gateway, actions, admin
// API and operational endpoints on one HTTP listener, and runs it until its
// context ends, then shuts down gracefully.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/admin"
	"github.com/dialtone-voice/dialtone/carrier/sip"
	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
	"github.com/dialtone-voice/dialtone/certs"
	"github.com/dialtone-voice/dialtone/cluster"
	"github.com/dialtone-voice/dialtone/console"
	"github.com/dialtone-voice/dialtone/firstrun"
	"github.com/dialtone-voice/dialtone/gateway"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/provision"
	"github.com/dialtone-voice/dialtone/receipt"
	"github.com/dialtone-voice/dialtone/resource"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/speech"
	"github.com/dialtone-voice/dialtone/vms"
)

// Config is everything a node needs to start.
type Config struct {
	DataDir string
	// StoreURL selects the store: "" for SQLite in DataDir, or a
	// postgres:// URL shared by several nodes (which must then share
	// DIALTONE_MASTER_KEY too).
	StoreURL string
	// HTTPAddr is the plain HTTP listener; "" for none (then HTTPSAddr
	// must be set).
	HTTPAddr string
	// HTTPSAddr, TLS and DNS configure the HTTPS listener, its
	// certificates and the DNS server (tls.go); "" for none.
	HTTPSAddr     string
	TLS           certs.Config
	DNS           DNSConfig
	ProvisionFile string
	// SignatureWindow is the allowed clock skew of signed requests.
	SignatureWindow time.Duration
	AdminToken      string
	// MasterKey overrides DATA/master.key (base64 or hex), from
	// DIALTONE_MASTER_KEY.
	MasterKey string
	// AccessKeyID and AccessKeySecret, when both set, become the default
	// account's key on first start instead of a generated one.
	AccessKeyID     string
	AccessKeySecret string
	// ConsolePassword (DIALTONE_CONSOLE_ADMIN_PASSWORD) is the console
	// operator admin's password, set at every start; at a first start
	// without it one is generated.
	ConsolePassword string
	// Demo gives the default account of a first start the demo
	// (examples/demo.yaml), unless a provisioning file is given.
	Demo bool
	// ClientCommand is how a person runs this binary from the node's
	// working directory ("dialtone", "./dialtone", "go run
	// ./cmd/dialtone"), for the command the banner prints.
	ClientCommand string
	// ShutdownTimeout bounds how long in-flight requests may take to finish.
	ShutdownTimeout time.Duration
	Logger          *slog.Logger
	// Stdout receives the human-oriented start-up text (where it listens,
	// generated credentials). Logs go to Logger.
	Stdout io.Writer
	// Ready, if set, receives the bound address once the listener is up
	// (the plain one, else the HTTPS one).
	Ready func(addr string)
	// ReadyHTTPS, if set, receives the HTTPS listener's bound address.
	ReadyHTTPS func(addr string)
	// Receipts tunes receipt delivery (receipts.go); zero values take the
	// defaults.
	Receipts receipt.Config
	// Calls tunes the call engine (see calls.go).
	Calls CallConfig
	// EgressAllow is the egress allow-list (--egress-allow,
	// DIALTONE_EGRESS_ALLOW): addresses, CIDR prefixes and host names that
	// URLs entered by account users may reach although they are loopback
	// or private. The provisioning file's egress_allow adds to it.
	EgressAllow []string
}

// Node is a running Dialtone node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	store   dialtone.Store
	handler http.Handler
	ready   atomic.Bool
	// flashKey seals the console's one-time messages (derived from the
	// master key, so they survive a restart and work on every node).
	flashKey []byte
	// espeak speaks TTS templates (calls, console previews).
	espeak *media.ESpeak
	// gateway is the POP API (routes).
	gateway *gateway.Gateway
	// receipts is the receipt delivery (receipts.go).
	receipts *receipts
	// calls are the actions, engine and carrier (calls.go).
	calls *calls
	// nodeName is this node's name in call ownership and the limits.
	nodeName string
	// sipConf is the provisioning file's SIP configuration, if any.
	sipConf *sipconf.Config
	// networkChangedByFile says that the provisioning file given at start
	// changed the cluster's simulated network.
	networkChangedByFile bool
	// cluster is the node's part in a cluster (package cluster), bus the
	// signals between its nodes.
	cluster *cluster.Cluster
	bus     cluster.Bus
	// sip is the SIP trunk carrier, nil without trunks (sip.go).
	sip *sip.Carrier
	// recognizer is the SIP carrier's speech recogniser, shared with the
	// simulated network's media streams; nil without SIP or one.
	recognizer speech.Recognizer
	// firstRun is what this start created, nil unless it was the store's
	// first (firstrun.go).
	firstRun *firstrun.Result
	// tokens open the admin API.
	tokens admin.Tokens
	// res is the one writer of account resources, for every front door.
	res *resource.Service
	// reg is the node's Prometheus registry (/metrics).
	reg *prometheus.Registry
	// out is the node's one client for requests sent on an account's
	// behalf (outbound.go).
	out *outbound.Client
}

// DBFile is the SQLite database's name inside the data directory.
const DBFile = "dialtone.db"

// Open prepares a node: data directory, master key, store (with migrations),
// first-start account and provisioning. It does not listen yet.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if (cfg.AccessKeyID == "") != (cfg.AccessKeySecret == "") {
		return nil, errors.New("DIALTONE_ACCESS_KEY_ID and DIALTONE_ACCESS_KEY_SECRET must be set together")
	}
	if err := cfg.Receipts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	key, created, err := secret.LoadOrCreateKey(filepath.Join(cfg.DataDir, "master.key"), cfg.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if created {
		cfg.Logger.Info("generated a new master key", "path", filepath.Join(cfg.DataDir, "master.key"))
	}
	if cfg.Calls.Engine.Node == "" {
		cfg.Calls.Engine.Node, _ = os.Hostname()
	}
	sealer, err := secret.NewSealer(key)
	if err != nil {
		return nil, err
	}
	// The file is read first: a bad one stops the start before anything is
	// written, and whether it lists accounts decides the demo.
	var doc *provision.Document
	if cfg.ProvisionFile != "" {
		if doc, err = readProvisionFile(cfg.ProvisionFile); err != nil {
			return nil, err
		}
	}
	n := &Node{cfg: cfg, log: cfg.Logger, reg: newRegistry()}
	if err := n.initOutbound(doc); err != nil {
		return nil, err
	}
	store, firstStart, err := openStore(ctx, cfg, sealer)
	if err != nil {
		return nil, err
	}
	// One synthesiser for calls, previews and the voices templates may name.
	espeak := &media.ESpeak{}
	n.store, n.espeak, n.flashKey = store, espeak, secret.Derive(key, "dialtone console flash v1")
	n.nodeName = cfg.Calls.Engine.Node
	// Every front door's outbound URLs are checked by the egress policy
	// the node's requests are sent under.
	n.res = resource.New(store, cfg.DataDir, cfg.Logger, resource.WithVoices(espeak), resource.WithURLChecker(n.out))
	if firstStart {
		if err := n.bootstrap(ctx, doc); err != nil {
			store.Close()
			return nil, err
		}
	}
	if doc != nil {
		if err := n.provision(ctx, doc); err != nil {
			store.Close()
			return nil, err
		}
	}
	if n.tokens, err = n.adminTokens(ctx); err != nil {
		store.Close()
		return nil, err
	}
	n.initCluster()
	net, version, err := n.loadNetwork(ctx)
	if err != nil {
		store.Close()
		return nil, err
	}
	if n.networkChangedByFile {
		n.networkChanged(ctx)
	}
	if err := n.openSIP(n.sipConf); err != nil {
		store.Close()
		return nil, err
	}
	if err := n.initReceipts(key); err != nil {
		n.closeSIP()
		store.Close()
		return nil, err
	}
	n.initCalls(net, version)
	n.handler = n.routes()
	return n, nil
}

// readProvisionFile reads and checks the provisioning file given at start.
func readProvisionFile(path string) (*provision.Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("provisioning: %w", err)
	}
	doc, err := provision.Parse(data, path)
	if err != nil {
		return nil, fmt.Errorf("provisioning: %w", err)
	}
	return doc, nil
}

// provision applies the provisioning file given at start, with the files
// it names read from its directory (its simulated network goes to the
// store with the rest, for every node of the cluster), and takes its SIP
// configuration, which is this node's.
func (n *Node) provision(ctx context.Context, doc *provision.Document) error {
	n.sipConf = doc.SIP
	ctx = dialtone.WithTrusted(dialtone.WithActor(ctx, "provision:"+doc.File+" on node "+n.nodeName))
	res, err := provision.Apply(ctx, n.res, doc, provision.WithFiles(provision.DirFiles(filepath.Dir(doc.File))))
	if err != nil {
		return fmt.Errorf("provisioning: %w", err)
	}
	n.log.Info("applied provisioning", "file", doc.File, "result", strings.TrimSpace(res.Summary()))
	if res.Network == provision.ActionUpdated {
		n.networkChangedByFile = true
		n.log.Warn("the provisioning file's network section differs from the simulated network the cluster ran; every node runs the file's now",
			"file", doc.File)
	} else if res.Network == provision.ActionCreated {
		n.networkChangedByFile = true
	}
	return nil
}

func (n *Node) routes() http.Handler {
	reg := n.reg
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerStoreMetrics(reg, n.store)
	gw := gateway.New(gateway.Config{
		Store:   n.store,
		Logger:  n.log,
		Window:  n.cfg.SignatureWindow,
		Metrics: gateway.NewMetrics(reg),
		Limits:  n.cluster.Limits(),
	})
	n.gateway = gw

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !n.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready\n")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := n.store.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "store unavailable\n")
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/admin/", admin.New(n.res, n.tokens, n.log, append(n.adminReceiptOptions(), admin.WithNetworkChanged(n.networkChanged))...))
	n.mountReceipts(gw, mux)
	n.mountCalls(mux, func(s *vms.Service) { s.Register(gw) })
	mux.Handle("/console/", n.consoleHandler())
	mux.HandleFunc("GET /favicon.ico", console.Favicon)
	// The POP API lives at the root path only (every official client posts
	// to "/"); any other path is not the API, so it is not answered with an
	// API error and does not count in the API's metrics.
	mux.Handle("/{$}", gw)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "404 page not found: the API is at /, the console at /console/", http.StatusNotFound)
	})
	return mux
}

// Handler is the node's HTTP handler (for tests that serve it themselves).
func (n *Node) Handler() http.Handler { return n.handler }

// Store is the node's store.
func (n *Node) Store() dialtone.Store { return n.store }

// Run listens and serves until ctx ends, then stops accepting, lets
// in-flight requests finish (up to ShutdownTimeout) and closes the store.
func (n *Node) Run(ctx context.Context) error {
	doors, err := n.openListeners()
	if err != nil {
		n.store.Close()
		return err
	}
	addr := doors.primary().ln.Addr().String()
	housekeeping, stopHK := context.WithCancel(context.Background())
	hkDone := make(chan struct{})
	go func() {
		defer close(hkDone)
		var wg sync.WaitGroup
		wg.Add(1)
		// The cluster's network changes reach this node's copy.
		go func() { defer wg.Done(); n.calls.sim.run(housekeeping, n.cluster.Limits().Shared()) }()
		n.housekeep(housekeeping)
		wg.Wait()
	}()
	stopReceipts := n.runReceipts(doors.baseURL())
	if err := n.startCalls(ctx); err != nil {
		n.log.Error("recovering unfinished calls", "err", err)
	}

	n.ready.Store(true)
	if doors.plain != nil {
		n.printBanner(addr)
	}
	n.printTLSBanner(doors)
	n.printFirstRun(doors)
	if n.cfg.Ready != nil {
		n.cfg.Ready(addr)
	}
	if n.cfg.ReadyHTTPS != nil && doors.secure != nil {
		n.cfg.ReadyHTTPS(doors.secure.ln.Addr().String())
	}
	err = n.serve(ctx, doors, n.cfg.ShutdownTimeout)
	n.stopCalls()
	stopHK()
	<-hkDone
	stopReceipts()
	if cerr := n.store.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close store: %w", cerr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	n.log.Info("stopped", "err", err)
	return err
}

// housekeep purges expired nonces and temporary credentials once a minute.
func (n *Node) housekeep(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	var swept time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := time.Now()
			if now.Sub(swept) >= voiceSweepEvery {
				swept = now
				n.sweepVoiceFiles(ctx, now)
			}
			if _, err := n.store.PurgeNonces(ctx, now); err != nil && ctx.Err() == nil {
				n.log.Warn("purge nonces", "err", err)
			}
			if _, err := n.store.PurgeTempCredentials(ctx, now); err != nil && ctx.Err() == nil {
				n.log.Warn("purge temporary credentials", "err", err)
			}
			if _, err := n.store.PurgeAudit(ctx, now.Add(-dialtone.AuditRetention)); err != nil && ctx.Err() == nil {
				n.log.Warn("purge audit records", "err", err)
			}
		}
	}
}

// voiceSweepEvery is how often the audio of deleted voice files is
// looked for.
const voiceSweepEvery = time.Hour

// sweepVoiceFiles removes the audio of voice files deleted (or given new
// audio) more than media.SweepGrace ago (calls accepted before the change
// may play it until then).
func (n *Node) sweepVoiceFiles(ctx context.Context, now time.Time) {
	if n.cfg.DataDir == "" {
		return
	}
	removed, err := media.SweepVoiceFiles(ctx, n.cfg.DataDir, now.Add(-media.SweepGrace), voiceRefs{n.store})
	if err != nil && ctx.Err() == nil {
		n.log.Warn("sweep deleted voice files", "err", err)
	}
	if removed > 0 {
		n.log.Info("removed the audio of deleted voice files", "files", removed)
	}
}
