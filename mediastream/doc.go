// Package mediastream is the wire protocol of Dialtone's media streams: a
// call's audio, both ways, over a WebSocket to the business's application.
//
// The message set is Twilio Media Streams', field for field, so that agent
// code written for Twilio (pipecat's TwilioFrameSerializer and others)
// connects by URL alone. Every message is one JSON text message whose
// "event" names its kind.
//
// From Dialtone to the application:
//
//	connected  {"event":"connected","protocol":"Call","version":"1.0.0"}
//	start      {"event":"start","sequenceNumber":"1","streamSid":"MZ…",
//	            "start":{"streamSid":"MZ…","accountSid":"…","callSid":"<CallId>",
//	                     "tracks":["inbound"],"customParameters":{…},
//	                     "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}
//	media      {"event":"media","sequenceNumber":"2","streamSid":"MZ…",
//	            "media":{"track":"inbound","chunk":"1","timestamp":"20","payload":"<base64 µ-law>"}}
//	dtmf       {"event":"dtmf","sequenceNumber":"3","streamSid":"MZ…","dtmf":{"track":"inbound_track","digit":"5"}}
//	mark       {"event":"mark","sequenceNumber":"4","streamSid":"MZ…","mark":{"name":"…"}}
//	stop       {"event":"stop","sequenceNumber":"5","streamSid":"MZ…","stop":{"accountSid":"…","callSid":"…"}}
//
// From the application to Dialtone:
//
//	media      {"event":"media","streamSid":"MZ…","media":{"payload":"<base64 µ-law>"}}
//	mark       {"event":"mark","streamSid":"MZ…","mark":{"name":"…"}}
//	clear      {"event":"clear","streamSid":"MZ…"}
//	hangup     {"event":"hangup","streamSid":"MZ…","hangup":{"reason":"…"}}   (Dialtone's extension)
//
// As Twilio sends them, sequenceNumber, chunk and timestamp are decimal
// strings; sequenceNumber counts every message after connected from "1",
// chunk counts each track's media messages from "1", and timestamp is the
// milliseconds from the start of the stream. The audio is G.711 µ-law,
// 8000 Hz, mono; Dialtone sends 20 ms (160 bytes) per media message.
//
// Decode is strict where Twilio's format is fixed: an unknown event is an
// error naming it, field names are matched exactly (case included), a
// required field that is missing or of the wrong JSON type is an error
// naming it, and sizes are bounded (MaxMessageBytes, MaxPayloadBytes and
// the others below). Fields it does not know are ignored, as Twilio
// ignores them, so that an application adding its own keys still works.
//
// Beside the messages, the package holds the pure parts of a stream's
// session, each a small type with its own lock: SendBuffer (the bounded
// queue from the call to the socket), Playout (the bounded queue of the
// application's audio with its marks and clear) and Counters (sequence
// numbers, chunks and timestamps). Package stream puts them on a socket.
package mediastream
