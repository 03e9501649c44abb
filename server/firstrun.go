package server

import (
	"context"
	"fmt"

	"github.com/dialtone-voice/dialtone/admin"
	"github.com/dialtone-voice/dialtone/firstrun"
	"github.com/dialtone-voice/dialtone/provision"
)

// Re-exported for the command line, which names them through the node.
const (
	DefaultAccountName      = firstrun.DefaultAccountName
	OperatorName            = firstrun.OperatorName
	EnvConsoleAdminPassword = firstrun.EnvConsoleAdminPassword
	DefaultHTTPAddr         = firstrun.DefaultHTTPAddr
	DefaultDataDir          = firstrun.DefaultDataDir
	DemoCallee              = firstrun.DemoCallee
)

// bootstrap runs a first start (package firstrun) with the node's
// options; prov is the provisioning file given at start, nil without one.
func (n *Node) bootstrap(ctx context.Context, prov *provision.Document) error {
	fr, err := firstrun.Bootstrap(ctx, n.res, firstrun.Options{
		DataDir: n.cfg.DataDir, AccessKeyID: n.cfg.AccessKeyID, AccessKeySecret: n.cfg.AccessKeySecret,
		AdminToken: n.cfg.AdminToken, ConsolePassword: n.cfg.ConsolePassword,
		Demo: n.cfg.Demo, Provision: prov, Logger: n.log,
	})
	if err != nil {
		return err
	}
	n.firstRun = fr
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
	if fr := n.firstRun; fr != nil {
		cmd := ""
		if fr.CanCall() && doors.plain != nil {
			cmd = fr.CallCommand(n.cfg.ClientCommand, doors.plain.ln.Addr().String(), n.cfg.DataDir)
		}
		fr.Print(w, cmd)
	}

	fmt.Fprintf(w, "Console: %s/console/\n", doors.baseURL())
}
