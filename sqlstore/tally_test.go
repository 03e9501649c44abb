package sqlstore

import (
	"fmt"
	"testing"
)

// The tally folds white space in the texts it returns, and past its bound
// counts new texts together, losing no run.
func TestStatementTally(t *testing.T) {
	var tally StatementTally
	tally.Add("SELECT 1\n  FROM x")
	tally.Add("SELECT 1 FROM x")
	tally.Add("COMMIT")
	got := tally.Counts()
	if got["SELECT 1 FROM x"] != 2 || got["COMMIT"] != 1 || len(got) != 2 {
		t.Fatalf("counts %v", got)
	}
	for i := range maxTalliedTexts + 10 {
		tally.Add(fmt.Sprintf("SELECT %d", i+2))
	}
	got = tally.Counts()
	var total int64
	for _, n := range got {
		total += n
	}
	if total != maxTalliedTexts+13 || got[otherStatements] == 0 || len(got) > maxTalliedTexts+1 {
		t.Fatalf("%d texts, %d runs counted, %d under %q", len(got), total, got[otherStatements], otherStatements)
	}
}
