package server

import (
	"context"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/cluster"
	"github.com/dialtone-voice/dialtone/engine"
	"github.com/dialtone-voice/dialtone/mns"
	"github.com/dialtone-voice/dialtone/postgres"
	"github.com/dialtone-voice/dialtone/sqlstore"
)

// Several nodes on one store: the coordination is package cluster's; this
// file only chooses its bus and wires it to the engine and the API.

// ClusterConfig tunes the node's part in a cluster; zero values take the
// defaults. A single SQLite node runs the same loops against itself.
type ClusterConfig = cluster.Config

// Defaults of ClusterConfig.
const (
	DefaultMaxLiveCalls = cluster.DefaultMaxLiveCalls
	DefaultNodeLease    = cluster.DefaultNodeLease
)

// initCluster prepares the cluster parts that receipt delivery and the
// engine need before they exist; it runs first in Open. The bus is chosen
// here, once: NOTIFY between the nodes of a PostgreSQL store, in-process
// signals for the embedded store.
//
// The limits are chosen with it: counted in this node's memory on the
// embedded store (no store round trip added to a call), and in the store
// on PostgreSQL, so that display numbers' concurrency and trunks' caps
// hold for the whole cluster (cluster.SharedLimits).
func (n *Node) initCluster() {
	var bus cluster.Bus = cluster.NewLocalBus()
	var limits cluster.Limits = cluster.NewLocalLimits(n.nodeName)
	if pg, ok := n.store.(*postgres.Store); ok {
		pb := cluster.NewPostgresBus(pg.DSN(), pg, n.log)
		// Keys and accounts changed on another node leave this node's
		// authentication cache at once (sqlstore/authcache.go).
		pb.OnAuthChanged(sqlstore.AuthChannel, pg.AuthChanged)
		bus = pb
		limits = cluster.NewSharedLimits(n.store, bus, n.nodeName, n.cfg.Calls.Cluster.Sweep, n.log)
	}
	n.bus = bus
	n.cluster = cluster.New(n.cfg.Calls.Cluster, n.store, bus, engine.ErrShuttingDown, n.log)
	n.cluster.SetLimits(limits)
}

// clusterWaker is the waker of the receipt queues' long polls.
func (n *Node) clusterWaker() mns.Waker { return n.cluster.Waker() }

// clusterDialer is the API's dialer: the engine, with Start deferring to
// the claimers when this node is full.
type clusterDialer struct {
	*engine.Engine
	c *cluster.Cluster
}

func (d clusterDialer) Start(ctx context.Context, call *dialtone.Call) error {
	return d.c.StartCall(ctx, call)
}
