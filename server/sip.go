package server

import (
	"fmt"
	"log/slog"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/route"
	"github.com/dialtone-voice/dialtone/carrier/sip"
	"github.com/dialtone-voice/dialtone/provision"
	"github.com/dialtone-voice/dialtone/speech"
)

// SIP trunks. The provisioning file's sip, trunks and routes sections are
// read when the node opens: the SIP carrier binds its listener then, and
// calls matching a route go through it while every other call stays on the
// simulated network. The admin API's provisioning endpoint does not change
// trunks or routes of a running node (Apply does not store them); a
// changed trunk configuration takes effect at the next restart.

// SIPConfig builds the SIP carrier's configuration from a provisioning
// document; ok is false when the document configures no trunk.
func SIPConfig(doc *provision.Document) (cfg sip.Config, ok bool) {
	if doc == nil || len(doc.Trunks) == 0 {
		return sip.Config{}, false
	}
	if s := doc.SIP; s != nil {
		cfg.Listen, cfg.Advertise = s.Listen, s.Advertise
		cfg.TLSListen, cfg.TLSCert, cfg.TLSKey = s.TLSListen, s.TLSCert, s.TLSKey
		cfg.RTPPortMin, cfg.RTPPortMax = s.RTPPortMin, s.RTPPortMax
		cfg.RTPTimeout = s.RTPTimeout
		if s.RTPTimeoutOff {
			cfg.RTPTimeout = -1 // the carrier's "disabled"
		}
	}
	var asr *provision.ASR
	if doc.SIP != nil {
		asr = doc.SIP.ASR
	}
	cfg.Recognizer, cfg.ASRAccountModels = recognizer(asr)
	for _, t := range doc.Trunks {
		st := sip.Trunk{
			Name: t.Name, Address: t.Address, Transport: t.Transport,
			Username: t.Username, Password: t.Password, FromDomain: t.FromDomain,
			Presentation: t.Presentation, Codecs: t.Codecs,
			MaxCalls: t.MaxCalls, MaxCPS: t.MaxCPS,
			TLSCA: t.TLSCA, TLSServerName: t.TLSServerName,
		}
		for _, r := range t.Rewrite {
			st.Rewrite = append(st.Rewrite, sip.RewriteRule{Prefix: r.Prefix, Replace: r.Replace})
		}
		cfg.Trunks = append(cfg.Trunks, st)
	}
	for _, r := range doc.Routes {
		cfg.Routes = append(cfg.Routes, sip.Route{Account: r.Account, Prefix: r.Prefix, Trunk: r.Trunk})
	}
	return cfg, true
}

// recognizer builds the SmartCall speech recogniser the provisioning
// file asks for: PocketSphinx by default, when it is installed (without it
// SmartCall legs still get DTMF and barge-in, but no words); a network
// service; or none.
func recognizer(a *provision.ASR) (speech.Recognizer, map[string]string) {
	if a == nil {
		a = &provision.ASR{}
	}
	var accounts map[string]string
	for _, ac := range a.Accounts {
		if accounts == nil {
			accounts = make(map[string]string, len(a.Accounts))
		}
		accounts[ac.Account] = ac.Model
	}
	switch a.Engine {
	case provision.ASRNone:
		return nil, accounts
	case provision.ASRHTTP:
		// The service gets the model's name and knows its words.
		return &speech.HTTPRecognizer{URL: a.URL, Timeout: a.Timeout}, accounts
	}
	p := &speech.PocketSphinx{}
	if err := p.Check(); err != nil {
		slog.Warn("no speech recognition on SIP calls", "err", err)
		return nil, accounts
	}
	if len(a.Models) > 0 {
		p.Models = make(map[string]speech.Hints, len(a.Models))
		for _, m := range a.Models {
			p.Models[m.Name] = speech.Hints{Words: m.Words, Keywords: m.Keywords}
		}
	}
	return p, accounts
}

// openSIP starts the SIP carrier when the document configures trunks.
func (n *Node) openSIP(doc *provision.Document) error {
	cfg, ok := SIPConfig(doc)
	if !ok {
		if doc != nil && doc.SIP != nil {
			n.log.Warn("the provisioning file has a sip section but no trunks; every call stays on the simulated network")
		}
		return nil
	}
	if len(doc.Routes) == 0 {
		n.log.Warn("SIP trunks configured without routes; no call will use them")
	}
	c, err := sip.New(cfg, n.log)
	if err != nil {
		// sip.Config.Validate names trunks and fields, never passwords.
		return fmt.Errorf("sip carrier: %w", err)
	}
	n.sip = c
	n.log.Info("sip trunks", slog.Int("trunks", len(cfg.Trunks)), slog.Int("routes", len(cfg.Routes)), slog.String("listen", c.Addr()))
	return nil
}

// callCarrier is the carrier the engine dials through: the simulated
// network alone, or the SIP trunks for routed calls in front of it.
func (n *Node) callCarrier(network dialtone.Carrier) dialtone.Carrier {
	if n.sip == nil {
		return network
	}
	return &route.Carrier{Trunks: n.sip, Default: network}
}

// closeSIP hangs up what is left on the trunks and stops the listener;
// the engine has ended its calls before.
func (n *Node) closeSIP() {
	if n.sip == nil {
		return
	}
	if err := n.sip.Close(); err != nil {
		n.log.Warn("closing the sip carrier", "err", err)
	}
}

// SIPAddr is the SIP carrier's local address, "" without trunks.
func (n *Node) SIPAddr() string {
	if n.sip == nil {
		return ""
	}
	return n.sip.Addr()
}
