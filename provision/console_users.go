package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/dialtone-voice/dialtone"
	"github.com/dialtone-voice/dialtone/resource"
)

// applyConsoleUsers stores the document's console users after its
// accounts. A user whose account and password already match is left
// alone (a plain password is checked against the stored hash), so applying
// the same file again writes nothing and keeps existing sessions.
func applyConsoleUsers(ctx context.Context, svc *resource.Service, doc *Document, res *Result) error {
	for i, cu := range doc.ConsoleUsers {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, action, err := svc.PutConsoleUser(ctx, cu.ConsoleUserInput)
		if errors.Is(err, dialtone.ErrNotFound) {
			return &Error{File: doc.File, Problems: []Problem{{Line: cu.Line, Path: index("console_users", i) + ".account",
				Message: "no account " + quote(cu.AccountUID) + " in the store or in this document"}}}
		}
		if err != nil {
			return fmt.Errorf("provision: line %d: console user %s: %w", cu.Line, cu.Username, err)
		}
		switch action {
		case resource.Created:
			res.ConsoleUsersCreated++
		case resource.Updated:
			res.ConsoleUsersUpdated++
		default:
			res.ConsoleUsersUnchanged++
		}
	}
	return nil
}
