package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/postgres"
	"github.com/dialtone-voice/dialtone/sqlite"
)

// registerStoreMetrics exports what the store has sent its database since
// it opened: dialtone_store_statements_total (every statement, BEGIN and
// COMMIT included) and, on PostgreSQL, dialtone_store_round_trips_total;
// on SQLite dialtone_store_commits_total (the writer's transactions). The
// scale-out bench reads them from each node's /metrics.
func registerStoreMetrics(reg prometheus.Registerer, st dialtone.Store) {
	counter := func(name, help string, f func() int64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(f()) }))
	}
	const statements = "dialtone_store_statements_total"
	const statementsHelp = "SQL statements the store has run (BEGIN and COMMIT included)."
	switch s := st.(type) {
	case *postgres.Store:
		counter(statements, statementsHelp, func() int64 { return s.Counts().Statements })
		counter("dialtone_store_round_trips_total", "Requests the store sent PostgreSQL and waited for (a statement, or a batch).",
			func() int64 { return s.Counts().RoundTrips })
	case *sqlite.Store:
		counter(statements, statementsHelp, func() int64 { return s.Counts().Statements })
		counter("dialtone_store_commits_total", "Transactions the SQLite writer committed (group commit: many writes each).",
			func() int64 { return s.Counts().Commits })
	}
}
