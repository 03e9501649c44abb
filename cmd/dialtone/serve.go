package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dialtone-voice/dialtone/engine"
	"github.com/dialtone-voice/dialtone/media/detect"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/receipt"
	"github.com/dialtone-voice/dialtone/server"
)

var errUsage = errors.New("usage")

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("DIALTONE_DATA", server.DefaultDataDir), "data directory (env DIALTONE_DATA)")
	addr := fs.String("http", envOr("DIALTONE_HTTP", server.DefaultHTTPAddr), "HTTP listen address; \"\" or off for none (env DIALTONE_HTTP)")
	tf := addTLSFlags(fs)
	demo := fs.Bool("demo", envBool("DIALTONE_DEMO", true), "at the first start, give the default account the demo: a number, templates, voice files and receipt queues; a --provision file listing accounts replaces it (env DIALTONE_DEMO; false for an empty account)")
	prov := fs.String("provision", envOr("DIALTONE_PROVISION", ""), "provisioning YAML applied at start (env DIALTONE_PROVISION)")
	windowText := fs.String("signature-window", envOr("DIALTONE_SIGNATURE_WINDOW", "15m"), "allowed clock skew of signed requests (env DIALTONE_SIGNATURE_WINDOW)")
	storeURL := fs.String("store", envOr("DIALTONE_STORE", ""), "store: empty for SQLite in the data directory, or postgres://… shared by several nodes (env DIALTONE_STORE)")
	publicURL := fs.String("public-url", envOr("DIALTONE_PUBLIC_URL", ""), "base URL clients reach this node at, for recording links (env DIALTONE_PUBLIC_URL; default http://<listen address>)")
	tokenLifetime := fs.Duration("token-lifetime", envDuration("DIALTONE_TOKEN_LIFETIME", receipt.DefaultTokenLifetime), "lifetime of QueryTokenForMnsQueue credentials (env DIALTONE_TOKEN_LIFETIME)")
	ringTimeout := fs.Duration("ring-timeout", envDuration("DIALTONE_RING_TIMEOUT", engine.DefaultRingTimeout), "how long a leg may ring before it is cancelled (env DIALTONE_RING_TIMEOUT)")
	callbackTimeout := fs.Duration("callback-timeout", envDuration("DIALTONE_CALLBACK_TIMEOUT", engine.DefaultCallbackTimeout), "SmartCall callback answer timeout (env DIALTONE_CALLBACK_TIMEOUT)")
	amd := fs.String("amd", envOr("DIALTONE_AMD", ""), "answering-machine detection thresholds, key=value,…: "+strings.Join(detect.Thresholds, ", ")+" (env DIALTONE_AMD; default the README's table)")
	queueTimeout := fs.Duration("queue-timeout", envDuration("DIALTONE_QUEUE_TIMEOUT", engine.DefaultQueueTimeout), "how long a call waits queued for a free slot of its display number's concurrency before it ends with 200121 (env DIALTONE_QUEUE_TIMEOUT)")
	nodeName := fs.String("node", envOr("DIALTONE_NODE", ""), "this node's name in call ownership (env DIALTONE_NODE; default the host name)")
	streamsPerAccount := fs.Int("streams-per-account", envInt("DIALTONE_STREAMS_PER_ACCOUNT", engine.DefaultStreamsPerAccount), "media streams (agents and forks) an account may have open at once on this node (env DIALTONE_STREAMS_PER_ACCOUNT)")
	maxLive := fs.Int("max-live-calls", envInt("DIALTONE_MAX_LIVE_CALLS", server.DefaultMaxLiveCalls), "calls this node runs at once; beyond it accepted calls wait queued for any node with room (env DIALTONE_MAX_LIVE_CALLS)")
	nodeLease := fs.Duration("node-lease", envDuration("DIALTONE_NODE_LEASE", server.DefaultNodeLease), "how long a node may miss heartbeats before other nodes end its calls and take its queued ones (env DIALTONE_NODE_LEASE)")
	egressAllow := fs.String("egress-allow", envOr(server.EnvEgressAllow, ""), "addresses, CIDR prefixes and host names (comma or space separated: 127.0.0.1,10.20.0.0/16,receiver.internal,*.corp.example) that receipt push and SmartCall callback URLs entered by account users may reach although they are loopback or private; URLs set by the operator need none (env "+server.EnvEgressAllow+"; the provisioning file's egress_allow adds to it)")
	logLevel := fs.String("log-level", envOr("DIALTONE_LOG_LEVEL", "info"), "debug, info, warn or error (env DIALTONE_LOG_LEVEL)")
	logFormat := fs.String("log-format", envOr("DIALTONE_LOG_FORMAT", "text"), "text or json (env DIALTONE_LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "serve: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if len(badEnv) > 0 {
		return fmt.Errorf("serve: %s", strings.Join(badEnv, "; "))
	}
	window, err := time.ParseDuration(*windowText)
	if err != nil || window <= 0 {
		return fmt.Errorf("--signature-window %q: want a positive duration such as 15m", *windowText)
	}
	amdCfg, err := detect.ParseConfig(*amd)
	if err != nil {
		return fmt.Errorf("--amd: %w", err)
	}
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	if *addr == "off" {
		*addr = ""
	}
	tlsCfg, dnsCfg, err := tf.config()
	if err != nil {
		return err
	}
	cfg := server.Config{
		DataDir:  *data,
		StoreURL: *storeURL,
		Receipts: receipt.Config{Tokens: receipt.Tokens{Lifetime: *tokenLifetime}, PublicURL: *publicURL},
		Calls: server.CallConfig{Engine: engine.Config{Node: *nodeName, RingTimeout: *ringTimeout, CallbackTimeout: *callbackTimeout,
			MachineDetection: amdCfg, QueueTimeout: *queueTimeout, StreamsPerAccount: *streamsPerAccount},
			Cluster: server.ClusterConfig{MaxLiveCalls: *maxLive, NodeLease: *nodeLease}},
		HTTPAddr:        *addr,
		HTTPSAddr:       *tf.https,
		TLS:             tlsCfg,
		DNS:             dnsCfg,
		ProvisionFile:   *prov,
		SignatureWindow: window,
		AdminToken:      os.Getenv("DIALTONE_ADMIN_TOKEN"),
		MasterKey:       os.Getenv("DIALTONE_MASTER_KEY"),
		AccessKeyID:     os.Getenv("DIALTONE_ACCESS_KEY_ID"),
		AccessKeySecret: os.Getenv("DIALTONE_ACCESS_KEY_SECRET"),
		ConsolePassword: os.Getenv(server.EnvConsoleAdminPassword),
		Demo:            *demo,
		EgressAllow:     outbound.ParseAllowList(*egressAllow),
		ClientCommand:   clientCommand(),
		Logger:          logger,
		Stdout:          stdout,
	}
	// Everything under the data directory (database, keys, recordings) is
	// private to the service user.
	syscall.Umask(0o077)
	node, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	return node.Run(ctx)
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// envDuration reads a duration from the environment, or def when unset. A
// value that does not parse is kept in badEnv and reported before start.
func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err == nil && d > 0 {
			return d
		}
		badEnv = append(badEnv, fmt.Sprintf("%s=%q is not a positive duration such as 30s", name, v))
	}
	return def
}

// envInt reads a positive integer from the environment, or def when unset;
// a bad value goes to badEnv like envDuration's.
func envInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err == nil && n > 0 {
			return n
		}
		badEnv = append(badEnv, fmt.Sprintf("%s=%q is not a positive integer", name, v))
	}
	return def
}

// envBool reads a boolean from the environment, or def when unset; a bad
// value goes to badEnv like envDuration's.
func envBool(name string, def bool) bool {
	if v := os.Getenv(name); v != "" {
		b, err := strconv.ParseBool(v)
		if err == nil {
			return b
		}
		badEnv = append(badEnv, fmt.Sprintf("%s=%q is not true or false", name, v))
	}
	return def
}

var badEnv []string

// clientCommand is how a person runs this binary again from the working
// directory: "go run ./cmd/dialtone" when it was started by go run from
// the repository, the path it was started by when that has a directory
// ("./dialtone"), else "dialtone" (found on PATH).
func clientCommand() string {
	if exe, err := os.Executable(); err == nil && strings.Contains(exe, string(filepath.Separator)+"go-build") {
		if st, err := os.Stat(filepath.Join("cmd", "dialtone")); err == nil && st.IsDir() {
			return "go run ./cmd/dialtone"
		}
	}
	if strings.ContainsRune(os.Args[0], filepath.Separator) {
		return os.Args[0]
	}
	return "dialtone"
}
