package migrations

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestAllSortedAndContiguous(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 3 {
		t.Fatalf("got %d migrations, want at least 3", len(all))
	}
	want := 1
	for _, m := range all {
		for want < m.Version && reserved[want] != "" {
			want++
		}
		if m.Version != want {
			t.Errorf("migration %d has version %d", want, m.Version)
		}
		want++
		if m.Name == "" || strings.TrimSpace(m.SQL) == "" {
			t.Errorf("migration %d: empty name or SQL", m.Version)
		}
	}
	if all[0].Name != "accounts_keys" || all[1].Name != "calls" || all[2].Name != "engine_resources" {
		t.Errorf("names = %q, %q, %q", all[0].Name, all[1].Name, all[2].Name)
	}
}

func TestLoadRejectsBadSets(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("CREATE TABLE t (x TEXT);")}
	cases := map[string]fstest.MapFS{
		"bad name":  {"0001_a.sql": sql, "two.sql": sql},
		"gap":       {"0001_a.sql": sql, "0003_c.sql": sql},
		"duplicate": {"0001_a.sql": sql, "0001_b.sql": sql},
		"zero":      {"0000_a.sql": sql},
		"uppercase": {"0001_A.sql": sql},
	}
	// Only a reserved version may be missing.
	upTo9 := func(extra ...string) fstest.MapFS {
		fsys := fstest.MapFS{}
		for v := 1; v <= 9; v++ {
			fsys[fmt.Sprintf("%04d_m.sql", v)] = sql
		}
		for _, name := range extra {
			fsys[name] = sql
		}
		return fsys
	}
	cases["gap beyond the reserved versions"] = upTo9("0013_x.sql")
	if got, err := load(upTo9("0012_x.sql")); err != nil || len(got) != 10 {
		t.Errorf("reserved gap: load = %d migrations, %v", len(got), err)
	}
	if got, err := load(upTo9("0010_r.sql", "0011_s.sql", "0012_x.sql")); err != nil || len(got) != 12 {
		t.Errorf("reserved versions present: load = %d migrations, %v", len(got), err)
	}
	for name, fsys := range cases {
		if _, err := load(fsys); err == nil {
			t.Errorf("%s: load succeeded", name)
		}
	}
	got, err := load(fstest.MapFS{"0002_b.sql": sql, "0001_a.sql": sql})
	if err != nil || len(got) != 2 || got[0].Name != "a" || got[1].Version != 2 {
		t.Fatalf("load = %+v, %v", got, err)
	}
}

// TestPortable guards the promise that one set of files serves SQLite and
// PostgreSQL: it rejects constructs that only one of them understands. It is
// a tripwire, not a parser; the real proof is each store's test suite.
func TestPortable(t *testing.T) {
	forbidden := []struct{ re, why string }{
		{`\bAUTOINCREMENT\b`, "SQLite only; use explicit IDs"},
		{`\bWITHOUT\s+ROWID\b`, "SQLite only"},
		{`\bSTRICT\b`, "SQLite only table option"},
		{`\bPRAGMA\b`, "SQLite only; connection settings belong in the store"},
		{`\bINSERT\s+OR\b`, "SQLite only; use ON CONFLICT"},
		{`\bREPLACE\s+INTO\b`, "SQLite/MySQL only"},
		{`\bBLOB\b`, "not a PostgreSQL type; use TEXT (base64)"},
		{`\bBYTEA\b`, "PostgreSQL only"},
		{`\bJSONB?\b`, "engine-specific; store JSON as TEXT"},
		{`\b(BIG)?SERIAL\b`, "PostgreSQL only"},
		{`\bTIMESTAMP(TZ)?\b`, "times are BIGINT unix milliseconds"},
		{`\bDATETIME\b`, "times are BIGINT unix milliseconds"},
		{`\bBOOLEAN\b`, "booleans are INTEGER 0/1"},
		{`\bGENERATED\b`, "generated columns differ between engines"},
		{`\bCOLLATE\b`, "collations differ between engines"},
	}
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	comment := regexp.MustCompile(`--[^\n]*`)
	for _, m := range all {
		code := comment.ReplaceAllString(m.SQL, "")
		for _, f := range forbidden {
			if regexp.MustCompile(`(?i)` + f.re).MatchString(code) {
				t.Errorf("%04d_%s.sql matches %s: %s", m.Version, m.Name, f.re, f.why)
			}
		}
	}
}
