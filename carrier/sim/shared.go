package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The nodes of a cluster run one simulated network: its configuration is
// kept in the shared store (dialtone.NetworkStore) in the encoding below,
// and each node's Network takes it with Reconfigure whenever it changes.

// EncodeConfig is the stored form of cfg: JSON with the subscribers in
// number order, so that two equal networks encode alike whatever order a
// file listed them in. nil encodes the built-in defaults.
func EncodeConfig(cfg *Config) (string, error) {
	c := Config{TimeScale: 1, Default: DefaultBehavior}
	if cfg != nil {
		c = cfg.Defaults()
		c.Subscribers = slices.Clone(cfg.Subscribers)
	}
	slices.SortStableFunc(c.Subscribers, func(a, b Subscriber) int { return strings.Compare(a.Number, b.Number) })
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("sim: encode the network: %w", err)
	}
	return string(b), nil
}

// DecodeConfig reads EncodeConfig's form back and checks it with
// Validate (a network stored by another version must still make sense
// here).
func DecodeConfig(s string) (*Config, error) {
	var c Config
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf("sim: decode the network: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("sim: the network: %w", err)
	}
	return &c, nil
}

// Reconfigure makes the network behave as cfg says (nil: the built-in
// defaults) from the next call on, dropping what SetBehavior set; calls in
// progress keep the behaviour they started with. The clock's scale is the
// caller's to change.
func (n *Network) Reconfigure(cfg *Config) {
	def := cfg.Behavior("")
	subs := make(map[string]Behavior)
	if cfg != nil {
		def = cfg.Default
		for _, s := range cfg.Subscribers {
			subs[s.Number] = s.Behavior
		}
	}
	n.mu.Lock()
	n.def, n.subscribers = def, subs
	n.mu.Unlock()
}

// Config returns the network's configuration as it runs now, at scale.
func (n *Network) Config(scale float64) *Config {
	n.mu.RLock()
	c := &Config{TimeScale: scale, Default: n.def}
	n.mu.RUnlock()
	c.Subscribers = n.Subscribers()
	return c
}
