// Command callfeed writes finished calls with their receipts into the store
// of a Dialtone data directory, exactly as the engine's UpdateCall does, so
// that tests can exercise receipt delivery (outbox, dispatcher sweep,
// queues, push) of a running server through its real write path while the
// engine is not wired into the server. It prints the receipt IDs.
//
//	callfeed --data DIR --account UID [--calls N] [--types VoiceReport,VoiceCallReport]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/receipt"
	"github.com/dialtone-voice/dialtone/secret"
	"github.com/dialtone-voice/dialtone/sqlite"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "callfeed:", err)
		os.Exit(1)
	}
}

func run() error {
	data := flag.String("data", "", "data directory of the server")
	account := flag.String("account", "", "account UID")
	calls := flag.Int("calls", 1, "number of calls")
	types := flag.String("types", dialtone.MsgVoiceReport+","+dialtone.MsgVoiceCallReport, "receipt types to produce")
	flag.Parse()
	if *data == "" || *account == "" {
		return fmt.Errorf("--data and --account are required")
	}
	key, _, err := secret.LoadOrCreateKey(filepath.Join(*data, "master.key"), os.Getenv("DIALTONE_MASTER_KEY"))
	if err != nil {
		return err
	}
	sealer, err := secret.NewSealer(key)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(*data, "dialtone.db"), sealer)
	if err != nil {
		return err
	}
	defer st.Close()
	want := map[string]bool{}
	for _, t := range strings.Split(*types, ",") {
		want[t] = true
	}
	b := &receipt.Builder{}
	var ids []string
	for i := range *calls {
		now := time.Now()
		id := fmt.Sprintf("%d^%d", now.UnixNano(), i)
		c := &dialtone.Call{ID: id, AccountUID: *account, Kind: dialtone.KindTTS, ProdID: dialtone.ProdVoiceNotify,
			Caller: "057100000000", Callee: "13800000000", OutID: fmt.Sprintf("feed-%d", i), State: dialtone.CallQueued, CreatedAt: now}
		if err := st.CreateCall(ctx, c, nil); err != nil {
			return err
		}
		c.State, c.StatusCode, c.StatusMsg = dialtone.CallEnded, dialtone.StatusCompleted, dialtone.StatusText(dialtone.StatusCompleted)
		c.A = dialtone.LegTimes{Originate: now, Ring: now.Add(time.Second), Start: now.Add(2 * time.Second), End: now.Add(5 * time.Second)}
		c.Duration, c.HangupDirection = 3, "用户"
		events := []dialtone.CallEvent{
			{Seq: 1, At: c.A.Ring, Type: "ringing", Leg: "A", StatusCode: dialtone.StatusRinging},
			{Seq: 2, At: c.A.End, Type: "ended", Leg: "A", StatusCode: dialtone.StatusCompleted},
		}
		var rs []dialtone.Receipt
		for _, r := range b.Build(c, events) {
			if want[r.MessageType] {
				rs = append(rs, r)
				ids = append(ids, r.ID)
			}
		}
		if err := st.UpdateCall(ctx, &dialtone.CallChange{Call: c, Events: events, Receipts: rs}); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(ids)
}
