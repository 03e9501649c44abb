package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dialtone-voice/dialtone"
)

const callCols = `id, account_uid, kind, prod_id, caller, callee, caller_show_number, callee_show_number, out_id, params,
    state, status_code, smart_status_code, status_msg, hangup_direction, dtmf, reason,
    created_at, a_originate_at, a_ring_at, a_start_at, a_end_at, b_originate_at, b_ring_at, b_start_at, b_end_at, duration,
    node, lease_till, version`

// CreateCall inserts a new call with every field as given. It returns
// dialtone.ErrConflict when the ID exists (in any account) and
// dialtone.ErrNotFound when the account does not exist.
func (s *Store) CreateCall(ctx context.Context, c *dialtone.Call) error {
	if c == nil {
		return errors.New("sqlite: create call: nil call")
	}
	var params any
	if c.Params != nil {
		params = string(c.Params)
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		ok, err := accountExists(ctx, tx, c.AccountUID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("account %s: %w", c.AccountUID, dialtone.ErrNotFound)
		}
		// DO NOTHING turns a duplicate into "0 rows" instead of a
		// driver-specific constraint error, portably.
		res, err := tx.ExecContext(ctx, `INSERT INTO calls (`+callCols+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`,
			c.ID, c.AccountUID, string(c.Kind), c.ProdID, c.Caller, c.Callee, c.CallerShowNumber, c.CalleeShowNumber, c.OutID, params,
			string(c.State), c.StatusCode, c.SmartStatusCode, c.StatusMsg, c.HangupDirection, c.DTMF, c.Reason,
			toMillis(c.CreatedAt),
			toMillis(c.A.Originate), toMillis(c.A.Ring), toMillis(c.A.Start), toMillis(c.A.End),
			toMillis(c.B.Originate), toMillis(c.B.Ring), toMillis(c.B.Start), toMillis(c.B.End),
			int64(c.Duration), c.Node, toMillis(c.LeaseTill), c.Version)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return dialtone.ErrConflict
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: create call %s: %w", c.ID, err)
	}
	return nil
}

// GetCall returns dialtone.ErrNotFound unless the call exists in that account.
func (s *Store) GetCall(ctx context.Context, accountUID, id string) (*dialtone.Call, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+callCols+` FROM calls WHERE account_uid = ? AND id = ?`, accountUID, id)
	c, err := scanCall(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: call %s of account %s: %w", id, accountUID, dialtone.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: call %s: %w", id, err)
	}
	return c, nil
}

func scanCall(sc scanner) (*dialtone.Call, error) {
	var (
		c                   dialtone.Call
		kind, state         string
		params              sql.NullString
		created, lease, dur int64
		a, b                [4]int64
	)
	err := sc.Scan(&c.ID, &c.AccountUID, &kind, &c.ProdID, &c.Caller, &c.Callee, &c.CallerShowNumber, &c.CalleeShowNumber, &c.OutID, &params,
		&state, &c.StatusCode, &c.SmartStatusCode, &c.StatusMsg, &c.HangupDirection, &c.DTMF, &c.Reason,
		&created, &a[0], &a[1], &a[2], &a[3], &b[0], &b[1], &b[2], &b[3], &dur,
		&c.Node, &lease, &c.Version)
	if err != nil {
		return nil, err
	}
	c.Kind = dialtone.CallKind(kind)
	c.State = dialtone.CallState(state)
	if params.Valid {
		c.Params = []byte(params.String)
	}
	c.CreatedAt = fromMillis(created)
	c.A = legTimes(a)
	c.B = legTimes(b)
	c.Duration = int(dur)
	c.LeaseTill = fromMillis(lease)
	return &c, nil
}

func legTimes(ms [4]int64) dialtone.LegTimes {
	return dialtone.LegTimes{
		Originate: fromMillis(ms[0]),
		Ring:      fromMillis(ms[1]),
		Start:     fromMillis(ms[2]),
		End:       fromMillis(ms[3]),
	}
}
