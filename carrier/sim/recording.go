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
}

type segment struct {
	channel int // 0 left, 1 right
	at      time.Time
	audio   *dialtone.Audio
}

func (r *recording) add(channel int, at time.Time, a *dialtone.Audio) {
	r.segs = append(r.segs, segment{channel: channel, at: at, audio: a})
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
		for i, v := range s.audio.Samples {
			f := off + i
			if f >= frames {
				break
			}
			binary.LittleEndian.PutUint16(b[header+f*4+s.channel*2:], uint16(v))
		}
	}
	return b
}
