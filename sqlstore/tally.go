package sqlstore

import (
	"strings"
	"sync"
	"sync/atomic"
)

// StatementTally counts statements by their text, for a store's breakdown
// of what it ran (dialtone bench --statements): a few atomic operations
// per statement. The texts are the store's constants and a few built ones
// (filters, batches); past maxTalliedTexts distinct texts the rest are
// counted together under otherStatements. The zero value is ready.
type StatementTally struct {
	byText sync.Map // text → *atomic.Int64
	texts  atomic.Int64
}

const (
	maxTalliedTexts = 1024
	otherStatements = "(other statements)"
)

// Add counts one run of the statement text.
func (t *StatementTally) Add(text string) {
	v, ok := t.byText.Load(text)
	if !ok {
		if t.texts.Add(1) > maxTalliedTexts {
			text = otherStatements
		}
		v, _ = t.byText.LoadOrStore(text, new(atomic.Int64))
	}
	v.(*atomic.Int64).Add(1)
}

// Counts returns how many times each statement ran, keyed by its text
// with runs of white space folded.
func (t *StatementTally) Counts() map[string]int64 {
	out := map[string]int64{}
	t.byText.Range(func(k, v any) bool {
		out[strings.Join(strings.Fields(k.(string)), " ")] += v.(*atomic.Int64).Load()
		return true
	})
	return out
}
