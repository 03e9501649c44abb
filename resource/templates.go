package resource

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dialtone-voice/dialtone"
)

// MaxReason bounds a rejection's reason, in characters.
const MaxReason = 500

// CreateTemplate adds a TTS template the account does not have yet
// (ErrConflict otherwise). An empty code gets a new one in Alibaba's style
// (TTS_ and digits); an empty status is pending.
func (s *Service) CreateTemplate(ctx context.Context, t dialtone.TTSTemplate) (*dialtone.TTSTemplate, error) {
	t.CreatedAt, t.UpdatedAt = s.now(), s.now()
	if t.Status == "" {
		t.Status = dialtone.ReviewPending
	}
	generate := t.Code == ""
	if generate {
		t.Code = "TTS_100000" // a valid placeholder, so that the rest is checked first
	}
	if err := s.checkTemplate(ctx, &t); err != nil {
		return nil, err
	}
	err := s.change(ctx, func(tx *Service) error {
		if generate {
			code, err := tx.newTemplateCode(ctx, t.AccountUID)
			if err != nil {
				return err
			}
			t.Code = code
		} else if ok, err := found(tx.store.GetTemplate(ctx, t.AccountUID, t.Code)); err != nil {
			return err
		} else if ok {
			return conflict("account %s already has template %s", t.AccountUID, t.Code)
		}
		if err := tx.store.PutTemplate(ctx, &t); err != nil {
			return err
		}
		tx.record(ctx, t.AccountUID, "tts_template", t.Code, Created, "kind", string(t.Kind), "status", string(t.Status))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// checkTemplate checks a template's own rules and, with a voice catalog,
// that its voice is installed. Without a synthesiser installed nothing
// could be spoken anyway; the voice's shape is still checked.
func (s *Service) checkTemplate(ctx context.Context, t *dialtone.TTSTemplate) error {
	if err := t.Validate(); err != nil || s.voices == nil || t.Voice == "" {
		return err
	}
	voices, err := s.voices.Voices(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "resource: cannot list the installed voices; template voices are not checked", "err", err)
		return nil
	}
	if !voices.Has(t.Voice) {
		return dialtone.Invalid("voice", "%s is not an installed voice (e.g. en-us, cmn-latn-pinyin, en+f3); leave it empty to choose by the text's language", strconv.Quote(t.Voice))
	}
	return nil
}

// newTemplateCode picks an unused code: six digits first, more when an
// account has so many that random picks keep colliding.
func (s *Service) newTemplateCode(ctx context.Context, accountUID string) (string, error) {
	for attempt := range 40 {
		digits := 6 + attempt/10
		lo := 1
		for range digits - 1 {
			lo *= 10
		}
		code := "TTS_" + strconv.Itoa(lo+mrand.IntN(9*lo))
		ok, err := found(s.store.GetTemplate(ctx, accountUID, code))
		if err != nil {
			return "", err
		}
		if !ok {
			return code, nil
		}
	}
	return "", fmt.Errorf("no unused template code found in 40 attempts")
}

// PutTemplate creates the template or replaces its kind, text, voice and
// status as given, keeping when it was created.
func (s *Service) PutTemplate(ctx context.Context, t dialtone.TTSTemplate) (*dialtone.TTSTemplate, Action, error) {
	t.CreatedAt, t.UpdatedAt = s.now(), s.now()
	if err := s.checkTemplate(ctx, &t); err != nil {
		return nil, "", err
	}
	action := Created
	err := s.change(ctx, func(tx *Service) error {
		old, err := tx.store.GetTemplate(ctx, t.AccountUID, t.Code)
		if ok, err := found(old, err); err != nil {
			return err
		} else if ok {
			t.CreatedAt, action = old.CreatedAt, Updated
			if sameTemplate(old, &t) {
				t.UpdatedAt, action = old.UpdatedAt, Unchanged
				return nil
			}
		}
		if err := tx.store.PutTemplate(ctx, &t); err != nil {
			return err
		}
		tx.record(ctx, t.AccountUID, "tts_template", t.Code, action, "kind", string(t.Kind), "status", string(t.Status))
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return &t, action, nil
}

// sameTemplate compares what a template is, not when it was written.
func sameTemplate(a, b *dialtone.TTSTemplate) bool {
	x, y := *a, *b
	x.CreatedAt, x.UpdatedAt, y.CreatedAt, y.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return x == y
}

// UpdateTemplate changes a template of the account. A change to what a
// call would say takes an approved template back to pending: what was
// reviewed is no longer what would be spoken.
func (s *Service) UpdateTemplate(ctx context.Context, accountUID, code string, u dialtone.TemplateUpdate) (*dialtone.TTSTemplate, error) {
	if u.Empty() {
		return nil, dialtone.Invalid("", "nothing to change: give kind, content, voice and/or remark")
	}
	var t *dialtone.TTSTemplate
	err := s.change(ctx, func(tx *Service) error {
		var err error
		if t, err = tx.store.GetTemplate(ctx, accountUID, code); err != nil {
			return err
		}
		changed, spoken := u.Apply(t)
		if !changed {
			return nil
		}
		if err := tx.checkTemplate(ctx, t); err != nil {
			return err
		}
		if spoken {
			t.Status = dialtone.ReviewPending
		}
		t.UpdatedAt = tx.now()
		if err := tx.store.PutTemplate(ctx, t); err != nil {
			return err
		}
		tx.record(ctx, accountUID, "tts_template", code, Updated, "status", string(t.Status))
		return nil
	})
	return t, err
}

// checkReview checks a review decision: a reason goes with a rejection
// only, and is short.
func checkReview(to dialtone.ReviewStatus, reason string) error {
	if !to.Valid() {
		return dialtone.Invalid("status", "%q must be pending, approved or rejected", string(to))
	}
	if reason != "" && to != dialtone.ReviewRejected {
		return dialtone.Invalid("reason", "only a rejection takes a reason")
	}
	if utf8.RuneCountInString(reason) > MaxReason {
		return dialtone.Invalid("reason", "longer than %d characters", MaxReason)
	}
	return nil
}

// ReviewTemplate sets a template's review status; the reason of a
// rejection goes to the audit.
func (s *Service) ReviewTemplate(ctx context.Context, accountUID, code string, to dialtone.ReviewStatus, reason string) (*dialtone.TTSTemplate, error) {
	if err := checkReview(to, reason); err != nil {
		return nil, err
	}
	var t *dialtone.TTSTemplate
	err := s.change(ctx, func(tx *Service) error {
		var err error
		if t, err = tx.store.GetTemplate(ctx, accountUID, code); err != nil {
			return err
		}
		if t.Status != to {
			t.Status, t.UpdatedAt = to, tx.now()
			if err := tx.store.PutTemplate(ctx, t); err != nil {
				return err
			}
		}
		tx.record(ctx, accountUID, "tts_template", code, Action(to), "reason", reason)
		return nil
	})
	return t, err
}

// DeleteTemplate removes a template of the account.
func (s *Service) DeleteTemplate(ctx context.Context, accountUID, code string) error {
	return s.change(ctx, func(tx *Service) error {
		if err := tx.store.DeleteTemplate(ctx, accountUID, code); err != nil {
			return err
		}
		tx.record(ctx, accountUID, "tts_template", code, Deleted)
		return nil
	})
}
