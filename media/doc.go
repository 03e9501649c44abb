// Package media is everything Dialtone does with audio short of the
// network: decoding uploaded WAV and MP3 files, converting them to the
// telephone format (mono 16-bit PCM at 8 kHz, dialtone.Audio), volume,
// G.711 µ-law/A-law, WAV writing for recordings, text-to-speech through the
// espeak-ng binary, a synthesis cache, and the voice-file store.
//
// The package builds with CGO_ENABLED=0: every codec here is pure Go, and
// external engines (espeak-ng) run as child processes behind the
// dialtone.Speaker interface, so a crashing engine cannot take the server
// down with it.
package media
