package postgres

import (
	"testing"

	"github.com/dialtone-voice/dialtone/pgtest"
	"github.com/dialtone-voice/dialtone/storetest"
)

func TestClusterConformance(t *testing.T) {
	storetest.RunCluster(t, func(t *testing.T) storetest.ClusterStore { return openDSN(t, pgtest.DB(t)) })
}
