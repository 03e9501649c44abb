package provision

import (
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/outbound"
)

// egressAllow reads the node's egress allow-list, each entry checked by
// the egress policy's own parser (outbound.NewPolicy):
//
//	egress_allow: [127.0.0.1, 10.20.0.0/16, receiver.internal, "*.corp.example"]
func (p *parser) egressAllow(n *yaml.Node, path string) []string {
	out := []string{}
	p.d.list(n, path, func(_ int, item *yaml.Node, path string) {
		s, ok := p.d.str(item, path)
		if !ok {
			return
		}
		if _, err := outbound.NewPolicy(s); err != nil || s == "" {
			msg := "must not be empty"
			if err != nil {
				msg = trimOutbound(err.Error())
			}
			p.d.addf(item, path, "%s", msg)
			return
		}
		out = append(out, s)
	})
	return out
}

func trimOutbound(s string) string {
	const prefix = "outbound: "
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):]
	}
	return s
}

// secretGrace reads a signing secret's rotation grace: a duration of at
// most dialtone.MaxSecretGrace.
func (p *parser) secretGrace(dst *time.Duration) func(*yaml.Node, string) {
	return func(v *yaml.Node, path string) {
		d, ok := p.d.duration(v, path)
		if !ok {
			return
		}
		if err := dialtone.CheckSecretGrace("", int64(d/time.Second)); err != nil {
			p.d.fail(v, path, "must be at most %s (7 days)", dialtone.MaxSecretGrace)
			return
		}
		*dst = d
	}
}
