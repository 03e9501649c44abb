package certs

import (
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"
)

// HandshakeLogEvery is how often at most a failing handshake is logged
// for one source address.
const HandshakeLogEvery = 10 * time.Minute

// maxSources bounds the sources remembered by a HandshakeLog.
const maxSources = 4096

// HandshakeLog is the error log of an HTTPS server: a failed TLS handshake
// is logged once per source address and HandshakeLogEvery, with its reason
// and how many failures from that source went unlogged since; other server
// errors are logged as warnings. Use it as http.Server.ErrorLog through
// Logger.
type HandshakeLog struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	sources map[string]*sourceState
}

type sourceState struct {
	logged     time.Time
	suppressed int
}

// NewHandshakeLog logs to l.
func NewHandshakeLog(l *slog.Logger) *HandshakeLog {
	return &HandshakeLog{log: l, every: HandshakeLogEvery, now: time.Now, sources: map[string]*sourceState{}}
}

// Logger is the *log.Logger to give http.Server.ErrorLog.
func (h *HandshakeLog) Logger() *log.Logger { return log.New(h, "", 0) }

const handshakePrefix = "http: TLS handshake error from "

// Write takes one line of net/http's error log.
func (h *HandshakeLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	rest, ok := strings.CutPrefix(line, handshakePrefix)
	if !ok {
		h.log.Warn(line)
		return len(p), nil
	}
	addr, reason, _ := strings.Cut(rest, ": ")
	source := addr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		source = host
	}
	if n, ok := h.allow(source); ok {
		h.log.Warn("TLS handshake failed", "source", source, "reason", reason, "unlogged_before", n,
			"next_log_after", h.every.String())
	}
	return len(p), nil
}

// allow reports whether source may be logged now, and how many of its
// failures were not.
func (h *HandshakeLog) allow(source string) (int, bool) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.sources[source]
	if st != nil && now.Sub(st.logged) < h.every {
		st.suppressed++
		return 0, false
	}
	if st == nil {
		if len(h.sources) >= maxSources {
			for k, v := range h.sources {
				if now.Sub(v.logged) >= h.every {
					delete(h.sources, k)
				}
			}
			if len(h.sources) >= maxSources {
				// Flooded by many sources: forget one at random.
				for k := range h.sources {
					delete(h.sources, k)
					break
				}
			}
		}
		st = &sourceState{}
		h.sources[source] = st
	}
	n := st.suppressed
	st.logged, st.suppressed = now, 0
	return n, true
}
