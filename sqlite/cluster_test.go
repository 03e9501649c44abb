package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/dialtone-voice/dialtone/storetest"
)

func TestClusterConformance(t *testing.T) {
	storetest.RunCluster(t, func(t *testing.T) storetest.ClusterStore {
		return openAt(t, filepath.Join(t.TempDir(), "dialtone.db"), sealer(t, 1))
	})
}
