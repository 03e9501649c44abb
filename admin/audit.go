package admin

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// The audit trail: every committed change of a resource, with who made it
// (admin-api, console:<user>, provision:<file>) and when. Secrets are never
// in it, only whether they were set, changed, rotated or removed.
//
//	GET /admin/v1/audit[?account=UID|node][&resource=KIND][&limit=N][&before=ID]
//
// account=node lists the node's own records (console users, the global
// blacklist); without account, every record. Newest first; before= takes
// the ID of the last record of a page to read the next one.

// AuditInfo is one audit record.
type AuditInfo struct {
	ID         string            `json:"id"`
	At         time.Time         `json:"at"`
	Actor      string            `json:"actor"`
	AccountUID string            `json:"account_uid,omitempty"`
	Resource   string            `json:"resource"`
	ResourceID string            `json:"resource_id"`
	Action     string            `json:"action"`
	Detail     map[string]string `json:"detail,omitempty"`
}

func (h *handler) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := dialtone.AuditFilter{Resource: q.Get("resource"), Before: q.Get("before")}
	switch acct := q.Get("account"); {
	case acct == "node":
		f.Node = true
	case acct != "":
		if !dialtone.ValidUID(acct) {
			badRequest(w, "account", "must be an account uid (1 to 32 digits) or node")
			return
		}
		f.AccountUID = acct
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			badRequest(w, "limit", "must be 1 to 1000")
			return
		}
		f.Limit = n
	}
	recs, err := h.store.ListAudit(r.Context(), f)
	if errors.Is(err, dialtone.ErrNotFound) {
		badRequest(w, "before", "is not the ID of an audit record")
		return
	}
	if err != nil {
		h.internal(w, "list audit", err)
		return
	}
	out := make([]AuditInfo, len(recs))
	for i, rec := range recs {
		out[i] = AuditInfo{ID: rec.ID, At: rec.At, Actor: rec.Actor, AccountUID: rec.AccountUID, Resource: rec.Resource,
			ResourceID: rec.ResourceID, Action: rec.Action, Detail: rec.Detail}
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit": out})
}
