package resource

import (
	"context"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// SetSimNetwork stores the simulated network that every node sharing the
// store runs: config is its encoding (sim.EncodeConfig, opaque here), base
// the version it was made from (0: whatever is stored; see
// dialtone.NetworkStore). The actor is recorded as who changed it. The
// running nodes take it when told (the caller tells them, through the
// cluster's bus).
func (s *Service) SetSimNetwork(ctx context.Context, config string, base int64) (*dialtone.SharedNetwork, Action, error) {
	var (
		out    *dialtone.SharedNetwork
		action Action
	)
	err := s.change(ctx, func(tx *Service) error {
		n, changed, err := tx.store.PutNetwork(ctx, config, dialtone.ActorOf(ctx), base, time.Now())
		if err != nil {
			return err
		}
		out, action = n, Unchanged
		if changed {
			action = Updated
			if n.Version == 1 {
				action = Created
			}
			tx.record(ctx, "", "sim_network", "network", action, "version", n.Version)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, action, nil
}
