package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// certFiles checks dialtone.CertStore: the certificate manager's files
// (keys are slash paths, a key's files are it and those under key+"/") and
// its expiring locks.
func (s *suite) certFiles(t *testing.T) {
	t.Run("RoundTrip", s.certRoundTrip)
	t.Run("ListDelete", s.certListDelete)
	t.Run("Lock", s.certLock)
	t.Run("LockConcurrent", s.certLockConcurrent)
}

func (s *suite) certRoundTrip(t *testing.T) {
	st := s.store(t)
	_, err := st.GetCertFile(ctx(t), "acme/a.json")
	wantErr(t, "GetCertFile of an unknown key", err, dialtone.ErrNotFound)
	// Any bytes round-trip, NUL and invalid UTF-8 included.
	val := []byte{0, 1, 2, 0xff, 'p', 'e', 'm', '\n'}
	must(t, "PutCertFile", st.PutCertFile(ctx(t), &dialtone.CertFile{Key: "acme/a.json", Value: val, Modified: at(0)}))
	got, err := st.GetCertFile(ctx(t), "acme/a.json")
	must(t, "GetCertFile", err)
	if got.Key != "acme/a.json" || !bytes.Equal(got.Value, val) || got.Size != int64(len(val)) || !got.Modified.Equal(normTime(at(0))) {
		t.Errorf("GetCertFile = %+v, want %q of %d bytes at %v", got, val, len(val), at(0))
	}
	// Put replaces.
	must(t, "PutCertFile again", st.PutCertFile(ctx(t), &dialtone.CertFile{Key: "acme/a.json", Value: []byte("x"), Modified: at(time.Second)}))
	got, err = st.GetCertFile(ctx(t), "acme/a.json")
	must(t, "GetCertFile after replace", err)
	if string(got.Value) != "x" || got.Size != 1 || !got.Modified.Equal(normTime(at(time.Second))) {
		t.Errorf("after replace: %+v", got)
	}
	// An empty file is a file.
	must(t, "PutCertFile empty", st.PutCertFile(ctx(t), &dialtone.CertFile{Key: "empty", Modified: at(0)}))
	if got, err := st.GetCertFile(ctx(t), "empty"); err != nil || len(got.Value) != 0 || got.Size != 0 {
		t.Errorf("empty file: %+v, %v", got, err)
	}
}

func certKeys(fs []dialtone.CertFile) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Key)
	}
	return out
}

func (s *suite) certListDelete(t *testing.T) {
	st := s.store(t)
	keys := []string{"certs/ca/a.test/a.test.crt", "certs/ca/a.test/a.test.key", "certs/ca/b.test/b.test.crt", "certs/ca0", "certsx/y", "certs.json", "other"}
	for i, k := range keys {
		must(t, "PutCertFile "+k, st.PutCertFile(ctx(t), &dialtone.CertFile{Key: k, Value: []byte(k), Modified: at(time.Duration(i) * time.Second)}))
	}
	list := func(prefix string) []dialtone.CertFile {
		t.Helper()
		fs, err := st.ListCertFiles(ctx(t), prefix)
		must(t, "ListCertFiles "+prefix, err)
		return fs
	}
	// Under a prefix: the keys below it, in byte order, not its
	// neighbours that only share its first letters.
	fs := list("certs/ca")
	if got, want := certKeys(fs), []string{"certs/ca/a.test/a.test.crt", "certs/ca/a.test/a.test.key", "certs/ca/b.test/b.test.crt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListCertFiles(certs/ca) = %v, want %v", got, want)
	}
	if fs[0].Size != int64(len(fs[0].Key)) || !fs[0].Modified.Equal(normTime(at(0))) {
		t.Errorf("listed file %+v: want its size and time", fs[0])
	}
	if got := certKeys(list("")); len(got) != len(keys) || got[0] != "certs.json" || got[len(got)-1] != "other" {
		t.Errorf("ListCertFiles(\"\") = %v, want every key in byte order", got)
	}
	if got := certKeys(list("nothing")); len(got) != 0 {
		t.Errorf("ListCertFiles(nothing) = %v, want none", got)
	}
	// Deleting a key deletes what is under it, and nothing else.
	must(t, "DeleteCertFiles certs/ca", st.DeleteCertFiles(ctx(t), "certs/ca"))
	if got, want := certKeys(list("")), []string{"certs.json", "certs/ca0", "certsx/y", "other"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after deleting certs/ca: %v, want %v", got, want)
	}
	must(t, "DeleteCertFiles other", st.DeleteCertFiles(ctx(t), "other"))
	_, err := st.GetCertFile(ctx(t), "other")
	wantErr(t, "deleted file", err, dialtone.ErrNotFound)
	must(t, "DeleteCertFiles of nothing", st.DeleteCertFiles(ctx(t), "nothing"))
}

func (s *suite) certLock(t *testing.T) {
	st := s.store(t)
	lock := func(owner string, now time.Duration, ttl time.Duration) bool {
		t.Helper()
		ok, err := st.LockCert(ctx(t), "issue_cert_a.test", owner, at(now), at(now+ttl))
		must(t, "LockCert "+owner, err)
		return ok
	}
	if !lock("n1", 0, 10*time.Second) {
		t.Fatal("a free lock was not taken")
	}
	if lock("n2", time.Second, 10*time.Second) {
		t.Error("a held lock was taken by another owner")
	}
	// The holder extends it.
	if !lock("n1", 5*time.Second, 10*time.Second) {
		t.Error("the holder could not extend its lock")
	}
	if lock("n2", 14*time.Second, 10*time.Second) {
		t.Error("an extended lock was taken before its new expiry")
	}
	// Expired (at its expiry): taken over.
	if !lock("n2", 15*time.Second, 10*time.Second) {
		t.Error("an expired lock was not taken over")
	}
	// The old owner's unlock leaves the new owner's lock alone.
	must(t, "UnlockCert by the old owner", st.UnlockCert(ctx(t), "issue_cert_a.test", "n1"))
	if lock("n1", 16*time.Second, 10*time.Second) {
		t.Error("an unlock by a former owner released the lock")
	}
	must(t, "UnlockCert", st.UnlockCert(ctx(t), "issue_cert_a.test", "n2"))
	if !lock("n1", 17*time.Second, 10*time.Second) {
		t.Error("a released lock was not free")
	}
	// Locks of other names are independent.
	if ok, err := st.LockCert(ctx(t), "other", "n2", at(17*time.Second), at(time.Minute)); err != nil || !ok {
		t.Errorf("LockCert of another name = %v, %v", ok, err)
	}
}

// Many owners racing for one free lock: exactly one gets it.
func (s *suite) certLockConcurrent(t *testing.T) {
	st := s.store(t)
	const n = 16
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won []string
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("owner-%d", i)
			ok, err := st.LockCert(ctx(t), "race", owner, at(0), at(time.Minute))
			if err != nil {
				t.Errorf("LockCert %s: %v", owner, err)
				return
			}
			if ok {
				mu.Lock()
				won = append(won, owner)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 {
		t.Errorf("%d owners took the lock (%v), want exactly 1", len(won), won)
	}
}
