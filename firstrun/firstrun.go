// Package firstrun is the first start of a store (one without accounts):
// it creates what a first call needs — the default account with an
// AccessKey, the console operator "admin" with a password, an admin API
// token and, unless told otherwise, the demo (examples/demo.yaml: a number,
// templates, voice files and receipt queues; a provisioning file that lists
// accounts replaces it) — all in one transaction through the resource
// service, so that a start that fails part way leaves a store the next
// start bootstraps again. What it generated is printed once (Result.Print)
// and kept in DATA/credentials (Credentials).
package firstrun

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/examples"
	"github.com/dialtone-voice/dialtone/keygen"
	"github.com/dialtone-voice/dialtone/provision"
	"github.com/dialtone-voice/dialtone/resource"
)

// DefaultAccountName names the account a first start creates.
const DefaultAccountName = "default"

// OperatorName is the console operator a server creates for itself.
const OperatorName = "admin"

// EnvConsoleAdminPassword sets the password of the console operator
// "admin" at start (created if missing).
const EnvConsoleAdminPassword = "DIALTONE_CONSOLE_ADMIN_PASSWORD"

// Options are what the operator gave for a first start: secrets from the
// environment are used instead of generated ones, and not written down.
type Options struct {
	// DataDir holds the credentials file.
	DataDir                      string
	AccessKeyID, AccessKeySecret string
	AdminToken                   string
	ConsolePassword              string
	// Demo creates the demo unless Provision lists accounts.
	Demo      bool
	Provision *provision.Document
	Logger    *slog.Logger
}

// Result is what a first start created, for the banner.
type Result struct {
	Creds Credentials
	// EnvKey: the AccessKey came from the environment, its secret is not
	// shown; EnvToken, EnvPassword likewise for the admin token and the
	// console password.
	EnvKey, EnvToken, EnvPassword bool
	// Demo is the demo document applied, nil without one.
	Demo     *provision.Document
	CredPath string
}

// Bootstrap runs a first start through svc.
func Bootstrap(ctx context.Context, svc *resource.Service, o Options) (*Result, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	now := time.Now()
	fr := &Result{CredPath: filepath.Join(o.DataDir, CredentialsFile)}
	c := &fr.Creds
	var err error
	if c.AccountUID, err = keygen.GenerateUID(); err != nil {
		return nil, err
	}
	c.AccessKeyID, c.AccessKeySecret = o.AccessKeyID, o.AccessKeySecret
	if fr.EnvKey = c.AccessKeyID != ""; !fr.EnvKey {
		if c.AccessKeyID, c.AccessKeySecret, err = keygen.GenerateAccessKey(); err != nil {
			return nil, err
		}
	}
	if fr.EnvToken = o.AdminToken != ""; !fr.EnvToken {
		if c.AdminToken, err = keygen.GenerateToken(); err != nil {
			return nil, err
		}
	}
	c.ConsoleUser = OperatorName
	c.ConsolePassword = o.ConsolePassword
	if fr.EnvPassword = c.ConsolePassword != ""; !fr.EnvPassword {
		if c.ConsolePassword, err = keygen.GeneratePassword(); err != nil {
			return nil, err
		}
	}
	if o.Demo && (o.Provision == nil || len(o.Provision.Accounts) == 0) {
		data, err := fs.ReadFile(examples.Demo, examples.DemoFile)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		if fr.Demo, err = provision.Parse(data, "examples/"+examples.DemoFile); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	// Only what was generated is written down; a secret the operator gave
	// in the environment stays there.
	file := *c
	if fr.EnvKey {
		file.AccessKeySecret = ""
	}
	if fr.EnvPassword {
		file.ConsolePassword = ""
	}
	ctx = dialtone.WithTrusted(dialtone.WithActor(ctx, "first-start"))
	err = svc.Atomic(ctx, func(ctx context.Context, tx *resource.Service) error {
		acct := dialtone.Account{UID: c.AccountUID, Name: DefaultAccountName, Status: dialtone.AccountActive, VoiceService: true}
		if _, err := tx.PutAccount(ctx, acct); err != nil {
			return fmt.Errorf("create the default account: %w", err)
		}
		if _, err := tx.PutAccessKey(ctx, dialtone.AccessKey{ID: c.AccessKeyID, AccountUID: c.AccountUID, Secret: c.AccessKeySecret, Enabled: true}); err != nil {
			return fmt.Errorf("create the default access key: %w", err)
		}
		if c.AdminToken != "" {
			if err := tx.Store().AddAdminToken(ctx, &dialtone.AdminToken{SHA256: sha256.Sum256([]byte(c.AdminToken)), CreatedAt: now}); err != nil {
				return fmt.Errorf("keep the admin token: %w", err)
			}
		}
		if _, _, err := tx.PutConsoleUser(ctx, dialtone.ConsoleUserInput{Username: c.ConsoleUser, Password: c.ConsolePassword, Operator: true}); err != nil {
			return fmt.Errorf("create the console operator (%s): %w", EnvConsoleAdminPassword, err)
		}
		if fr.Demo != nil {
			if _, err := provision.Apply(ctx, tx, fr.Demo, provision.WithFiles(provision.FSFiles{FS: examples.Demo})); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
		}
		// Before the commit: if writing the file fails, nothing is kept and
		// the next start tries again.
		if file.AccessKeySecret == "" && file.AdminToken == "" && file.ConsolePassword == "" {
			return nil
		}
		return WriteCredentials(fr.CredPath, file, now)
	})
	if err != nil {
		return nil, err
	}
	o.Logger.Info("created the default account", "account", c.AccountUID, "access_key_id", c.AccessKeyID,
		"generated_key", !fr.EnvKey, "generated_admin_token", !fr.EnvToken, "demo", fr.Demo != nil)
	return fr, nil
}

// Print writes what the first start created, once; callCommand, when not
// empty, is a command that places the demo's first call.
func (fr *Result) Print(w io.Writer, callCommand string) {
	c := fr.Creds
	fmt.Fprintf(w, "\nCreated the default account %s (shown only now; kept in %s, mode 0600):\n", c.AccountUID, fr.CredPath)
	fmt.Fprintf(w, "  AccessKeyId:      %s\n", c.AccessKeyID)
	if fr.EnvKey {
		fmt.Fprintf(w, "  AccessKeySecret:  (from DIALTONE_ACCESS_KEY_SECRET)\n")
	} else {
		fmt.Fprintf(w, "  AccessKeySecret:  %s\n", c.AccessKeySecret)
	}
	if fr.EnvToken {
		fmt.Fprintf(w, "  Admin API token:  (from DIALTONE_ADMIN_TOKEN)\n")
	} else {
		fmt.Fprintf(w, "  Admin API token:  %s\n", c.AdminToken)
	}
	if fr.EnvPassword {
		fmt.Fprintf(w, "  Console:          user %s, password from %s\n", c.ConsoleUser, EnvConsoleAdminPassword)
	} else {
		fmt.Fprintf(w, "  Console:          user %s, password %s\n", c.ConsoleUser, c.ConsolePassword)
	}
	if fr.Demo != nil {
		fmt.Fprintf(w, "  Demo (--demo=false for none): %s; the simulated network answers every number.\n", demoSummary(fr.Demo))
	}
	if callCommand != "" {
		fmt.Fprintf(w, "\nPlace a call and follow it (the CLI reads the key from %s):\n  %s\n", fr.CredPath, callCommand)
	}
}

// CanCall reports whether the printed command can place a call: the demo
// is there and the key's secret is in the credentials file.
func (fr *Result) CanCall() bool { return fr.Demo != nil && !fr.EnvKey }

// DemoCallee is the number the printed first call dials: any number
// answers on the simulated network.
const DemoCallee = "13800000001"

// Defaults of the command line, which the printed command leaves out.
const (
	DefaultHTTPAddr = "127.0.0.1:8080"
	DefaultDataDir  = "./data"
)

// CallCommand is the CLI command that places the demo's first call from
// a node listening on addr with data directory dataDir, as a person types
// it in the node's working directory; client is how the CLI is run
// ("" for dialtone).
func (fr *Result) CallCommand(client, addr, dataDir string) string {
	cmd := []string{firstNonEmpty(client, "dialtone"), "call", "tts"}
	if addr != DefaultHTTPAddr {
		cmd = append(cmd, "--endpoint", addr)
	}
	if filepath.Clean(dataDir) != filepath.Clean(DefaultDataDir) {
		cmd = append(cmd, "--data", shellQuote(dataDir))
	}
	code := "TTS_100001"
	if a := fr.Demo.Accounts; len(a) > 0 && len(a[0].TTSTemplates) > 0 {
		code = a[0].TTSTemplates[0].Code
	}
	return strings.Join(append(cmd, "--to", DemoCallee, "--template", code, "--param", "code=1234", "--wait"), " ")
}

// demoSummary lists what the demo created, briefly.
func demoSummary(doc *provision.Document) string {
	var parts []string
	for _, a := range doc.Accounts {
		var nums, tpls, voices, subs []string
		for _, x := range a.Numbers {
			nums = append(nums, x.Number.Number)
		}
		for _, x := range a.TTSTemplates {
			tpls = append(tpls, x.Code)
		}
		for _, x := range a.VoiceFiles {
			voices = append(voices, x.Code)
		}
		for _, x := range a.Subscriptions {
			subs = append(subs, string(x.MessageType))
		}
		parts = append(parts, "number "+strings.Join(nums, ", "), "TTS templates "+strings.Join(tpls, ", "),
			"voice files "+strings.Join(voices, ", "), "queues for "+strings.Join(subs, ", "))
	}
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return strings.HasSuffix(s, " ") }), "; ")
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
