package sim

import (
	"encoding/binary"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// recording remembers what was played when, by reference to the shared
// audio, so a recorded call costs a few words per prompt until someone asks
// for the WAV.
type recording struct {
	start, end time.Time
	segs       []segment
	// live follows the audio of a leg of another carrier, which arrives in
	// real time (see addLive); per channel, the segment being extended.
	live      [2]liveRun
	liveTotal int // samples kept from live audio, bounded by maxLive
}

type segment struct {
	channel int // 0 left, 1 right
	at      time.Time
	audio   *dialtone.Audio
	pcm     []int16 // live audio, when audio is nil
}

// liveRun is a run of live audio being appended to segs[seg].
type liveRun struct {
	on   bool
	seg  int
	last time.Time // wall time of the last chunk
}

// liveGap is the pause in live audio, in wall time, after which the next
// chunk starts a new segment where it arrives on the clock instead of
// following the previous one.
const liveGap = 200 * time.Millisecond

// maxLive bounds the live audio a recording keeps (2 h, as a SIP
// recording), so a bridge that never ends cannot take all memory.
const maxLive = 2 * 3600 * 8000

func (r *recording) add(channel int, at time.Time, a *dialtone.Audio) {
	r.segs = append(r.segs, segment{channel: channel, at: at, audio: a})
}

// addLive records pcm, live audio arriving at wall time now and clock time
// at. The network's clock may run faster than real time (a scaled clock
// for tests and load runs) while live audio always comes at 8000 samples a
// real second, so live audio cannot be placed by clock time chunk by chunk
// (at scale 0.01 each 20 ms chunk would land 2 s after the last). A run of
// chunks is laid end to end from the clock time it began; a pause of
// liveGap starts a new run. On a real-time clock this is the true timeline.
func (r *recording) addLive(channel int, now, at time.Time, pcm []int16) {
	if r.liveTotal+len(pcm) > maxLive {
		return
	}
	r.liveTotal += len(pcm)
	run := &r.live[channel]
	if !run.on || now.Sub(run.last) > liveGap {
		r.segs = append(r.segs, segment{channel: channel, at: at})
		run.on, run.seg = true, len(r.segs)-1
	}
	run.last = now
	s := &r.segs[run.seg]
	s.pcm = append(s.pcm, pcm...)
}

// snapshot copies what wav reads, so the WAV can be rendered without the
// leg's lock while live audio is still appended: appends write past the
// copied lengths only.
func (r *recording) snapshot() *recording {
	return &recording{start: r.start, end: r.end, segs: append([]segment(nil), r.segs...)}
}

// wav renders the recording from start to end as a 16-bit 8 kHz stereo WAV.
// A prompt cut short is still rendered whole, clipped only at the end of the
// recording: good enough for a simulation.
func (r *recording) wav(end time.Time) []byte {
	frames := 0
	if d := end.Sub(r.start); d > 0 {
		frames = int(d * 8000 / time.Second)
	}
	const header = 44
	dataLen := frames * 4
	b := make([]byte, header+dataLen)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+dataLen))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 2) // stereo
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], 8000*4)
	binary.LittleEndian.PutUint16(b[32:], 4)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(dataLen))
	for _, s := range r.segs {
		off := int(s.at.Sub(r.start) * 8000 / time.Second)
		if off < 0 {
			off = 0
		}
		samples := s.pcm
		if s.audio != nil {
			samples = s.audio.Samples
		}
		for i, v := range samples {
			f := off + i
			if f >= frames {
				break
			}
			binary.LittleEndian.PutUint16(b[header+f*4+s.channel*2:], uint16(v))
		}
	}
	return b
}
