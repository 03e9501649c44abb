package receipt

import (
	"errors"
	"fmt"
)

// Config is a node's receipt delivery settings, read at start (dialtone
// serve's flags): the tunables of the parts, each declared by its part.
// Zero values take the parts' defaults; the node wires in the stores,
// logger and hooks.
type Config struct {
	// Tokens tunes QueryTokenForMnsQueue: Lifetime, default
	// DefaultTokenLifetime.
	Tokens Tokens
	// Push tunes HTTP batch push: Timeout (default DefaultPushTimeout),
	// Retries (default DefaultRetries), Sweep, Concurrency, BatchSize,
	// Lease.
	Push PusherConfig
	// Dispatch tunes the outbox dispatcher: Sweep, Batch.
	Dispatch DispatcherConfig
	// PublicURL prefixes recording URLs; "": the node's listen address,
	// once it is known.
	PublicURL string
}

// Defaults returns c with every unset tunable at its default.
func (c Config) Defaults() Config {
	if c.Tokens.Lifetime <= 0 {
		c.Tokens.Lifetime = DefaultTokenLifetime
	}
	c.Push = c.Push.Defaults()
	c.Dispatch = c.Dispatch.Defaults()
	return c
}

// Validate reports the settings no default repairs: a push retry wait
// that is not positive (the delivery would be retried at once, without
// end).
func (c Config) Validate() error {
	var errs []error
	for i, d := range c.Push.Retries {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("push retry %d: %v is not a positive wait", i+1, d))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("receipts: %w", err)
	}
	return nil
}
