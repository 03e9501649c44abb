package sqlstore

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// The authentication cache.
//
// Every signed API request and every MNS request looks up an access key
// (with its secret unsealed) and then its account. Read from the database
// each time, those two reads and the AES-GCM open were most of a request's
// cost beside the nonce write. The store keeps them, read outside
// transactions, for at most AuthCacheTTL, and forgets an entry:
//
//   - at once, on this node, when this store changes the key or the account
//     (after the write committed; inside a transaction, again after its
//     COMMIT, so that a read racing the commit cannot put the old row back);
//   - on the other nodes of a PostgreSQL cluster, when the change's
//     notification arrives (the write sends it on AuthChannel, in the same
//     transaction, so it is delivered only once committed): AuthChanged is
//     wired to the cluster bus, which also clears everything whenever its
//     listening connection reconnects, since notifications sent while it
//     was down are lost;
//   - in any case AuthCacheTTL after it was read, which bounds how long a
//     change made by a process whose notification never arrives (another
//     process writing the same SQLite file, a lost notification) can go
//     unseen.
//
// A read that started before a change and finishes after it never fills
// the cache: fills are tagged with a generation that every change bumps.
// Unknown IDs are not cached (not found is not remembered), so a request
// with a made-up key ID still reads the database, as before, and the cache
// holds at most the keys and accounts actually used within the TTL.
// Values handed out are copies: callers may change what they get.

// AuthCacheTTL bounds how long a cached access key or account is used
// without reading it again.
const AuthCacheTTL = time.Second

// AuthChannel is the PostgreSQL notification channel of changes to access
// keys and accounts; the payload is "key:<id>" or "account:<uid>".
const AuthChannel = "dialtone_auth"

// authCacheMax bounds the entries of each map; past it the map is cleared.
const authCacheMax = 100000

type authEntry[T any] struct {
	v  *T
	at time.Time
}

type authCache struct {
	mu       sync.Mutex
	ttl      time.Duration
	gen      uint64
	keys     map[string]authEntry[dialtone.AccessKey]
	accounts map[string]authEntry[dialtone.Account]
}

func newAuthCache(ttl time.Duration) *authCache {
	return &authCache{ttl: ttl, keys: map[string]authEntry[dialtone.AccessKey]{}, accounts: map[string]authEntry[dialtone.Account]{}}
}

// get returns the cached value of id in m, and otherwise the generation a
// fill must carry.
func authGet[T any](c *authCache, m map[string]authEntry[T], id string) (v *T, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ttl <= 0 {
		return nil, c.gen
	}
	e, ok := m[id]
	if ok && time.Since(e.at) < c.ttl {
		return e.v, c.gen
	}
	if ok {
		delete(m, id)
	}
	return nil, c.gen
}

// authPut caches v unless something changed since gen was read.
func authPut[T any](c *authCache, m map[string]authEntry[T], id string, v *T, gen uint64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ttl <= 0 || c.gen != gen {
		return
	}
	if len(m) >= authCacheMax {
		clear(m)
	}
	m[id] = authEntry[T]{v: v, at: at}
}

// changed forgets what name ("key:<id>", "account:<uid>") designates, or
// everything for any other name.
func (c *authCache) changed(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	switch kind, id, _ := strings.Cut(name, ":"); kind {
	case "key":
		delete(c.keys, id)
	case "account":
		delete(c.accounts, id)
	default:
		clear(c.keys)
		clear(c.accounts)
	}
}

func (c *authCache) setTTL(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ttl = d
	c.gen++
	clear(c.keys)
	clear(c.accounts)
}

func cloneKey(k *dialtone.AccessKey) *dialtone.AccessKey {
	c := *k
	c.Actions = slices.Clone(k.Actions)
	return &c
}

func cloneAccount(a *dialtone.Account) *dialtone.Account {
	c := *a
	c.Features = slices.Clone(a.Features)
	c.RateLimits = maps.Clone(a.RateLimits)
	return &c
}

// AuthChanged forgets the cached access key or account that payload names
// ("key:<id>", "account:<uid>"), or every cached one for any other payload
// ("" after a reconnection of the notification listener). The cluster bus
// calls it for the notifications of AuthChannel.
func (s *Store) AuthChanged(payload string) { s.auth.changed(payload) }

// SetAuthCacheTTL changes how long access keys and accounts are cached
// (AuthCacheTTL by default); 0 turns the cache off. It also empties it.
func (s *Store) SetAuthCacheTTL(d time.Duration) { s.auth.setTTL(d) }

// authWritten runs after a write of name ("key:<id>", "account:<uid>")
// returned: outside a transaction the write has committed; inside one the
// entry is forgotten now and everything again after the COMMIT (Atomic).
func (s *Store) authWritten(name string) {
	s.auth.changed(name)
	if s.authDirty != nil {
		*s.authDirty = true
	}
}

// notifyAuth tells the other nodes, in the write's own statements (so in
// its transaction, when there is one), that name changed.
func (s *Store) notifyAuth(ctx context.Context, q Querier, name string) error {
	if s.d.AuthNotify == "" {
		return nil
	}
	_, err := q.Exec(ctx, s.d.AuthNotify, AuthChannel, name)
	return err
}
