package route

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// fake records the calls it was given.
type fake struct {
	name   string
	prefix string // HasRoute: callee prefix it serves
	got    []string
}

type fakeLeg struct{ dialtone.Leg }

func (f *fake) Originate(_ context.Context, req dialtone.OriginateRequest) (dialtone.Leg, error) {
	f.got = append(f.got, req.To)
	return fakeLeg{}, nil
}

func (f *fake) HasRoute(account, callee string) bool {
	return account == "1" && strings.HasPrefix(callee, f.prefix)
}

func TestRoute(t *testing.T) {
	trunks := &fake{name: "sip", prefix: "86"}
	sim := &fake{name: "sim"}
	c := &Carrier{Trunks: trunks, Default: sim}
	ctx := context.Background()
	for _, r := range []dialtone.OriginateRequest{
		{AccountUID: "1", To: "8613800000000"}, // routed
		{AccountUID: "1", To: "13800000000"},   // no prefix match
		{AccountUID: "2", To: "8613800000000"}, // another account
	} {
		if _, err := c.Originate(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if len(trunks.got) != 1 || trunks.got[0] != "8613800000000" || len(sim.got) != 2 {
		t.Errorf("sip got %v, sim got %v", trunks.got, sim.got)
	}
	// No trunks at all: everything goes to the default.
	c = &Carrier{Default: sim}
	if _, err := c.Originate(ctx, dialtone.OriginateRequest{AccountUID: "1", To: "86"}); err != nil || len(sim.got) != 3 {
		t.Errorf("default: %v %v", err, sim.got)
	}
	c = &Carrier{Trunks: trunks}
	if _, err := c.Originate(ctx, dialtone.OriginateRequest{AccountUID: "1", To: "1"}); !errors.Is(err, ErrNoCarrier) {
		t.Errorf("no default: %v", err)
	}
}
