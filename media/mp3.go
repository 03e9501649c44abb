package media

import (
	"errors"
	"fmt"
	"io"

	"github.com/hajimehoshi/go-mp3"
)

// DecodeMP3 decodes an MPEG-1/2 Layer III file with the pure-Go
// github.com/hajimehoshi/go-mp3. The result is always stereo at the file's
// rate (the decoder duplicates mono into both channels). It reads at most
// MaxInputBytes and MaxDuration of audio.
func DecodeMP3(r io.Reader) (p *PCM, err error) {
	// go-mp3 is a decoder of binary input written without hostile files in
	// mind; a malformed frame must fail this upload, not the server.
	defer func() {
		if v := recover(); v != nil {
			p, err = nil, fmt.Errorf("mp3: malformed stream (decoder panicked: %v)", v)
		}
	}()
	lr := &limitReader{r: r, n: MaxInputBytes}
	// Hiding any io.Seeker keeps go-mp3 from scanning the whole stream up
	// front to compute its length; we count what we decode instead.
	d, err := mp3.NewDecoder(struct{ io.Reader }{lr})
	if err != nil {
		if lr.exceeded {
			return nil, fmt.Errorf("mp3: %w: input larger than %d MiB", ErrTooLong, MaxInputBytes>>20)
		}
		return nil, fmt.Errorf("mp3: %w", err)
	}
	rate := d.SampleRate()
	if rate < MinSampleRate || rate > MaxSampleRate {
		return nil, fmt.Errorf("mp3: sample rate %d Hz is out of range", rate)
	}
	const channels = 2 // go-mp3 always emits 16-bit LE stereo
	limit := maxFrames(rate) * channels
	// Convert as we read, rather than collecting bytes first, so that the
	// decoded audio is held once: a small MP3 can expand 50-fold.
	var samples []int16
	buf := make([]byte, 16<<10)
	carry := 0 // bytes of a split sample left at the start of buf
	for idle := 0; ; {
		n, err := d.Read(buf[carry:])
		if n == 0 && err == nil {
			// Guard against a decoder that stops making progress.
			if idle++; idle > 100 {
				return nil, errors.New("mp3: decoder makes no progress")
			}
			continue
		}
		idle = 0
		n += carry
		for i := 0; i+1 < n; i += 2 {
			samples = append(samples, int16(uint16(buf[i])|uint16(buf[i+1])<<8))
		}
		carry = n % 2
		if carry == 1 {
			buf[0] = buf[n-1]
		}
		if len(samples) > limit {
			return nil, fmt.Errorf("mp3: %w: longer than %v", ErrTooLong, maxDuration)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if lr.exceeded {
				return nil, fmt.Errorf("mp3: %w: input larger than %d MiB", ErrTooLong, MaxInputBytes>>20)
			}
			// A stream cut off mid-frame still yields the frames before
			// it; accept those, as for a truncated WAV.
			if errors.Is(err, io.ErrUnexpectedEOF) && len(samples) > 0 {
				break
			}
			return nil, fmt.Errorf("mp3: %w", err)
		}
	}
	samples = samples[:len(samples)-len(samples)%channels]
	return &PCM{Rate: rate, Channels: channels, Samples: samples}, nil
}
