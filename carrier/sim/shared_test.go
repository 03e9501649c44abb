package sim

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEncodeConfigCanonical(t *testing.T) {
	a := &Config{TimeScale: 0.1, Default: DefaultBehavior, Subscribers: []Subscriber{
		{Number: "13800000002", Behavior: Behavior{Result: ResultBusy}},
		{Number: "13800000001", Behavior: Behavior{Result: ResultAnswer, AnswerAfter: time.Second, DTMF: []DTMF{{AfterPrompt: 1, Digits: "1"}}}},
	}}
	b := &Config{TimeScale: 0.1, Default: DefaultBehavior, Subscribers: []Subscriber{a.Subscribers[1], a.Subscribers[0]}}
	ea, err := EncodeConfig(a)
	if err != nil {
		t.Fatal(err)
	}
	eb, _ := EncodeConfig(b)
	if ea != eb {
		t.Errorf("the same network in another order encodes differently:\n%s\n%s", ea, eb)
	}
	if a.Subscribers[0].Number != "13800000002" {
		t.Error("EncodeConfig reordered its argument")
	}
	got, err := DecodeConfig(ea)
	if err != nil {
		t.Fatal(err)
	}
	if got.TimeScale != 0.1 || len(got.Subscribers) != 2 || got.Subscribers[0].Number != "13800000001" ||
		!reflect.DeepEqual(got.Subscribers[0].Behavior, a.Subscribers[1].Behavior) {
		t.Errorf("round trip: %+v", got)
	}
	def, _ := EncodeConfig(nil)
	if d, err := DecodeConfig(def); err != nil || d.Scale() != 1 || !reflect.DeepEqual(d.Default, DefaultBehavior) {
		t.Errorf("defaults: %+v %v", d, err)
	}
	if _, err := DecodeConfig(`{"TimeScale": -1}`); err == nil || !strings.Contains(err.Error(), "time_scale") {
		t.Errorf("an invalid stored network: %v", err)
	}
}

func TestReconfigure(t *testing.T) {
	n := New(&Config{TimeScale: 1, Default: DefaultBehavior, Subscribers: []Subscriber{{Number: "1380000001", Behavior: Behavior{Result: ResultBusy}}}}, nil)
	n.SetBehavior("1380000002", Behavior{Result: ResultRejected})
	n.Reconfigure(&Config{TimeScale: 1, Default: Behavior{Result: ResultNoAnswer}, Subscribers: []Subscriber{{Number: "1380000003", Behavior: Behavior{Result: ResultInvalid}}}})
	if b := n.Behavior("1380000001"); b.Result != ResultNoAnswer {
		t.Errorf("a subscriber of the old network: %+v", b)
	}
	if b := n.Behavior("1380000002"); b.Result != ResultNoAnswer {
		t.Errorf("a subscriber set before: %+v", b)
	}
	if b := n.Behavior("1380000003"); b.Result != ResultInvalid {
		t.Errorf("a subscriber of the new network: %+v", b)
	}
	if c := n.Config(1); len(c.Subscribers) != 1 || c.Default.Result != ResultNoAnswer {
		t.Errorf("Config = %+v", c)
	}
	n.Reconfigure(nil)
	if b := n.Behavior("1380000003"); !reflect.DeepEqual(b, DefaultBehavior) {
		t.Errorf("after nil: %+v", b)
	}
}
