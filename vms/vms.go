// Package vms implements the Dyvmsapi actions: parameter validation exactly
// as the reference gives it, and what each action asks of the store and the
// call engine.
package vms

import (
	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
)

// Service holds what the actions need.
type Service struct {
	Store dialtone.Store
	Clock dialtone.Clock
}

// Register adds every implemented Dyvmsapi action to g.
func (s *Service) Register(g *gateway.Gateway) {
	g.Register(gateway.Action{Product: gateway.ProductVMS, Name: "QueryCallDetailByCallId", Handler: s.QueryCallDetailByCallId})
}
