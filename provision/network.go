package provision

import (
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dialtone-voice/dialtone/carrier/sim"
)

// The network section decodes into sim.Config (the simulator's model);
// its Validate checks the values (owned.go). What this layer adds is the
// file's own semantics: the default's unset keys come from
// sim.DefaultBehavior, a subscriber's from the default, and a key written
// where its result makes it meaningless is refused.

// Keys of a behaviour mapping, so merging knows which ones a node set.
const (
	keyResult      = "result"
	keyAnswerAfter = "answer_after"
	keyRing        = "ring"
	keyHangupAfter = "hangup_after"
	keyDTMF        = "dtmf"
	keySay         = "say"
	keySilence     = "silence"
	// Who answers (answering-machine detection) and early media.
	keyAnsweredBy     = "answered_by"
	keyHello          = "hello"
	keyGreeting       = "greeting"
	keyGreetingLength = "greeting_length"
	keyBeep           = "beep"
	keyVoice          = "voice"
	keyEarlyMedia     = "early_media"
	keyTonePlan       = "tone_plan"
)

func (p *parser) network(n *yaml.Node, path string) *sim.Config {
	d := p.d
	net := &sim.Config{TimeScale: 1, Default: sim.DefaultBehavior}
	type sub struct {
		sim.Subscriber
		set map[string]bool
	}
	var subs []sub
	defSet := map[string]bool{}
	var def sim.Behavior
	d.fields(n, path, handlers{
		"time_scale": p.amount(&net.TimeScale, "must be greater than 0"),
		"default": func(v *yaml.Node, path string) {
			defSet = p.behavior(v, path, &def, nil)
		},
		"subscribers": func(v *yaml.Node, path string) {
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				var s sub
				s.set = p.behavior(item, path, &s.Behavior, func(h handlers) {
					h["number"] = p.nonEmpty(&s.Number)
				})
				d.require(item, path, s.set, "number")
				subs = append(subs, s)
			})
		},
	})
	// Merge only after the whole mapping is read: "default" may come after
	// "subscribers" in the file.
	net.Default = merge(sim.DefaultBehavior, def, defSet)
	for _, s := range subs {
		s.Behavior = merge(net.Default, s.Behavior, s.set)
		net.Subscribers = append(net.Subscribers, s.Subscriber)
	}
	return net
}

func merge(base, over sim.Behavior, set map[string]bool) sim.Behavior {
	out := base
	if set[keyResult] {
		out.Result = over.Result
	}
	if set[keyAnswerAfter] {
		out.AnswerAfter = over.AnswerAfter
	}
	if set[keyRing] {
		out.Ring = over.Ring
	}
	if set[keyHangupAfter] {
		out.HangupAfter = over.HangupAfter
	}
	if set[keyDTMF] {
		out.DTMF = over.DTMF
	}
	if set[keySay] {
		out.Say = over.Say
	}
	if set[keySilence] {
		out.Silence = over.Silence
	}
	if set[keyAnsweredBy] {
		out.AnsweredBy = over.AnsweredBy
	}
	if set[keyHello] {
		out.Hello = over.Hello
	}
	if set[keyGreeting] {
		out.Greeting = over.Greeting
	}
	if set[keyGreetingLength] {
		out.GreetingLength = over.GreetingLength
	}
	if set[keyBeep] {
		out.NoBeep = over.NoBeep
	}
	if set[keyVoice] {
		out.Voice = over.Voice
	}
	if set[keyEarlyMedia] {
		out.EarlyMedia = over.EarlyMedia
	}
	if set[keyTonePlan] {
		out.TonePlan = over.TonePlan
	}
	return out
}

// behavior reads a behaviour mapping into b and returns the keys it set;
// extend adds keys (a subscriber's number).
func (p *parser) behavior(n *yaml.Node, path string, b *sim.Behavior, extend func(handlers)) map[string]bool {
	d := p.d
	dur := func(dst *time.Duration) func(*yaml.Node, string) {
		return func(v *yaml.Node, path string) { *dst, _ = d.duration(v, path) }
	}
	h := handlers{
		keyResult: func(v *yaml.Node, path string) {
			var s string
			p.nonEmpty(&s)(v, path)
			b.Result = sim.CallResult(s)
		},
		keyAnswerAfter: dur(&b.AnswerAfter),
		keyRing:        dur(&b.Ring),
		keyHangupAfter: dur(&b.HangupAfter),
		keySilence:     dur(&b.Silence),
		keyDTMF: func(v *yaml.Node, path string) {
			b.DTMF = []sim.DTMF{}
			d.list(v, path, func(_ int, item *yaml.Node, path string) {
				b.DTMF = append(b.DTMF, p.dtmf(item, path))
			})
		},
		keySay: p.texts(&b.Say),
		keyAnsweredBy: func(v *yaml.Node, path string) {
			var s string
			p.nonEmpty(&s)(v, path)
			b.AnsweredBy = sim.Answerer(s)
		},
		keyHello:          p.nonEmpty(&b.Hello),
		keyGreeting:       p.nonEmpty(&b.Greeting),
		keyGreetingLength: dur(&b.GreetingLength),
		keyBeep: func(v *yaml.Node, path string) {
			if beep, ok := d.boolean(v, path); ok {
				b.NoBeep = !beep
			}
		},
		keyVoice: p.nonEmpty(&b.Voice),
		keyEarlyMedia: func(v *yaml.Node, path string) {
			var s string
			p.nonEmpty(&s)(v, path)
			b.EarlyMedia = sim.EarlyTone(s)
		},
		keyTonePlan: p.nonEmpty(&b.TonePlan),
	}
	if extend != nil {
		extend(h)
	}
	set := d.fields(n, path, h)
	if set == nil {
		return nil // not a mapping: already reported
	}
	// Check combinations only among keys written in the same mapping: a
	// subscriber that is busy may still inherit answer_after from default.
	if set[keyResult] && slices.Contains(sim.CallResults, b.Result) {
		for _, k := range []string{keyAnswerAfter, keyHangupAfter, keyDTMF, keySay, keySilence} {
			if set[k] && !b.Result.Answers() {
				d.addf(n, path, "%s only applies when result is answer, not %s", k, b.Result)
			}
		}
		if set[keyRing] && !b.Result.Rings() {
			d.addf(n, path, "ring only applies when result is no_answer or rejected (answer_after sets the ringing before an answer)")
		}
		for _, k := range []string{keyAnsweredBy, keyHello, keyGreeting, keyGreetingLength, keyBeep, keyVoice} {
			if set[k] && !b.Result.Answers() {
				d.addf(n, path, "%s only applies when result is answer, not %s", k, b.Result)
			}
		}
		for _, k := range []string{keyEarlyMedia, keyTonePlan} {
			if set[k] && !b.Result.Answers() && !b.Result.Rings() {
				d.addf(n, path, "%s only applies when result is answer, no_answer or rejected (the others fail without ringing), not %s", k, b.Result)
			}
		}
	}
	// Who answers: a key of one answerer written beside another's.
	if set[keyAnsweredBy] && slices.Contains(sim.Answerers, b.AnsweredBy) {
		if set[keyHello] && b.AnsweredBy != sim.AnsweredByPerson {
			d.addf(n, path, "hello only applies when answered_by is person, not %s", b.AnsweredBy)
		}
		for _, k := range []string{keyGreeting, keyGreetingLength, keyBeep} {
			if set[k] && b.AnsweredBy != sim.AnsweredByVoicemail {
				d.addf(n, path, "%s only applies when answered_by is voicemail, not %s", k, b.AnsweredBy)
			}
		}
	}
	return set
}

func (p *parser) dtmf(n *yaml.Node, path string) sim.DTMF {
	d := p.d
	var k sim.DTMF
	set := d.fields(n, path, handlers{
		"after_prompt": p.count(&k.AfterPrompt, "must be at least 1 (the first prompt)"),
		"at":           func(v *yaml.Node, path string) { k.At, _ = d.duration(v, path) },
		"digits":       p.nonEmpty(&k.Digits),
	})
	d.require(n, path, set, "digits")
	if set != nil && set["after_prompt"] == set["at"] {
		d.addf(n, path, "set exactly one of after_prompt and at")
	}
	return k
}
