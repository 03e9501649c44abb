package sim

import (
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/provision"
)

func TestSubscribersListsProvisionedAndSet(t *testing.T) {
	n := newNet(
		provision.Subscriber{Number: "13800000002", Behavior: provision.Behavior{Result: provision.ResultBusy}},
		provision.Subscriber{Number: "13800000001", Behavior: provision.Behavior{Result: provision.ResultAnswer, AnswerAfter: time.Second}},
	)
	n.SetBehavior("13800000003", provision.Behavior{Result: provision.ResultNoAnswer, Ring: 5 * time.Second})
	n.SetBehavior("13800000001", provision.Behavior{Result: provision.ResultAnswer, HangupAfter: 4 * time.Second, Say: []string{"好的"}})

	got := n.Subscribers()
	want := []struct {
		num string
		res provision.CallResult
	}{{"13800000001", provision.ResultAnswer}, {"13800000002", provision.ResultBusy}, {"13800000003", provision.ResultNoAnswer}}
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
	got[1].Result = provision.ResultAnswer
	if n.Behavior("13800000002").Result != provision.ResultBusy {
		t.Error("changing the returned slice changed the network")
	}
	// A network without listed numbers lists none (the default is not one).
	if s := newNet().Subscribers(); len(s) != 0 {
		t.Errorf("empty network lists %+v", s)
	}
}
