package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/dialtone-voice/dialtone/admin"
)

func cmdApply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "provisioning YAML file to apply (- for standard input)")
	srv := fs.String("server", envOr("DIALTONE_SERVER", "http://127.0.0.1:8080"), "Dialtone server URL (env DIALTONE_SERVER)")
	token := fs.String("token", "", "admin token (default: env DIALTONE_ADMIN_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *file == "" {
		fmt.Fprintln(stderr, "apply: -f FILE is required")
		return errUsage
	}
	if *token == "" {
		*token = os.Getenv("DIALTONE_ADMIN_TOKEN")
	}
	if *token == "" {
		return fmt.Errorf("apply: no admin token: pass --token or set DIALTONE_ADMIN_TOKEN to the token the server was started with")
	}
	var data []byte
	var err error
	if *file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(*file)
	}
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	res, err := admin.ApplyFile(ctx, *srv, *token, data, &http.Client{Timeout: 60 * time.Second})
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	fmt.Fprintf(stdout, "applied %s to %s: %+v\n", *file, *srv, res)
	return nil
}
