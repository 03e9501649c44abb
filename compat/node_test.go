package compat

// TestNodeClients runs the Node tests in ./node (node --test) against the
// shared Dialtone instances. The Node tests run their own loopback proxy.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNodeClients(t *testing.T) {
	main := mainServer(t)
	short := shortServer(t)

	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in node/: %v\n%s", err, out)
		}
	}

	// Calls whose receipts node/receipts.test.js reads (@alicloud/dybaseapi
	// + @alicloud/mns).
	receiptCalls := placeCalls(t, main, 2)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"DIALTONE_ENDPOINT="+main.addr,
		"DIALTONE_SHORT_ENDPOINT="+short.addr,
		fmt.Sprintf("DIALTONE_PROXY_DELAY_MS=%d", proxyDelay.Milliseconds()),
		"DIALTONE_FULL_AK="+fullAK,
		"DIALTONE_FULL_SECRET="+fullSecret,
		"DIALTONE_DISABLED_AK="+disabledAK,
		"DIALTONE_DISABLED_SECRET="+disabledSec,
		"DIALTONE_MNSONLY_AK="+mnsOnlyAK,
		"DIALTONE_MNSONLY_SECRET="+mnsOnlySecret,
		"DIALTONE_UNKNOWN_AK="+unknownAK,
		"DIALTONE_WRONG_SECRET="+wrongSecret,
		"DIALTONE_ACCOUNT_UID="+compatUID,
		"DIALTONE_RECEIPT_CALL_IDS="+strings.Join(receiptCalls, ","),
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test in node/: %v\n%s", err, out)
	}
	// The runner's summary must show tests ran and none failed.
	s := string(out)
	if !strings.Contains(s, "# fail 0") || strings.Contains(s, "# pass 0\n") {
		t.Fatalf("node --test summary does not show passing tests:\n%s", s)
	}
	t.Logf("node --test output:\n%s", s)
}
