package gateway

import (
	"regexp"
	"testing"
)

func TestNewRequestIDIsUpperCaseUUIDv4(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewRequestID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("request ID %q (repeated: %v)", id, seen[id])
		}
		seen[id] = true
	}
}
