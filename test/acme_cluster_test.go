package test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/postgres"
	"github.com/dialtone-voice/dialtone/secret"
)

// TestACMEPebbleCluster: two nodes on one PostgreSQL database obtain one
// certificate from Pebble between them, through the store (no shared
// directory, no --acme-storage). The nodes listen on the same ports of two
// loopback addresses, and the name resolves (Dialtone's DNS, run by node a)
// to node b only, so Pebble validates every challenge against node b,
// whichever node ordered: when node a orders, node b answers from the
// challenge tokens in the store. The test holds the certificate's lock in
// the store until both nodes run, so that neither orders before the other
// can answer; then one node takes the lock and orders, and the other
// waits, then loads the result.
func TestACMEPebbleCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Pebble and PostgreSQL")
	}
	dsn := pgtest.DB(t)
	httpA, httpsA, dnsAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	httpB, httpsB := onHost(t, httpA, "127.0.0.2"), onHost(t, httpsA, "127.0.0.2")
	p := startPebble(t, httpA, httpsA, dnsAddr, 3600)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := migratedDB(t, ctx, dsn)
	lock := "issue_cert_" + acmeName
	if _, err := db.Exec(ctx, `INSERT INTO cert_locks (name, owner, expires_at) VALUES ($1, 'test', $2)`,
		lock, time.Now().Add(time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	env := []string{"SSL_CERT_FILE=" + p.minica, "DIALTONE_ADMIN_TOKEN=tok", "DIALTONE_MASTER_KEY=" + masterKey(t), "DIALTONE_STORE=" + dsn}
	acme := []string{"--acme-domains", acmeName, "--acme-email", "ops@dialtone.test", "--acme-directory", "https://" + p.addr + "/dir"}
	dataA, dataB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	a := startNodeAt(t, dataA, httpA, env, append([]string{"--node", "a", "--https", httpsA,
		"--dns", dnsAddr, "--dns-answer", "127.0.0.2"}, acme...)...)
	b := startNodeAt(t, dataB, httpB, env, append([]string{"--node", "b", "--https", httpsB}, acme...)...)
	if _, err := db.Exec(ctx, `DELETE FROM cert_locks WHERE name = $1 AND owner = 'test'`, lock); err != nil {
		t.Fatal(err)
	}

	certA := waitServedCert(t, httpsA, p.roots, nil, 90*time.Second, a)
	certB := waitServedCert(t, httpsB, p.roots, nil, 90*time.Second, b)
	if certA.SerialNumber.Cmp(certB.SerialNumber) != 0 {
		t.Errorf("the nodes serve two certificates: serials %x and %x", certA.SerialNumber, certB.SerialNumber)
	}
	if n := strings.Count(p.out.String(), "Issued certificate serial"); n != 1 {
		t.Errorf("Pebble issued %d certificates, want 1:\n%s", n, p.out)
	}
	// The certificate is kept once, in the store, and in no directory.
	var stored int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM cert_files WHERE key LIKE '%/' || $1 || '.crt'`, acmeName).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 1 {
		t.Errorf("%d stored certificates for %s, want 1", stored, acmeName)
	}
	for _, d := range []string{dataA, dataB} {
		if _, err := os.Stat(filepath.Join(d, "acme")); !os.IsNotExist(err) {
			t.Errorf("%s/acme exists (%v): ACME state went to a directory, not the store", d, err)
		}
	}
	for _, n := range []*node{a, b} {
		if err := n.stop(15 * time.Second); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
}

// onHost is addr's port on host.
func onHost(t *testing.T, addr, host string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort(host, port)
}

// migratedDB migrates the database at dsn (opening the store as a node
// would) and returns a plain connection to it.
func migratedDB(t *testing.T, ctx context.Context, dsn string) *pgx.Conn {
	t.Helper()
	sl, err := secret.NewSealer(bytes.Repeat([]byte{9}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(ctx, dsn, sl, postgres.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
