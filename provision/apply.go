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
	"github.com/dialtone-voice/dialtone/media"
)

// Result tells what Apply did, or with WithDryRun what it would do.
// Unchanged objects are counted apart so that re-applying a file visibly
// does nothing. The flat totals add up the accounts' counts.
type Result struct {
	// DryRun says that nothing was written: the counts say what applying
	// the document would do.
	DryRun            bool `json:"dry_run,omitempty"`
	AccountsCreated   int  `json:"accounts_created"`
	AccountsUpdated   int  `json:"accounts_updated"`
	AccountsUnchanged int  `json:"accounts_unchanged"`
	KeysCreated       int  `json:"keys_created"`
	KeysUpdated       int  `json:"keys_updated"`
	KeysUnchanged     int  `json:"keys_unchanged"`
	// Receipt subscriptions, counted like keys.
	SubscriptionsCreated   int `json:"subscriptions_created"`
	SubscriptionsUpdated   int `json:"subscriptions_updated"`
	SubscriptionsUnchanged int `json:"subscriptions_unchanged"`
	// Console users, counted like keys.
	ConsoleUsersCreated   int `json:"console_users_created"`
	ConsoleUsersUpdated   int `json:"console_users_updated"`
	ConsoleUsersUnchanged int `json:"console_users_unchanged"`
	// Blacklist is what happened to the operator's global blacklist:
	// updated or unchanged, "" when the document does not set it.
	Blacklist string `json:"blacklist,omitempty"`
	// Accounts lists every account of the document in order, with its UID
	// (the only way to learn a UID that Apply generated) and what happened
	// to it and to each kind of its resources.
	Accounts []AppliedAccount `json:"accounts"`
}

// AppliedAccount is the outcome for one account of the document.
type AppliedAccount struct {
	UID           string `json:"uid"`
	Name          string `json:"name"`
	Action        string `json:"action"` // created, updated or unchanged
	Keys          Counts `json:"access_keys"`
	Numbers       Counts `json:"numbers"`
	Templates     Counts `json:"tts_templates"`
	VoiceFiles    Counts `json:"voice_files"`
	Subscriptions Counts `json:"subscriptions"`
	// Settings is updated or unchanged: flow control, blacklist and the
	// SmartCall callback URL.
	Settings string `json:"settings"`
}

// Counts counts the objects of one kind a document lists by what
// happened to them.
type Counts struct {
	Created   int `json:"created,omitempty"`
	Updated   int `json:"updated,omitempty"`
	Unchanged int `json:"unchanged,omitempty"`
}

func (c *Counts) add(action string) {
	switch action {
	case ActionCreated:
		c.Created++
	case ActionUpdated:
		c.Updated++
	default:
		c.Unchanged++
	}
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

// errDryRun rolls a dry run's transaction back.
var errDryRun = errors.New("provision: dry run")

// Apply writes doc (which must come from Parse) to store in one
// transaction: its accounts, their access keys, numbers, templates, voice
// files, settings and receipt subscriptions, the operator's blacklist and
// the console users. On any error nothing is written. The network, SIP
// trunks and routes are node configuration, read at start and not stored.
//
// Problems with the document that only the store or its files reveal (a
// voice file missing or not audio, a console user's unknown account) are an
// *Error naming the line and key, like Parse's; a key ID owned by another
// account or an ambiguous account name wraps dialtone.ErrConflict.
//
// Apply is idempotent: an account is found by UID, or by name when the file
// gives no UID; unchanged objects are not written (so UpdatedAt moves only
// on real changes) and CreatedAt is kept. Objects the document does not
// list (other accounts, keys, subscription types) are left alone, and queue
// attributes set through the admin API are kept.
func Apply(ctx context.Context, store dialtone.Store, doc *Document, opts ...ApplyOption) (Result, error) {
	cfg := &applyConfig{}
	for _, o := range opts {
		o(cfg)
	}
	if doc == nil {
		return Result{Accounts: []AppliedAccount{}, DryRun: cfg.dryRun}, nil
	}
	// The audio is read and checked before the transaction: a bad file
	// fails the document at once, and the store is not held while decoding.
	audio, err := loadVoices(doc, cfg)
	if err != nil {
		return Result{Accounts: []AppliedAccount{}}, err
	}
	var res Result
	err = store.Atomic(ctx, func(ctx context.Context, tx dialtone.Store) error {
		res = Result{Accounts: []AppliedAccount{}, DryRun: cfg.dryRun} // the transaction may run again
		if err := apply(ctx, tx, doc, cfg, audio, &res); err != nil {
			return err
		}
		if cfg.dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return Result{Accounts: []AppliedAccount{}}, err
	}
	return res, nil
}

func apply(ctx context.Context, store dialtone.Store, doc *Document, cfg *applyConfig, audio map[*VoiceFile]*media.VoiceAudio, res *Result) error {
	now := time.Now().UTC()
	if err := applyGlobal(ctx, store, doc, res); err != nil {
		return err
	}
	plans, err := resolve(ctx, store, doc)
	if err != nil {
		return err
	}
	for _, pl := range plans {
		if err := ctx.Err(); err != nil {
			return err
		}
		out := AppliedAccount{UID: pl.uid, Name: pl.src.Name}
		if out.Action, err = applyAccount(ctx, store, pl, now); err != nil {
			return err
		}
		for i, k := range pl.src.AccessKeys {
			action, err := applyKey(ctx, store, pl.uid, &k, pl.keys[i], now)
			if err != nil {
				return err
			}
			out.Keys.add(action)
		}
		if err := applySubscriptions(ctx, store, pl, now, &out.Subscriptions); err != nil {
			return err
		}
		if err := applyResources(ctx, store, pl.uid, pl.src, cfg, audio, now, &out); err != nil {
			return err
		}
		res.add(out)
	}
	// After the accounts, which the users may belong to.
	return applyConsoleUsers(ctx, store, doc, cfg, now, res)
}

// add counts an account's outcome in the totals and lists it.
func (r *Result) add(a AppliedAccount) {
	switch a.Action {
	case ActionCreated:
		r.AccountsCreated++
	case ActionUpdated:
		r.AccountsUpdated++
	default:
		r.AccountsUnchanged++
	}
	r.KeysCreated += a.Keys.Created
	r.KeysUpdated += a.Keys.Updated
	r.KeysUnchanged += a.Keys.Unchanged
	r.SubscriptionsCreated += a.Subscriptions.Created
	r.SubscriptionsUpdated += a.Subscriptions.Updated
	r.SubscriptionsUnchanged += a.Subscriptions.Unchanged
	r.Accounts = append(r.Accounts, a)
}

func applySubscriptions(ctx context.Context, store dialtone.Store, pl plan, now time.Time, counts *Counts) error {
	if len(pl.src.Subscriptions) == 0 {
		return nil
	}
	rs := store
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
				counts.add(ActionUnchanged)
				continue
			}
			want.CreatedAt = old.CreatedAt
			want.VisibilityTimeout, want.Retention = old.VisibilityTimeout, old.Retention
		}
		if err := rs.PutSubscription(ctx, want); err != nil {
			return fmt.Errorf("provision: line %d: subscription %s: %w", sub.Line, want.MessageType, err)
		}
		if old == nil {
			counts.add(ActionCreated)
		} else {
			counts.add(ActionUpdated)
		}
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
