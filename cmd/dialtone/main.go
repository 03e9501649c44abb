// Command dialtone runs the Dialtone voice platform and talks to it.
//
//	dialtone serve [--data DIR] [--http ADDR] [--provision FILE]
//	dialtone apply -f FILE [--server URL] [--token TOKEN]
//	dialtone receipts dead-letters|redrive --account UID [--server URL] [--token TOKEN]
//	dialtone receipts watch --type VoiceReport [--queue NAME]
//	dialtone call tts|voice|ivr|dial|smart|cancel|get [flags]
//	dialtone ca [--data DIR]
//	dialtone hosts [--address IP]
//	dialtone bench [--duration 3s] [--calls 300] [--postgres URL]
//	dialtone soak [--duration 5m] [--rate 50]
//	dialtone version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dialtone-voice/dialtone/carrier/sip/sipbench"
)

// benchFarEndCommand is the hidden subcommand bench starts as the far end
// of its SIP concurrent-RTP row; it is not in the usage text.
const benchFarEndCommand = "bench-farend"

// benchStreamFarEndCommand is the hidden far end of bench's media-streams
// row (the far end and the echo application).
const benchStreamFarEndCommand = "bench-stream-farend"

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr)
	case "apply":
		err = cmdApply(ctx, args[1:], stdout, stderr)
	case "receipts":
		if len(args) > 1 && args[1] == "watch" {
			err = cmdReceiptsWatch(ctx, args[2:], stdout, stderr)
		} else {
			err = cmdReceipts(ctx, args[1:], stdout, stderr)
		}
	case "call":
		err = cmdCall(ctx, args[1:], stdout, stderr)
	case "ca":
		err = cmdCA(ctx, args[1:], stdout, stderr)
	case "hosts":
		err = cmdHosts(ctx, args[1:], stdout, stderr)
	case "bench":
		err = cmdBench(ctx, args[1:], stdout, stderr)
	case "soak":
		err = cmdSoak(ctx, args[1:], stdout, stderr)
	case benchFarEndCommand:
		// Hidden: the far end of bench's SIP concurrent-RTP row, started
		// by bench as its child and driven over stdin/stdout.
		err = sipbench.FarEndMain(ctx, os.Stdin, stdout)
	case benchStreamFarEndCommand:
		err = sipbench.StreamFarEndMain(ctx, os.Stdin, stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, "dialtone", version)
	case "help", "-h", "--help":
		usage(stdout)
	default:
		fmt.Fprintf(stderr, "dialtone: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintln(stderr, "dialtone:", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Dialtone: a self-hosted voice platform with the Alibaba Cloud Voice Service API.

Usage:
  dialtone serve   [--data DIR] [--http ADDR] [--https ADDR] [--provision FILE]  run a node
  dialtone apply   -f FILE [--server URL] [--token TOKEN]          provision a running node
  dialtone receipts dead-letters --account UID                    list failed receipt pushes
  dialtone receipts redrive --account UID                         push them again
  dialtone receipts watch --type VoiceReport [--queue NAME]       print receipts from a queue
  dialtone call tts|voice|ivr|dial|smart|cancel|get [flags]       place and follow calls
  dialtone ca      [--data DIR]                                   print the local CA certificate (PEM)
  dialtone hosts   [--address IP]                                 print hosts-file lines for the Alibaba hostnames
  dialtone bench   [--duration 3s] [--calls 300] [--postgres URL]  measure this machine, print one table
  dialtone soak    [--duration 5m] [--rate 50] [--every 10s]       hold a steady load, report memory and latency
  dialtone version                                                 print the version

Run "dialtone COMMAND -h" for a command's flags.
`)
}

// envOr returns the environment variable name, or def when it is unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}
