package pgnotify

import (
	"context"

	"github.com/jackc/pgx/v5"
)

func execOn(ctx context.Context, dsn, q string) (int64, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	tag, err := conn.Exec(ctx, q)
	return tag.RowsAffected(), err
}
