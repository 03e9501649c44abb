// Package detect reads what answers a call from its audio: call-progress
// tones (dial, ringback, busy, congestion, special information, of China's
// 450 Hz plan, the European 425 Hz plan and North America's precise
// tones), fax and modem tones, an answering machine's beep, and whether a
// person or an answering machine answered.
//
// Every detector takes the callee's audio as the carriers deliver it:
// 8 kHz 16-bit PCM (G.711 decoded), normally in 20 ms frames, with the time
// each piece began. Each is a small type with its own state, not safe for
// concurrent use, fed by the one goroutine that reads the leg's audio:
//
//   - Bank: a Goertzel filter bank, the energy of chosen frequencies
//     against the frame's;
//   - ToneDetector: call-progress, fax and modem tones by frequency and
//     cadence, each reported once confirmed with the time it took;
//   - BeepDetector: steady narrow-band tones within a frequency range and
//     a length range;
//   - AMD: the answering-machine detector of one call (voice activity
//     through the speech package's segmenter, beeps and tones), giving
//     answered_by: human, machine_start, machine_end_beep,
//     machine_end_silence, fax or unknown, with the time the decision took.
//
// Nothing here panics on its input: any length, any values, timestamps
// that jump or go back (see Write of each detector).
//
// Package corpus generates the labelled answers the AMD's thresholds were
// tuned on and its benchmark reports (go test -run '^$' -bench AMD
// ./media/detect/).
package detect
