package sip

import (
	"sync"
	"time"
)

// trunkHealth follows whether a trunk answers INVITEs at all. Any response,
// even a failure such as 486, proves the trunk alive; an INVITE that gets
// none (a transport error, or nothing within InviteTimeout) counts against
// it, and DownAfter of them in a row mark it down for CoolOff. When the
// cool-off ends, the next call tries the trunk again; a single further
// failure marks it down again, a response clears the count.
type trunkHealth struct {
	mu        sync.Mutex
	fails     int
	downUntil time.Time
	downs     int // times marked down, for logs and tests
}

// up reports whether calls may be sent to the trunk at now.
func (h *trunkHealth) up(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !now.Before(h.downUntil)
}

// responded records a response to an INVITE.
func (h *trunkHealth) responded() {
	h.mu.Lock()
	h.fails = 0
	h.mu.Unlock()
}

// noResponse records an INVITE that got no response, and reports whether
// this marked the trunk down.
func (h *trunkHealth) noResponse(now time.Time, downAfter int, coolOff time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fails++
	if downAfter <= 0 || h.fails < downAfter || now.Before(h.downUntil) {
		return false
	}
	h.downUntil = now.Add(coolOff)
	h.downs++
	return true
}

// TrunkUp reports whether the named trunk takes calls now (false for an
// unknown trunk).
func (c *Carrier) TrunkUp(name string) bool {
	tr := c.trunks[name]
	return tr != nil && tr.health.up(time.Now())
}
