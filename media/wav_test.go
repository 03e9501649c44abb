package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// wavFile builds a WAV file by hand, so tests can make it wrong on purpose.
type wavFile struct {
	tag        uint16
	channels   int
	rate       int
	bits       int
	blockAlign int // 0 = computed
	extensible uint16
	before     []byte // chunks before fmt
	between    []byte // chunks between fmt and data
	data       []byte
	dataSize   int64 // -1 = len(data)
}

func (w wavFile) bytes() []byte {
	le := binary.LittleEndian
	ba := w.blockAlign
	if ba == 0 {
		ba = w.channels * w.bits / 8
	}
	var fmtc []byte
	fmtc = le.AppendUint16(fmtc, w.tag)
	fmtc = le.AppendUint16(fmtc, uint16(w.channels))
	fmtc = le.AppendUint32(fmtc, uint32(w.rate))
	fmtc = le.AppendUint32(fmtc, uint32(w.rate*ba))
	fmtc = le.AppendUint16(fmtc, uint16(ba))
	fmtc = le.AppendUint16(fmtc, uint16(w.bits))
	if w.tag == wavFormatExtensible {
		fmtc = le.AppendUint16(fmtc, 22)
		fmtc = le.AppendUint16(fmtc, uint16(w.bits))
		fmtc = le.AppendUint32(fmtc, 0x4) // front centre
		fmtc = le.AppendUint16(fmtc, w.extensible)
		fmtc = append(fmtc, ksSubformatTail...)
	}
	var b []byte
	b = append(b, "RIFF\x00\x00\x00\x00WAVE"...)
	b = append(b, w.before...)
	b = append(b, "fmt "...)
	b = le.AppendUint32(b, uint32(len(fmtc)))
	b = append(b, fmtc...)
	b = append(b, w.between...)
	b = append(b, "data"...)
	size := w.dataSize
	if size < 0 {
		size = int64(len(w.data))
	}
	b = le.AppendUint32(b, uint32(size))
	b = append(b, w.data...)
	le.PutUint32(b[4:8], uint32(len(b)-8))
	return b
}

func pcm16(s ...int16) []byte {
	var b []byte
	for _, v := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(v))
	}
	return b
}

func TestDecodeWAVFormats(t *testing.T) {
	tests := []struct {
		name string
		w    wavFile
		rate int
		ch   int
		want []int16
	}{
		{"16-bit mono", wavFile{tag: 1, channels: 1, rate: 16000, bits: 16, data: pcm16(0, 1000, -1000, 32767, -32768), dataSize: -1},
			16000, 1, []int16{0, 1000, -1000, 32767, -32768}},
		{"16-bit stereo", wavFile{tag: 1, channels: 2, rate: 44100, bits: 16, data: pcm16(1, 2, 3, 4), dataSize: -1},
			44100, 2, []int16{1, 2, 3, 4}},
		{"8-bit unsigned", wavFile{tag: 1, channels: 1, rate: 8000, bits: 8, data: []byte{128, 255, 0, 129}, dataSize: -1},
			8000, 1, []int16{0, 127 << 8, -128 << 8, 1 << 8}},
		{"extensible PCM", wavFile{tag: wavFormatExtensible, extensible: 1, channels: 1, rate: 22050, bits: 16, data: pcm16(7, -7), dataSize: -1},
			22050, 1, []int16{7, -7}},
		{"µ-law", wavFile{tag: 7, channels: 1, rate: 8000, bits: 8, data: EncodeMuLaw([]int16{0, 8000, -8000}), dataSize: -1},
			8000, 1, DecodeMuLaw(EncodeMuLaw([]int16{0, 8000, -8000}))},
		{"A-law", wavFile{tag: 6, channels: 1, rate: 8000, bits: 8, data: EncodeALaw([]int16{0, 8000, -8000}), dataSize: -1},
			8000, 1, DecodeALaw(EncodeALaw([]int16{0, 8000, -8000}))},
		{"extra chunks, odd sized", wavFile{tag: 1, channels: 1, rate: 8000, bits: 16,
			before: []byte("JUNK\x03\x00\x00\x00abc\x00"), between: []byte("LIST\x04\x00\x00\x00INFO"),
			data: pcm16(5), dataSize: -1}, 8000, 1, []int16{5}},
		{"streaming size placeholder (espeak-ng)", wavFile{tag: 1, channels: 1, rate: 22050, bits: 16, data: pcm16(1, 2, 3), dataSize: 0x7ffff000},
			22050, 1, []int16{1, 2, 3}},
		{"torn final frame dropped", wavFile{tag: 1, channels: 2, rate: 8000, bits: 16, data: append(pcm16(1, 2), 9, 9, 9), dataSize: -1},
			8000, 2, []int16{1, 2}},
		{"empty data", wavFile{tag: 1, channels: 1, rate: 8000, bits: 16, dataSize: -1}, 8000, 1, []int16{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := DecodeWAV(bytes.NewReader(tt.w.bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if p.Rate != tt.rate || p.Channels != tt.ch {
				t.Errorf("rate %d channels %d, want %d %d", p.Rate, p.Channels, tt.rate, tt.ch)
			}
			if !equal16(p.Samples, tt.want) {
				t.Errorf("samples %v, want %v", p.Samples, tt.want)
			}
		})
	}
}

func TestDecodeWAVErrors(t *testing.T) {
	ok := wavFile{tag: 1, channels: 1, rate: 8000, bits: 16, data: pcm16(1), dataSize: -1}
	mod := func(f func(*wavFile)) []byte { w := ok; f(&w); return w.bytes() }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"float", mod(func(w *wavFile) { w.tag = 3; w.bits = 32 }), "wav: unsupported format 3 (IEEE float)"},
		{"extensible float", mod(func(w *wavFile) { w.tag = wavFormatExtensible; w.extensible = 3; w.bits = 32 }), "wav: unsupported format 3 (IEEE float)"},
		{"ADPCM", mod(func(w *wavFile) { w.tag = 2; w.bits = 4; w.blockAlign = 256 }), "wav: unsupported format 2 (Microsoft ADPCM)"},
		{"unknown tag", mod(func(w *wavFile) { w.tag = 0x1234 }), "wav: unsupported format 0x1234"},
		{"24-bit", mod(func(w *wavFile) { w.bits = 24 }), "wav: 24-bit samples are not supported"},
		{"6 channels", mod(func(w *wavFile) { w.channels = 6 }), "wav: 6 channels are not supported"},
		{"0 channels", mod(func(w *wavFile) { w.channels = 0 }), "wav: 0 channels"},
		{"rate 0", mod(func(w *wavFile) { w.rate = 0 }), "wav: sample rate 0 Hz is out of range"},
		{"rate huge", mod(func(w *wavFile) { w.rate = 1 << 30 }), "out of range"},
		{"bad block align", mod(func(w *wavFile) { w.blockAlign = 7 }), "wav: block align 7"},
		{"not RIFF", []byte("OggS\x00\x00\x00\x00WAVEfmt "), "wav: not a RIFF file"},
		{"not WAVE", []byte("RIFF\x00\x00\x00\x00AVI fmt "), "not WAVE"},
		{"RIFX", []byte("RIFX\x00\x00\x00\x00WAVE"), "big-endian"},
		{"truncated header", []byte("RIFF"), "wav: truncated RIFF header"},
		{"no data", ok.bytes()[:36], "wav: no data chunk"},
		{"data before fmt", []byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x01\x00"), "data chunk before fmt"},
		{"huge fmt", []byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\xff\xff\xff"), "fmt chunk of 4294967295 bytes is implausible"},
		{"huge skipped chunk", []byte("RIFF\x00\x00\x00\x00WAVEJUNK\xff\xff\xff\xffabc"), "truncated"},
		{"truncated fmt", ok.bytes()[:30], "wav: truncated fmt chunk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeWAV(bytes.NewReader(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDecodeWAVLimits(t *testing.T) {
	// Just over 10 minutes at 4 kHz 8-bit: a small file, too long.
	n := int(MaxDuration/time.Second)*4000 + 1
	w := wavFile{tag: 1, channels: 1, rate: 4000, bits: 8, data: bytes.Repeat([]byte{128}, n), dataSize: -1}
	_, err := DecodeWAV(bytes.NewReader(w.bytes()))
	if !errors.Is(err, ErrTooLong) {
		t.Errorf("11 min: %v, want ErrTooLong", err)
	}
	// Exactly 10 minutes is fine.
	w.data = w.data[:n-1]
	p, err := DecodeWAV(bytes.NewReader(w.bytes()))
	if err != nil || p.Duration() != MaxDuration {
		t.Errorf("10 min: %v, %v", p.Duration(), err)
	}
	// Input beyond MaxInputBytes, even of a skipped chunk, is refused
	// without reading it all into memory.
	big := io.MultiReader(strings.NewReader("RIFF\x00\x00\x00\x00WAVEJUNK\xf0\xff\xff\xff"), zeroReader{})
	if _, err := DecodeWAV(big); !errors.Is(err, ErrTooLong) {
		t.Errorf("endless input: %v, want ErrTooLong", err)
	}
	huge := make([]byte, MaxInputBytes+1)
	copy(huge, w.bytes())
	if _, _, err := Decode(huge); !errors.Is(err, ErrTooLong) {
		t.Errorf("Decode of 50 MiB+1: %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestEncodeWAVRoundTrip(t *testing.T) {
	in := []int16{0, 1, -1, 32767, -32768, 1234}
	for _, ch := range []int{1, 2} {
		var b bytes.Buffer
		if err := EncodeWAV(&b, in, 16000, ch); err != nil {
			t.Fatal(err)
		}
		if b.Len() != 44+2*len(in) {
			t.Errorf("size %d", b.Len())
		}
		p, err := DecodeWAV(&b)
		if err != nil {
			t.Fatal(err)
		}
		if p.Rate != 16000 || p.Channels != ch || !equal16(p.Samples, in) {
			t.Errorf("round trip: %+v", p)
		}
	}
	if err := EncodeWAV(io.Discard, in, 8000, 4); err == nil {
		t.Error("4 channels accepted")
	}
	if err := EncodeWAV(io.Discard, in[:5], 8000, 2); err == nil {
		t.Error("odd stereo sample count accepted")
	}
}

func TestEncodeStereoWAV(t *testing.T) {
	b, err := EncodeStereoWAV([]int16{1, 2, 3}, []int16{-1}, 8000)
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodeWAV(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int16{1, -1, 2, 0, 3, 0}; p.Channels != 2 || !equal16(p.Samples, want) {
		t.Errorf("got %v, want %v", p.Samples, want)
	}
}

func TestDecodeSniffs(t *testing.T) {
	w := wavFile{tag: 1, channels: 1, rate: 8000, bits: 16, data: pcm16(1, 2), dataSize: -1}.bytes()
	if _, f, err := Decode(w); err != nil || f != FormatWAV {
		t.Errorf("wav: %q %v", f, err)
	}
	if _, f, err := Decode(silentMP3(10, false)); err != nil || f != FormatMP3 {
		t.Errorf("mp3: %q %v", f, err)
	}
	for _, junk := range [][]byte{nil, []byte("hello world"), []byte("OggS\x00\x02"), {0xFF, 0xF1, 0x50, 0x80}} {
		if _, _, err := Decode(junk); !errors.Is(err, ErrUnknownFormat) || err.Error() != "not a WAV or MP3 file" {
			t.Errorf("%q: %v", junk, err)
		}
	}
}

// silentMP3 builds frames MPEG-1 Layer III frames at 44.1 kHz, 128 kbit/s,
// whose side information and main data are all zero: valid frames that
// decode to silence. (No MP3 encoder is available to the tests, and this
// needs none.)
func silentMP3(frames int, id3 bool) []byte {
	const frameLen = 144 * 128000 / 44100 // 417 bytes, no padding
	var b []byte
	if id3 {
		// An ID3v2.3 tag with one 10-byte frame of padding.
		b = append(b, "ID3\x03\x00\x00\x00\x00\x00\x0a"...)
		b = append(b, make([]byte, 10)...)
	}
	for range frames {
		f := make([]byte, frameLen)
		copy(f, []byte{0xFF, 0xFB, 0x90, 0x00}) // sync, MPEG-1 L3 no CRC, 128k, 44.1k, stereo
		b = append(b, f...)
	}
	return b
}

func TestDecodeMP3(t *testing.T) {
	for _, id3 := range []bool{false, true} {
		p, f, err := Decode(silentMP3(40, id3))
		if err != nil {
			t.Fatalf("id3=%v: %v", id3, err)
		}
		if f != FormatMP3 || p.Rate != 44100 || p.Channels != 2 {
			t.Errorf("id3=%v: %s %d Hz x%d", id3, f, p.Rate, p.Channels)
		}
		// 1152 samples per frame; go-mp3 may hold back the last frame.
		if n := p.Frames(); n < 39*1152 || n > 40*1152 {
			t.Errorf("id3=%v: %d frames, want ~%d", id3, n, 40*1152)
		}
	}
	// Tiny MPEG-2 frames (16 kHz, 8 kbit/s: 36 bytes for 576 samples)
	// expand 64-fold; audio beyond the duration limit is refused. The
	// limit is lowered to 1 s: decoding ten minutes takes seconds.
	frame := make([]byte, 36)
	copy(frame, []byte{0xFF, 0xF3, 0x18, 0x00})
	if p, err := DecodeMP3(bytes.NewReader(bytes.Repeat(frame, 20))); err != nil || p.Rate != 16000 {
		t.Errorf("short MPEG-2: %v", err)
	}
	defer func(d time.Duration) { maxDuration = d }(maxDuration)
	maxDuration = time.Second
	if _, err := DecodeMP3(bytes.NewReader(bytes.Repeat(frame, 2*16000/576))); !errors.Is(err, ErrTooLong) {
		t.Errorf("long MP3: %v", err)
	}
	if _, err := DecodeMP3(strings.NewReader("not an mp3 at all")); err == nil {
		t.Error("junk decoded as MP3")
	}
}

func equal16(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzDecode(f *testing.F) {
	f.Add(wavFile{tag: 1, channels: 2, rate: 22050, bits: 16, data: pcm16(1, 2, 3, 4), dataSize: -1}.bytes())
	f.Add(wavFile{tag: 1, channels: 1, rate: 8000, bits: 8, data: []byte{1, 2, 3}, dataSize: -1}.bytes())
	f.Add(wavFile{tag: 7, channels: 1, rate: 8000, bits: 8, data: []byte{1, 2, 3}, dataSize: 0x7ffff000}.bytes())
	f.Add(wavFile{tag: wavFormatExtensible, extensible: 1, channels: 1, rate: 48000, bits: 16, data: pcm16(9), dataSize: -1}.bytes())
	f.Add(silentMP3(3, false))
	f.Add(silentMP3(2, true))
	f.Add([]byte("RIFF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, format, err := Decode(data)
		if err != nil {
			return
		}
		if format != FormatWAV && format != FormatMP3 {
			t.Fatalf("format %q", format)
		}
		if p.Channels < 1 || p.Channels > 2 || p.Rate < MinSampleRate || p.Rate > MaxSampleRate {
			t.Fatalf("implausible result: %d Hz x%d", p.Rate, p.Channels)
		}
		if p.Duration() > MaxDuration {
			t.Fatalf("duration %v", p.Duration())
		}
		a := ToTelephony(p)
		if d := a.Duration() - p.Duration(); d > time.Millisecond || d < -time.Millisecond {
			t.Fatalf("conversion changed duration by %v", d)
		}
	})
}
