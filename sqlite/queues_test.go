package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/dialtone-voice/dialtone/storetest"
)

func TestReceiptConformance(t *testing.T) {
	storetest.RunReceipts(t, func(t *testing.T) storetest.ReceiptStore {
		return openAt(t, filepath.Join(t.TempDir(), "dialtone.db"), sealer(t, 1))
	})
}
