package server

import (
	"fmt"
	"log/slog"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/route"
	"github.com/dialtone-voice/dialtone/carrier/sip"
	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
)

// SIP trunks. The provisioning file's sip, trunks and routes sections (one
// sipconf.Config) are read when the node opens: the SIP carrier binds its
// listener then, and calls matching a route go through it while every
// other call stays on the simulated network. The admin API's provisioning
// endpoint does not change trunks or routes of a running node (Apply does
// not store them); a changed trunk configuration takes effect at the next
// restart.

// openSIP starts the SIP carrier when the configuration has trunks (nil:
// the file has no sip, trunks or routes section).
func (n *Node) openSIP(cfg *sipconf.Config) error {
	if cfg == nil {
		return nil
	}
	if len(cfg.Trunks) == 0 {
		n.log.Warn("the provisioning file configures SIP but no trunks; every call stays on the simulated network")
		return nil
	}
	if len(cfg.Routes) == 0 && cfg.DefaultTrunk == "" {
		n.log.Warn("SIP trunks configured without routes; no call will use them")
	}
	rec := sip.NewRecognizer(cfg.ASR, n.out, n.log)
	// The trunks' caps are the cluster's when its nodes share a store.
	c, err := sip.New(sip.Config{Config: *cfg, Recognizer: rec, Limits: n.cluster.Limits()}, n.log)
	if err != nil {
		// Validate names trunks and fields, never passwords.
		return fmt.Errorf("sip carrier: %w", err)
	}
	n.sip = c
	n.recognizer = rec
	n.log.Info("sip trunks", slog.Int("trunks", len(cfg.Trunks)), slog.Int("routes", len(cfg.Routes)), slog.String("listen", c.Addr()))
	return nil
}

// callCarrier is the carrier the engine dials through: the simulated
// network alone, or the SIP trunks for routed calls in front of it.
func (n *Node) callCarrier(network dialtone.Carrier) dialtone.Carrier {
	if n.sip == nil {
		return network
	}
	return &route.Carrier{Trunks: n.sip, Default: network}
}

// closeSIP hangs up what is left on the trunks and stops the listener;
// the engine has ended its calls before.
func (n *Node) closeSIP() {
	if n.sip == nil {
		return
	}
	if err := n.sip.Close(); err != nil {
		n.log.Warn("closing the sip carrier", "err", err)
	}
}

// SIPAddr is the SIP carrier's local address, "" without trunks.
func (n *Node) SIPAddr() string {
	if n.sip == nil {
		return ""
	}
	return n.sip.Addr()
}
