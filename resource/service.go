// Package resource is the one writer of account resources: accounts,
// access keys, display numbers, TTS templates, voice files, settings,
// receipt subscriptions and console users. The admin API, the console and
// provisioning decode their input, call it, and render its answer.
//
// Every change is checked against the resource's own rules (the Validate
// methods of the root package), written in one store transaction, and
// audited: once it has committed, a log record names who (dialtone.ActorOf
// the context) did what to which resource. Several changes commit together
// through Atomic (a provisioning document), or are tried without being
// kept through Preview (a dry run).
//
// Errors: *dialtone.InvalidError for input that breaks a rule (naming the
// field), *dialtone.Error with isv.VOICE_FILE_ILLEGAL for unusable audio,
// wrapped dialtone.ErrNotFound for a resource (or account) that is not
// there and dialtone.ErrConflict for one that is there already; anything
// else is the store's failure.
package resource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Action says what a change did to a resource.
type Action string

const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
	Deleted   Action = "deleted"
)

// Service changes account resources in a store.
type Service struct {
	store dialtone.Store
	// dataDir is where voice files' audio is stored; "" refuses voice files.
	dataDir string
	log     *slog.Logger
	now     func() time.Time
	// voices, when set, are the voices a template may name.
	voices dialtone.VoiceCatalog
	// tx holds what the transaction s belongs to has done, nil outside
	// one (see change).
	tx *txState
}

// txState is a transaction's part of a Service.
type txState struct {
	audit []auditRecord
	// preview: nothing outside the store is written (voice files' audio),
	// and the transaction is rolled back.
	preview bool
}

type auditRecord struct {
	account, kind, id string
	action            Action
	attrs             []any
}

// Option configures a Service.
type Option func(*Service)

// WithVoices makes templates name only voices of the catalog (the node's
// installed text-to-speech voices): a voice that is not there is refused
// when the template is written, not when a call or preview would speak.
func WithVoices(c dialtone.VoiceCatalog) Option { return func(s *Service) { s.voices = c } }

// New returns a Service over store; voice files' audio is stored under
// dataDir ("" refuses voice files). A nil logger discards the audit.
func New(store dialtone.Store, dataDir string, log *slog.Logger, opts ...Option) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, dataDir: dataDir, log: log, now: stamp}
	for _, o := range opts {
		o(s)
	}
	return s
}

// in returns a Service for the transaction view with state st.
func (s *Service) in(view dialtone.Store, st *txState) *Service {
	return &Service{store: view, dataDir: s.dataDir, log: s.log, now: s.now, voices: s.voices, tx: st}
}

// stamp is the time of a change at the store's precision (milliseconds),
// so that an answer shows what later reads will.
func stamp() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// Store is the store the service writes; reading through it is fine.
func (s *Service) Store() dialtone.Store { return s.store }

// Atomic runs fn with a Service whose changes all commit together when fn
// returns nil, and are all undone when it fails (fn's error is returned).
// fn may run more than once (see dialtone.Store.Atomic): it must act only
// through tx. Nested, the inner changes are undone alone when fn fails.
func (s *Service) Atomic(ctx context.Context, fn func(ctx context.Context, tx *Service) error) error {
	preview := s.tx != nil && s.tx.preview
	var st *txState
	err := s.store.Atomic(ctx, func(ctx context.Context, view dialtone.Store) error {
		st = &txState{preview: preview}
		return fn(ctx, s.in(view, st))
	})
	if err != nil {
		return err
	}
	if s.tx != nil {
		s.tx.audit = append(s.tx.audit, st.audit...) // logged when the outer one commits
		return nil
	}
	s.logAudit(ctx, st.audit)
	return nil
}

// errPreview rolls a preview back.
var errPreview = errors.New("resource: preview")

// Preview runs fn like Atomic and then undoes everything it did: the store
// is left as it was, no voice file's audio is written and nothing is
// audited. fn's error is returned; nil when it succeeded.
func (s *Service) Preview(ctx context.Context, fn func(ctx context.Context, tx *Service) error) error {
	err := s.store.Atomic(ctx, func(ctx context.Context, view dialtone.Store) error {
		tx := s.in(view, &txState{preview: true})
		if err := fn(ctx, tx); err != nil {
			return err
		}
		return errPreview
	})
	if errors.Is(err, errPreview) {
		return nil
	}
	return err
}

// change runs one change: in the transaction s is in, or in one of its own.
func (s *Service) change(ctx context.Context, fn func(tx *Service) error) error {
	if s.tx != nil {
		return fn(s)
	}
	return s.Atomic(ctx, func(ctx context.Context, tx *Service) error { return fn(tx) })
}

// record notes a change for the audit, logged when its transaction
// commits; attrs never hold secrets.
func (s *Service) record(ctx context.Context, account, kind, id string, action Action, attrs ...any) {
	rec := auditRecord{account: account, kind: kind, id: id, action: action, attrs: attrs}
	if s.tx == nil { // not in a transaction: nothing to wait for
		s.logAudit(ctx, []auditRecord{rec})
		return
	}
	s.tx.audit = append(s.tx.audit, rec)
}

func (s *Service) logAudit(ctx context.Context, recs []auditRecord) {
	actor := dialtone.ActorOf(ctx)
	for _, r := range recs {
		args := append([]any{"actor", actor, "account", r.account, "resource", r.kind, "id", r.id, "action", string(r.action)}, r.attrs...)
		s.log.InfoContext(ctx, "audit", args...)
	}
}

// notFound wraps dialtone.ErrNotFound with what is missing.
func notFound(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, dialtone.ErrNotFound)...)
}

// conflict wraps dialtone.ErrConflict with what is in the way.
func conflict(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, dialtone.ErrConflict)...)
}

// found turns a store lookup's ErrNotFound into ok=false.
func found[T any](_ T, err error) (bool, error) {
	if errors.Is(err, dialtone.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
