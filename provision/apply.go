package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/carrier/sim"
	"github.com/dialtone-voice/dialtone/keygen"
	"github.com/dialtone-voice/dialtone/media"
	"github.com/dialtone-voice/dialtone/resource"
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
	// Network is what happened to the simulated network the nodes sharing
	// the store run: created, updated or unchanged, "" when the document
	// has no network section.
	Network string `json:"network,omitempty"`
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

func (c *Counts) add(action resource.Action) {
	switch action {
	case resource.Created:
		c.Created++
	case resource.Updated:
		c.Updated++
	default:
		c.Unchanged++
	}
}

// Actions of AppliedAccount, as strings.
const (
	ActionCreated   = string(resource.Created)
	ActionUpdated   = string(resource.Updated)
	ActionUnchanged = string(resource.Unchanged)
)

// plan is one account of the document resolved against the store.
type plan struct {
	src *Account
	uid string
}

// Apply writes doc (which must come from Parse) in one transaction of the
// resource service: its accounts, their access keys, numbers, templates,
// voice files, settings and receipt subscriptions, the operator's
// blacklist and the console users. On any error nothing is written. The
// network, SIP trunks and routes are node configuration, read at start and
// not stored.
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
func Apply(ctx context.Context, svc *resource.Service, doc *Document, opts ...ApplyOption) (Result, error) {
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
	// The provisioning file is the operator's: the URLs it sets are
	// trusted by the egress policy, whichever door brought it.
	ctx = dialtone.WithTrusted(ctx)
	var res Result
	run := svc.Atomic
	if cfg.dryRun {
		run = svc.Preview
	}
	err = run(ctx, func(ctx context.Context, tx *resource.Service) error {
		res = Result{Accounts: []AppliedAccount{}, DryRun: cfg.dryRun} // the transaction may run again
		return apply(ctx, tx, doc, audio, &res)
	})
	if err != nil {
		return Result{Accounts: []AppliedAccount{}}, err
	}
	return res, nil
}

func apply(ctx context.Context, svc *resource.Service, doc *Document, audio map[*VoiceFile]*media.VoiceAudio, res *Result) error {
	if doc.Blacklist != nil {
		_, action, err := svc.SetGlobalBlacklist(ctx, doc.Blacklist)
		if err != nil {
			return fmt.Errorf("provision: global blacklist: %w", err)
		}
		res.Blacklist = string(action)
	}
	if doc.Network != nil {
		enc, err := sim.EncodeConfig(doc.Network)
		if err != nil {
			return fmt.Errorf("provision: network: %w", err)
		}
		_, action, err := svc.SetSimNetwork(ctx, enc, 0)
		if err != nil {
			return fmt.Errorf("provision: network: %w", err)
		}
		res.Network = string(action)
	}
	plans, err := resolve(ctx, svc.Store(), doc)
	if err != nil {
		return err
	}
	for _, pl := range plans {
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := applyAccount(ctx, svc, doc, pl, audio)
		if err != nil {
			return err
		}
		res.add(out)
	}
	// After the accounts, which the users may belong to.
	return applyConsoleUsers(ctx, svc, doc, res)
}

// applyAccount writes one account of the document and what it holds.
func applyAccount(ctx context.Context, svc *resource.Service, doc *Document, pl plan, audio map[*VoiceFile]*media.VoiceAudio) (AppliedAccount, error) {
	src := pl.src
	out := AppliedAccount{UID: pl.uid, Name: src.Name}
	acct := src.Account
	acct.UID = pl.uid
	action, err := svc.PutAccount(ctx, acct)
	if err != nil {
		return out, fmt.Errorf("provision: line %d: account %s: %w", src.Line, pl.uid, err)
	}
	out.Action = string(action)
	for _, k := range src.AccessKeys {
		key := k.AccessKey
		key.AccountUID = pl.uid
		action, err := svc.PutAccessKey(ctx, key)
		if err != nil {
			return out, fmt.Errorf("provision: line %d: %w", k.Line, err)
		}
		out.Keys.add(action)
	}
	for _, sub := range src.Subscriptions {
		u := dialtone.SubscriptionUpdate{Queue: sub.Queue, PushURL: sub.PushURL, PushSecret: &sub.PushSecret}
		if sub.PushSecretGrace > 0 {
			grace := int64(sub.PushSecretGrace / time.Second)
			u.PushSecretGraceSeconds = &grace
		}
		_, action, err := svc.PutSubscription(ctx, pl.uid, sub.MessageType, u)
		if err != nil {
			return out, fmt.Errorf("provision: line %d: subscription %s: %w", sub.Line, sub.MessageType, err)
		}
		out.Subscriptions.add(action)
	}
	for _, n := range src.Numbers {
		num := n.Number
		num.AccountUID = pl.uid
		_, action, err := svc.PutNumber(ctx, num)
		if err != nil {
			return out, fmt.Errorf("provision: line %d: number %s: %w", n.Line, num.Number, err)
		}
		out.Numbers.add(action)
	}
	for _, t := range src.TTSTemplates {
		tpl := t.TTSTemplate
		tpl.AccountUID = pl.uid
		_, action, err := svc.PutTemplate(ctx, tpl)
		if err != nil {
			return out, fmt.Errorf("provision: line %d: template %s: %w", t.Line, tpl.Code, err)
		}
		out.Templates.add(action)
	}
	for i := range src.VoiceFiles {
		f := &src.VoiceFiles[i]
		vf := f.VoiceFile
		vf.AccountUID = pl.uid
		action, err := svc.PutVoiceFile(ctx, vf, audio[f])
		if err != nil {
			return out, fmt.Errorf("provision: line %d: voice file %s: %w", f.Line, vf.Code, err)
		}
		out.VoiceFiles.add(action)
	}
	// Flow control is the file's (defaults when absent); the blacklist,
	// callback URL and machine detection only when the file gives them.
	fc := src.FlowControl
	u := dialtone.SettingsUpdate{FlowControl: &dialtone.FlowControlUpdate{PerMinute: &fc.PerMinute, PerHour: &fc.PerHour, PerDay: &fc.PerDay}}
	if src.Blacklist != nil {
		u.Blacklist = &src.Blacklist
	}
	if src.SmartCallCallbackURL != "" {
		u.SmartCallCallbackURL = &src.SmartCallCallbackURL
	}
	if src.MachineDetection != "" {
		u.MachineDetection = &src.MachineDetection
	}
	if src.SmartCallStreamURL != "" {
		u.SmartCallStreamURL = &src.SmartCallStreamURL
	}
	if src.ForkStreamURL != "" {
		u.ForkStreamURL = &src.ForkStreamURL
	}
	if src.ForkStreamKinds != nil {
		u.ForkStreamKinds = &src.ForkStreamKinds
	}
	if src.SmartCallCallbackSecret != "" {
		u.SmartCallCallbackSecret = &src.SmartCallCallbackSecret
		if src.SmartCallCallbackSecretGrace > 0 {
			grace := int64(src.SmartCallCallbackSecretGrace / time.Second)
			u.SmartCallCallbackSecretGraceSeconds = &grace
		}
	}
	_, action, err = svc.UpdateSettings(ctx, pl.uid, u)
	if err != nil {
		return out, fmt.Errorf("provision: line %d: settings of %s: %w", src.Line, pl.uid, err)
	}
	out.Settings = string(action)
	return out, nil
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

// resolve finds every account of doc in the store and checks for
// conflicts (an ambiguous name, a key ID of another account), writing
// nothing.
func resolve(ctx context.Context, store dialtone.Store, doc *Document) ([]plan, error) {
	var all []dialtone.Account // loaded once, only if some account has no UID
	plans := make([]plan, 0, len(doc.Accounts))
	taken := map[string]bool{} // UIDs claimed by this document
	for i := range doc.Accounts {
		src := &doc.Accounts[i]
		pl := plan{src: src, uid: src.UID}
		if pl.uid == "" {
			if all == nil {
				var err error
				if all, err = store.ListAccounts(ctx); err != nil {
					return nil, fmt.Errorf("provision: list accounts: %w", err)
				}
			}
			var matches []string
			for _, a := range all {
				if a.Name == src.Name {
					matches = append(matches, a.UID)
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
				pl.uid = matches[0]
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
		for _, k := range src.AccessKeys {
			old, err := store.GetAccessKey(ctx, k.ID)
			switch {
			case errors.Is(err, dialtone.ErrNotFound):
			case err != nil:
				return nil, fmt.Errorf("provision: access key %s: %w", k.ID, err)
			case old.AccountUID != pl.uid:
				// Names the key but not the other account: the admin API
				// may be driven by someone who should not learn which tenant
				// owns a key.
				return nil, fmt.Errorf("provision: line %d: access key %s belongs to another account: %w", k.Line, k.ID, dialtone.ErrConflict)
			}
		}
		plans = append(plans, pl)
	}
	return plans, nil
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
