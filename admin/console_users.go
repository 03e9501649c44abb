package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/console/passhash"
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

// ConsoleUserRequest creates or replaces a console user. Exactly one of
// Password and PasswordHash (an argon2id PHC string, e.g. from another
// node) is given, and exactly one of AccountUID and Operator.
type ConsoleUserRequest struct {
	Username     string `json:"username"`
	Password     string `json:"password,omitempty"`
	PasswordHash string `json:"password_hash,omitempty"`
	AccountUID   string `json:"account_uid,omitempty"`
	Operator     bool   `json:"operator,omitempty"`
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
	us := h.store
	var req ConsoleUserRequest
	if !readJSON(w, r, &req, false) {
		return
	}
	switch {
	case !dialtone.ValidConsoleUsername(req.Username):
		badRequest(w, "username", "must be 1 to 64 characters without control characters or surrounding spaces")
		return
	case (req.Password == "") == (req.PasswordHash == ""):
		badRequest(w, "password", "give exactly one of password and password_hash")
		return
	case req.Password != "" && len(req.Password) < passhash.MinPasswordLen:
		badRequest(w, "password", "must have at least 8 characters")
		return
	case req.PasswordHash != "" && !passhash.Valid(req.PasswordHash):
		// The value is not echoed: it may be a password pasted by mistake.
		badRequest(w, "password_hash", "must be an argon2id hash in PHC format ($argon2id$v=19$m=...,t=...,p=...$salt$hash)")
		return
	case (req.AccountUID == "") == !req.Operator:
		badRequest(w, "account_uid", "give either account_uid or operator: true")
		return
	}
	if req.AccountUID != "" {
		if _, err := h.store.GetAccount(r.Context(), req.AccountUID); errors.Is(err, dialtone.ErrNotFound) {
			writeError(w, http.StatusNotFound, CodeAccountNotFound, "no account "+quoteShort(req.AccountUID))
			return
		} else if err != nil {
			h.internal(w, "get account", err)
			return
		}
	}
	hash := req.PasswordHash
	if req.Password != "" {
		var err error
		if hash, err = passhash.Hash(req.Password); err != nil {
			h.internal(w, "hash password", err)
			return
		}
	}
	u := &dialtone.ConsoleUser{Username: req.Username, AccountUID: req.AccountUID, PasswordHash: hash, CreatedAt: time.Now().UTC()}
	status := http.StatusCreated
	old, err := us.GetConsoleUser(r.Context(), req.Username)
	switch {
	case err == nil:
		u.CreatedAt, status = old.CreatedAt, http.StatusOK
	case !errors.Is(err, dialtone.ErrNotFound):
		h.internal(w, "get console user", err)
		return
	}
	if err := us.PutConsoleUser(r.Context(), u); err != nil {
		h.internal(w, "put console user", err)
		return
	}
	h.log.Info("console user saved", "user", u.Username, "account", u.AccountUID, "operator", u.Operator(), "created", status == http.StatusCreated)
	writeJSON(w, status, consoleUserInfo(u))
}

func (h *handler) deleteConsoleUser(w http.ResponseWriter, r *http.Request) {
	us := h.store
	name := r.PathValue("username")
	err := us.DeleteConsoleUser(r.Context(), name)
	if errors.Is(err, dialtone.ErrNotFound) {
		writeError(w, http.StatusNotFound, CodeConsoleUserNotFound, "no console user "+quoteShort(name))
		return
	}
	if err != nil {
		h.internal(w, "delete console user", err)
		return
	}
	// Its sessions end at their next request: the console checks that the
	// user still exists.
	h.log.Info("console user deleted", "user", name)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
