package media

import (
	"bytes"
	"errors"
	"fmt"
)

// Formats reported by Decode.
const (
	FormatWAV = "wav"
	FormatMP3 = "mp3"
)

// ErrUnknownFormat is returned by Decode for data that is neither WAV nor
// MP3.
var ErrUnknownFormat = errors.New("not a WAV or MP3 file")

// Decode sniffs data as WAV or MP3 and decodes it. format is FormatWAV or
// FormatMP3. The file name's extension is deliberately not consulted:
// uploads are often misnamed, and the bytes are what we decode.
func Decode(data []byte) (p *PCM, format string, err error) {
	if len(data) > MaxInputBytes {
		return nil, "", fmt.Errorf("%w: input larger than %d MiB", ErrTooLong, MaxInputBytes>>20)
	}
	switch {
	case len(data) >= 12 && (bytes.HasPrefix(data, []byte("RIFF")) || bytes.HasPrefix(data, []byte("RIFX")) || bytes.HasPrefix(data, []byte("RF64"))) && string(data[8:12]) == "WAVE":
		p, err = DecodeWAV(bytes.NewReader(data))
		return p, FormatWAV, err
	case isMP3(data):
		p, err = DecodeMP3(bytes.NewReader(data))
		return p, FormatMP3, err
	}
	return nil, "", ErrUnknownFormat
}

// isMP3 recognises an ID3v2 tag or a Layer III frame header at the start.
func isMP3(b []byte) bool {
	if len(b) >= 10 && string(b[:3]) == "ID3" {
		return true
	}
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return false
	}
	version := (b[1] >> 3) & 0x03 // 01 is reserved
	layer := (b[1] >> 1) & 0x03   // 01 is Layer III
	bitrate := b[2] >> 4          // 1111 is invalid
	rate := (b[2] >> 2) & 0x03    // 11 is reserved
	return version != 1 && layer == 1 && bitrate != 0x0F && rate != 0x03
}
