package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dialtone-voice/dialtone/admin"
	"github.com/dialtone-voice/dialtone/provision"
)

// cmdApply sends a provisioning document to a running server with the
// files it names, read relative to the document, so that it works against
// a server on another machine or in another directory.
func cmdApply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "provisioning YAML file to apply (- for standard input: its files are then relative to the current directory)")
	srv := fs.String("server", envOr("DIALTONE_SERVER", "http://127.0.0.1:8080"), "Dialtone server URL (env DIALTONE_SERVER)")
	token := fs.String("token", "", "admin token (default: env DIALTONE_ADMIN_TOKEN, or the credentials file of --data)")
	dataDir := fs.String("data", "", "data directory of a local server whose credentials file holds the admin token (default: env DIALTONE_DATA or ./data)")
	dryRun := fs.Bool("dry-run", false, "show what applying would change, changing nothing")
	output := fs.String("output", "text", "text (a summary per account) or json (the server's answer, for scripts)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *file == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "apply: -f FILE is required, and nothing else")
		return errUsage
	}
	if *output != "text" && *output != "json" {
		return fmt.Errorf("apply: --output %q: want text or json", *output)
	}
	if *token == "" {
		*token = firstNonEmpty(os.Getenv("DIALTONE_ADMIN_TOKEN"), localCredentials(*dataDir).AdminToken)
	}
	if *token == "" {
		return fmt.Errorf("apply: no admin token: pass --token or set DIALTONE_ADMIN_TOKEN to the server's admin token (a local server prints it at its first start and keeps it in DATA/credentials)")
	}
	var data []byte
	var err error
	name, dir := *file, filepath.Dir(*file)
	if *file == "-" {
		name, dir = "(standard input)", "."
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(*file)
	}
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	// Parsed here too: a bad document is reported without a round trip,
	// and the files it names are found.
	doc, err := provision.Parse(data, name)
	if err != nil {
		return fmt.Errorf("apply: the document is not valid:\n%w", err)
	}
	files, err := provision.ReadFiles(doc, provision.DirFiles(dir))
	if err != nil {
		return fmt.Errorf("apply: the files the document names cannot be read:\n%w", err)
	}
	res, err := admin.Apply(ctx, *srv, *token, admin.Document{Name: name, YAML: data, Files: files, DryRun: *dryRun}, nil)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if !res.DryRun {
		fmt.Fprintf(stdout, "applied %s to %s\n", name, *srv)
	}
	fmt.Fprint(stdout, res.Summary())
	return nil
}
