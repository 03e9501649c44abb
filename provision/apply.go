package provision

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/keygen"
)

// Result tells what Apply did. Unchanged objects are counted apart so that
// re-applying a file visibly does nothing.
type Result struct {
	AccountsCreated   int `json:"accounts_created"`
	AccountsUpdated   int `json:"accounts_updated"`
	AccountsUnchanged int `json:"accounts_unchanged"`
	KeysCreated       int `json:"keys_created"`
	KeysUpdated       int `json:"keys_updated"`
	KeysUnchanged     int `json:"keys_unchanged"`
	// Receipt subscriptions, counted like keys.
	SubscriptionsCreated   int `json:"subscriptions_created"`
	SubscriptionsUpdated   int `json:"subscriptions_updated"`
	SubscriptionsUnchanged int `json:"subscriptions_unchanged"`
	// Console users, counted like keys.
	ConsoleUsersCreated   int `json:"console_users_created"`
	ConsoleUsersUpdated   int `json:"console_users_updated"`
	ConsoleUsersUnchanged int `json:"console_users_unchanged"`
	// Accounts lists every account of the document in order, with its UID:
	// the only way to learn a UID that Apply generated.
	Accounts []AppliedAccount `json:"accounts"`
}

// AppliedAccount is the outcome for one account of the document.
type AppliedAccount struct {
	UID    string `json:"uid"`
	Name   string `json:"name"`
	Action string `json:"action"` // created, updated or unchanged
}

// Actions of AppliedAccount.
const (
	ActionCreated   = "created"
	ActionUpdated   = "updated"
	ActionUnchanged = "unchanged"
)

// plan is one account of the document resolved against the store.
type plan struct {
	src      *Account
	uid      string
	existing *dialtone.Account // nil: to be created
	keys     []*dialtone.AccessKey
}

// Apply writes the accounts of doc (which must come from Parse), their
// access keys, receipt subscriptions and SmartCall callback URL to store.
// Numbers, templates, voice files, flow control and the network are
// validated by Parse but not yet stored. Subscriptions need a store that is
// also a dialtone.ReceiptStore; message types the file does not list keep
// their subscription, and queue attributes set through the admin API are
// kept.
//
// Apply is idempotent: an account is found by UID, or by name when the file
// gives no UID; unchanged objects are not written (so UpdatedAt moves only
// on real changes) and CreatedAt is kept. Keys not in the file are left
// alone. Conflicts (a key ID owned by another account, an ambiguous name)
// are found before anything is written and wrap dialtone.ErrConflict. The
// store has no transactions, so a store failure midway can leave part of a
// document applied; applying it again completes it.
func Apply(ctx context.Context, store dialtone.Store, doc *Document, opts ...ApplyOption) (Result, error) {
	res := Result{Accounts: []AppliedAccount{}}
	cfg := &applyConfig{}
	for _, o := range opts {
		o(cfg)
	}
	if doc == nil {
		return res, nil
	}
	if err := applyGlobal(ctx, store, doc); err != nil {
		return res, err
	}
	if len(doc.Accounts) == 0 {
		return res, applyConsoleUsers(ctx, store, doc, time.Now().UTC(), &res)
	}
	plans, err := resolve(ctx, store, doc)
	if err != nil {
		return res, err
	}
	now := time.Now().UTC()
	for _, pl := range plans {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		action, err := applyAccount(ctx, store, pl, now)
		if err != nil {
			return res, err
		}
		switch action {
		case ActionCreated:
			res.AccountsCreated++
		case ActionUpdated:
			res.AccountsUpdated++
		default:
			res.AccountsUnchanged++
		}
		res.Accounts = append(res.Accounts, AppliedAccount{UID: pl.uid, Name: pl.src.Name, Action: action})
		for i, k := range pl.src.AccessKeys {
			action, err := applyKey(ctx, store, pl.uid, &k, pl.keys[i], now)
			if err != nil {
				return res, err
			}
			switch action {
			case ActionCreated:
				res.KeysCreated++
			case ActionUpdated:
				res.KeysUpdated++
			default:
				res.KeysUnchanged++
			}
		}
		if err := applySubscriptions(ctx, store, pl, now, &res); err != nil {
			return res, err
		}
		if err := applyCallbackURL(ctx, store, pl); err != nil {
			return res, err
		}
		if err := applyResources(ctx, store, pl.uid, pl.src, cfg, now); err != nil {
			return res, err
		}
	}
	// After the accounts, which the users may belong to.
	return res, applyConsoleUsers(ctx, store, doc, now, &res)
}

func applySubscriptions(ctx context.Context, store dialtone.Store, pl plan, now time.Time, res *Result) error {
	if len(pl.src.Subscriptions) == 0 {
		return nil
	}
	rs, ok := store.(dialtone.ReceiptStore)
	if !ok {
		return fmt.Errorf("provision: line %d: this store cannot keep receipt subscriptions", pl.src.Subscriptions[0].Line)
	}
	for _, sub := range pl.src.Subscriptions {
		want := &dialtone.Subscription{
			AccountUID: pl.uid, MessageType: string(sub.MessageType), Queue: sub.Queue,
			PushURL: sub.PushURL, PushSecret: sub.PushSecret, CreatedAt: now, UpdatedAt: now,
		}
		old, err := rs.GetSubscription(ctx, pl.uid, want.MessageType)
		switch {
		case errors.Is(err, dialtone.ErrNotFound):
			old = nil
		case err != nil:
			return fmt.Errorf("provision: line %d: subscription %s: %w", sub.Line, want.MessageType, err)
		}
		if old != nil {
			if old.Queue == want.Queue && old.PushURL == want.PushURL && old.PushSecret == want.PushSecret {
				res.SubscriptionsUnchanged++
				continue
			}
			want.CreatedAt = old.CreatedAt
			want.VisibilityTimeout, want.Retention = old.VisibilityTimeout, old.Retention
		}
		if err := rs.PutSubscription(ctx, want); err != nil {
			return fmt.Errorf("provision: line %d: subscription %s: %w", sub.Line, want.MessageType, err)
		}
		if old == nil {
			res.SubscriptionsCreated++
		} else {
			res.SubscriptionsUpdated++
		}
	}
	return nil
}

// applyCallbackURL sets the SmartCall callback URL when the file gives one,
// keeping the account's other settings.
func applyCallbackURL(ctx context.Context, store dialtone.Store, pl plan) error {
	url := pl.src.SmartCallCallbackURL
	if url == "" {
		return nil
	}
	st, err := store.GetAccountSettings(ctx, pl.uid)
	if err != nil {
		return fmt.Errorf("provision: line %d: settings of %s: %w", pl.src.Line, pl.uid, err)
	}
	if st.SmartCallCallbackURL == url {
		return nil
	}
	st.SmartCallCallbackURL = url
	if err := store.PutAccountSettings(ctx, pl.uid, st); err != nil {
		return fmt.Errorf("provision: line %d: settings of %s: %w", pl.src.Line, pl.uid, err)
	}
	return nil
}

// resolve finds every account and key of doc in the store and checks for
// conflicts, writing nothing.
func resolve(ctx context.Context, store dialtone.Store, doc *Document) ([]plan, error) {
	var all []dialtone.Account // loaded once, only if some account has no UID
	plans := make([]plan, 0, len(doc.Accounts))
	taken := map[string]bool{} // UIDs claimed by this document
	for i := range doc.Accounts {
		src := &doc.Accounts[i]
		pl := plan{src: src, uid: src.UID}
		if pl.uid != "" {
			a, err := store.GetAccount(ctx, pl.uid)
			switch {
			case err == nil:
				pl.existing = a
			case !errors.Is(err, dialtone.ErrNotFound):
				return nil, fmt.Errorf("provision: account %s: %w", pl.uid, err)
			}
		} else {
			if all == nil {
				var err error
				if all, err = store.ListAccounts(ctx); err != nil {
					return nil, fmt.Errorf("provision: list accounts: %w", err)
				}
			}
			var matches []dialtone.Account
			for _, a := range all {
				if a.Name == src.Name {
					matches = append(matches, a)
				}
			}
			switch len(matches) {
			case 0:
				uid, err := newUID(ctx, store, taken)
				if err != nil {
					return nil, err
				}
				pl.uid = uid
			case 1:
				pl.uid, pl.existing = matches[0].UID, &matches[0]
			default:
				return nil, fmt.Errorf("provision: line %d: account %q has no uid and %d accounts have that name; add the uid: %w",
					src.Line, src.Name, len(matches), dialtone.ErrConflict)
			}
		}
		if taken[pl.uid] {
			// A uid-less account whose name matches an account the file
			// also lists by UID under another name.
			return nil, fmt.Errorf("provision: line %d: account %q resolves to uid %s, which the file already lists: %w",
				src.Line, src.Name, pl.uid, dialtone.ErrConflict)
		}
		taken[pl.uid] = true
		pl.keys = make([]*dialtone.AccessKey, len(src.AccessKeys))
		for j, k := range src.AccessKeys {
			old, err := store.GetAccessKey(ctx, k.ID)
			switch {
			case errors.Is(err, dialtone.ErrNotFound):
				continue
			case err != nil:
				return nil, fmt.Errorf("provision: access key %s: %w", k.ID, err)
			case old.AccountUID != pl.uid:
				return nil, keyConflict(k)
			}
			pl.keys[j] = old
		}
		plans = append(plans, pl)
	}
	return plans, nil
}

// keyConflict names the key but not the other account: the admin API may be
// driven by someone who should not learn which tenant owns a key.
func keyConflict(k AccessKey) error {
	return fmt.Errorf("provision: line %d: access key %s belongs to another account: %w", k.Line, k.ID, dialtone.ErrConflict)
}

func newUID(ctx context.Context, store dialtone.Store, taken map[string]bool) (string, error) {
	for range 8 {
		uid, err := keygen.GenerateUID()
		if err != nil {
			return "", fmt.Errorf("provision: %w", err)
		}
		if taken[uid] {
			continue
		}
		_, err = store.GetAccount(ctx, uid)
		if errors.Is(err, dialtone.ErrNotFound) {
			return uid, nil
		}
		if err != nil {
			return "", fmt.Errorf("provision: check generated uid: %w", err)
		}
	}
	return "", errors.New("provision: could not generate an unused account uid")
}

func applyAccount(ctx context.Context, store dialtone.Store, pl plan, now time.Time) (string, error) {
	src := pl.src
	want := &dialtone.Account{
		UID:          pl.uid,
		Name:         src.Name,
		Status:       src.Status,
		VoiceService: src.VoiceService,
		Features:     src.Products,
		RateLimits:   src.RateLimits,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	action := ActionCreated
	if old := pl.existing; old != nil {
		if sameAccount(old, want) {
			return ActionUnchanged, nil
		}
		want.CreatedAt = old.CreatedAt
		action = ActionUpdated
	}
	if err := store.PutAccount(ctx, want); err != nil {
		return "", fmt.Errorf("provision: line %d: account %s: %w", src.Line, pl.uid, err)
	}
	return action, nil
}

func sameAccount(a, b *dialtone.Account) bool {
	// nil and empty Features differ (all products vs none); nil and empty
	// RateLimits do not (no overrides either way).
	return a.Name == b.Name && a.Status == b.Status && a.VoiceService == b.VoiceService &&
		(a.Features == nil) == (b.Features == nil) && slices.Equal(a.Features, b.Features) &&
		maps.Equal(a.RateLimits, b.RateLimits)
}

func applyKey(ctx context.Context, store dialtone.Store, uid string, k *AccessKey, old *dialtone.AccessKey, now time.Time) (string, error) {
	want := &dialtone.AccessKey{
		ID:         k.ID,
		AccountUID: uid,
		Secret:     k.Secret,
		Enabled:    k.Enabled,
		Actions:    k.Actions,
		CreatedAt:  now,
	}
	action := ActionCreated
	if old != nil {
		// Compared in stored form: ["*"] and no list both allow everything,
		// but rewriting one as the other is a real change of the row.
		if old.Secret == want.Secret && old.Enabled == want.Enabled && slices.Equal(old.Actions, want.Actions) {
			return ActionUnchanged, nil
		}
		want.CreatedAt = old.CreatedAt
		action = ActionUpdated
	}
	if err := store.PutAccessKey(ctx, want); err != nil {
		if errors.Is(err, dialtone.ErrConflict) {
			return "", keyConflict(*k) // taken by another account since resolve
		}
		return "", fmt.Errorf("provision: line %d: access key %s: %w", k.Line, k.ID, err)
	}
	return action, nil
}
