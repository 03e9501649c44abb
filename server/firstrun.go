package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/admin"
	"github.com/dialtone-voice/dialtone/examples"
	"github.com/dialtone-voice/dialtone/keygen"
	"github.com/dialtone-voice/dialtone/provision"
	"github.com/dialtone-voice/dialtone/resource"
)

// The first start of a store (one without accounts) creates what a first
// call needs: the default account with an AccessKey, the console operator
// "admin" with a password, an admin API token, and unless told otherwise
// the demo (examples/demo.yaml: a number, templates, voice files and
// receipt queues; a provisioning file that lists accounts replaces it). It
// all goes into the store in one transaction, so a
// start that fails part way leaves a store that the next start bootstraps
// again. What it generated is printed once (printBanner) and kept in
// DATA/credentials.

// firstRun is what the first start created, for the banner.
type firstRun struct {
	creds Credentials
	// envKey: the AccessKey came from the environment, its secret is not
	// shown; envToken, envPassword likewise for the admin token and the
	// console password.
	envKey, envToken, envPassword bool
	demo                          *provision.Document
	credPath                      string
}

// DefaultAccountName names the account a first start creates.
const DefaultAccountName = "default"

// OperatorName is the console operator a server creates for itself.
const OperatorName = "admin"

// bootstrap runs a first start; prov is the provisioning file given at
// start, nil without one: when it lists accounts, it replaces the demo.
func (n *Node) bootstrap(ctx context.Context, prov *provision.Document) error {
	now := time.Now()
	fr := &firstRun{credPath: filepath.Join(n.cfg.DataDir, CredentialsFile)}
	c := &fr.creds
	var err error
	if c.AccountUID, err = keygen.GenerateUID(); err != nil {
		return err
	}
	c.AccessKeyID, c.AccessKeySecret = n.cfg.AccessKeyID, n.cfg.AccessKeySecret
	if fr.envKey = c.AccessKeyID != ""; !fr.envKey {
		if c.AccessKeyID, c.AccessKeySecret, err = keygen.GenerateAccessKey(); err != nil {
			return err
		}
	}
	if fr.envToken = n.cfg.AdminToken != ""; !fr.envToken {
		if c.AdminToken, err = keygen.GenerateToken(); err != nil {
			return err
		}
	}
	c.ConsoleUser = OperatorName
	c.ConsolePassword = n.cfg.ConsolePassword
	if fr.envPassword = c.ConsolePassword != ""; !fr.envPassword {
		if c.ConsolePassword, err = keygen.GeneratePassword(); err != nil {
			return err
		}
	}
	if n.cfg.Demo && (prov == nil || len(prov.Accounts) == 0) {
		data, err := fs.ReadFile(examples.Demo, examples.DemoFile)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if fr.demo, err = provision.Parse(data, "examples/"+examples.DemoFile); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	// Only what was generated is written down; a secret the operator gave
	// in the environment stays there.
	file := *c
	if fr.envKey {
		file.AccessKeySecret = ""
	}
	if fr.envPassword {
		file.ConsolePassword = ""
	}
	ctx = dialtone.WithTrusted(dialtone.WithActor(ctx, "first-start"))
	err = n.res.Atomic(ctx, func(ctx context.Context, tx *resource.Service) error {
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
		if fr.demo != nil {
			if _, err := provision.Apply(ctx, tx, fr.demo, provision.WithFiles(provision.FSFiles{FS: examples.Demo})); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
		}
		// Before the commit: if writing the file fails, nothing is kept and
		// the next start tries again.
		if file.AccessKeySecret == "" && file.AdminToken == "" && file.ConsolePassword == "" {
			return nil
		}
		return WriteCredentials(fr.credPath, file, now)
	})
	if err != nil {
		return err
	}
	n.firstRun = fr
	n.log.Info("created the default account", "account", c.AccountUID, "access_key_id", c.AccessKeyID,
		"generated_key", !fr.envKey, "generated_admin_token", !fr.envToken, "demo", fr.demo != nil)
	return nil
}

// adminTokens are the tokens that open the admin API: the environment's
// and those a first start generated.
func (n *Node) adminTokens(ctx context.Context) (admin.Tokens, error) {
	stored, err := n.store.ListAdminTokens(ctx)
	if err != nil {
		return admin.Tokens{}, fmt.Errorf("admin tokens: %w", err)
	}
	tokens := admin.TokenList(n.cfg.AdminToken)
	for _, t := range stored {
		tokens = tokens.WithHashes(t.SHA256)
	}
	return tokens, nil
}

// printBanner tells a person where the plain listener is and how the
// official clients reach it.
func (n *Node) printBanner(addr string) {
	fmt.Fprintf(n.cfg.Stdout, `Dialtone is listening on http://%[1]s
  POP API (Dyvmsapi and Dybaseapi 2017-05-25): endpoint %[1]s
    tea/darabonba SDKs:    Config{Endpoint: "%[1]s", Protocol: "http"}
    alibaba-cloud-sdk-go:  endpoints.AddEndpointMapping("cn-hangzhou", "Dyvmsapi", "%[1]s")
    Node pop-core:         endpoint: "http://%[1]s"
  Health: http://%[1]s/healthz  Ready: http://%[1]s/readyz  Metrics: http://%[1]s/metrics
  Admin API: http://%[1]s/admin/v1/ (Authorization: Bearer <admin token>)
`, addr)
}

// printFirstRun ends the start-up text: at a first start, what it created;
// then a command that places a call and follows it (when the plain
// listener is on and the demo is there), and the console's address.
func (n *Node) printFirstRun(doors *frontDoors) {
	w := n.cfg.Stdout
	fr := n.firstRun
	if fr != nil {
		c := fr.creds
		fmt.Fprintf(w, "\nCreated the default account %s (shown only now; kept in %s, mode 0600):\n", c.AccountUID, fr.credPath)
		fmt.Fprintf(w, "  AccessKeyId:      %s\n", c.AccessKeyID)
		if fr.envKey {
			fmt.Fprintf(w, "  AccessKeySecret:  (from DIALTONE_ACCESS_KEY_SECRET)\n")
		} else {
			fmt.Fprintf(w, "  AccessKeySecret:  %s\n", c.AccessKeySecret)
		}
		if fr.envToken {
			fmt.Fprintf(w, "  Admin API token:  (from DIALTONE_ADMIN_TOKEN)\n")
		} else {
			fmt.Fprintf(w, "  Admin API token:  %s\n", c.AdminToken)
		}
		if fr.envPassword {
			fmt.Fprintf(w, "  Console:          user %s, password from %s\n", c.ConsoleUser, EnvConsoleAdminPassword)
		} else {
			fmt.Fprintf(w, "  Console:          user %s, password %s\n", c.ConsoleUser, c.ConsolePassword)
		}
		if fr.demo != nil {
			fmt.Fprintf(w, "  Demo (--demo=false for none): %s; the simulated network answers every number.\n", demoSummary(fr.demo))
		}
		if fr.demo != nil && !fr.envKey && doors.plain != nil {
			fmt.Fprintf(w, "\nPlace a call and follow it (the CLI reads the key from %s):\n  %s\n", fr.credPath,
				n.callCommand(doors.plain.ln.Addr().String(), fr.demo))
		}
	}
	fmt.Fprintf(w, "Console: %s/console/\n", doors.baseURL())
}

// callCommand is the CLI command that places the demo's first call from
// this node, as a person types it in the node's working directory.
func (n *Node) callCommand(addr string, demo *provision.Document) string {
	cmd := []string{firstNonEmpty(n.cfg.ClientCommand, "dialtone"), "call", "tts"}
	if addr != DefaultHTTPAddr {
		cmd = append(cmd, "--endpoint", addr)
	}
	if filepath.Clean(n.cfg.DataDir) != filepath.Clean(DefaultDataDir) {
		cmd = append(cmd, "--data", shellQuote(n.cfg.DataDir))
	}
	code := "TTS_100001"
	if a := demo.Accounts; len(a) > 0 && len(a[0].TTSTemplates) > 0 {
		code = a[0].TTSTemplates[0].Code
	}
	return strings.Join(append(cmd, "--to", DemoCallee, "--template", code, "--param", "code=1234", "--wait"), " ")
}

// DemoCallee is the number the printed first call dials: any number
// answers on the simulated network.
const DemoCallee = "13800000001"

// Defaults of the command line, which the printed command leaves out.
const (
	DefaultHTTPAddr = "127.0.0.1:8080"
	DefaultDataDir  = "./data"
)

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
