package resource

import (
	"strings"
	"testing"

	"github.com/dialtone-voice/dialtone"
)

// TestTemplateRemark: a template's remark is kept, changed without a new
// review (it is never spoken), bounded.
func TestTemplateRemark(t *testing.T) {
	e := newEnv(t)
	tpl, err := e.svc.CreateTemplate(ctx(), dialtone.TTSTemplate{AccountUID: "100", Kind: dialtone.TemplateNotification, Content: "Hi ${name}", Remark: "for the shipping team", Status: dialtone.ReviewApproved})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.store.GetTemplate(ctx(), "100", tpl.Code)
	if err != nil || got.Remark != "for the shipping team" {
		t.Fatalf("stored remark %q, %v", got.Remark, err)
	}
	remark := "asked by 李雷\nsecond line"
	up, err := e.svc.UpdateTemplate(ctx(), "100", tpl.Code, dialtone.TemplateUpdate{Remark: &remark})
	if err != nil || up.Remark != remark || up.Status != dialtone.ReviewApproved {
		t.Fatalf("remark change: %+v, %v (the review must stay approved)", up, err)
	}
	content := "Hello ${name}"
	if up, err = e.svc.UpdateTemplate(ctx(), "100", tpl.Code, dialtone.TemplateUpdate{Content: &content}); err != nil || up.Status != dialtone.ReviewPending || up.Remark != remark {
		t.Fatalf("content change: %+v, %v", up, err)
	}
	long := strings.Repeat("x", dialtone.MaxRemark+1)
	_, err = e.svc.UpdateTemplate(ctx(), "100", tpl.Code, dialtone.TemplateUpdate{Remark: &long})
	wantInvalid(t, err, "remark")

}
