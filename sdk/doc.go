// Package sdk is a Go client for Dialtone and for any service speaking the
// Alibaba Cloud Voice Service API (Dyvmsapi 2017-05-25), Dybaseapi
// QueryTokenForMnsQueue and the MNS receipt queues.
//
// The package depends on the standard library, and on
// github.com/coder/websocket (itself without dependencies) for the media
// stream handler only: it signs its own requests (POP V3 "ACS3-HMAC-SHA256" by default, POP RPC v1 HMAC-SHA1 on
// request, and MNS HMAC-SHA1 for the queues) and has one method per action
// with plain Go types:
//
//	c, err := sdk.New(sdk.Config{
//		AccessKeyID:     "LTAI...",
//		AccessKeySecret: "...",
//		Endpoint:        "127.0.0.1:8080", // http for loopback, https otherwise
//	})
//	call, err := c.SingleCallByTts(ctx, sdk.TtsCall{
//		CalledNumber: "13800000001", CalledShowNumber: "057188880000",
//		TtsCode: "TTS_100001", TtsParam: map[string]string{"code": "1234"},
//	})
//
// # Errors
//
// Business failures (HTTP 200 with Code != "OK") and gateway errors (HTTP
// 4xx/5xx) are both returned as *Error; test the kind with errors.Is and the
// sentinels ErrThrottled, ErrFlowControlled, ErrInvalidParameters and
// ErrAuth, or read Code.
//
// # Retries
//
// Read actions (QueryCallDetailByCallId, QueryTokenForMnsQueue) and
// CancelCall, which is idempotent, are retried on throttling, HTTP 5xx and
// network errors. Actions that start a call (or operate on one) are retried
// only when the failure proves the request was not accepted: the
// connection could not be made or the request was not written, or the
// server answered Throttling* or 503 ServiceUnavailable. A timeout after
// the request was sent is never retried, so a call is never placed twice.
// Every attempt is signed anew (fresh nonce and timestamp); backoff is
// exponential with full jitter; Config.MaxRetries bounds the attempts.
//
// # Receipts
//
// Consumer pulls receipts from the MNS-compatible queue with a token from
// QueryTokenForMnsQueue; PushHandler receives Dialtone's signed HTTP batch
// pushes. SmartCallHandler serves the SmartCall callback.
//
// # Media streams
//
// StreamHandler is the business's side of a media stream (Twilio Media
// Streams' message set over a WebSocket Dialtone opens): it verifies the
// upgrade's X-Dialtone-Signature over the stream URL, accepts the socket
// and hands the handler a *Stream with the start message, typed events
// from Next (*StreamMedia with µ-law and PCM, *StreamDTMF, *StreamMark,
// *StreamStop), and writers: WriteAudio and WriteMuLaw (20 ms frames,
// paced to stay within a lead of playback), AudioWriter for io.Copy,
// Mark, Clear and Hangup (Dialtone's extension).
package sdk
