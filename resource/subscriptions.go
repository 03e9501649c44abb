package resource

import (
	"context"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// PutSubscription sets how the account receives messageType: the queue and
// push URL as u gives them, the push secret and queue attributes when u
// gives them (else kept). A push secret kept from before goes when the
// push URL does: it would sign nothing. A new push secret given with
// push_secret_grace_seconds rotates: the replaced one keeps signing for
// that long. A push URL is checked by the egress policy when it changes;
// who set it (dialtone.IsTrusted) is stored with it, and saving the same
// URL again never lowers that trust.
func (s *Service) PutSubscription(ctx context.Context, accountUID, messageType string, u dialtone.SubscriptionUpdate) (*dialtone.Subscription, Action, error) {
	now := s.now()
	trusted := dialtone.IsTrusted(ctx)
	grace, err := secretGrace("push_secret", u.PushSecret, u.PushSecretGraceSeconds)
	if err != nil {
		return nil, "", err
	}
	checked, err := s.precheck(ctx, "push_url", u.PushURL, trusted, func() (string, error) {
		old, err := s.store.GetSubscription(ctx, accountUID, messageType)
		if ok, err := found(old, err); !ok {
			return "", err
		}
		return old.PushURL, nil
	})
	if err != nil {
		return nil, "", err
	}
	var sub *dialtone.Subscription
	var action Action
	err = s.change(ctx, func(tx *Service) error {
		next := &dialtone.Subscription{AccountUID: accountUID, MessageType: messageType, Queue: u.Queue, PushURL: u.PushURL,
			PushURLTrusted: trusted, CreatedAt: now, UpdatedAt: now}
		old, err := tx.store.GetSubscription(ctx, accountUID, messageType)
		ok, err := found(old, err)
		if err != nil {
			return err
		}
		var oldSecret dialtone.SigningSecret
		action = Created
		if ok {
			action = Updated
			next.CreatedAt, next.VisibilityTimeout, next.Retention = old.CreatedAt, old.VisibilityTimeout, old.Retention
			oldSecret = old.PushSigning()
			if next.PushURL != "" && next.PushURL == old.PushURL {
				next.PushURLTrusted = old.PushURLTrusted || trusted
			}
		}
		secret := dialtone.SigningSecret{}
		if next.PushURL != "" {
			secret = oldSecret.Live(now)
		}
		if u.PushSecret != nil {
			secret = secret.Rotate(*u.PushSecret, now, grace)
		}
		next.SetPushSigning(secret)
		if v := u.VisibilityTimeoutSeconds; v != nil {
			next.VisibilityTimeout = time.Duration(*v) * time.Second
			if *v == 0 {
				next.VisibilityTimeout = -1 // not the default: refused below
			}
		}
		if v := u.MessageRetentionSeconds; v != nil {
			next.Retention = time.Duration(*v) * time.Second
			if *v == 0 {
				next.Retention = -1
			}
		}
		if err := next.Validate(); err != nil {
			return err
		}
		if next.PushURL != "" && (!ok || next.PushURL != old.PushURL) && next.PushURL != checked {
			if err := tx.checkURL(ctx, "push_url", next.PushURL, next.PushURLTrusted); err != nil {
				return err
			}
		}
		sub = next
		if ok && sameSubscription(old, next) {
			sub, action = old, Unchanged
			return nil
		}
		if err := tx.store.PutSubscription(ctx, next); err != nil {
			return err
		}
		tx.record(ctx, accountUID, "subscription", messageType, action, "queue", next.Queue, "push_url", redactURL(next.PushURL),
			"push_url_trusted", next.PushURLTrusted, "push_secret", secretChange(oldSecret, secret),
			"push_secret_previous_until", secret.PreviousUntil)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return sub, action, nil
}

func sameSubscription(a, b *dialtone.Subscription) bool {
	return a.Queue == b.Queue && a.PushURL == b.PushURL && a.PushURLTrusted == b.PushURLTrusted &&
		a.PushSigning() == b.PushSigning() && a.VisibilityTimeout == b.VisibilityTimeout && a.Retention == b.Retention
}

// DeleteSubscription stops the account's receipts of messageType.
func (s *Service) DeleteSubscription(ctx context.Context, accountUID, messageType string) error {
	return s.change(ctx, func(tx *Service) error {
		if err := tx.store.DeleteSubscription(ctx, accountUID, messageType); err != nil {
			return err
		}
		tx.record(ctx, accountUID, "subscription", messageType, Deleted)
		return nil
	})
}

// secretGrace reads a rotation's grace period, given (in seconds) with a
// new secret (field).
func secretGrace(field string, secret *string, seconds *int64) (time.Duration, error) {
	if seconds == nil {
		return 0, nil
	}
	if err := dialtone.CheckSecretGrace(field+"_grace_seconds", *seconds); err != nil {
		return 0, err
	}
	if secret == nil {
		return 0, dialtone.Invalid(field+"_grace_seconds", "rotates the %s: give the new %s with it", field, field)
	}
	return time.Duration(*seconds) * time.Second, nil
}

// precheck asks the egress policy about a URL entered as field before the
// change's transaction begins, so that resolving its host never holds the
// store's writer. It returns the URL it checked ("" when it did not need
// to: no URL, a malformed one the domain's Validate refuses, the URL
// already stored, or a change inside a larger transaction, which checks
// in place). stored reads the URL stored now.
func (s *Service) precheck(ctx context.Context, field, raw string, trusted bool, stored func() (string, error)) (string, error) {
	if s.urls == nil || raw == "" || s.tx != nil || (dialtone.CheckHTTPURL(field, raw) != nil && dialtone.CheckStreamURL(field, raw) != nil) {
		return "", nil
	}
	cur, err := stored()
	if err != nil {
		return "", err
	}
	if cur == raw {
		return "", nil
	}
	if err := s.checkURL(ctx, field, raw, trusted); err != nil {
		return "", err
	}
	return raw, nil
}
