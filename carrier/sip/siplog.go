package sip

import (
	"context"
	"log/slog"

	"golang.org/x/time/rate"
)

// sipgo logs what a stranger's datagram did to it (unparsable, no Via, no
// handler for the method) at Error or Warn. Anyone who can reach our SIP
// port could then fill the logs and bury real faults, so those records
// are lowered to Debug with their datagram cut short, and sipgo's other
// Warn and Error records pass at a bounded rate.

// peerCaused are sipgo v1.7.2's messages about input it was sent.
var peerCaused = map[string]bool{
	"failed to parse":                                    true,
	"Server tx failed to handle request":                 true,
	"Client tx failed to handle response":                true,
	"Failed to send stateless 400 for malformed request": true,
	"SIP request handler not found":                      true,
	"unsupported message, skip it":                       true,
	"Read filter error":                                  true,
}

// maxLoggedData bounds the datagram kept in a Debug record.
const maxLoggedData = 256

// sipgoHandler wraps the carrier's handler for sipgo's loggers.
type sipgoHandler struct {
	h   slog.Handler
	lim *rate.Limiter // shared by the handler's derivatives
}

func newSipgoLogger(log *slog.Logger) *slog.Logger {
	// 10 records at once, then one a second: enough to see that sipgo is
	// failing, not enough to flood.
	return slog.New(&sipgoHandler{h: log.Handler(), lim: rate.NewLimiter(1, 10)})
}

func (s *sipgoHandler) Enabled(ctx context.Context, l slog.Level) bool {
	// A peer-caused Error becomes Debug in Handle, so it must get there
	// whenever Debug is on too.
	return s.h.Enabled(ctx, l) || s.h.Enabled(ctx, slog.LevelDebug)
}

func (s *sipgoHandler) Handle(ctx context.Context, r slog.Record) error {
	if peerCaused[r.Message] {
		if !s.h.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		d := slog.NewRecord(r.Time, slog.LevelDebug, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			if v := a.Value.Resolve(); v.Kind() == slog.KindString && len(v.String()) > maxLoggedData {
				a = slog.String(a.Key, v.String()[:maxLoggedData]+"…")
			}
			d.AddAttrs(a)
			return true
		})
		return s.h.Handle(ctx, d)
	}
	if !s.h.Enabled(ctx, r.Level) {
		return nil
	}
	if r.Level >= slog.LevelWarn && !s.lim.Allow() {
		return nil
	}
	return s.h.Handle(ctx, r)
}

func (s *sipgoHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &sipgoHandler{h: s.h.WithAttrs(as), lim: s.lim}
}

func (s *sipgoHandler) WithGroup(name string) slog.Handler {
	return &sipgoHandler{h: s.h.WithGroup(name), lim: s.lim}
}
