// Package stream is Dialtone's side of a media stream: it dials the
// business's WebSocket through the outbound egress policy, signs the
// upgrade, speaks the message set of package mediastream, and gives the
// engine a Session to feed the call's PCM into and take the application's
// PCM from.
//
// # The signed upgrade
//
// The upgrade request (the WebSocket handshake's GET) carries
//
//	X-Dialtone-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + URL)>
//
// where URL is the stream URL as dialled: its scheme ("ws" or "wss"),
// "://", its host exactly as written in the setting (with the port when
// the setting names one), and the request target sent on the request
// line (path and query; "/" for an empty path; no fragment). A receiver
// rebuilds it as scheme + "://" + the Host header + the request target
// (net/http: r.Host and r.RequestURI), or, behind a proxy that terminates
// TLS or rewrites the host, from its public URL and the request target.
// While a secret is rotated the header carries one v1 per secret, the new
// one first, as every signed request does (outbound.Signer). The header
// is the same one receipt pushes carry, and sdk.VerifySignature checks it
// with the URL as the body.
//
// # The session
//
// Dial sends connected and start before it returns. From then on:
//
//   - Send (SendTrack for a fork's second track) takes one frame of the
//     call's audio (8 kHz PCM, 20 ms) and never blocks: past one second
//     queued for a slow socket the oldest frames are dropped and counted.
//   - Read takes the next frame of the application's audio at the
//     caller's pace (the call's pacer); silence when none is queued. Past
//     one second queued the oldest audio is dropped and counted. Marks are
//     echoed when the audio queued before them has been played, and clear
//     drops the queued audio and echoes the pending marks.
//   - DTMF sends a key pressed on the call.
//   - Done is closed when the stream has ended; Ending says why: the
//     application's hangup, the application closing the socket, a failed
//     connection, or Close (Dialtone ending it, which sends stop).
//
// A listen-only fork (Params.ListenOnly) ignores, and counts, whatever the
// application sends: a fork never changes the call.
package stream
