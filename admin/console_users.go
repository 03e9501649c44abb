package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/resource"
)

// Console users: the people who sign in to the web console, managed here
// so that an operator can set them up without the console itself (and
// beyond the one admin of DIALTONE_CONSOLE_ADMIN_PASSWORD). Passwords are
// hashed with the console's argon2id; neither a password nor a hash is
// ever part of an answer or a log record.

// CodeConsoleUserNotFound answers a username the store does not know.
const CodeConsoleUserNotFound = "ConsoleUserNotFound"

func (h *handler) consoleUserRoutes() []route {
	return []route{
		{"GET /admin/v1/console-users", h.listConsoleUsers},
		{"POST /admin/v1/console-users", h.putConsoleUser},
		{"GET /admin/v1/console-users/{username}", h.getConsoleUser},
		{"DELETE /admin/v1/console-users/{username}", h.deleteConsoleUser},
	}
}

// ConsoleUserInfo is a console user as the API shows it: no hash.
type ConsoleUserInfo struct {
	Username   string    `json:"username"`
	AccountUID string    `json:"account_uid"` // "" for an operator
	Operator   bool      `json:"operator"`
	CreatedAt  time.Time `json:"created_at"`
}

func consoleUserInfo(u *dialtone.ConsoleUser) ConsoleUserInfo {
	return ConsoleUserInfo{Username: u.Username, AccountUID: u.AccountUID, Operator: u.Operator(), CreatedAt: u.CreatedAt}
}

func (h *handler) listConsoleUsers(w http.ResponseWriter, r *http.Request) {
	us := h.store
	list, err := us.ListConsoleUsers(r.Context())
	if err != nil {
		h.internal(w, "list console users", err)
		return
	}
	out := make([]ConsoleUserInfo, len(list))
	for i := range list {
		out[i] = consoleUserInfo(&list[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"console_users": out})
}

func (h *handler) getConsoleUser(w http.ResponseWriter, r *http.Request) {
	us := h.store
	name := r.PathValue("username")
	u, err := us.GetConsoleUser(r.Context(), name)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeConsoleUserNotFound, "no console user "+quoteShort(name))
		return
	}
	if err != nil {
		h.internal(w, "get console user", err)
		return
	}
	writeJSON(w, http.StatusOK, consoleUserInfo(u))
}

func (h *handler) putConsoleUser(w http.ResponseWriter, r *http.Request) {
	var in dialtone.ConsoleUserInput
	if !readJSON(w, r, &in, false) {
		return
	}
	u, action, err := h.svc.PutConsoleUser(r.Context(), in)
	if err != nil {
		h.fail(w, err, CodeAccountNotFound, "account "+quoteShort(in.AccountUID))
		return
	}
	status := http.StatusOK
	if action == resource.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, consoleUserInfo(u))
}

func (h *handler) deleteConsoleUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	// Its sessions end at their next request: the console checks that the
	// user still exists.
	if err := h.svc.DeleteConsoleUser(r.Context(), name); err != nil {
		h.fail(w, err, CodeConsoleUserNotFound, "console user "+quoteShort(name))
		return
	}
	noContent(w)
}
