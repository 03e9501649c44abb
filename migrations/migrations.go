// Package migrations holds the versioned SQL schema of the Dialtone store.
//
// The files are shared by every SQL store (SQLite today, PostgreSQL later),
// so they are written in the subset both engines accept: TEXT, INTEGER,
// BIGINT, booleans as INTEGER 0/1, times as BIGINT unix milliseconds (0 is the
// zero time), JSON as TEXT, and no engine-specific syntax. A store applies the
// pending ones in Version order, each in its own transaction, and records it
// in the table that TrackingTableSQL creates.
//
// Files are named NNNN_name.sql. Versions start at 1 and have no gaps, so a
// missing or misnumbered file is caught by All instead of silently skipped.
// Applied files must never be edited: add a new version instead.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
)

//go:embed *.sql
var files embed.FS

// TrackingTableSQL creates the table in which stores record the migrations
// they applied. It is not itself a migration because the stores need it
// before they can tell which migrations are pending.
const TrackingTableSQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at BIGINT  NOT NULL
)`

// Migration is one schema step.
type Migration struct {
	Version int    // 1, 2, ...
	Name    string // file name without the version prefix and ".sql"
	SQL     string // one or more statements separated by semicolons
}

var fileName = regexp.MustCompile(`^([0-9]+)_([a-z0-9_]+)\.sql$`)

// All returns every migration sorted by Version. It fails when a file name
// does not follow NNNN_name.sql or when versions are duplicated or have gaps.
func All() ([]Migration, error) {
	return load(files)
}

// load is All over any file system, so the validation can be tested with
// deliberately broken sets.
func load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migrations: file %q is not named NNNN_name.sql", e.Name())
		}
		v, err := strconv.Atoi(m[1])
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migrations: file %q: bad version", e.Name())
		}
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		out = append(out, Migration{Version: v, Name: m[2], SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	want := 1
	for _, m := range out {
		for want < m.Version && reserved[want] != "" {
			want++
		}
		if m.Version != want {
			return nil, fmt.Errorf("migrations: expected version %d, found %d (%s): versions must be 1..n without gaps or duplicates", want, m.Version, m.Name)
		}
		want++
	}
	return out, nil
}

// reserved are versions taken by work on other branches: a gap is allowed
// there (and only there) until those files arrive. A store applies a
// missing version whenever its file appears, after the later ones if need
// be, so a database migrated before the merge takes it then.
var reserved = map[int]string{
	10: "template remark (another branch)",
	11: "another branch",
}
