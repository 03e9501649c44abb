// Command echoagent is a media stream application: it plays back to the
// call what it hears from the call, as it hears it. Point a stream at it
// (smartcall_stream_url, or a SmartCall callback's {"action":"stream"}
// answer) and the callee hears themself about a frame later.
//
//	echoagent ADDR SECRET     e.g. 127.0.0.1:9998 s3cret
//
// SECRET is the account's stream signing secret: upgrades whose
// X-Dialtone-Signature does not verify are refused with 401. Keys: * clears
// what is queued (barge-in), # hangs up. It prints one line per stream
// event it acts on.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dialtone-voice/dialtone/examples/go/internal/local"
	"github.com/dialtone-voice/dialtone/sdk"
)

func main() {
	addr, secret := local.Arg(1, ""), local.Arg(2, "")
	if addr == "" || secret == "" {
		local.Fail(errors.New("usage: echoagent ADDR SECRET"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := sdk.StreamHandler(sdk.StreamConfig{
		Secrets: []string{secret},
		Logger:  slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}, echo)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		local.Fail(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	fmt.Println("listening", addr)
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		local.Fail(err)
	}
}

// echo serves one stream: every media frame goes straight back.
func echo(ctx context.Context, s *sdk.Stream) error {
	st := s.Start()
	fmt.Println("start", st.CallSID, st.StreamSID)
	frames := 0
	for {
		ev, err := s.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch ev := ev.(type) {
		case *sdk.StreamMedia:
			frames++
			if err := s.WriteMuLaw(ctx, ev.Payload); err != nil {
				return err
			}
		case *sdk.StreamDTMF:
			fmt.Println("dtmf", st.CallSID, ev.Digit)
			switch ev.Digit {
			case "*":
				if err := s.Clear(ctx); err != nil {
					return err
				}
			case "#":
				if err := s.Hangup(ctx, "the caller pressed #"); err != nil {
					return err
				}
			}
		case *sdk.StreamStop:
			fmt.Println("stop", st.CallSID, "echoed", frames, "frames")
		}
	}
}
