package vms

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseTemplateParams(t *testing.T) {
	good := map[string]map[string]string{
		`{"code":"1234"}`:                     {"code": "1234"},
		`{product:'aliyun',code:'123'}`:       {"product": "aliyun", "code": "123"},
		` { "a" : 12 , 'b':"x y" } `:          {"a": "12", "b": "x y"},
		`{"name":"\u4f60\u597d","q":'it\'s'}`: {"name": "你好", "q": "it's"},
		`{}`:                                  {},
		``:                                    {},
		`{"n":-1.5e3,"t":true}`:               {"n": "-1.5e3", "t": "true"},
		`{名字:'张三'}`:                           {"名字": "张三"},
		`{"product':'aliyun','code':'123'}`:   {"product": "aliyun", "code": "123"}, // the seed's IvrCall sample
		`{"a":"x', b"}`:                       {"a": "x', b"},
	}
	for in, want := range good {
		got, err := ParseTemplateParams(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: got %v", in, got)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", in, k, got[k], v)
			}
		}
	}
	bad := map[string]string{
		`{"a":{"b":1}}`:    "objects or arrays",
		`{"a":[1]}`:        "objects or arrays",
		`{"a":1,"a":2}`:    "given twice",
		`{"a":1`:           "missing closing",
		`{"a" 1}`:          "expected ':'",
		`[1,2]`:            "expected a JSON object",
		`{"a":1} x`:        "after the closing brace",
		`{"a":null}`:       "null",
		`{"a":'x}`:         "unterminated",
		`{"a":"\q"}`:       "unknown escape",
		"{\"a\":\"\xf8\"}": "UTF-8",
	}
	for in, frag := range bad {
		_, err := ParseTemplateParams(in)
		if err == nil || !strings.Contains(err.Error(), frag) {
			t.Errorf("%s: err %v, want it to mention %q", in, err, frag)
		}
	}
}

// FuzzParseTemplateParams: never panics, and whatever standard JSON object
// of strings parses must parse to the same map here.
func FuzzParseTemplateParams(f *testing.F) {
	for _, s := range []string{`{"code":"1234"}`, `{product:'aliyun',code:'123'}`, `{"a":"\ud83d\ude00"}`, `{'a':-0.5}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTemplateParams(s)
		var std map[string]string
		if utf8.ValidString(s) && json.Unmarshal([]byte(s), &std) == nil && std != nil && strings.HasPrefix(strings.TrimSpace(s), "{") {
			if err != nil {
				// Standard JSON with duplicate keys is refused on purpose.
				if !strings.Contains(err.Error(), "twice") {
					t.Fatalf("valid JSON %q refused: %v", s, err)
				}
				return
			}
			for k, v := range std {
				if got[k] != v {
					t.Fatalf("%q: %s = %q, encoding/json says %q", s, k, got[k], v)
				}
			}
		}
	})
}
