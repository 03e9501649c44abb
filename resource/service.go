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
	"net/url"
	"strings"
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
	// urls, when set, checks the outbound URLs (push, SmartCall callback)
	// when they are entered: the egress policy's verdict.
	urls dialtone.URLChecker
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
	at                       time.Time
	actor, account, kind, id string
	action                   Action
	attrs                    []any
}

// Option configures a Service.
type Option func(*Service)

// WithVoices makes templates name only voices of the catalog (the node's
// installed text-to-speech voices): a voice that is not there is refused
// when the template is written, not when a call or preview would speak.
func WithVoices(c dialtone.VoiceCatalog) Option { return func(s *Service) { s.voices = c } }

// WithURLChecker checks every outbound URL (push URLs, the SmartCall
// callback) when it is entered, with the egress policy that will apply
// when requests are sent (outbound.Client.CheckURL): a refused URL is an
// InvalidError on its field naming the rule, from every front door. Who
// set the URL decides how far it may reach: dialtone.IsTrusted of the
// change's context (the operator's doors mark it).
func WithURLChecker(c dialtone.URLChecker) Option { return func(s *Service) { s.urls = c } }

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
	return &Service{store: view, dataDir: s.dataDir, log: s.log, now: s.now, voices: s.voices, urls: s.urls, tx: st}
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
		if err := fn(ctx, s.in(view, st)); err != nil {
			return err
		}
		if s.tx != nil {
			return nil // the outer transaction stores them
		}
		// The audit commits with the changes it records, or not at all.
		return storeAudit(ctx, view, st.audit)
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

// record notes a change for the audit: stored in its transaction (the
// store's audit trail) and logged when it commits. attrs are key-value
// pairs and never hold secrets. Changes are always made in a transaction
// (change); outside one the record is logged only.
func (s *Service) record(ctx context.Context, account, kind, id string, action Action, attrs ...any) {
	rec := auditRecord{at: s.now(), actor: dialtone.ActorOf(ctx), account: account, kind: kind, id: id, action: action, attrs: attrs}
	if s.tx == nil {
		s.logAudit(ctx, []auditRecord{rec})
		return
	}
	s.tx.audit = append(s.tx.audit, rec)
}

func (s *Service) logAudit(ctx context.Context, recs []auditRecord) {
	for _, r := range recs {
		args := append([]any{"actor", r.actor, "account", r.account, "resource", r.kind, "id", r.id, "action", string(r.action)}, r.attrs...)
		s.log.InfoContext(ctx, "audit", args...)
	}
}

// storeAudit writes a transaction's audit records through its view.
func storeAudit(ctx context.Context, view dialtone.Store, recs []auditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	out := make([]dialtone.AuditRecord, len(recs))
	for i, r := range recs {
		out[i] = dialtone.AuditRecord{At: r.at, Actor: r.actor, AccountUID: r.account, Resource: r.kind, ResourceID: r.id,
			Action: string(r.action), Detail: auditDetail(r.attrs)}
	}
	if err := view.AppendAudit(ctx, out); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// auditDetail turns key-value pairs into the stored detail.
func auditDetail(attrs []any) map[string]string {
	if len(attrs) == 0 {
		return nil
	}
	m := make(map[string]string, len(attrs)/2)
	for i := 0; i+1 < len(attrs); i += 2 {
		k, _ := attrs[i].(string)
		var v string
		switch x := attrs[i+1].(type) {
		case string:
			v = x
		case []string:
			v = strings.Join(x, ",")
		case time.Time:
			if !x.IsZero() {
				v = x.UTC().Format(time.RFC3339)
			}
		case fmt.Stringer:
			v = x.String()
		default:
			v = fmt.Sprint(x)
		}
		m[k] = v
	}
	return m
}

// checkURL asks the egress policy about a URL entered as field; trusted
// says the operator set it. A refusal is an InvalidError on the field that
// names the rule.
func (s *Service) checkURL(ctx context.Context, field, raw string, trusted bool) error {
	if s.urls == nil || raw == "" {
		return nil
	}
	if err := s.urls.CheckURL(ctx, raw, trusted); err != nil {
		return dialtone.Invalid(field, "%s", strings.TrimPrefix(err.Error(), "outbound: "))
	}
	return nil
}

// secretChange says what happened to a secret, for the audit (never the
// secret itself).
func secretChange(old, next dialtone.SigningSecret) string {
	switch {
	case old.Current == next.Current:
		return "unchanged"
	case next.Current == "":
		return "removed"
	case old.Current == "":
		return "set"
	case next.Previous == old.Current:
		return "rotated"
	}
	return "changed"
}

// redactURL drops a password from a URL for the audit (the domain refuses
// them anyway).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Redacted()
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
