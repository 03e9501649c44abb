package smartcall

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzCallbackAnswer feeds arbitrary bodies to the parser of SmartCall
// callback answers, which come from the business's server: it must never
// panic, accept only result "success", and hand the rest of the engine
// values it can use (action_code_param as text, mute_time as a number or
// an error).
func FuzzCallbackAnswer(f *testing.F) {
	for _, s := range []string{
		`{"result":"success","code":"200","data":{"action":"play","action_code":"TTS_1","action_code_param":"{\"a\":\"1\"}","action_break":"true","mute_time":"3000"}}`,
		`{"result":"success","data":{"action":"transfer","number":"13800000000","action_code_break":0}}`,
		`{"result":"success","data":{"action":"hangup","action_code":"V1,V2","action_code_param":{"x":1},"mute_time":2500}}`,
		`{"result":"fail","msg":"no"}`,
		`{"result":"success","data":{"action_break":"maybe"}}`,
		`{"result":"success","data":{"mute_time":"1e400"}}`,
		`not json`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ans, err := ParseAnswer(body)
		if err != nil {
			if ans != nil {
				t.Fatal("an answer together with an error")
			}
			return
		}
		if ans.Result != "success" {
			t.Fatalf("accepted result %q", ans.Result)
		}
		d := ans.Data
		param, err := ParamText(d.ActionCodeParam)
		if err == nil && len(d.ActionCodeParam) > 0 && d.ActionCodeParam[0] == '"' {
			// A string parameter decodes to its content, which is valid
			// UTF-8 as every json.Unmarshal string is.
			if !utf8.ValidString(param) {
				t.Fatalf("param %q is not UTF-8", param)
			}
		} else if err == nil && len(d.ActionCodeParam) > 0 && string(d.ActionCodeParam) != "null" && !json.Valid([]byte(param)) {
			t.Fatalf("object parameter %q is not JSON", param)
		}
		_, _ = d.MuteTime.Int64()
		_ = d.ActionBreak.Or(false)
		_ = d.ActionCodeBreak.Or(true)
	})
}
