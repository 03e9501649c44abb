package provision

import (
	"os"
	"testing"
)

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(examplePath); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"accounts: []\n",
		"accounts:\n  - name: a\n    access_keys: [{id: AK, secret: \"0123456789abcdef\", actions: [\"*\"]}]\n",
		"network:\n  default: &d {answer_after: 1s}\n  subscribers:\n    - <<: *d\n      number: \"12345\"\n",
		"network: &n\n  <<: *n\n",
		"accounts: &a\n  - *a\n",
		"accounts:\n  - name: a\n    rate_limits: {X: 1e309}\n",
		"network:\n  default:\n    dtmf: [{at: 9223372036854775807ns, digits: \"#\"}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, "base")
		if (doc == nil) == (err == nil) {
			t.Fatalf("Parse returned doc %v and err %v: want exactly one", doc, err)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}
