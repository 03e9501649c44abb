package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// TestSuiteAgainstMemStore runs the suite against a minimal in-memory store
// written straight from the contract in the package comment. It shows the
// suite depends on nothing SQL-specific, and that the contract is satisfiable
// as documented.
func TestSuiteAgainstMemStore(t *testing.T) {
	Run(t, func(t *testing.T) dialtone.Store { return newMemStore() })
}

type nonceKey struct{ scope, nonce string }

type memStore struct {
	mu       sync.Mutex
	accounts map[string]dialtone.Account
	keys     map[string]dialtone.AccessKey
	temps    map[string]dialtone.TempCredential
	nonces   map[nonceKey]time.Time
	calls    map[string]dialtone.Call
	events   map[string][]dialtone.CallEvent
	receipts map[string]dialtone.Receipt
	numbers  map[resKey]dialtone.Number
	tmpls    map[resKey]dialtone.TTSTemplate
	files    map[resKey]dialtone.VoiceFile
	settings map[string]dialtone.AccountSettings
	tokens   map[[32]byte]dialtone.AdminToken
	closed   bool
}

// resKey is an account-scoped resource key (number or code).
type resKey struct{ account, code string }

func newMemStore() *memStore {
	return &memStore{
		accounts: map[string]dialtone.Account{},
		keys:     map[string]dialtone.AccessKey{},
		temps:    map[string]dialtone.TempCredential{},
		nonces:   map[nonceKey]time.Time{},
		calls:    map[string]dialtone.Call{},
		events:   map[string][]dialtone.CallEvent{},
		receipts: map[string]dialtone.Receipt{},
		numbers:  map[resKey]dialtone.Number{},
		tmpls:    map[resKey]dialtone.TTSTemplate{},
		files:    map[resKey]dialtone.VoiceFile{},
		settings: map[string]dialtone.AccountSettings{},
		tokens:   map[[32]byte]dialtone.AdminToken{},
	}
}

func (m *memStore) AddAdminToken(_ context.Context, t *dialtone.AdminToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tokens[t.SHA256]; !ok {
		m.tokens[t.SHA256] = *t
	}
	return nil
}

func (m *memStore) ListAdminTokens(context.Context) ([]dialtone.AdminToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Collect(maps.Values(m.tokens))
	slices.SortFunc(out, func(a, b dialtone.AdminToken) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

func (m *memStore) Ping(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("closed")
	}
	return nil
}

func (m *memStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func (m *memStore) PutAccount(_ context.Context, a *dialtone.Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := *a
	c.Features = slices.Clone(a.Features)
	c.RateLimits = maps.Clone(a.RateLimits)
	m.accounts[a.UID] = c
	return nil
}

func (m *memStore) GetAccount(_ context.Context, uid string) (*dialtone.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.accounts[uid]
	if !ok {
		return nil, dialtone.ErrNotFound
	}
	return &a, nil
}

func (m *memStore) ListAccounts(context.Context) ([]dialtone.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Collect(maps.Values(m.accounts))
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].UID < out[j].UID
	})
	return out, nil
}

func (m *memStore) PutAccessKey(_ context.Context, k *dialtone.AccessKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[k.AccountUID]; !ok {
		return dialtone.ErrNotFound
	}
	if old, ok := m.keys[k.ID]; ok && old.AccountUID != k.AccountUID {
		return dialtone.ErrConflict
	}
	m.keys[k.ID] = *k
	return nil
}

func (m *memStore) GetAccessKey(_ context.Context, id string) (*dialtone.AccessKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	if !ok {
		return nil, dialtone.ErrNotFound
	}
	return &k, nil
}

func (m *memStore) ListAccessKeys(_ context.Context, acct string) ([]dialtone.AccessKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []dialtone.AccessKey
	for _, k := range m.keys {
		if k.AccountUID == acct {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (m *memStore) DeleteAccessKey(_ context.Context, acct, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.keys[id]; !ok || k.AccountUID != acct {
		return dialtone.ErrNotFound
	}
	delete(m.keys, id)
	return nil
}

func (m *memStore) PutTempCredential(_ context.Context, c *dialtone.TempCredential) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[c.AccountUID]; !ok {
		return dialtone.ErrNotFound
	}
	if old, ok := m.temps[c.AccessKeyID]; ok && old.AccountUID != c.AccountUID {
		return dialtone.ErrConflict
	}
	m.temps[c.AccessKeyID] = *c
	return nil
}

func (m *memStore) GetTempCredential(_ context.Context, id string) (*dialtone.TempCredential, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.temps[id]
	if !ok {
		return nil, dialtone.ErrNotFound
	}
	return &c, nil
}

func (m *memStore) PurgeTempCredentials(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, c := range m.temps {
		if c.Expired(now) {
			delete(m.temps, id)
			n++
		}
	}
	return n, nil
}

func (m *memStore) UseNonce(_ context.Context, scope, nonce string, now, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := nonceKey{scope, nonce}
	if exp, ok := m.nonces[k]; ok && now.Before(exp) {
		return false, nil
	}
	m.nonces[k] = expires
	return true, nil
}

func (m *memStore) PurgeNonces(_ context.Context, now time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, exp := range m.nonces {
		if !now.Before(exp) {
			delete(m.nonces, k)
			n++
		}
	}
	return n, nil
}

func (m *memStore) CreateCall(_ context.Context, c *dialtone.Call, guard *dialtone.FlowGuard) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[c.AccountUID]; !ok {
		return dialtone.ErrNotFound
	}
	if _, ok := m.calls[c.ID]; ok {
		return dialtone.ErrConflict
	}
	if guard != nil {
		windows := []struct {
			name  string
			limit int
			span  time.Duration
		}{
			{"minute", guard.Limits.PerMinute, time.Minute},
			{"hour", guard.Limits.PerHour, time.Hour},
			{"day", guard.Limits.PerDay, 24 * time.Hour},
		}
		now := guard.Now.UnixMilli()
		for _, w := range windows {
			if w.limit <= 0 {
				continue
			}
			n := 0
			for _, old := range m.calls {
				ms := old.CreatedAt.UnixMilli()
				if old.AccountUID == c.AccountUID && old.Callee == c.Callee && ms > now-w.span.Milliseconds() && ms <= now {
					n++
				}
			}
			if n >= w.limit {
				return &dialtone.FlowLimitError{Window: w.name, Limit: w.limit}
			}
		}
	}
	cc := *c
	cc.Params = slices.Clone(c.Params)
	cc.Version = 1
	m.calls[c.ID] = cc
	c.Version = 1
	return nil
}

func (m *memStore) GetCall(_ context.Context, acct, id string) (*dialtone.Call, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.calls[id]
	if !ok || c.AccountUID != acct {
		return nil, dialtone.ErrNotFound
	}
	return &c, nil
}

func (m *memStore) UpdateCall(_ context.Context, ch *dialtone.CallChange) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := ch.Call
	old, ok := m.calls[c.ID]
	if !ok || old.AccountUID != c.AccountUID {
		return dialtone.ErrNotFound
	}
	if old.Version != c.Version {
		return dialtone.ErrConflict
	}
	// Validate everything before writing anything: the change is atomic.
	seqs := map[int]bool{}
	for _, e := range m.events[c.ID] {
		seqs[e.Seq] = true
	}
	var events []dialtone.CallEvent
	for _, e := range ch.Events {
		if (e.CallID != "" && e.CallID != c.ID) || e.Seq < 1 {
			return fmt.Errorf("bad event %+v", e)
		}
		if seqs[e.Seq] {
			return dialtone.ErrConflict
		}
		seqs[e.Seq] = true
		e.CallID = c.ID
		e.Detail = maps.Clone(e.Detail)
		events = append(events, e)
	}
	ids := map[string]bool{}
	for _, r := range ch.Receipts {
		if r.ID == "" || (r.AccountUID != "" && r.AccountUID != c.AccountUID) || (r.CallID != "" && r.CallID != c.ID) {
			return fmt.Errorf("bad receipt %+v", r)
		}
		if _, dup := m.receipts[r.ID]; dup || ids[r.ID] {
			return dialtone.ErrConflict
		}
		ids[r.ID] = true
	}
	nc := *c
	nc.Params = slices.Clone(c.Params)
	nc.CreatedAt = old.CreatedAt
	nc.Version = old.Version + 1
	m.calls[c.ID] = nc
	m.events[c.ID] = append(m.events[c.ID], events...)
	for _, r := range ch.Receipts {
		r.AccountUID, r.CallID = c.AccountUID, c.ID
		r.Body = slices.Clone(r.Body)
		m.receipts[r.ID] = r
	}
	c.Version++
	return nil
}

func (m *memStore) ListCallEvents(_ context.Context, acct, id string) ([]dialtone.CallEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.calls[id]; !ok || c.AccountUID != acct {
		return nil, dialtone.ErrNotFound
	}
	out := slices.Clone(m.events[id])
	slices.SortFunc(out, func(a, b dialtone.CallEvent) int { return a.Seq - b.Seq })
	return out, nil
}

// callAfter orders calls as ListCalls does: newest first, then higher ID.
func callAfter(a, b dialtone.Call) bool {
	am, bm := a.CreatedAt.UnixMilli(), b.CreatedAt.UnixMilli()
	if am != bm {
		return am > bm
	}
	return a.ID > b.ID
}

func (m *memStore) ListCalls(_ context.Context, f dialtone.CallFilter) ([]dialtone.Call, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var cursor *dialtone.Call
	if f.Before != "" {
		c, ok := m.calls[f.Before]
		if !ok || c.AccountUID != f.AccountUID {
			return nil, dialtone.ErrNotFound
		}
		cursor = &c
	}
	out := []dialtone.Call{}
	for _, c := range m.calls {
		ms := c.CreatedAt.UnixMilli()
		switch {
		case c.AccountUID != f.AccountUID,
			!f.From.IsZero() && ms < f.From.UnixMilli(),
			!f.To.IsZero() && ms >= f.To.UnixMilli(),
			f.Number != "" && c.Caller != f.Number && c.Callee != f.Number && c.CallerShowNumber != f.Number && c.CalleeShowNumber != f.Number,
			f.StatusCode != "" && c.StatusCode != f.StatusCode,
			f.Kind != "" && c.Kind != f.Kind,
			f.OutID != "" && c.OutID != f.OutID,
			cursor != nil && !callAfter(*cursor, c):
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return callAfter(out[i], out[j]) })
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	return out[:min(len(out), limit, 1000)], nil
}

func (m *memStore) ListUnfinishedCalls(_ context.Context, node string) ([]dialtone.Call, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []dialtone.Call{}
	for _, c := range m.calls {
		if c.State != dialtone.CallEnded && (node == "" || c.Node == node) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return callAfter(out[j], out[i]) })
	return out, nil
}

// putRes, getRes, listRes and delRes implement the account-scoped resource
// methods once for the three kinds.
func putRes[T any](m *memStore, res map[resKey]T, k resKey, v T) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[k.account]; !ok {
		return dialtone.ErrNotFound
	}
	res[k] = v
	return nil
}

func getRes[T any](m *memStore, res map[resKey]T, k resKey) (*T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := res[k]
	if !ok {
		return nil, dialtone.ErrNotFound
	}
	return &v, nil
}

func listRes[T any](m *memStore, res map[resKey]T, acct string) []T {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range res {
		if k.account == acct {
			keys = append(keys, k.code)
		}
	}
	sort.Strings(keys)
	out := []T{}
	for _, c := range keys {
		out = append(out, res[resKey{acct, c}])
	}
	return out
}

func delRes[T any](m *memStore, res map[resKey]T, k resKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := res[k]; !ok {
		return dialtone.ErrNotFound
	}
	delete(res, k)
	return nil
}

func (m *memStore) PutNumber(_ context.Context, n *dialtone.Number) error {
	return putRes(m, m.numbers, resKey{n.AccountUID, n.Number}, *n)
}

func (m *memStore) GetNumber(_ context.Context, acct, number string) (*dialtone.Number, error) {
	return getRes(m, m.numbers, resKey{acct, number})
}

func (m *memStore) ListNumbers(_ context.Context, acct string) ([]dialtone.Number, error) {
	return listRes(m, m.numbers, acct), nil
}

func (m *memStore) DeleteNumber(_ context.Context, acct, number string) error {
	return delRes(m, m.numbers, resKey{acct, number})
}

func (m *memStore) PutTemplate(_ context.Context, t *dialtone.TTSTemplate) error {
	return putRes(m, m.tmpls, resKey{t.AccountUID, t.Code}, *t)
}

func (m *memStore) GetTemplate(_ context.Context, acct, code string) (*dialtone.TTSTemplate, error) {
	return getRes(m, m.tmpls, resKey{acct, code})
}

func (m *memStore) ListTemplates(_ context.Context, acct string) ([]dialtone.TTSTemplate, error) {
	return listRes(m, m.tmpls, acct), nil
}

func (m *memStore) DeleteTemplate(_ context.Context, acct, code string) error {
	return delRes(m, m.tmpls, resKey{acct, code})
}

func (m *memStore) PutVoiceFile(_ context.Context, f *dialtone.VoiceFile) error {
	return putRes(m, m.files, resKey{f.AccountUID, f.Code}, *f)
}

func (m *memStore) GetVoiceFile(_ context.Context, acct, code string) (*dialtone.VoiceFile, error) {
	return getRes(m, m.files, resKey{acct, code})
}

func (m *memStore) ListVoiceFiles(_ context.Context, acct string) ([]dialtone.VoiceFile, error) {
	return listRes(m, m.files, acct), nil
}

func (m *memStore) DeleteVoiceFile(_ context.Context, acct, code string) error {
	return delRes(m, m.files, resKey{acct, code})
}

func (m *memStore) GetAccountSettings(_ context.Context, acct string) (*dialtone.AccountSettings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.settings[acct]
	if !ok {
		return &dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl}, nil
	}
	st.Blacklist = slices.Clone(st.Blacklist)
	return &st, nil
}

func (m *memStore) PutAccountSettings(_ context.Context, acct string, st *dialtone.AccountSettings) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[acct]; !ok && acct != "" {
		return dialtone.ErrNotFound
	}
	c := *st
	c.Blacklist = slices.Clone(st.Blacklist)
	m.settings[acct] = c
	return nil
}

// Atomic runs fn on a copy of the store and keeps the copy when fn
// succeeds. The store's lock is held throughout, so the transaction is
// serialised with every other use.
func (m *memStore) Atomic(ctx context.Context, fn func(ctx context.Context, tx dialtone.Store) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx := &memStore{
		accounts: maps.Clone(m.accounts), keys: maps.Clone(m.keys), temps: maps.Clone(m.temps),
		nonces: maps.Clone(m.nonces), calls: maps.Clone(m.calls), events: maps.Clone(m.events),
		receipts: maps.Clone(m.receipts), numbers: maps.Clone(m.numbers), tmpls: maps.Clone(m.tmpls),
		files: maps.Clone(m.files), settings: maps.Clone(m.settings), tokens: maps.Clone(m.tokens),
	}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	// The maps are refilled, not replaced: a method waiting for the lock
	// already holds a reference to the map it writes.
	refill(m.accounts, tx.accounts)
	refill(m.keys, tx.keys)
	refill(m.temps, tx.temps)
	refill(m.nonces, tx.nonces)
	refill(m.calls, tx.calls)
	refill(m.events, tx.events)
	refill(m.receipts, tx.receipts)
	refill(m.numbers, tx.numbers)
	refill(m.tmpls, tx.tmpls)
	refill(m.files, tx.files)
	refill(m.settings, tx.settings)
	refill(m.tokens, tx.tokens)
	return nil
}

func refill[K comparable, V any](dst, src map[K]V) {
	clear(dst)
	maps.Copy(dst, src)
}
