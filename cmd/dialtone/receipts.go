package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/dialtone-voice/dialtone/admin"
)

// cmdReceipts runs "dialtone receipts dead-letters|redrive --account UID",
// which talk to a running server's admin API.
func cmdReceipts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "dead-letters" && args[0] != "redrive") {
		fmt.Fprintln(stderr, `usage: dialtone receipts dead-letters|redrive --account UID [--server URL] [--token TOKEN]`)
		return errUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("receipts "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	account := fs.String("account", "", "account UID")
	srv := fs.String("server", envOr("DIALTONE_SERVER", "http://127.0.0.1:8080"), "Dialtone server URL (env DIALTONE_SERVER)")
	token := fs.String("token", "", "admin token (default: env DIALTONE_ADMIN_TOKEN)")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if *account == "" {
		fmt.Fprintf(stderr, "receipts %s: --account UID is required\n", sub)
		return errUsage
	}
	if *token == "" {
		*token = os.Getenv("DIALTONE_ADMIN_TOKEN")
	}
	if *token == "" {
		return fmt.Errorf("receipts %s: no admin token: pass --token or set DIALTONE_ADMIN_TOKEN", sub)
	}
	hc := &http.Client{Timeout: 60 * time.Second}
	if sub == "redrive" {
		n, err := admin.Redrive(ctx, *srv, *token, *account, hc)
		if err != nil {
			return fmt.Errorf("receipts redrive: %w", err)
		}
		fmt.Fprintf(stdout, "redrove %d dead letter(s) of account %s\n", n, *account)
		return nil
	}
	ds, err := admin.ListDeadLetters(ctx, *srv, *token, *account, hc)
	if err != nil {
		return fmt.Errorf("receipts dead-letters: %w", err)
	}
	// One JSON object per line: easy to read and to pipe into jq.
	enc := json.NewEncoder(stdout)
	for _, d := range ds {
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "%d dead letter(s)\n", len(ds))
	return nil
}
