package receipt

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/gateway"
)

// TokenStore is what QueryTokenForMnsQueue needs from the store.
type TokenStore interface {
	GetSubscription(ctx context.Context, accountUID, messageType string) (*dialtone.Subscription, error)
	PutTempCredential(ctx context.Context, c *dialtone.TempCredential) error
}

// DefaultTokenLifetime is how long a queue token is valid. Alibaba does not
// document its own; consumers refresh two minutes before ExpireTime.
const DefaultTokenLifetime = 6 * time.Hour

// Tokens implements Dybaseapi QueryTokenForMnsQueue: a temporary credential
// that may read exactly one queue of the caller's account.
type Tokens struct {
	Store    TokenStore
	Clock    dialtone.Clock
	Lifetime time.Duration // default DefaultTokenLifetime
}

// Register adds QueryTokenForMnsQueue (product Dybaseapi) to g.
func (t *Tokens) Register(g *gateway.Gateway) {
	g.Register(gateway.Action{Product: gateway.ProductBase, Name: "QueryTokenForMnsQueue", Handler: t.QueryTokenForMnsQueue})
}

// QueryTokenForMnsQueue answers MessageTokenDTO with times in China time as
// "yyyy-MM-dd HH:mm:ss" strings, the type both official SDKs declare.
func (t *Tokens) QueryTokenForMnsQueue(ctx context.Context, inv *gateway.Invocation) (map[string]any, error) {
	msgType, err := inv.Params.Required("MessageType")
	if err != nil {
		return nil, err
	}
	if !dialtone.ValidMessageType(msgType) {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters,
			"MessageType %q is not a voice receipt type; use VoiceReport, VoiceCallReport or VoiceRecordReport.", msgType)
	}
	uid := inv.Account.UID
	queue := dialtone.QueueName(uid, msgType)
	if name := inv.Params.String("QueueName"); name != "" && name != queue {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters,
			"QueueName %q does not belong to this account and message type; the queue is %s.", name, queue)
	}
	sub, err := t.Store.GetSubscription(ctx, uid, msgType)
	if errors.Is(err, dialtone.ErrNotFound) || (err == nil && !sub.Queue) {
		return nil, dialtone.Errorf(dialtone.CodeInvalidParameters,
			"The account has no queue subscription for %s; enable the queue of this message type first.", msgType)
	}
	if err != nil {
		return nil, dialtone.SystemError(err)
	}
	clock := t.Clock
	if clock == nil {
		clock = dialtone.SystemClock{}
	}
	life := t.Lifetime
	if life <= 0 {
		life = DefaultTokenLifetime
	}
	now := clock.Now()
	// Whole seconds: the answer shows seconds, and a credential must not
	// outlive the ExpireTime its holder was told.
	now = now.Truncate(time.Second)
	cred := &dialtone.TempCredential{
		AccessKeyID:   gateway.TempKeyPrefix + randomBase62(24),
		Secret:        randomBase62(32),
		SecurityToken: "CAIS" + randomBase62(124),
		AccountUID:    uid,
		Scope:         []string{"queue:" + queue},
		CreatedAt:     now,
		ExpiresAt:     now.Add(life),
	}
	if err := t.Store.PutTempCredential(ctx, cred); err != nil {
		return nil, dialtone.SystemError(fmt.Errorf("store queue token: %w", err))
	}
	return map[string]any{
		"MessageTokenDTO": map[string]any{
			"AccessKeyId":     cred.AccessKeyID,
			"AccessKeySecret": cred.Secret,
			"SecurityToken":   cred.SecurityToken,
			"CreateTime":      dialtone.FormatTime(cred.CreatedAt),
			"ExpireTime":      dialtone.FormatTime(cred.ExpiresAt),
		},
	}, nil
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomBase62 draws n characters uniformly (rejection sampling) from
// crypto/rand; base62 needs no escaping in headers or query strings.
func randomBase62(n int) string {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:])
		for _, b := range buf {
			if b >= 248 { // 248 = 4*62: keeps the draw uniform
				continue
			}
			out = append(out, base62[int(b)%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}
