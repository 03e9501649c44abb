// Package storetest is the conformance suite of dialtone.Store. Every store
// implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) dialtone.Store { return openEmpty(t) })
//	}
//
// The suite uses only the interface, so it states the contract that callers
// may rely on. Where the interface comments leave a choice open, the suite
// fixes it as follows:
//
//   - Times are kept to the millisecond; zero times stay zero.
//   - Put* replace every field, CreatedAt included.
//   - Account.Features nil (all features) and empty (none) stay distinct.
//     Empty and nil Actions, Scope, RateLimits and Params are interchangeable.
//   - ListAccounts and ListAccessKeys order by CreatedAt, then by UID / ID,
//     and return an empty result (not an error) when there is nothing to list.
//   - PutTempCredential and CreateCall return ErrNotFound for an unknown
//     account, like PutAccessKey; PutTempCredential returns ErrConflict for an
//     ID owned by another account; CreateCall returns ErrConflict for a
//     duplicate ID whichever account owns it.
//   - A nonce or temporary credential is expired at now when its expiry is
//     not after now (as TempCredential.Expired): UseNonce accepts the nonce
//     again from that instant, and the Purge methods delete it.
//   - Concurrent writers all succeed (no "database is busy" errors).
//   - CreateCall stores Version 1 whatever the call says. UpdateCall keeps
//     ID, AccountUID and CreatedAt and what the call was asked to do (Kind,
//     ProdID, the four numbers, OutID, Params), returns ErrNotFound for a call that is
//     not the account's, ErrConflict for a stale Version or an event Seq /
//     receipt ID that exists (writing nothing of the change), and leaves
//     ch.Call.Version unchanged on any error.
//   - Flow-control windows are (Now-span, Now]; refused calls do not count.
//   - ListCalls orders by CreatedAt then ID, both descending; an unknown
//     Before cursor (or another account's call) is ErrNotFound.
//     ListUnfinishedCalls orders by CreatedAt then ID, ascending.
//   - Resources: Put* replace every field; List* order by number / code.
//     Empty and nil Detail, Blacklist and Receipt.Body are interchangeable.
//   - Receipts have no read method yet; the suite checks only that they
//     take part in UpdateCall's atomicity. Stores test their rows directly.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Run runs the suite. open must return a new, empty store for each call;
// the suite closes it when the subtest ends (checking Close's error), so open
// must not close it itself, though it may register other cleanups.
func Run(t *testing.T, open func(t *testing.T) dialtone.Store) {
	s := &suite{open: open}
	t.Run("Ping", s.ping)
	t.Run("Account", func(t *testing.T) {
		t.Run("RoundTrip", s.accountRoundTrip)
		t.Run("FeaturesNilVsEmpty", s.accountFeaturesNilVsEmpty)
		t.Run("ZeroValues", s.accountZeroValues)
		t.Run("Upsert", s.accountUpsert)
		t.Run("NotFound", s.accountNotFound)
		t.Run("ListOrder", s.accountListOrder)
	})
	t.Run("AccessKey", func(t *testing.T) {
		t.Run("RoundTrip", s.keyRoundTrip)
		t.Run("Upsert", s.keyUpsert)
		t.Run("UnknownAccount", s.keyUnknownAccount)
		t.Run("ConflictOtherAccount", s.keyConflict)
		t.Run("NotFound", s.keyNotFound)
		t.Run("ListOrderAndIsolation", s.keyList)
		t.Run("DeleteIsolation", s.keyDelete)
	})
	t.Run("TempCredential", func(t *testing.T) {
		t.Run("RoundTrip", s.tempRoundTrip)
		t.Run("Upsert", s.tempUpsert)
		t.Run("NotFound", s.tempNotFound)
		t.Run("UnknownAccount", s.tempUnknownAccount)
		t.Run("ConflictOtherAccount", s.tempConflict)
		t.Run("Purge", s.tempPurge)
	})
	t.Run("Nonce", func(t *testing.T) {
		t.Run("FirstUseThenReplay", s.nonceReplay)
		t.Run("ScopesIndependent", s.nonceScopes)
		t.Run("Expiry", s.nonceExpiry)
		t.Run("Purge", s.noncePurge)
		t.Run("Concurrent", s.nonceConcurrent)
	})
	t.Run("Call", func(t *testing.T) {
		t.Run("RoundTrip", s.callRoundTrip)
		t.Run("ZeroValues", s.callZeroValues)
		t.Run("Duplicate", s.callDuplicate)
		t.Run("TenantIsolation", s.callIsolation)
		t.Run("UnknownAccount", s.callUnknownAccount)
		t.Run("UpdateRoundTrip", s.callUpdateRoundTrip)
		t.Run("UpdateConflict", s.callUpdateConflict)
		t.Run("UpdateConcurrent", s.callUpdateConcurrent)
		t.Run("UpdateNotFound", s.callUpdateNotFound)
		t.Run("UpdateAtomic", s.callUpdateAtomic)
		t.Run("EventsIsolation", s.callEventsIsolation)
		t.Run("FlowMinute", s.flowMinute)
		t.Run("FlowHourAndDay", s.flowHourDay)
		t.Run("FlowScope", s.flowScope)
		t.Run("FlowConcurrent", s.flowConcurrent)
		t.Run("ListFilters", s.callListFilters)
		t.Run("ListContains", s.callListContains)
		t.Run("ListCursor", s.callListCursor)
		t.Run("ListLimit", s.callListLimit)
		t.Run("Unfinished", s.callUnfinished)
	})
	t.Run("Number", func(t *testing.T) {
		t.Run("RoundTripUpsert", s.numberRoundTrip)
		t.Run("Isolation", s.numberIsolation)
	})
	t.Run("Template", func(t *testing.T) {
		t.Run("RoundTripUpsert", s.templateRoundTrip)
		t.Run("Isolation", s.templateIsolation)
	})
	t.Run("VoiceFile", func(t *testing.T) {
		t.Run("RoundTripUpsert", s.voiceFileRoundTrip)
		t.Run("Isolation", s.voiceFileIsolation)
	})
	t.Run("Settings", func(t *testing.T) {
		t.Run("Defaults", s.settingsDefaults)
		t.Run("RoundTrip", s.settingsRoundTrip)
		t.Run("Global", s.settingsGlobal)
		t.Run("MachineDetection", s.settingsMachineDetection)
		t.Run("Streams", s.settingsStreams)
		t.Run("CallbackTrustAndSecrets", s.settingsCallback)
	})
	t.Run("Audit", func(t *testing.T) {
		t.Run("RoundTripFilters", s.auditRoundTrip)
		t.Run("CursorLimitPurge", s.auditCursor)
	})
	t.Run("ConcurrentWriters", s.concurrentWriters)
	t.Run("Atomic", s.atomic)
	t.Run("AdminTokens", s.adminTokens)
	t.Run("Console", s.console)
	t.Run("ConsoleSession", s.consoleSessions)
	t.Run("CertFiles", s.certFiles)
}

type suite struct {
	open func(t *testing.T) dialtone.Store
}

// store opens a fresh store and closes it after the subtest; a failing Close
// fails the subtest, which is how the suite covers Close.
func (s *suite) store(t *testing.T) dialtone.Store {
	t.Helper()
	st := s.open(t)
	if st == nil {
		t.Fatal("open returned a nil store")
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// t0 is a fixed instant with millisecond precision; stores keep only
// milliseconds, so test values are built from it.
var t0 = time.UnixMilli(1_700_000_000_123)

// elsewhere is a non-UTC zone: stores must keep the instant, not the zone.
var elsewhere = time.FixedZone("UTC+8", 8*3600)

func at(offset time.Duration) time.Time { return t0.Add(offset) }

func ctx(t *testing.T) context.Context { return t.Context() }

// normTime reduces a time to what a store must preserve: the instant at
// millisecond precision, with the zero time kept zero.
func normTime(tm time.Time) time.Time {
	if tm.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(tm.UnixMilli()).UTC()
}

func normAccount(a dialtone.Account) dialtone.Account {
	a.CreatedAt, a.UpdatedAt = normTime(a.CreatedAt), normTime(a.UpdatedAt)
	if len(a.RateLimits) == 0 {
		a.RateLimits = nil
	}
	return a // Features are compared as they are: nil vs empty matters
}

func normKey(k dialtone.AccessKey) dialtone.AccessKey {
	k.CreatedAt = normTime(k.CreatedAt)
	if len(k.Actions) == 0 {
		k.Actions = nil
	}
	return k
}

func normTemp(c dialtone.TempCredential) dialtone.TempCredential {
	c.CreatedAt, c.ExpiresAt = normTime(c.CreatedAt), normTime(c.ExpiresAt)
	if len(c.Scope) == 0 {
		c.Scope = nil
	}
	return c
}

func normLeg(l dialtone.LegTimes) dialtone.LegTimes {
	return dialtone.LegTimes{Originate: normTime(l.Originate), Ring: normTime(l.Ring), Start: normTime(l.Start), End: normTime(l.End)}
}

func normCall(c dialtone.Call) dialtone.Call {
	c.CreatedAt, c.LeaseTill = normTime(c.CreatedAt), normTime(c.LeaseTill)
	c.A, c.B = normLeg(c.A), normLeg(c.B)
	if len(c.Params) == 0 {
		c.Params = nil
	}
	return c
}

func equal[T any](t *testing.T, what string, got, want T, norm func(T) T) {
	t.Helper()
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, g, w)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want errors.Is(_, %v)", what, err, target)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func account(uid string, created time.Time) *dialtone.Account {
	return &dialtone.Account{
		UID:          uid,
		Name:         "Account " + uid,
		Status:       dialtone.AccountActive,
		VoiceService: true,
		CreatedAt:    created,
		UpdatedAt:    created,
	}
}

func putAccount(t *testing.T, st dialtone.Store, uid string) *dialtone.Account {
	t.Helper()
	a := account(uid, t0)
	must(t, "PutAccount "+uid, st.PutAccount(ctx(t), a))
	return a
}

func key(id, acct string, created time.Time) *dialtone.AccessKey {
	return &dialtone.AccessKey{ID: id, AccountUID: acct, Secret: "secret-of-" + id, Enabled: true, CreatedAt: created}
}

func (s *suite) ping(t *testing.T) {
	st := s.store(t)
	must(t, "Ping", st.Ping(ctx(t)))
}

// --- accounts ---

func (s *suite) accountRoundTrip(t *testing.T) {
	st := s.store(t)
	want := &dialtone.Account{
		UID:          "1234567890123456",
		Name:         "Dialtone Ltd. — 测试",
		Status:       dialtone.AccountSuspended,
		VoiceService: true,
		Features:     []dialtone.Feature{dialtone.FeatureTTS, dialtone.FeatureIVR},
		RateLimits:   map[string]float64{"SingleCallByTts": 12.5, "IvrCall": 1},
		CreatedAt:    at(-48 * time.Hour).In(elsewhere),
		UpdatedAt:    at(time.Hour).In(elsewhere),
	}
	must(t, "PutAccount", st.PutAccount(ctx(t), want))
	got, err := st.GetAccount(ctx(t), want.UID)
	must(t, "GetAccount", err)
	equal(t, "account", *got, *want, normAccount)
	if !got.CreatedAt.Equal(want.CreatedAt) || got.UpdatedAt.UnixMilli() != want.UpdatedAt.UnixMilli() {
		t.Errorf("times: got %v/%v, want %v/%v", got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}

	// Sub-millisecond digits may be dropped, the millisecond may not.
	fine := account("77", t0.Add(987654*time.Nanosecond))
	must(t, "PutAccount", st.PutAccount(ctx(t), fine))
	got, err = st.GetAccount(ctx(t), "77")
	must(t, "GetAccount", err)
	if got.CreatedAt.UnixMilli() != fine.CreatedAt.UnixMilli() {
		t.Errorf("CreatedAt = %v (%d ms), want %d ms", got.CreatedAt, got.CreatedAt.UnixMilli(), fine.CreatedAt.UnixMilli())
	}
}

func (s *suite) accountFeaturesNilVsEmpty(t *testing.T) {
	st := s.store(t)
	all := account("1", t0) // Features nil: every feature
	none := account("2", t0)
	none.Features = []dialtone.Feature{}
	some := account("3", t0)
	some.Features = []dialtone.Feature{dialtone.FeatureNotify}
	for _, a := range []*dialtone.Account{all, none, some} {
		must(t, "PutAccount", st.PutAccount(ctx(t), a))
	}
	get := func(uid string) *dialtone.Account {
		a, err := st.GetAccount(ctx(t), uid)
		must(t, "GetAccount", err)
		return a
	}
	if a := get("1"); a.Features != nil || !a.HasFeature(dialtone.FeatureSmartCall) {
		t.Errorf("nil Features came back as %#v", a.Features)
	}
	if a := get("2"); a.Features == nil || len(a.Features) != 0 || a.HasFeature(dialtone.FeatureNotify) {
		t.Errorf("empty Features came back as %#v", a.Features)
	}
	if a := get("3"); !reflect.DeepEqual(a.Features, some.Features) {
		t.Errorf("Features = %#v, want %#v", a.Features, some.Features)
	}
	// The distinction must survive listing too.
	list, err := st.ListAccounts(ctx(t))
	must(t, "ListAccounts", err)
	if len(list) != 3 || list[0].Features != nil || list[1].Features == nil {
		t.Errorf("ListAccounts Features = %#v", list)
	}
}

func (s *suite) accountZeroValues(t *testing.T) {
	st := s.store(t)
	want := &dialtone.Account{UID: "9"}
	must(t, "PutAccount", st.PutAccount(ctx(t), want))
	got, err := st.GetAccount(ctx(t), "9")
	must(t, "GetAccount", err)
	equal(t, "account", *got, *want, normAccount)
	if !got.CreatedAt.IsZero() || !got.UpdatedAt.IsZero() {
		t.Errorf("zero times came back as %v, %v", got.CreatedAt, got.UpdatedAt)
	}
}

func (s *suite) accountUpsert(t *testing.T) {
	st := s.store(t)
	first := account("42", t0)
	first.Features = []dialtone.Feature{dialtone.FeatureNotify}
	first.RateLimits = map[string]float64{"IvrCall": 5}
	must(t, "PutAccount", st.PutAccount(ctx(t), first))
	second := &dialtone.Account{
		UID:       "42",
		Name:      "renamed",
		Status:    dialtone.AccountAbnormal,
		Features:  nil,
		CreatedAt: at(time.Minute),
		UpdatedAt: at(2 * time.Minute),
	}
	must(t, "PutAccount again", st.PutAccount(ctx(t), second))
	got, err := st.GetAccount(ctx(t), "42")
	must(t, "GetAccount", err)
	equal(t, "account after upsert", *got, *second, normAccount)
	list, err := st.ListAccounts(ctx(t))
	must(t, "ListAccounts", err)
	if len(list) != 1 {
		t.Errorf("ListAccounts has %d accounts after two puts of one UID", len(list))
	}
}

func (s *suite) accountNotFound(t *testing.T) {
	st := s.store(t)
	_, err := st.GetAccount(ctx(t), "404")
	wantErr(t, "GetAccount unknown", err, dialtone.ErrNotFound)
	putAccount(t, st, "1")
	_, err = st.GetAccount(ctx(t), "10")
	wantErr(t, "GetAccount other UID", err, dialtone.ErrNotFound)
}

func (s *suite) accountListOrder(t *testing.T) {
	st := s.store(t)
	list, err := st.ListAccounts(ctx(t))
	must(t, "ListAccounts empty", err)
	if len(list) != 0 {
		t.Fatalf("empty store lists %d accounts", len(list))
	}
	// Inserted out of order; ties on CreatedAt are broken by UID.
	puts := []struct {
		uid     string
		created time.Duration
	}{{"5", 2 * time.Second}, {"3", time.Second}, {"4", 0}, {"2", time.Second}, {"1", 3 * time.Second}}
	for _, p := range puts {
		must(t, "PutAccount", st.PutAccount(ctx(t), account(p.uid, at(p.created))))
	}
	list, err = st.ListAccounts(ctx(t))
	must(t, "ListAccounts", err)
	var got []string
	for _, a := range list {
		got = append(got, a.UID)
	}
	if want := []string{"4", "2", "3", "5", "1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListAccounts order = %v, want %v", got, want)
	}
	equal(t, "listed account", list[0], *account("4", at(0)), normAccount)
}

// --- access keys ---

func (s *suite) keyRoundTrip(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	want := &dialtone.AccessKey{
		ID:         "LTAI5tRoundTrip",
		AccountUID: "100",
		Secret:     "s3cr3t/with+odd=chars ü",
		Enabled:    false,
		Actions:    []string{"SingleCallByTts", "IvrCall"},
		CreatedAt:  at(time.Hour).In(elsewhere),
	}
	must(t, "PutAccessKey", st.PutAccessKey(ctx(t), want))
	got, err := st.GetAccessKey(ctx(t), want.ID)
	must(t, "GetAccessKey", err)
	equal(t, "key", *got, *want, normKey)
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	list, err := st.ListAccessKeys(ctx(t), "100")
	must(t, "ListAccessKeys", err)
	if len(list) != 1 {
		t.Fatalf("ListAccessKeys = %d keys, want 1", len(list))
	}
	equal(t, "listed key", list[0], *want, normKey)

	// Enabled true and no action list round-trip as well.
	k2 := key("LTAI5tSecond", "100", time.Time{})
	must(t, "PutAccessKey", st.PutAccessKey(ctx(t), k2))
	got, err = st.GetAccessKey(ctx(t), k2.ID)
	must(t, "GetAccessKey", err)
	equal(t, "key", *got, *k2, normKey)
}

func (s *suite) keyUpsert(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	k := key("K1", "100", t0)
	k.Actions = []string{"*"}
	must(t, "PutAccessKey", st.PutAccessKey(ctx(t), k))
	k2 := &dialtone.AccessKey{ID: "K1", AccountUID: "100", Secret: "rotated", Enabled: false, Actions: []string{"IvrCall"}, CreatedAt: at(time.Second)}
	must(t, "PutAccessKey again", st.PutAccessKey(ctx(t), k2))
	got, err := st.GetAccessKey(ctx(t), "K1")
	must(t, "GetAccessKey", err)
	equal(t, "key after upsert", *got, *k2, normKey)
	list, err := st.ListAccessKeys(ctx(t), "100")
	must(t, "ListAccessKeys", err)
	if len(list) != 1 {
		t.Errorf("ListAccessKeys = %d keys after two puts of one ID", len(list))
	}
}

func (s *suite) keyUnknownAccount(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	err := st.PutAccessKey(ctx(t), key("K1", "999", t0))
	wantErr(t, "PutAccessKey for unknown account", err, dialtone.ErrNotFound)
	_, err = st.GetAccessKey(ctx(t), "K1")
	wantErr(t, "GetAccessKey after refused put", err, dialtone.ErrNotFound)
}

func (s *suite) keyConflict(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	orig := key("K1", "100", t0)
	must(t, "PutAccessKey", st.PutAccessKey(ctx(t), orig))
	steal := &dialtone.AccessKey{ID: "K1", AccountUID: "200", Secret: "attacker", Enabled: true, CreatedAt: at(time.Second)}
	wantErr(t, "PutAccessKey with another account's ID", st.PutAccessKey(ctx(t), steal), dialtone.ErrConflict)
	got, err := st.GetAccessKey(ctx(t), "K1")
	must(t, "GetAccessKey", err)
	equal(t, "key after refused put", *got, *orig, normKey)
	list, err := st.ListAccessKeys(ctx(t), "200")
	must(t, "ListAccessKeys", err)
	if len(list) != 0 {
		t.Errorf("account 200 lists %d keys, want 0", len(list))
	}
}

func (s *suite) keyNotFound(t *testing.T) {
	st := s.store(t)
	_, err := st.GetAccessKey(ctx(t), "nope")
	wantErr(t, "GetAccessKey unknown", err, dialtone.ErrNotFound)
}

func (s *suite) keyList(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	// Inserted out of order; ties on CreatedAt are broken by ID.
	for _, k := range []*dialtone.AccessKey{
		key("k-late", "100", at(time.Hour)),
		key("k-b", "100", at(time.Minute)),
		key("k-first", "100", at(0)),
		key("k-a", "100", at(time.Minute)),
		key("other", "200", at(-time.Hour)),
	} {
		must(t, "PutAccessKey", st.PutAccessKey(ctx(t), k))
	}
	list, err := st.ListAccessKeys(ctx(t), "100")
	must(t, "ListAccessKeys", err)
	var ids []string
	for _, k := range list {
		ids = append(ids, k.ID)
		if k.AccountUID != "100" || k.Secret != "secret-of-"+k.ID {
			t.Errorf("listed key %+v", k)
		}
	}
	if want := []string{"k-first", "k-a", "k-b", "k-late"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ListAccessKeys order = %v, want %v", ids, want)
	}
	list, err = st.ListAccessKeys(ctx(t), "200")
	must(t, "ListAccessKeys", err)
	if len(list) != 1 || list[0].ID != "other" {
		t.Errorf("account 200 lists %+v", list)
	}
	list, err = st.ListAccessKeys(ctx(t), "999")
	must(t, "ListAccessKeys unknown account", err)
	if len(list) != 0 {
		t.Errorf("unknown account lists %d keys", len(list))
	}
}

func (s *suite) keyDelete(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	must(t, "PutAccessKey", st.PutAccessKey(ctx(t), key("K1", "100", t0)))
	must(t, "PutAccessKey", st.PutAccessKey(ctx(t), key("K2", "100", t0)))

	wantErr(t, "DeleteAccessKey from another account", st.DeleteAccessKey(ctx(t), "200", "K1"), dialtone.ErrNotFound)
	if _, err := st.GetAccessKey(ctx(t), "K1"); err != nil {
		t.Fatalf("key deleted through another account: %v", err)
	}
	wantErr(t, "DeleteAccessKey unknown ID", st.DeleteAccessKey(ctx(t), "100", "K3"), dialtone.ErrNotFound)

	must(t, "DeleteAccessKey", st.DeleteAccessKey(ctx(t), "100", "K1"))
	_, err := st.GetAccessKey(ctx(t), "K1")
	wantErr(t, "GetAccessKey after delete", err, dialtone.ErrNotFound)
	wantErr(t, "DeleteAccessKey twice", st.DeleteAccessKey(ctx(t), "100", "K1"), dialtone.ErrNotFound)
	list, err := st.ListAccessKeys(ctx(t), "100")
	must(t, "ListAccessKeys", err)
	if len(list) != 1 || list[0].ID != "K2" {
		t.Errorf("after delete account 100 lists %+v", list)
	}
	// A deleted ID is free again.
	must(t, "PutAccessKey after delete", st.PutAccessKey(ctx(t), key("K1", "200", t0)))
}

// --- temporary credentials ---

func temp(id, acct string, expires time.Time) *dialtone.TempCredential {
	return &dialtone.TempCredential{
		AccessKeyID:   id,
		Secret:        "tmp-secret-" + id,
		SecurityToken: "token-" + id,
		AccountUID:    acct,
		Scope:         []string{"queue:Alicom-Queue-100-VoiceReport"},
		CreatedAt:     t0,
		ExpiresAt:     expires,
	}
}

func (s *suite) tempRoundTrip(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	want := &dialtone.TempCredential{
		AccessKeyID:   "STS.abc",
		Secret:        "tmp secret ✓",
		SecurityToken: "CAIS-long-token==",
		AccountUID:    "100",
		Scope:         []string{"queue:a", "action:IvrCall", "*"},
		CreatedAt:     at(0).In(elsewhere),
		ExpiresAt:     at(time.Hour).In(elsewhere),
	}
	must(t, "PutTempCredential", st.PutTempCredential(ctx(t), want))
	got, err := st.GetTempCredential(ctx(t), want.AccessKeyID)
	must(t, "GetTempCredential", err)
	equal(t, "temp credential", *got, *want, normTemp)
	if !got.ExpiresAt.Equal(want.ExpiresAt) || got.Expired(at(time.Hour-time.Millisecond)) || !got.Expired(at(time.Hour)) {
		t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt)
	}

	// Expired credentials are still returned until purged.
	old := temp("STS.old", "100", at(-time.Hour))
	must(t, "PutTempCredential", st.PutTempCredential(ctx(t), old))
	got, err = st.GetTempCredential(ctx(t), "STS.old")
	must(t, "GetTempCredential expired", err)
	equal(t, "expired temp credential", *got, *old, normTemp)
}

func (s *suite) tempUpsert(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	must(t, "PutTempCredential", st.PutTempCredential(ctx(t), temp("STS.1", "100", at(time.Hour))))
	second := &dialtone.TempCredential{
		AccessKeyID: "STS.1", Secret: "new", SecurityToken: "new-token", AccountUID: "100",
		Scope: []string{"*"}, CreatedAt: at(time.Minute), ExpiresAt: at(2 * time.Hour),
	}
	must(t, "PutTempCredential again", st.PutTempCredential(ctx(t), second))
	got, err := st.GetTempCredential(ctx(t), "STS.1")
	must(t, "GetTempCredential", err)
	equal(t, "temp credential after upsert", *got, *second, normTemp)
	n, err := st.PurgeTempCredentials(ctx(t), at(3*time.Hour))
	must(t, "PurgeTempCredentials", err)
	if n != 1 {
		t.Errorf("purged %d credentials after two puts of one ID, want 1", n)
	}
}

func (s *suite) tempNotFound(t *testing.T) {
	st := s.store(t)
	_, err := st.GetTempCredential(ctx(t), "STS.none")
	wantErr(t, "GetTempCredential unknown", err, dialtone.ErrNotFound)
}

func (s *suite) tempUnknownAccount(t *testing.T) {
	st := s.store(t)
	err := st.PutTempCredential(ctx(t), temp("STS.1", "999", at(time.Hour)))
	wantErr(t, "PutTempCredential for unknown account", err, dialtone.ErrNotFound)
	_, err = st.GetTempCredential(ctx(t), "STS.1")
	wantErr(t, "GetTempCredential after refused put", err, dialtone.ErrNotFound)
}

func (s *suite) tempConflict(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	orig := temp("STS.1", "100", at(time.Hour))
	must(t, "PutTempCredential", st.PutTempCredential(ctx(t), orig))
	err := st.PutTempCredential(ctx(t), temp("STS.1", "200", at(2*time.Hour)))
	wantErr(t, "PutTempCredential with another account's ID", err, dialtone.ErrConflict)
	got, err := st.GetTempCredential(ctx(t), "STS.1")
	must(t, "GetTempCredential", err)
	equal(t, "temp credential after refused put", *got, *orig, normTemp)
}

func (s *suite) tempPurge(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	now := at(time.Hour)
	for _, c := range []*dialtone.TempCredential{
		temp("STS.past", "100", now.Add(-time.Minute)),
		temp("STS.now", "100", now), // expired at now, per TempCredential.Expired
		temp("STS.future", "100", now.Add(time.Millisecond)),
	} {
		must(t, "PutTempCredential", st.PutTempCredential(ctx(t), c))
	}
	n, err := st.PurgeTempCredentials(ctx(t), now)
	must(t, "PurgeTempCredentials", err)
	if n != 2 {
		t.Errorf("PurgeTempCredentials = %d, want 2", n)
	}
	for _, id := range []string{"STS.past", "STS.now"} {
		_, err := st.GetTempCredential(ctx(t), id)
		wantErr(t, "GetTempCredential purged "+id, err, dialtone.ErrNotFound)
	}
	if _, err := st.GetTempCredential(ctx(t), "STS.future"); err != nil {
		t.Errorf("unexpired credential purged: %v", err)
	}
	n, err = st.PurgeTempCredentials(ctx(t), now)
	must(t, "PurgeTempCredentials again", err)
	if n != 0 {
		t.Errorf("second PurgeTempCredentials = %d, want 0", n)
	}
}

// --- nonces ---

func useNonce(t *testing.T, st dialtone.Store, scope, nonce string, now, expires time.Time) bool {
	t.Helper()
	ok, err := st.UseNonce(ctx(t), scope, nonce, now, expires)
	must(t, "UseNonce", err)
	return ok
}

func (s *suite) nonceReplay(t *testing.T) {
	st := s.store(t)
	exp := at(15 * time.Minute)
	if !useNonce(t, st, "K1", "n-1", t0, exp) {
		t.Fatal("first use of a nonce refused")
	}
	if useNonce(t, st, "K1", "n-1", t0, exp) {
		t.Error("replayed nonce accepted")
	}
	if useNonce(t, st, "K1", "n-1", at(time.Minute), at(16*time.Minute)) {
		t.Error("replayed nonce accepted a minute later")
	}
	if !useNonce(t, st, "K1", "n-2", t0, exp) {
		t.Error("another nonce refused")
	}
}

func (s *suite) nonceScopes(t *testing.T) {
	st := s.store(t)
	exp := at(time.Minute)
	if !useNonce(t, st, "K1", "same", t0, exp) || !useNonce(t, st, "K2", "same", t0, exp) {
		t.Error("the same nonce under two scopes must be accepted in each")
	}
	if useNonce(t, st, "K2", "same", t0, exp) {
		t.Error("replay under the second scope accepted")
	}
}

func (s *suite) nonceExpiry(t *testing.T) {
	st := s.store(t)
	exp := at(time.Minute)
	if !useNonce(t, st, "K1", "n", t0, exp) {
		t.Fatal("first use refused")
	}
	if useNonce(t, st, "K1", "n", exp.Add(-time.Millisecond), exp.Add(time.Minute)) {
		t.Error("nonce accepted 1ms before its record expires")
	}
	exp2 := exp.Add(time.Minute)
	if !useNonce(t, st, "K1", "n", exp, exp2) {
		t.Error("nonce refused once its record expired")
	}
	// Reuse recorded the new expiry.
	if useNonce(t, st, "K1", "n", exp2.Add(-time.Millisecond), exp2.Add(time.Minute)) {
		t.Error("nonce accepted before the renewed record expires")
	}
}

func (s *suite) noncePurge(t *testing.T) {
	st := s.store(t)
	now := at(time.Hour)
	useNonce(t, st, "K1", "past", t0, now.Add(-time.Second))
	useNonce(t, st, "K1", "now", t0, now)
	useNonce(t, st, "K2", "future", t0, now.Add(time.Second))
	n, err := st.PurgeNonces(ctx(t), now)
	must(t, "PurgeNonces", err)
	if n != 2 {
		t.Errorf("PurgeNonces = %d, want 2", n)
	}
	if useNonce(t, st, "K2", "future", now, now.Add(time.Hour)) {
		t.Error("purge dropped an unexpired nonce")
	}
	n, err = st.PurgeNonces(ctx(t), now)
	must(t, "PurgeNonces again", err)
	if n != 0 {
		t.Errorf("second PurgeNonces = %d, want 0", n)
	}
	if !useNonce(t, st, "K1", "past", now, now.Add(time.Hour)) {
		t.Error("purged nonce refused")
	}
}

func (s *suite) nonceConcurrent(t *testing.T) {
	st := s.store(t)
	const n = 20
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		oks   = make(chan bool, n)
		errs  = make(chan error, n)
	)
	for range n {
		wg.Go(func() {
			<-start
			ok, err := st.UseNonce(ctx(t), "K1", "race", t0, at(time.Minute))
			if err != nil {
				errs <- err
				return
			}
			oks <- ok
		})
	}
	close(start)
	wg.Wait()
	close(oks)
	close(errs)
	for err := range errs {
		t.Errorf("UseNonce: %v", err)
	}
	wins := 0
	for ok := range oks {
		if ok {
			wins++
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent uses of one nonce succeeded, want exactly 1", wins, n)
	}
}

// --- calls ---

func fullCall(id, acct string) *dialtone.Call {
	return &dialtone.Call{
		ID:               id,
		AccountUID:       acct,
		Kind:             dialtone.KindClickToDial,
		ProdID:           dialtone.ProdClickToDial,
		Caller:           "13800000001",
		Callee:           "13900000002",
		CallerShowNumber: "057100000001",
		CalleeShowNumber: "057100000002",
		OutID:            "order-77",
		Params:           []byte(`{"record":true,"asr":{"model":"x"}}`),
		State:            dialtone.CallEnded,
		StatusCode:       "200000",
		SmartStatusCode:  "ANSWERED",
		StatusMsg:        "用户接听",
		HangupDirection:  "用户",
		DTMF:             "12#",
		Reason:           "",
		CreatedAt:        at(0).In(elsewhere),
		A: dialtone.LegTimes{
			Originate: at(100 * time.Millisecond),
			Ring:      at(1200 * time.Millisecond),
			Start:     at(5 * time.Second),
			End:       at(65 * time.Second),
		},
		B: dialtone.LegTimes{
			Originate: at(6 * time.Second),
			Ring:      at(7 * time.Second),
			Start:     time.Time{}, // B never answered
			End:       at(60 * time.Second),
		},
		Duration:  60,
		Node:      "node-a",
		LeaseTill: at(90 * time.Second),
		Version:   7,
	}
}

func (s *suite) callRoundTrip(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	want := fullCall("116012354148^10281378", "100")
	must(t, "CreateCall", st.CreateCall(ctx(t), want, nil))
	// Version 7 was asked for; a new call starts at 1 whatever it says.
	if want.Version != 1 {
		t.Errorf("CreateCall left Version %d, want 1", want.Version)
	}
	got, err := st.GetCall(ctx(t), "100", want.ID)
	must(t, "GetCall", err)
	equal(t, "call", *got, *want, normCall)
	for name, pair := range map[string][2]time.Time{
		"CreatedAt":   {got.CreatedAt, want.CreatedAt},
		"A.Originate": {got.A.Originate, want.A.Originate},
		"A.End":       {got.A.End, want.A.End},
		"B.Ring":      {got.B.Ring, want.B.Ring},
		"LeaseTill":   {got.LeaseTill, want.LeaseTill},
	} {
		if !pair[0].Equal(pair[1]) {
			t.Errorf("%s = %v, want %v", name, pair[0], pair[1])
		}
	}
	if !got.B.Start.IsZero() {
		t.Errorf("zero B.Start came back as %v", got.B.Start)
	}
}

func (s *suite) callZeroValues(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	want := &dialtone.Call{ID: "c-min", AccountUID: "100", Kind: dialtone.KindVoice, State: dialtone.CallQueued}
	must(t, "CreateCall", st.CreateCall(ctx(t), want, nil))
	got, err := st.GetCall(ctx(t), "100", "c-min")
	must(t, "GetCall", err)
	equal(t, "minimal call", *got, *want, normCall)
	if !got.CreatedAt.IsZero() || !got.A.Originate.IsZero() || !got.LeaseTill.IsZero() {
		t.Errorf("zero times came back as %v %v %v", got.CreatedAt, got.A.Originate, got.LeaseTill)
	}
}

func (s *suite) callDuplicate(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	orig := fullCall("c1", "100")
	must(t, "CreateCall", st.CreateCall(ctx(t), orig, nil))
	again := fullCall("c1", "100")
	again.State = dialtone.CallQueued
	wantErr(t, "CreateCall duplicate", st.CreateCall(ctx(t), again, nil), dialtone.ErrConflict)
	wantErr(t, "CreateCall duplicate in another account", st.CreateCall(ctx(t), fullCall("c1", "200"), nil), dialtone.ErrConflict)
	got, err := st.GetCall(ctx(t), "100", "c1")
	must(t, "GetCall", err)
	equal(t, "call after refused duplicates", *got, *orig, normCall)
	_, err = st.GetCall(ctx(t), "200", "c1")
	wantErr(t, "GetCall of refused duplicate", err, dialtone.ErrNotFound)
}

func (s *suite) callIsolation(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	putAccount(t, st, "200")
	must(t, "CreateCall", st.CreateCall(ctx(t), fullCall("c1", "100"), nil))
	must(t, "CreateCall", st.CreateCall(ctx(t), fullCall("c2", "200"), nil))
	_, err := st.GetCall(ctx(t), "200", "c1")
	wantErr(t, "GetCall of another account's call", err, dialtone.ErrNotFound)
	_, err = st.GetCall(ctx(t), "100", "c2")
	wantErr(t, "GetCall of another account's call", err, dialtone.ErrNotFound)
	_, err = st.GetCall(ctx(t), "100", "c3")
	wantErr(t, "GetCall unknown", err, dialtone.ErrNotFound)
	_, err = st.GetCall(ctx(t), "", "c1")
	wantErr(t, "GetCall without account", err, dialtone.ErrNotFound)
	if c, err := st.GetCall(ctx(t), "200", "c2"); err != nil || c.AccountUID != "200" {
		t.Errorf("GetCall(200, c2) = %+v, %v", c, err)
	}
}

func (s *suite) callUnknownAccount(t *testing.T) {
	st := s.store(t)
	wantErr(t, "CreateCall for unknown account", st.CreateCall(ctx(t), fullCall("c1", "999"), nil), dialtone.ErrNotFound)
	_, err := st.GetCall(ctx(t), "999", "c1")
	wantErr(t, "GetCall after refused create", err, dialtone.ErrNotFound)
}

// concurrentWriters mixes every kind of write with reads from several
// goroutines; a store that lets writers collide reports "database is
// locked/busy" here.
func (s *suite) concurrentWriters(t *testing.T) {
	st := s.store(t)
	putAccount(t, st, "100")
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := fmt.Sprintf("w%d-%d", w, i)
				steps := []func() error{
					func() error {
						return st.PutAccessKey(ctx(t), key("K-"+id, "100", at(time.Duration(i)*time.Millisecond)))
					},
					func() error { return st.CreateCall(ctx(t), fullCall("C-"+id, "100"), nil) },
					func() error {
						c := fullCall("C-"+id, "100")
						c.Version = 1
						c.State = dialtone.CallRinging
						return st.UpdateCall(ctx(t), &dialtone.CallChange{Call: c,
							Events:   []dialtone.CallEvent{{Seq: 1, At: t0, Type: "ringing"}},
							Receipts: []dialtone.Receipt{{ID: "R-" + id, MessageType: dialtone.MsgVoiceReport, Body: []byte(`{}`), CreatedAt: t0}}})
					},
					func() error {
						return st.PutNumber(ctx(t), &dialtone.Number{AccountUID: "100", Number: "N-" + id, Concurrency: i})
					},
					func() error {
						ok, err := st.UseNonce(ctx(t), "K1", id, t0, at(time.Minute))
						if err == nil && !ok {
							err = fmt.Errorf("fresh nonce %s refused", id)
						}
						return err
					},
					func() error { _, err := st.GetAccessKey(ctx(t), "K-"+id); return err },
					func() error { _, err := st.GetCall(ctx(t), "100", "C-"+id); return err },
					func() error { _, err := st.PurgeNonces(ctx(t), t0); return err },
				}
				for _, step := range steps {
					if err := step(); err != nil {
						errs <- fmt.Errorf("%s: %w", id, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list, err := st.ListAccessKeys(ctx(t), "100")
	must(t, "ListAccessKeys", err)
	if len(list) != workers*perWorker {
		t.Errorf("ListAccessKeys = %d keys, want %d", len(list), workers*perWorker)
	}
	nums, err := st.ListNumbers(ctx(t), "100")
	must(t, "ListNumbers", err)
	if len(nums) != workers*perWorker {
		t.Errorf("ListNumbers = %d numbers, want %d", len(nums), workers*perWorker)
	}
}
