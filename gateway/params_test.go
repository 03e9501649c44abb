package gateway

import "testing"

func TestInt64AcceptsWholeFloats(t *testing.T) {
	p := Params{"ProdId": "1.1000000300006e+13", "QueryDate": "1.795569989543e+12", "Half": "1.5", "Big": "1e300", "Plain": " 42 ", "Bad": "x"}
	for name, want := range map[string]int64{"ProdId": 11000000300006, "QueryDate": 1795569989543, "Plain": 42} {
		v, ok, err := p.Int64(name)
		if err != nil || !ok || v != want {
			t.Errorf("%s = %d %v %v, want %d", name, v, ok, err, want)
		}
	}
	for _, name := range []string{"Half", "Big", "Bad"} {
		if _, _, err := p.Int64(name); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if _, ok, err := p.Int64("Absent"); ok || err != nil {
		t.Errorf("absent: %v %v", ok, err)
	}
}
