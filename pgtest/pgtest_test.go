package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Each DB call gives a separate, empty, writable database.
func TestDB(t *testing.T) {
	ctx := context.Background()
	a, b := DB(t), DB(t)
	if a == b {
		t.Fatalf("two databases share the DSN %s", a)
	}
	ca, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close(ctx)
	cb, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close(ctx)
	if _, err := ca.Exec(ctx, `CREATE TABLE x (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := cb.QueryRow(ctx, `SELECT COUNT(*) FROM pg_tables WHERE tablename = 'x'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("a table created in one database is visible in the other")
	}
	if os.Getenv(EnvDSN) == "" {
		// The throw-away server must not be reachable beyond loopback.
		var addr string
		if err := ca.QueryRow(ctx, `SHOW listen_addresses`).Scan(&addr); err != nil {
			t.Fatal(err)
		}
		if addr != "127.0.0.1" {
			t.Errorf("listen_addresses = %q, want 127.0.0.1", addr)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u@127.0.0.1:5432/postgres?sslmode=disable": "postgres://u@127.0.0.1:5432/t_1?sslmode=disable",
		"postgresql://u@127.0.0.1/":                            "postgresql://u@127.0.0.1/t_1",
		"host=127.0.0.1 user=u dbname=postgres":                "host=127.0.0.1 user=u dbname=postgres dbname=t_1",
	} {
		got, err := withDatabase(in, "t_1")
		if err != nil || got != want {
			t.Errorf("withDatabase(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
}
