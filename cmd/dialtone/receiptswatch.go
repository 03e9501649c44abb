package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone/sdk"
)

// cmdReceiptsWatch runs "dialtone receipts watch": it consumes a receipt
// queue with the SDK's Consumer and prints each receipt. By default it
// deletes what it printed (it is a consumer like any other); --peek leaves
// the messages to come back after the queue's visibility timeout.
func cmdReceiptsWatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("receipts watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.register(fs)
	typ := fs.String("type", sdk.VoiceReportType, "message type: VoiceReport, VoiceCallReport or VoiceRecordReport")
	queue := fs.String("queue", "", "queue name (default Alicom-Queue-<account>-<type>; the account comes from --account or the admin token)")
	keep := fs.Bool("keep", false, "do not delete the receipts printed (they come back after the visibility timeout)")
	count := fs.Int("n", 0, "stop after this many receipts (0: until interrupted)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	c, err := cf.client()
	if err != nil {
		return err
	}
	if *queue == "" && cf.account == "" {
		if cf.adminToken == "" {
			return fmt.Errorf("receipts watch: which queue? pass --queue Alicom-Queue-<account UID>-%s, or --account UID (env DIALTONE_ACCOUNT), or an admin token (--admin-token or DIALTONE_ADMIN_TOKEN) to look the account up", *typ)
		}
		uid, err := findAccount(ctx, &http.Client{Timeout: 10 * time.Second}, c.Endpoint(), cf.adminToken, cf.keyID)
		if err != nil {
			return fmt.Errorf("receipts watch: %w", err)
		}
		cf.account = uid
	}
	out := &printer{w: stdout, errw: stderr, json: cf.output == "json"}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := 0
	cons := &sdk.Consumer{
		Client: c, MessageType: *typ, QueueName: *queue, AccountUID: cf.account, Concurrency: 1,
		Handler: func(ctx context.Context, r sdk.Receipt) error {
			if *count > 0 && n >= *count {
				return fmt.Errorf("already printed %d", *count) // left in the queue
			}
			n++
			printReceipt(out, r)
			if *count > 0 && n >= *count {
				cancel()
			}
			if *keep {
				return fmt.Errorf("kept")
			}
			return nil
		},
		OnError: func(err error) {
			if !*keep || !strings.Contains(err.Error(), "kept") {
				if !strings.Contains(err.Error(), "already printed") {
					fmt.Fprintln(stderr, "dialtone: receipts watch:", err)
				}
			}
		},
	}
	fmt.Fprintf(stderr, "watching %s receipts (Ctrl-C to stop)\n", *typ)
	if err := cons.Run(ctx); err != nil {
		return explain(err)
	}
	return nil
}

func printReceipt(out *printer, r sdk.Receipt) {
	if out.json {
		if r.Raw != nil {
			out.obj(r.Raw)
		} else {
			fmt.Fprintln(out.w, string(r.Body))
		}
		return
	}
	keys := make([]string, 0, len(r.Raw))
	for k := range r.Raw {
		if k != "call_id" && k != "receipt_id" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s call %s", r.Type, r.CallID)
	for _, k := range keys {
		if v := fmt.Sprint(r.Raw[k]); v != "" {
			fmt.Fprintf(&b, " %s=%s", k, v)
		}
	}
	fmt.Fprintln(out.w, b.String())
}
