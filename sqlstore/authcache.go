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

// The authentication cache, and what every call reads of its account.
//
// Every signed API request and every MNS request looks up an access key
// (with its secret unsealed) and then its account. Read from the database
// each time, those two reads and the AES-GCM open were most of a request's
// cost beside the nonce write. Every call then read its account's settings
// three times (flow control, blacklist, callbacks and streams; the
// operator's global blacklist once more), its display number twice and its
// template once: six of the 17 statements a call cost on PostgreSQL, and a
// tenth of a SQLite node's CPU. The store keeps all of them, read outside
// transactions, for at most AuthCacheTTL, and forgets an entry:
//
//   - at once, on this node, when this store changes the key or the account
//     (after the write committed; inside a transaction, again after its
//     COMMIT, so that a read racing the commit cannot put the old row back);
//     a change to any of an account's settings, numbers, templates, voice
//     files or subscriptions counts as a change of the account and forgets
//     everything cached of it;
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
// with a made-up key ID or number still reads the database, as before, and
// the cache holds at most what was actually used within the TTL. (An
// account without stored settings has the defaults, which are cached like
// stored ones: only authenticated accounts and the operator's "" are read.)
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
	// res is what calls read of each account, by account UID.
	res map[string]*accountRes
}

// accountRes is what is cached of one account besides its row: its
// settings (under ""), its numbers and its templates.
type accountRes struct {
	settings  map[string]authEntry[dialtone.AccountSettings]
	numbers   map[string]authEntry[dialtone.Number]
	templates map[string]authEntry[dialtone.TTSTemplate]
}

func resSettings(r *accountRes) map[string]authEntry[dialtone.AccountSettings] { return r.settings }
func resNumbers(r *accountRes) map[string]authEntry[dialtone.Number]           { return r.numbers }
func resTemplates(r *accountRes) map[string]authEntry[dialtone.TTSTemplate]    { return r.templates }

func newAuthCache(ttl time.Duration) *authCache {
	return &authCache{ttl: ttl, keys: map[string]authEntry[dialtone.AccessKey]{}, accounts: map[string]authEntry[dialtone.Account]{},
		res: map[string]*accountRes{}}
}

// get returns the cached value of id in m, and otherwise the generation a
// fill must carry.
func authGet[T any](c *authCache, m map[string]authEntry[T], id string) (v *T, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return lookup(c, m, id)
}

// lookup is get under c.mu.
func lookup[T any](c *authCache, m map[string]authEntry[T], id string) (*T, uint64) {
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
	store(m, id, v, at)
}

// store is put under c.mu, once the generation is checked.
func store[T any](m map[string]authEntry[T], id string, v *T, at time.Time) {
	if len(m) >= authCacheMax {
		clear(m)
	}
	m[id] = authEntry[T]{v: v, at: at}
}

// resGet is authGet for what calls read of account uid; sel picks the map.
func resGet[T any](c *authCache, uid string, sel func(*accountRes) map[string]authEntry[T], id string) (*T, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.res[uid]
	if r == nil {
		return nil, c.gen
	}
	return lookup(c, sel(r), id)
}

// resPut is authPut for what calls read of account uid.
func resPut[T any](c *authCache, uid string, sel func(*accountRes) map[string]authEntry[T], id string, v *T, gen uint64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ttl <= 0 || c.gen != gen {
		return
	}
	r := c.res[uid]
	if r == nil {
		if len(c.res) >= authCacheMax {
			clear(c.res)
		}
		r = &accountRes{settings: map[string]authEntry[dialtone.AccountSettings]{},
			numbers: map[string]authEntry[dialtone.Number]{}, templates: map[string]authEntry[dialtone.TTSTemplate]{}}
		c.res[uid] = r
	}
	store(sel(r), id, v, at)
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
		delete(c.res, id)
	default:
		clear(c.keys)
		clear(c.accounts)
		clear(c.res)
	}
}

func (c *authCache) setTTL(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ttl = d
	c.gen++
	clear(c.keys)
	clear(c.accounts)
	clear(c.res)
}

func cloneKey(k *dialtone.AccessKey) *dialtone.AccessKey {
	c := *k
	c.Actions = slices.Clone(k.Actions)
	return &c
}

func cloneSettings(st *dialtone.AccountSettings) *dialtone.AccountSettings {
	c := *st
	c.Blacklist = slices.Clone(st.Blacklist)
	c.ForkStreamKinds = slices.Clone(st.ForkStreamKinds)
	return &c
}

// clonePlain copies a value without references (a number, a template).
func clonePlain[T any](v *T) *T {
	c := *v
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

// accountName is the cache's name of account uid and what is read of it.
func accountName(uid string) string { return "account:" + uid }

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

// getCached returns what read returns, from the cache of account uid's
// map sel under id when it is there, copied with clone. A view (Atomic)
// reads in its transaction and never touches the cache.
func getCached[T any](s *Store, uid string, sel func(*accountRes) map[string]authEntry[T], id string,
	clone func(*T) *T, read func() (*T, error)) (*T, error) {
	if s.inView {
		return read()
	}
	if v, gen := resGet(s.auth, uid, sel, id); v != nil {
		return clone(v), nil
	} else {
		at := time.Now()
		v, err := read()
		if err != nil {
			return nil, err
		}
		resPut(s.auth, uid, sel, id, clone(v), gen, at)
		return v, nil
	}
}
