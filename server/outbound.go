package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/provision"
)

// Requests sent on an account's behalf: the node's one outbound client,
// shared by receipt pushes, the console's test push, SmartCall callbacks
// and HTTP recognisers, so that its egress policy and per-account caps
// hold across all of them. Kept apart from server.go, which only calls
// these functions.

// EnvEgressAllow is the environment variable of the egress allow-list
// (the default of dialtone serve's --egress-allow).
const EnvEgressAllow = "DIALTONE_EGRESS_ALLOW"

// initOutbound builds the outbound client from the allow-list of the
// configuration (--egress-allow, DIALTONE_EGRESS_ALLOW) and of the
// provisioning file's node part (egress_allow), with its metrics on the
// node's registry.
func (n *Node) initOutbound(doc *provision.Document) error {
	allow := append([]string(nil), n.cfg.EgressAllow...)
	if doc != nil {
		allow = append(allow, doc.EgressAllow...)
	}
	policy, err := outbound.NewPolicy(allow...)
	if err != nil {
		return fmt.Errorf("egress allow-list: %w", err)
	}
	metrics, err := outbound.NewMetrics(n.reg)
	if err != nil {
		return fmt.Errorf("outbound metrics: %w", err)
	}
	if n.out, err = outbound.New(outbound.Config{Policy: policy, Logger: n.log, Metrics: metrics}); err != nil {
		return err
	}
	if entries := policy.Allowed(); len(entries) > 0 {
		n.log.Info("egress allow-list: account users' URLs may reach these private addresses and hosts", "allow", strings.Join(entries, " "))
	}
	return nil
}

// Outbound is the node's outbound client.
func (n *Node) Outbound() *outbound.Client { return n.out }

// callbackSigner reads an account's SmartCall callback secrets at each
// callback, so that a rotation applies at once.
func (n *Node) callbackSigner(ctx context.Context, accountUID string) (outbound.Signer, error) {
	st, err := n.store.GetAccountSettings(ctx, accountUID)
	if err != nil {
		return outbound.Signer{}, err
	}
	k := st.SmartCallCallbackSecret
	return outbound.Signer{Secret: k.Current, Previous: k.Previous, PreviousUntil: k.PreviousUntil}, nil
}

// newRegistry is the node's Prometheus registry.
func newRegistry() *prometheus.Registry { return prometheus.NewRegistry() }
