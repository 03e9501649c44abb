package firstrun

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/console/passhash"
	"github.com/dialtone-voice/dialtone/resource"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
)

func newService(t *testing.T, dataDir string) (*resource.Service, dialtone.Store) {
	t.Helper()
	sealer, err := secret.NewSealer(make([]byte, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sealer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return resource.New(st, dataDir, nil), st
}

// TestBootstrap: a first start creates the account, its key, the operator,
// the admin token's hash and the demo, and writes what it generated to a
// 0600 file the CLI reads back.
func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	svc, st := newService(t, data)
	fr, err := Bootstrap(ctx, svc, Options{DataDir: data, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	c := fr.Creds
	if a, err := st.GetAccount(ctx, c.AccountUID); err != nil || a.Name != DefaultAccountName {
		t.Fatalf("account %+v, %v", a, err)
	}
	if k, err := st.GetAccessKey(ctx, c.AccessKeyID); err != nil || k.Secret != c.AccessKeySecret || !k.Enabled {
		t.Fatalf("key %+v, %v", k, err)
	}
	if u, err := st.GetConsoleUser(ctx, OperatorName); err != nil || !u.Operator() || !passhash.Verify(u.PasswordHash, c.ConsolePassword) {
		t.Fatalf("operator %+v, %v", u, err)
	}
	tokens, err := st.ListAdminTokens(ctx)
	if err != nil || len(tokens) != 1 || tokens[0].SHA256 != sha256.Sum256([]byte(c.AdminToken)) {
		t.Fatalf("admin tokens %+v, %v", tokens, err)
	}
	if ts, _ := st.ListTemplates(ctx, c.AccountUID); len(ts) == 0 || fr.Demo == nil {
		t.Fatal("no demo templates")
	}
	fi, err := os.Stat(fr.CredPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file %v, %v", fi, err)
	}
	back, err := ReadCredentials(fr.CredPath)
	if err != nil || back != c {
		t.Fatalf("read back %+v, %v", back, err)
	}
	var out strings.Builder
	fr.Print(&out, fr.CallCommand("", DefaultHTTPAddr, DefaultDataDir))
	for _, want := range []string{c.AccessKeyID, c.AccessKeySecret, c.AdminToken, c.ConsolePassword,
		"dialtone call tts --to " + DemoCallee + " --template TTS_100001 --param code=1234 --wait"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, out.String())
		}
	}
	if cmd := fr.CallCommand("go run ./cmd/dialtone", "127.0.0.1:9090", "var/my data"); !strings.HasPrefix(cmd, "go run ./cmd/dialtone call tts --endpoint 127.0.0.1:9090 --data 'var/my data' ") {
		t.Errorf("call command %q", cmd)
	}
}

// TestBootstrapFromEnvironment: secrets given by the operator are used and
// never written down; without the demo nothing but the account is made.
func TestBootstrapFromEnvironment(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	svc, st := newService(t, data)
	fr, err := Bootstrap(ctx, svc, Options{DataDir: data, AccessKeyID: "LTAIenv", AccessKeySecret: "env-secret-0123456789",
		AdminToken: "env-token-0123456789", ConsolePassword: "env-password"})
	if err != nil {
		t.Fatal(err)
	}
	if !fr.EnvKey || !fr.EnvToken || !fr.EnvPassword || fr.Demo != nil || fr.CanCall() {
		t.Fatalf("result %+v", fr)
	}
	if _, err := os.Stat(fr.CredPath); !os.IsNotExist(err) {
		b, _ := os.ReadFile(fr.CredPath)
		t.Fatalf("a credentials file with only the environment's secrets: %s", b)
	}
	if k, err := st.GetAccessKey(ctx, "LTAIenv"); err != nil || k.Secret != "env-secret-0123456789" {
		t.Fatalf("key %+v, %v", k, err)
	}
	var out strings.Builder
	fr.Print(&out, "")
	if strings.Contains(out.String(), "env-secret") || strings.Contains(out.String(), "env-password") || strings.Contains(out.String(), "env-token") {
		t.Errorf("the banner shows a secret from the environment:\n%s", out.String())
	}
}

// TestBootstrapAllOrNothing: when the credentials file cannot be written,
// nothing is kept, so the next start bootstraps again.
func TestBootstrapAllOrNothing(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "missing", "dir")
	svc, st := newService(t, t.TempDir())
	if _, err := Bootstrap(ctx, svc, Options{DataDir: data, Demo: true}); err == nil {
		t.Fatal("no error writing into a missing directory")
	}
	if as, err := st.ListAccounts(ctx); err != nil || len(as) != 0 {
		t.Fatalf("%d accounts kept after a failed first start, %v", len(as), err)
	}
}
