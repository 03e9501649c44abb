package fielderr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestJoin(t *testing.T) {
	for _, c := range []struct{ prefix, path, want string }{
		{"", "name", "name"},
		{"trunks[0]", "", "trunks[0]"},
		{"trunks[0]", "name", "trunks[0].name"},
		{"codecs", "[1]", "codecs[1]"},
		{"sip.asr", "models[0].name", "sip.asr.models[0].name"},
	} {
		if got := Join(c.prefix, c.path); got != c.want {
			t.Errorf("Join(%q, %q) = %q, want %q", c.prefix, c.path, got, c.want)
		}
	}
	if got := Index("trunks", 2); got != "trunks[2]" {
		t.Errorf("Index = %q", got)
	}
}

func TestListAndAll(t *testing.T) {
	var part List
	part.Addf("name", "bad %s", "x")
	part.Duplicate("[1].name", "[0].name", "duplicate")
	part.Reference("[2].model", "[2]", "no model")
	var l List
	l.Addf("", "whole")
	l.Add("models", part.Err())
	l.Add("other", errors.New("plain"))
	l.Add("none", nil)
	err := fmt.Errorf("config: %w", l.Err())

	got := All(err)
	want := []Error{
		{Message: "whole"},
		{Field: "models.name", Message: "bad x"},
		{Field: "models[1].name", Message: "duplicate", First: "models[0].name"},
		{Field: "models[2].model", Message: "no model", At: "models[2]"},
		{Field: "other", Message: "plain"},
	}
	if len(got) != len(want) {
		t.Fatalf("All = %v, want %v", got, want)
	}
	for i := range want {
		if *got[i] != want[i] {
			t.Errorf("All[%d] = %+v, want %+v", i, *got[i], want[i])
		}
	}
	if s := err.Error(); !strings.Contains(s, "models[1].name: duplicate (first at models[0].name)") || !strings.HasPrefix(s, "config: whole\n") {
		t.Errorf("Error() = %q", s)
	}
	if All(nil) != nil {
		t.Error("All(nil) is not nil")
	}
	if got := All(fmt.Errorf("wrapped: %w", errors.New("inner"))); len(got) != 1 || got[0].Message != "wrapped: inner" {
		t.Errorf("a wrapped plain error = %+v", got)
	}
}

func TestQuote(t *testing.T) {
	if got := Quote("a\nb"); got != `"a\nb"` {
		t.Errorf("Quote = %s", got)
	}
	long := strings.Repeat("语", 40) // 120 bytes
	if got := Quote(long); !strings.HasSuffix(got, `…"`) || len(got) > 64+len(`"…"`) {
		t.Errorf("Quote(long) = %s", got)
	}
}
