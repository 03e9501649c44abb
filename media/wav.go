package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// WAV format tags (the fmt chunk's wFormatTag).
const (
	wavFormatPCM        = 0x0001
	wavFormatFloat      = 0x0003
	wavFormatALaw       = 0x0006
	wavFormatMuLaw      = 0x0007
	wavFormatExtensible = 0xFFFE
)

// wavFormatNames names the tags people are likely to upload, so the error
// tells them what they sent rather than a bare number.
var wavFormatNames = map[uint16]string{
	0x0002:         "Microsoft ADPCM",
	wavFormatFloat: "IEEE float",
	0x0011:         "IMA ADPCM",
	0x0031:         "GSM 6.10",
	0x0050:         "MPEG",
	0x0055:         "MPEG Layer III",
	0x0161:         "Windows Media Audio",
	0x1610:         "AAC",
}

// ksSubformatTail is bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID of
// WAVE_FORMAT_EXTENSIBLE; the first two bytes carry the ordinary format tag.
var ksSubformatTail = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// maxFmtChunk bounds the fmt chunk: the largest real one (extensible) is 40
// bytes; anything much bigger is not a format description.
const maxFmtChunk = 1024

// wavFormat is a validated fmt chunk.
type wavFormat struct {
	tag        uint16 // PCM, A-law or µ-law (extensible resolved)
	channels   int
	rate       int
	bits       int
	blockAlign int
}

// DecodeWAV decodes a RIFF WAVE file: PCM of 8-bit unsigned or 16-bit
// signed little-endian samples (also as WAVE_FORMAT_EXTENSIBLE), or G.711
// µ-law/A-law; mono or stereo, any rate from MinSampleRate to
// MaxSampleRate. It reads at most MaxInputBytes and MaxDuration of audio.
//
// A data chunk that declares more bytes than follow is accepted as far as it
// goes: streaming writers (espeak-ng --stdout among them) cannot seek back
// to fill in the size, and write a placeholder near 2 GiB.
func DecodeWAV(r io.Reader) (*PCM, error) {
	lr := &limitReader{r: r, n: MaxInputBytes}
	br := bufio.NewReader(lr)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, wavReadErr("RIFF header", err)
	}
	switch string(hdr[0:4]) {
	case "RIFF":
	case "RIFX":
		return nil, errors.New("wav: big-endian RIFX files are not supported")
	case "RF64":
		return nil, errors.New("wav: RF64 files are not supported")
	default:
		return nil, errors.New("wav: not a RIFF file")
	}
	if string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("wav: RIFF form type is %q, not WAVE", printable(hdr[8:12]))
	}

	var f *wavFormat
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("wav: no data chunk")
			}
			return nil, wavReadErr("chunk header", err)
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if f != nil {
				return nil, errors.New("wav: more than one fmt chunk")
			}
			if size < 16 || size > maxFmtChunk {
				return nil, fmt.Errorf("wav: fmt chunk of %d bytes is implausible", size)
			}
			buf := make([]byte, size)
			if _, err := io.ReadFull(br, buf); err != nil {
				return nil, wavReadErr("fmt chunk", err)
			}
			if size&1 == 1 {
				// Chunks are padded to even sizes; a missing pad byte at
				// the end shows up below as "no data chunk".
				_, _ = br.ReadByte()
			}
			var err error
			if f, err = parseWAVFormat(buf); err != nil {
				return nil, err
			}
		case "data":
			if f == nil {
				return nil, errors.New("wav: data chunk before fmt chunk")
			}
			return readWAVData(br, lr, f, size)
		default:
			// LIST, fact, cue, bext, ...: skipped without buffering, so their
			// declared size costs nothing but reading (bounded by the input
			// limit).
			n, err := io.CopyN(io.Discard, br, size+size&1)
			if err != nil {
				if errors.Is(err, io.EOF) && n >= size {
					return nil, errors.New("wav: no data chunk")
				}
				return nil, wavReadErr(fmt.Sprintf("%q chunk", printable(ch[0:4])), err)
			}
		}
	}
}

func parseWAVFormat(b []byte) (*wavFormat, error) {
	le := binary.LittleEndian
	tag := le.Uint16(b[0:2])
	f := &wavFormat{
		channels:   int(le.Uint16(b[2:4])),
		rate:       int(le.Uint32(b[4:8])),
		blockAlign: int(le.Uint16(b[12:14])),
		bits:       int(le.Uint16(b[14:16])),
	}
	if tag == wavFormatExtensible {
		if len(b) < 40 || le.Uint16(b[16:18]) < 22 {
			return nil, errors.New("wav: WAVE_FORMAT_EXTENSIBLE fmt chunk is too short")
		}
		if !bytes.Equal(b[26:40], ksSubformatTail) {
			return nil, errors.New("wav: WAVE_FORMAT_EXTENSIBLE with a non-standard subformat GUID is not supported")
		}
		tag = le.Uint16(b[24:26])
		if valid := int(le.Uint16(b[18:20])); valid != 0 && valid != f.bits {
			// Fewer valid bits than the container (e.g. 20 in 24) would
			// need shifting; we only take full-width samples.
			return nil, fmt.Errorf("wav: %d valid bits in %d-bit containers are not supported", valid, f.bits)
		}
	}
	f.tag = tag
	switch tag {
	case wavFormatPCM:
		if f.bits != 8 && f.bits != 16 {
			return nil, fmt.Errorf("wav: %d-bit samples are not supported (8 or 16 only)", f.bits)
		}
	case wavFormatALaw, wavFormatMuLaw:
		if f.bits != 8 {
			return nil, fmt.Errorf("wav: G.711 with %d bits per sample (must be 8)", f.bits)
		}
	default:
		if name, ok := wavFormatNames[tag]; ok {
			return nil, fmt.Errorf("wav: unsupported format %d (%s)", tag, name)
		}
		return nil, fmt.Errorf("wav: unsupported format 0x%04x", tag)
	}
	switch {
	case f.channels == 0:
		return nil, errors.New("wav: 0 channels")
	case f.channels > 2:
		return nil, fmt.Errorf("wav: %d channels are not supported (mono or stereo only)", f.channels)
	}
	if f.rate < MinSampleRate || f.rate > MaxSampleRate {
		return nil, fmt.Errorf("wav: sample rate %d Hz is out of range (%d to %d)", f.rate, MinSampleRate, MaxSampleRate)
	}
	if want := f.channels * f.bits / 8; f.blockAlign != want {
		return nil, fmt.Errorf("wav: block align %d does not match %d channel(s) of %d bits", f.blockAlign, f.channels, f.bits)
	}
	return f, nil
}

func readWAVData(br *bufio.Reader, lr *limitReader, f *wavFormat, size int64) (*PCM, error) {
	limit := int64(maxFrames(f.rate)) * int64(f.blockAlign)
	// Read one block more than allowed so that "too long" is told apart
	// from "exactly at the limit". io.ReadAll grows its buffer as data
	// arrives, so a lying size field allocates nothing by itself.
	data, err := io.ReadAll(io.LimitReader(br, min(size, limit+int64(f.blockAlign))))
	if err != nil {
		if lr.exceeded {
			return nil, fmt.Errorf("wav: %w: input larger than %d MiB", ErrTooLong, MaxInputBytes>>20)
		}
		return nil, wavReadErr("data chunk", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("wav: %w: longer than %v", ErrTooLong, maxDuration)
	}
	data = data[:len(data)-len(data)%f.blockAlign] // drop a torn final frame
	p := &PCM{Rate: f.rate, Channels: f.channels}
	switch {
	case f.tag == wavFormatPCM && f.bits == 16:
		p.Samples = make([]int16, len(data)/2)
		for i := range p.Samples {
			p.Samples[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
	case f.tag == wavFormatPCM && f.bits == 8:
		// 8-bit WAV is unsigned with 128 as zero.
		p.Samples = make([]int16, len(data))
		for i, b := range data {
			p.Samples[i] = int16(int(b)-128) << 8
		}
	case f.tag == wavFormatMuLaw:
		p.Samples = DecodeMuLaw(data)
	case f.tag == wavFormatALaw:
		p.Samples = DecodeALaw(data)
	}
	return p, nil
}

func wavReadErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("wav: truncated %s", what)
	}
	var le *limitError
	if errors.As(err, &le) {
		return fmt.Errorf("wav: %w: input larger than %d MiB", ErrTooLong, MaxInputBytes>>20)
	}
	return fmt.Errorf("wav: reading %s: %w", what, err)
}

// printable makes a four-character code safe to put in an error message.
func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}

// limitReader is io.LimitReader that fails, rather than reporting EOF, when
// the input goes on past n bytes, so an oversized upload is an error and not
// silently truncated audio.
type limitReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

type limitError struct{ n int64 }

func (e *limitError) Error() string { return fmt.Sprintf("input larger than %d bytes", e.n) }

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Probe one byte: input of exactly n bytes is fine.
		var one [1]byte
		if k, _ := l.r.Read(one[:]); k > 0 {
			l.exceeded = true
			return 0, &limitError{n: MaxInputBytes}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	return k, err
}

// EncodeWAV writes samples (interleaved if stereo) as a 16-bit PCM WAV file.
func EncodeWAV(w io.Writer, samples []int16, rate, channels int) error {
	if channels < 1 || channels > 2 {
		return fmt.Errorf("wav: cannot write %d channels (mono or stereo only)", channels)
	}
	if rate < 1 || rate > MaxSampleRate {
		return fmt.Errorf("wav: cannot write sample rate %d Hz", rate)
	}
	if len(samples)%channels != 0 {
		return fmt.Errorf("wav: %d samples do not divide into %d channels", len(samples), channels)
	}
	dataSize := int64(len(samples)) * 2
	if dataSize > math.MaxUint32-36 {
		return fmt.Errorf("wav: %d bytes of audio exceed the 4 GiB RIFF limit", dataSize)
	}
	var h [44]byte
	le := binary.LittleEndian
	copy(h[0:4], "RIFF")
	le.PutUint32(h[4:8], uint32(36+dataSize))
	copy(h[8:12], "WAVE")
	copy(h[12:16], "fmt ")
	le.PutUint32(h[16:20], 16)
	le.PutUint16(h[20:22], wavFormatPCM)
	le.PutUint16(h[22:24], uint16(channels))
	le.PutUint32(h[24:28], uint32(rate))
	le.PutUint32(h[28:32], uint32(rate*channels*2))
	le.PutUint16(h[32:34], uint16(channels*2))
	le.PutUint16(h[34:36], 16)
	copy(h[36:40], "data")
	le.PutUint32(h[40:44], uint32(dataSize))
	if _, err := w.Write(h[:]); err != nil {
		return fmt.Errorf("wav: write header: %w", err)
	}
	// Convert in slices so a long recording doesn't need a second full-size
	// byte copy in memory.
	var buf [8192]byte
	for len(samples) > 0 {
		n := min(len(samples), len(buf)/2)
		for i, s := range samples[:n] {
			le.PutUint16(buf[2*i:], uint16(s))
		}
		if _, err := w.Write(buf[:2*n]); err != nil {
			return fmt.Errorf("wav: write data: %w", err)
		}
		samples = samples[n:]
	}
	return nil
}

// EncodeStereoWAV interleaves two mono tracks into a stereo 16-bit WAV file
// (a two-party recording: one party per channel). The shorter track is
// padded with silence.
func EncodeStereoWAV(left, right []int16, rate int) ([]byte, error) {
	n := max(len(left), len(right))
	inter := make([]int16, 2*n)
	for i, s := range left {
		inter[2*i] = s
	}
	for i, s := range right {
		inter[2*i+1] = s
	}
	var b bytes.Buffer
	b.Grow(44 + 4*n)
	if err := EncodeWAV(&b, inter, rate, 2); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
