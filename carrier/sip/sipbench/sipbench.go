// Package sipbench measures the SIP carrier (package carrier/sip) beside
// its physical limits, on loopback, in the same run on the same machine:
//
//   - calls per second: Dialtone placing short calls against a SIPp
//     answerer, beside SIPp calling SIPp at the same offered rate
//     ([DialtoneCalls], [SippCalls]);
//   - concurrent RTP: N answered G.711 calls playing audio, how late their
//     packets leave (measured by a far end in a child process from kernel
//     send stamps), CPU and heap per call, beside a bare loop that only
//     writes the same packets ([RunConcurrent], [RunBare], [FarEndMain]).
//
// It exists so that the Go benchmarks (go test -bench SIP ./carrier/sip/sipbench/)
// and the rows of `dialtone bench` run one and the same code. It uses only
// the exported API of carrier/sip, so it measures what a user of the
// carrier gets. Every run is bounded in calls and time, and talks to
// 127.0.0.1 only.
package sipbench

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// G.711 as the carrier sends it: 8 kHz, one 160-sample frame every 20 ms.
const (
	sampleRate   = 8000
	frameSamples = 160
	frameTime    = 20 * time.Millisecond
)

// LateLimit is how late a packet may leave after its 20 ms slot before it
// counts as late.
const LateLimit = 5 * time.Millisecond

// quietLog is what a production carrier logs (Info), thrown away, so the
// cost of building log records is in the figures.
func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Tone is d of a sine at freq Hz, 8 kHz 16-bit, at a comfortable level:
// a prompt whose length is known, without needing TTS or a file.
func Tone(d time.Duration, freq float64) *dialtone.Audio {
	n := int(d * sampleRate / time.Second)
	a := &dialtone.Audio{Samples: make([]int16, n), Label: fmt.Sprintf("tone %v Hz", freq)}
	for i := range a.Samples {
		a.Samples[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i)/sampleRate))
	}
	return a
}
