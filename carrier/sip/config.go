package sip

import (
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
	"github.com/dialtone-voice/dialtone/speech"
)

// The carrier's settings are declared once, in package sipconf (which the
// provisioning file decodes into); the names below are that package's.
type (
	// Trunk is one SIP peer (sipconf.Trunk).
	Trunk = sipconf.Trunk
	// RewriteRule changes a callee number (sipconf.RewriteRule).
	RewriteRule = sipconf.RewriteRule
	// Route picks a trunk (sipconf.Route).
	Route = sipconf.Route
)

// Transports, codecs and presentations (see package sipconf).
const (
	TransportUDP = sipconf.TransportUDP
	TransportTCP = sipconf.TransportTCP
	TransportTLS = sipconf.TransportTLS
	CodecPCMU    = sipconf.CodecPCMU
	CodecPCMA    = sipconf.CodecPCMA
	PresentFrom  = sipconf.PresentFrom
	PresentPAI   = sipconf.PresentPAI
	PresentBoth  = sipconf.PresentBoth
)

// DefaultRingTimeout is how long a call rings when its request sets no
// ring timeout.
const DefaultRingTimeout = 45 * time.Second

// Config is what New needs: the SIP configuration and the parts of a
// running node the carrier uses. Validate and Defaults are sipconf's.
type Config struct {
	sipconf.Config

	// Recognizer recognises what the callee says on legs that listen
	// (SmartCall); nil: speech is not recognised, though barge-in
	// (TimeBreak) and DTMF still work. NewRecognizer builds it from
	// Config.ASR.
	Recognizer speech.Recognizer
	// ASRAccountModels names the recogniser model (speech.Hints.Model) of
	// an account's calls whose SmartCall names no AsrModelID; nil: those
	// of Config.ASR.
	ASRAccountModels map[string]string
	// Limits counts the trunks' max_calls and max_cps; nil: in this
	// process's memory (cluster.LocalLimits). A cluster's nodes share
	// theirs (cluster.SharedLimits), so a trunk's caps hold across them.
	Limits dialtone.Limits

	// rtcpInterval is the RTCP report interval (default 5 s); unexported
	// so only tests shorten it below RFC 3550's minimum.
	rtcpInterval time.Duration
}
