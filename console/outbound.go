package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// --- SmartCall callback ---

type callbackData struct {
	URL     string
	Trusted bool
	// SecretSet says a secret signs the callbacks; RotatingUntil is the
	// end of a rotation's grace (zero when none runs).
	SecretSet     bool
	RotatingUntil time.Time
	Graces        []graceChoice
}

// callbackPage shows the account's SmartCall callback: its URL, who set
// it, and whether a secret signs it (never the secret).
func (c *Console) callbackPage(w http.ResponseWriter, r *http.Request, v *view) {
	c.messages(w, r, v)
	v.Title = "SmartCall callback 智能外呼回调"
	ctx, cancel := withTimeout(r)
	defer cancel()
	d := callbackData{Graces: graces}
	if v.Account != "" {
		st, err := c.store.GetAccountSettings(ctx, v.Account)
		if err != nil {
			c.internal(w, r, "settings", err)
			return
		}
		k := st.SmartCallCallbackSecret
		d.URL, d.Trusted, d.SecretSet = st.SmartCallCallbackURL, st.SmartCallCallbackTrusted, k.Current != ""
		if k.Rotating(c.now()) {
			d.RotatingUntil = k.PreviousUntil
		}
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "callback.html", v, "")
}

// callbackPut sets the callback's URL and, when given, its secret: the
// rules (the egress policy's included) are the resource service's, the
// same for every door.
func (c *Console) callbackPut(w http.ResponseWriter, r *http.Request, v *view) {
	if v.Account == "" {
		c.notFound(w, r, v)
		return
	}
	u := dialtone.SettingsUpdate{}
	url := strings.TrimSpace(r.PostFormValue("smartcall_callback_url"))
	u.SmartCallCallbackURL = &url
	if s := r.PostFormValue("smartcall_callback_secret"); s != "" {
		u.SmartCallCallbackSecret = &s
		if g, err := strconv.ParseInt(r.PostFormValue("smartcall_callback_secret_grace_seconds"), 10, 64); err == nil && g > 0 {
			u.SmartCallCallbackSecretGraceSeconds = &g
		}
	}
	if r.PostFormValue("clear_secret") == "on" {
		u.SmartCallCallbackSecret = new("")
	}
	if _, _, err := c.res.UpdateSettings(r.Context(), v.Account, u); err != nil {
		c.failed(w, r, v, "callback", "update settings", err)
		return
	}
	c.redirect(w, r, "callback", "SmartCall callback saved.", "")
}

// --- audit trail (operators) ---

type auditData struct {
	Records []dialtone.AuditRecord
	// Node: the node's own records (console users, the global
	// blacklist) instead of the account's.
	Node bool
}

// auditPage lists who changed what: the account in view's records, or
// the node's own (?scope=node), newest first.
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, v *view) {
	c.messages(w, r, v)
	v.Title = "Audit trail 审计记录"
	d := auditData{Node: r.URL.Query().Get("scope") == "node"}
	f := dialtone.AuditFilter{AccountUID: v.Account, Node: d.Node, Limit: 200}
	if d.Node {
		f.AccountUID = ""
	}
	ctx, cancel := withTimeout(r)
	defer cancel()
	if v.Account != "" || d.Node {
		var err error
		if d.Records, err = c.store.ListAudit(ctx, f); err != nil {
			c.internal(w, r, "audit", err)
			return
		}
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "audit.html", v, "")
}
