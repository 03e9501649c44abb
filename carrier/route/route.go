// Package route is the carrier the engine dials through when SIP trunks
// are configured: a call whose account and callee match a trunk route goes
// to the SIP carrier, every other call to the default carrier (the
// simulated network), so trunks can be added for some numbers or accounts
// without changing how the rest behave.
package route

import (
	"context"
	"errors"
	"fmt"

	"github.com/dialtone-voice/dialtone"
)

// ErrNoCarrier is returned when a call matches no route and there is no
// default carrier.
var ErrNoCarrier = errors.New("route: no carrier for this call")

// Trunks is a carrier that knows which calls it has a route for (the SIP
// carrier).
type Trunks interface {
	dialtone.Carrier
	HasRoute(accountUID, callee string) bool
}

// Carrier sends each call to Trunks when it has a route for it, and to
// Default otherwise. Either may be nil.
type Carrier struct {
	Trunks  Trunks
	Default dialtone.Carrier
}

// Originate places the leg on the carrier the call's route picks.
func (c *Carrier) Originate(ctx context.Context, req dialtone.OriginateRequest) (dialtone.Leg, error) {
	if c.Trunks != nil && c.Trunks.HasRoute(req.AccountUID, req.To) {
		return c.Trunks.Originate(ctx, req)
	}
	if c.Default == nil {
		return nil, fmt.Errorf("originate %s leg %s: %w", req.CallID, req.Leg, ErrNoCarrier)
	}
	return c.Default.Originate(ctx, req)
}

var _ dialtone.Carrier = (*Carrier)(nil)
