package server

import (
	"context"
	"net/http"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/console"
	"github.com/dialtone-voice/dialtone/resource"
)

// The web console (/console/). Kept apart from server.go, which only mounts
// the handler built here.

// consoleHandler builds the console over the node's store, engine and
// simulated network.
func (n *Node) consoleHandler() http.Handler {
	// The first start set it already.
	if pw := n.cfg.ConsolePassword; pw != "" && n.firstRun == nil {
		ctx, cancel := context.WithTimeout(dialtone.WithTrusted(dialtone.WithActor(context.Background(), EnvConsoleAdminPassword)), 10*time.Second)
		_, action, err := n.res.PutConsoleUser(ctx, dialtone.ConsoleUserInput{Username: OperatorName, Password: pw, Operator: true})
		cancel()
		switch {
		case err != nil:
			n.log.Error("console: could not set the operator password", "env", EnvConsoleAdminPassword, "err", err)
		case action != resource.Unchanged:
			n.log.Info("console: operator admin set from the environment", "env", EnvConsoleAdminPassword)
		}
	}
	cfg := console.Config{
		Store:     n.store,
		Resources: n.res,
		Logger:    n.log,
		Speaker:   n.espeak,
		Voices:    n.espeak,
		DataDir:   n.cfg.DataDir,
		Serving:   n.ready.Load,
		FlashKey:  n.flashKey,
		Outbound:  n.out,
	}
	// Sessions in the store survive a restart and work on every node of a
	// cluster.
	cfg.Sessions = console.NewStoreSessions(n.store)
	if n.calls != nil {
		cfg.Live, cfg.Net = n.calls.engine, consoleNet{Network: n.calls.network, s: n.calls.sim}
		// The hang-up button takes the API's CancelCall path.
		cfg.Calls = n.calls.vms.Dialer
	}
	if n.receipts != nil {
		cfg.RecordURL, cfg.Redriven = n.receipts.records.URL, n.receipts.pusher.Notify
	}
	h, err := console.New(cfg)
	if err != nil {
		n.log.Error("console: not available", "err", err)
		return http.NotFoundHandler()
	}
	return h
}
