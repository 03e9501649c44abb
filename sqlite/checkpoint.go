package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Checkpoints off the writer.
//
// In WAL mode SQLite copies the log back into the database file (a
// checkpoint) inside the COMMIT that takes the log past
// wal_autocheckpoint pages. That COMMIT is the writer's, so every write of
// the node waited while pages were copied and the file synced. In the
// end-to-end bench, where the writer bounded the node, a writer that never
// checkpointed placed 9 to 19% more calls/s. A checkpointer goroutine with
// a connection of its own runs them instead, on whatever core is free,
// while the writer goes on appending to the log (about 7% more calls/s in
// six alternations: the copying still takes CPU, only elsewhere).
//
// The writer tells it after each batch (a send that never blocks); it
// then runs a PASSIVE checkpoint, which waits for no reader or writer and
// copies what no reader still needs, and runs the next one no sooner than
// checkpointEvery later, so that a busy store copies a page changed many
// times (an index page, a call's row) once per interval rather than at
// every 1,000 pages of log. The write connection keeps a checkpoint of its
// own for a log that grows past walFallbackPages anyway (a checkpointer
// that cannot keep up, or one held back by a long reader), so the log
// stays bounded as it was before. An idle store is checkpointed once
// after its last write.

const (
	// checkpointEvery is the shortest time between two checkpoints.
	checkpointEvery = time.Second
	// walFallbackPages is the write connection's own wal_autocheckpoint:
	// ten times SQLite's default, about 40 MB of log at 4 KiB pages.
	walFallbackPages = 10000
	// checkpointTimeout bounds one checkpoint; PASSIVE never waits on
	// locks, so only a stalled disk reaches it.
	checkpointTimeout = 30 * time.Second
)

// checkpointer runs the checkpoints of a store's file.
type checkpointer struct {
	db   *sql.DB // one connection of its own, never the writer's
	log  *slog.Logger
	kick chan struct{} // one pending request at most
	quit chan struct{}
	done chan struct{}

	runs atomic.Int64 // checkpoints run (tests)
	// last is the latest checkpoint's result: frames in the log and
	// frames copied back (tests).
	lastLog, lastCopied atomic.Int64
}

// newCheckpointer opens the checkpointer's connection to the file at path
// and starts it. The connection is a writer's (a read-only one may not
// checkpoint) but never begins a transaction.
func newCheckpointer(ctx context.Context, path string, log *slog.Logger) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("checkpoint connection: %w", err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("checkpoint connection: %w", err)
	}
	c := &checkpointer{db: db, log: log, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c, nil
}

// wrote tells the checkpointer that the log grew. It never blocks.
func (c *checkpointer) wrote() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	for {
		select {
		case <-c.kick:
		case <-c.quit:
			return
		}
		if err := c.run(); err != nil {
			// The next write asks again; the writer's fallback bounds the
			// log meanwhile.
			c.log.Warn("sqlite checkpoint failed", "err", err)
		}
		select {
		case <-time.After(checkpointEvery):
		case <-c.quit:
			return
		}
	}
}

// run runs one PASSIVE checkpoint. Another process's checkpoint in
// progress is not an error: SQLite reports it as busy and this one
// copies nothing.
func (c *checkpointer) run() error {
	ctx, cancel := context.WithTimeout(context.Background(), checkpointTimeout)
	defer cancel()
	var busy, logFrames, copied int64
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &copied); err != nil {
		return fmt.Errorf("wal_checkpoint: %w", err)
	}
	c.runs.Add(1)
	c.lastLog.Store(logFrames)
	c.lastCopied.Store(copied)
	return nil
}

// close stops the checkpointer after the checkpoint in hand, if any, and
// closes its connection.
func (c *checkpointer) close() error {
	close(c.quit)
	<-c.done
	return c.db.Close()
}
