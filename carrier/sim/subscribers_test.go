package sim

import (
	"testing"
	"time"
)

func TestSubscribersListsProvisionedAndSet(t *testing.T) {
	n := newNet(
		Subscriber{Number: "13800000002", Behavior: Behavior{Result: ResultBusy}},
		Subscriber{Number: "13800000001", Behavior: Behavior{Result: ResultAnswer, AnswerAfter: time.Second}},
	)
	n.SetBehavior("13800000003", Behavior{Result: ResultNoAnswer, Ring: 5 * time.Second})
	n.SetBehavior("13800000001", Behavior{Result: ResultAnswer, HangupAfter: 4 * time.Second, Say: []string{"好的"}})

	got := n.Subscribers()
	want := []struct {
		num string
		res CallResult
	}{{"13800000001", ResultAnswer}, {"13800000002", ResultBusy}, {"13800000003", ResultNoAnswer}}
	if len(got) != len(want) {
		t.Fatalf("Subscribers() = %+v, want %d entries", got, len(want))
	}
	for i, w := range want {
		if got[i].Number != w.num || got[i].Result != w.res {
			t.Errorf("entry %d = %s %s, want %s %s", i, got[i].Number, got[i].Result, w.num, w.res)
		}
	}
	// The runtime change replaced the provisioned behaviour.
	if b := got[0].Behavior; b.HangupAfter != 4*time.Second || b.AnswerAfter != 0 || len(b.Say) != 1 {
		t.Errorf("13800000001 = %+v, want the behaviour set last", b)
	}
	// The result is a copy: changing it does not change the network.
	got[1].Result = ResultAnswer
	if n.Behavior("13800000002").Result != ResultBusy {
		t.Error("changing the returned slice changed the network")
	}
	// A network without listed numbers lists none (the default is not one).
	if s := newNet().Subscribers(); len(s) != 0 {
		t.Errorf("empty network lists %+v", s)
	}
}
