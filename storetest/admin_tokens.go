package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// adminTokens: tokens are kept by hash, oldest first, and recording one
// again changes nothing.
func (s *suite) adminTokens(t *testing.T) {
	st := s.store(t)
	list, err := st.ListAdminTokens(ctx(t))
	must(t, "ListAdminTokens", err)
	if len(list) != 0 {
		t.Fatalf("new store has %d admin tokens", len(list))
	}
	a := &dialtone.AdminToken{SHA256: sha256.Sum256([]byte("a")), CreatedAt: at(time.Hour).In(elsewhere)}
	b := &dialtone.AdminToken{SHA256: sha256.Sum256([]byte("b")), CreatedAt: at(0)}
	must(t, "AddAdminToken a", st.AddAdminToken(ctx(t), a))
	must(t, "AddAdminToken b", st.AddAdminToken(ctx(t), b))
	must(t, "AddAdminToken a again", st.AddAdminToken(ctx(t), &dialtone.AdminToken{SHA256: a.SHA256, CreatedAt: at(2 * time.Hour)}))
	list, err = st.ListAdminTokens(ctx(t))
	must(t, "ListAdminTokens", err)
	norm := func(x dialtone.AdminToken) dialtone.AdminToken { x.CreatedAt = normTime(x.CreatedAt); return x }
	if len(list) != 2 {
		t.Fatalf("ListAdminTokens = %+v, want b then a", list)
	}
	equal(t, "first token", list[0], *b, norm)
	equal(t, "second token", list[1], *a, norm)
}
