package receipt_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone/receipt"
)

func TestConfigDefaults(t *testing.T) {
	d := receipt.Config{}.Defaults()
	if d.Tokens.Lifetime != receipt.DefaultTokenLifetime || d.Push.Timeout != receipt.DefaultPushTimeout ||
		!slices.Equal(d.Push.Retries, receipt.DefaultRetries) || d.Push.Sweep != time.Second || d.Dispatch.Sweep != time.Second {
		t.Errorf("defaults = %+v", d)
	}
	set := receipt.Config{Tokens: receipt.Tokens{Lifetime: time.Hour}, Push: receipt.PusherConfig{Timeout: time.Second}}.Defaults()
	if set.Tokens.Lifetime != time.Hour || set.Push.Timeout != time.Second {
		t.Errorf("set values changed: %+v", set)
	}
	if err := (receipt.Config{}).Validate(); err != nil {
		t.Error(err)
	}
	err := receipt.Config{Push: receipt.PusherConfig{Retries: []time.Duration{time.Minute, 0}}}.Validate()
	if err == nil || !strings.Contains(err.Error(), "push retry 2") {
		t.Errorf("a zero retry wait: %v", err)
	}
}
