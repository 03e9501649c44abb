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
	closed   bool
}

func newMemStore() *memStore {
	return &memStore{
		accounts: map[string]dialtone.Account{},
		keys:     map[string]dialtone.AccessKey{},
		temps:    map[string]dialtone.TempCredential{},
		nonces:   map[nonceKey]time.Time{},
		calls:    map[string]dialtone.Call{},
	}
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

func (m *memStore) CreateCall(_ context.Context, c *dialtone.Call) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.accounts[c.AccountUID]; !ok {
		return dialtone.ErrNotFound
	}
	if _, ok := m.calls[c.ID]; ok {
		return dialtone.ErrConflict
	}
	cc := *c
	cc.Params = slices.Clone(c.Params)
	m.calls[c.ID] = cc
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
