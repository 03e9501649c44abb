package sip

import (
	"log/slog"

	"github.com/dialtone-voice/dialtone/carrier/sip/sipconf"
	"github.com/dialtone-voice/dialtone/outbound"
	"github.com/dialtone-voice/dialtone/speech"
)

// NewRecognizer builds the SmartCall speech recogniser a (sip.asr) asks
// for: PocketSphinx by default, when it is installed (without it SmartCall
// legs still get DTMF and barge-in, but no words, and log says so); a
// network service, reached through client (the node's outbound client;
// nil: one of its own); or none (nil). a may be nil: the defaults.
func NewRecognizer(a *sipconf.ASR, client *outbound.Client, log *slog.Logger) speech.Recognizer {
	if a == nil {
		a = &sipconf.ASR{}
	}
	if log == nil {
		log = slog.Default()
	}
	switch a.Engine {
	case sipconf.ASRNone:
		return nil
	case sipconf.ASRHTTP:
		// The service gets the model's name and knows its words.
		return &speech.HTTPRecognizer{URL: a.URL, Timeout: a.Timeout, Client: client}
	}
	p := &speech.PocketSphinx{}
	if err := p.Check(); err != nil {
		log.Warn("no speech recognition on SIP calls", "err", err)
		return nil
	}
	if len(a.Models) > 0 {
		p.Models = make(map[string]speech.Hints, len(a.Models))
		for _, m := range a.Models {
			p.Models[m.Name] = speech.Hints{Words: m.Words, Keywords: m.Keywords}
		}
	}
	return p
}
