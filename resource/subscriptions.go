package resource

import (
	"context"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// PutSubscription sets how the account receives messageType: the queue and
// push URL as u gives them, the push secret and queue attributes when u
// gives them (else kept). A push secret kept from before goes when the
// push URL does: it would sign nothing.
func (s *Service) PutSubscription(ctx context.Context, accountUID, messageType string, u dialtone.SubscriptionUpdate) (*dialtone.Subscription, Action, error) {
	now := s.now()
	var sub *dialtone.Subscription
	var action Action
	err := s.change(ctx, func(tx *Service) error {
		next := &dialtone.Subscription{AccountUID: accountUID, MessageType: messageType, Queue: u.Queue, PushURL: u.PushURL,
			CreatedAt: now, UpdatedAt: now}
		old, err := tx.store.GetSubscription(ctx, accountUID, messageType)
		ok, err := found(old, err)
		if err != nil {
			return err
		}
		action = Created
		if ok {
			action = Updated
			next.CreatedAt, next.VisibilityTimeout, next.Retention = old.CreatedAt, old.VisibilityTimeout, old.Retention
			if next.PushURL != "" {
				next.PushSecret = old.PushSecret
			}
		}
		if u.PushSecret != nil {
			next.PushSecret = *u.PushSecret
		}
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
		sub = next
		if ok && sameSubscription(old, next) {
			sub, action = old, Unchanged
			return nil
		}
		if err := tx.store.PutSubscription(ctx, next); err != nil {
			return err
		}
		tx.record(ctx, accountUID, "subscription", messageType, action, "queue", next.Queue, "push_url", next.PushURL,
			"push_secret_set", next.PushSecret != "")
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return sub, action, nil
}

func sameSubscription(a, b *dialtone.Subscription) bool {
	return a.Queue == b.Queue && a.PushURL == b.PushURL && a.PushSecret == b.PushSecret &&
		a.VisibilityTimeout == b.VisibilityTimeout && a.Retention == b.Retention
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
