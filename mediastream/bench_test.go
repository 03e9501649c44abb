package mediastream

import (
	"bytes"
	"testing"
	"time"
)

// One 20 ms media message each way: what every stream does fifty times a
// second.
func BenchmarkEncodeMedia(b *testing.B) {
	m := &Message{Event: EventMedia, SequenceNumber: 1234, StreamSID: sid,
		Media: &Media{Track: TrackInbound, Chunk: 1233, Timestamp: 24660 * time.Millisecond, Payload: bytes.Repeat([]byte{0x7f}, FrameBytes)}}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendEncode(buf[:0], m, FromDialtone); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeApplicationMedia(b *testing.B) {
	msg, err := Encode(&Message{Event: EventMedia, StreamSID: sid, Media: &Media{Payload: bytes.Repeat([]byte{0x7f}, FrameBytes)}}, FromApplication)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(msg, FromApplication); err != nil {
			b.Fatal(err)
		}
	}
}
