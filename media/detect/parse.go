package detect

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Thresholds names the settings of Config a node's operator may set (the
// serve command's --amd), in snake_case, with the field each sets.
var Thresholds = []string{
	"initial_silence", "greeting", "after_greeting_silence", "max_segments", "total_analysis_time",
	"end_silence", "message_timeout", "min_word", "word_gap", "voice_threshold", "min_voice_level",
}

// ParseConfig reads thresholds written as "key=value,key=value" (keys of
// Thresholds; durations as Go writes them, 2.5s or 900ms; voice_threshold
// in dB, min_voice_level in dBFS) into a Config whose other fields take
// their defaults, and validates it. "" is the defaults. The error names
// the key.
func ParseConfig(s string) (Config, error) {
	var c Config
	var errs []error
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || v == "" {
			errs = append(errs, fmt.Errorf("%q: write key=value", part))
			continue
		}
		dur := func(dst *time.Duration) {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("%s %q: want a positive duration such as 2.5s or 900ms", k, v))
				return
			}
			*dst = d
		}
		num := func(dst *float64) {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f == 0 {
				errs = append(errs, fmt.Errorf("%s %q: want a number other than 0", k, v))
				return
			}
			*dst = f
		}
		switch k {
		case "initial_silence":
			dur(&c.InitialSilence)
		case "greeting":
			dur(&c.Greeting)
		case "after_greeting_silence":
			dur(&c.AfterGreetingSilence)
		case "total_analysis_time":
			dur(&c.TotalAnalysisTime)
		case "end_silence":
			dur(&c.EndSilence)
		case "message_timeout":
			dur(&c.MessageTimeout)
		case "min_word":
			dur(&c.MinWord)
		case "word_gap":
			dur(&c.WordGap)
		case "voice_threshold":
			num(&c.VoiceThreshold)
		case "min_voice_level":
			num(&c.MinVoiceLevel)
		case "max_segments":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Errorf("%s %q: want a whole number above 0", k, v))
				continue
			}
			c.MaxSegments = n
		default:
			errs = append(errs, fmt.Errorf("unknown threshold %q: want one of %s", k, strings.Join(Thresholds, ", ")))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
