package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/dialtone-voice/dialtone"
)

// Console resources: numbers, TTS templates, voice files and account
// settings. Every statement filters on account_uid, so a request naming
// another tenant's number or code finds nothing (ErrNotFound) rather than
// that tenant's row.

// --- numbers ---

const (
	numberCols   = `account_uid, number, concurrency, created_at`
	sqlPutNumber = `
INSERT INTO numbers (` + numberCols + `) VALUES ($1, $2, $3, $4)
ON CONFLICT (account_uid, number) DO UPDATE SET
    concurrency = excluded.concurrency,
    created_at = excluded.created_at`
	sqlGetNumber    = `SELECT ` + numberCols + ` FROM numbers WHERE account_uid = $1 AND number = $2`
	sqlListNumbers  = `SELECT ` + numberCols + ` FROM numbers WHERE account_uid = $1 ORDER BY number{C}`
	sqlDeleteNumber = `DELETE FROM numbers WHERE account_uid = $1 AND number = $2`
)

// PutNumber creates or replaces the account's number.
func (s *Store) PutNumber(ctx context.Context, n *dialtone.Number) error {
	if n == nil || n.Number == "" {
		return s.errorf("put number: no number")
	}
	return s.putScoped(ctx, "number "+n.Number, n.AccountUID, sqlPutNumber,
		n.AccountUID, n.Number, int64(n.Concurrency), toMillis(n.CreatedAt))
}

// GetNumber returns dialtone.ErrNotFound unless the account has the number.
func (s *Store) GetNumber(ctx context.Context, accountUID, number string) (*dialtone.Number, error) {
	return getCached(s, accountUID, resNumbers, number, clonePlain, func() (*dialtone.Number, error) {
		return getRow(ctx, s, "number "+number+" of account "+accountUID, scanNumber, sqlGetNumber, accountUID, number)
	})
}

// ListNumbers returns the account's numbers ordered by number.
func (s *Store) ListNumbers(ctx context.Context, accountUID string) ([]dialtone.Number, error) {
	return listRows(ctx, s, "numbers of "+accountUID, scanNumber, s.q.listNumbers, accountUID)
}

// DeleteNumber returns dialtone.ErrNotFound unless the account has the number.
func (s *Store) DeleteNumber(ctx context.Context, accountUID, number string) error {
	return s.deleteScoped(ctx, "number "+number+" of account "+accountUID, accountUID, sqlDeleteNumber, accountUID, number)
}

func scanNumber(row Row) (*dialtone.Number, error) {
	var (
		n            dialtone.Number
		conc, create int64
	)
	if err := row.Scan(&n.AccountUID, &n.Number, &conc, &create); err != nil {
		return nil, err
	}
	n.Concurrency = int(conc)
	n.CreatedAt = fromMillis(create)
	return &n, nil
}

// --- TTS templates ---

const (
	templateCols   = `account_uid, code, kind, content, status, voice, remark, created_at, updated_at`
	sqlPutTemplate = `
INSERT INTO tts_templates (` + templateCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (account_uid, code) DO UPDATE SET
    kind = excluded.kind,
    content = excluded.content,
    status = excluded.status,
    voice = excluded.voice,
    remark = excluded.remark,
    created_at = excluded.created_at,
    updated_at = excluded.updated_at`
	sqlGetTemplate    = `SELECT ` + templateCols + ` FROM tts_templates WHERE account_uid = $1 AND code = $2`
	sqlListTemplates  = `SELECT ` + templateCols + ` FROM tts_templates WHERE account_uid = $1 ORDER BY code{C}`
	sqlDeleteTemplate = `DELETE FROM tts_templates WHERE account_uid = $1 AND code = $2`
)

// PutTemplate creates or replaces the account's template.
func (s *Store) PutTemplate(ctx context.Context, t *dialtone.TTSTemplate) error {
	if t == nil || t.Code == "" {
		return s.errorf("put template: no code")
	}
	return s.putScoped(ctx, "template "+t.Code, t.AccountUID, sqlPutTemplate,
		t.AccountUID, t.Code, string(t.Kind), t.Content, string(t.Status), t.Voice, t.Remark,
		toMillis(t.CreatedAt), toMillis(t.UpdatedAt))
}

// GetTemplate returns dialtone.ErrNotFound unless the account has the template.
func (s *Store) GetTemplate(ctx context.Context, accountUID, code string) (*dialtone.TTSTemplate, error) {
	return getCached(s, accountUID, resTemplates, code, clonePlain, func() (*dialtone.TTSTemplate, error) {
		return getRow(ctx, s, "template "+code+" of account "+accountUID, scanTemplate, sqlGetTemplate, accountUID, code)
	})
}

// ListTemplates returns the account's templates ordered by code.
func (s *Store) ListTemplates(ctx context.Context, accountUID string) ([]dialtone.TTSTemplate, error) {
	return listRows(ctx, s, "templates of "+accountUID, scanTemplate, s.q.listTemplates, accountUID)
}

// DeleteTemplate returns dialtone.ErrNotFound unless the account has the template.
func (s *Store) DeleteTemplate(ctx context.Context, accountUID, code string) error {
	return s.deleteScoped(ctx, "template "+code+" of account "+accountUID, accountUID, sqlDeleteTemplate, accountUID, code)
}

func scanTemplate(row Row) (*dialtone.TTSTemplate, error) {
	var (
		t                dialtone.TTSTemplate
		kind, status     string
		created, updated int64
	)
	if err := row.Scan(&t.AccountUID, &t.Code, &kind, &t.Content, &status, &t.Voice, &t.Remark, &created, &updated); err != nil {
		return nil, err
	}
	t.Kind = dialtone.TemplateKind(kind)
	t.Status = dialtone.ReviewStatus(status)
	t.CreatedAt = fromMillis(created)
	t.UpdatedAt = fromMillis(updated)
	return &t, nil
}

// --- voice files ---

const (
	voiceFileCols   = `account_uid, code, kind, status, stored_path, format, duration_ms, created_at`
	sqlPutVoiceFile = `
INSERT INTO voice_files (` + voiceFileCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (account_uid, code) DO UPDATE SET
    kind = excluded.kind,
    status = excluded.status,
    stored_path = excluded.stored_path,
    format = excluded.format,
    duration_ms = excluded.duration_ms,
    created_at = excluded.created_at`
	sqlGetVoiceFile    = `SELECT ` + voiceFileCols + ` FROM voice_files WHERE account_uid = $1 AND code = $2`
	sqlListVoiceFiles  = `SELECT ` + voiceFileCols + ` FROM voice_files WHERE account_uid = $1 ORDER BY code{C}`
	sqlDeleteVoiceFile = `DELETE FROM voice_files WHERE account_uid = $1 AND code = $2`
)

// PutVoiceFile creates or replaces the account's voice file record.
// Duration is kept to the millisecond.
func (s *Store) PutVoiceFile(ctx context.Context, f *dialtone.VoiceFile) error {
	if f == nil || f.Code == "" {
		return s.errorf("put voice file: no code")
	}
	return s.putScoped(ctx, "voice file "+f.Code, f.AccountUID, sqlPutVoiceFile,
		f.AccountUID, f.Code, string(f.Kind), string(f.Status), f.StoredPath, f.Format,
		f.Duration.Milliseconds(), toMillis(f.CreatedAt))
}

// GetVoiceFile returns dialtone.ErrNotFound unless the account has the file.
func (s *Store) GetVoiceFile(ctx context.Context, accountUID, code string) (*dialtone.VoiceFile, error) {
	return getRow(ctx, s, "voice file "+code+" of account "+accountUID, scanVoiceFile, sqlGetVoiceFile, accountUID, code)
}

// ListVoiceFiles returns the account's voice files ordered by code.
func (s *Store) ListVoiceFiles(ctx context.Context, accountUID string) ([]dialtone.VoiceFile, error) {
	return listRows(ctx, s, "voice files of "+accountUID, scanVoiceFile, s.q.listVoiceFiles, accountUID)
}

// DeleteVoiceFile returns dialtone.ErrNotFound unless the account has the file.
func (s *Store) DeleteVoiceFile(ctx context.Context, accountUID, code string) error {
	return s.deleteScoped(ctx, "voice file "+code+" of account "+accountUID, accountUID, sqlDeleteVoiceFile, accountUID, code)
}

func scanVoiceFile(row Row) (*dialtone.VoiceFile, error) {
	var (
		f            dialtone.VoiceFile
		kind, status string
		dur, created int64
	)
	if err := row.Scan(&f.AccountUID, &f.Code, &kind, &status, &f.StoredPath, &f.Format, &dur, &created); err != nil {
		return nil, err
	}
	f.Kind = dialtone.VoiceFileKind(kind)
	f.Status = dialtone.ReviewStatus(status)
	f.Duration = time.Duration(dur) * time.Millisecond
	f.CreatedAt = fromMillis(created)
	return &f, nil
}

// --- account settings ---

const (
	// The settings with the SmartCall callback's trust and secrets, in one
	// read (the callback's row may be missing: NULLs).
	sqlGetSettings = `
SELECT s.flow_per_minute, s.flow_per_hour, s.flow_per_day, s.smartcall_callback_url, s.blacklist, s.machine_detection,
    s.smartcall_stream_url, s.smartcall_stream_trusted, s.fork_stream_url, s.fork_stream_trusted, s.fork_stream_kinds,
    c.url_trusted, c.secret_sealed, c.secret_previous_sealed, c.secret_previous_until
FROM account_settings s LEFT JOIN account_callbacks c ON c.account_uid = s.account_uid
WHERE s.account_uid = $1`
	sqlPutSettings = `
INSERT INTO account_settings (account_uid, flow_per_minute, flow_per_hour, flow_per_day, smartcall_callback_url, blacklist, machine_detection,
    smartcall_stream_url, smartcall_stream_trusted, fork_stream_url, fork_stream_trusted, fork_stream_kinds)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (account_uid) DO UPDATE SET
    flow_per_minute = excluded.flow_per_minute,
    flow_per_hour = excluded.flow_per_hour,
    flow_per_day = excluded.flow_per_day,
    smartcall_callback_url = excluded.smartcall_callback_url,
    blacklist = excluded.blacklist,
    machine_detection = excluded.machine_detection,
    smartcall_stream_url = excluded.smartcall_stream_url,
    smartcall_stream_trusted = excluded.smartcall_stream_trusted,
    fork_stream_url = excluded.fork_stream_url,
    fork_stream_trusted = excluded.fork_stream_trusted,
    fork_stream_kinds = excluded.fork_stream_kinds`
)

// GetAccountSettings returns the stored settings, or the defaults
// (dialtone.DefaultFlowControl, no URL, nil blacklist) when none are stored.
// It does not check that the account exists: an unknown account simply has
// no settings, and account "" (the operator's) never exists.
func (s *Store) GetAccountSettings(ctx context.Context, accountUID string) (*dialtone.AccountSettings, error) {
	return getCached(s, accountUID, resSettings, "", cloneSettings, func() (*dialtone.AccountSettings, error) {
		return s.readSettings(ctx, accountUID)
	})
}

func (s *Store) readSettings(ctx context.Context, accountUID string) (*dialtone.AccountSettings, error) {
	var (
		st                dialtone.AccountSettings
		minute, hour, day int64
		blacklist         sql.NullString
		machine, kinds    string
		agentT, forkT     int64
	)
	var (
		trusted, until sql.NullInt64
		cur, prev      sql.NullString
	)
	err := s.db.Reader().QueryRow(ctx, sqlGetSettings, accountUID).
		Scan(&minute, &hour, &day, &st.SmartCallCallbackURL, &blacklist, &machine,
			&st.SmartCallStreamURL, &agentT, &st.ForkStreamURL, &forkT, &kinds,
			&trusted, &cur, &prev, &until)
	if isNoRows(err) {
		return &dialtone.AccountSettings{FlowControl: dialtone.DefaultFlowControl}, nil
	}
	if err != nil {
		return nil, s.errorf("settings of account %s: %w", accountUID, err)
	}
	st.FlowControl = dialtone.FlowControl{PerMinute: int(minute), PerHour: int(hour), PerDay: int(day)}
	st.MachineDetection = dialtone.MachineDetection(machine)
	st.SmartCallStreamTrusted, st.ForkStreamTrusted = agentT != 0, forkT != 0
	st.ForkStreamKinds = dialtone.ParseForkKinds(kinds)
	if st.Blacklist, err = decodeList[string]("blacklist", blacklist); err != nil {
		return nil, s.errorf("settings of account %s: %w", accountUID, err)
	}
	if trusted.Valid {
		if err := s.fillCallback(&st, trusted.Int64, cur.String, prev.String, until.Int64); err != nil {
			return nil, s.errorf("settings of account %s: %w", accountUID, err)
		}
	}
	return &st, nil
}

// PutAccountSettings replaces the account's settings. Account "" (the
// operator's global settings) needs no account row; any other account must
// exist (dialtone.ErrNotFound).
func (s *Store) PutAccountSettings(ctx context.Context, accountUID string, st *dialtone.AccountSettings) error {
	if st == nil {
		return s.errorf("put account settings: nil settings")
	}
	blacklist, err := encodeList(st.Blacklist)
	if err != nil {
		return s.errorf("put settings of account %s: blacklist: %w", accountUID, err)
	}
	callback, err := s.callbackArgs(accountUID, st)
	if err != nil {
		return s.errorf("put settings of account %s: %w", accountUID, err)
	}
	fc := st.FlowControl
	name := accountName(accountUID)
	defer s.authWritten(name)
	err = s.db.Write(ctx, func(ctx context.Context, q Querier) error {
		if accountUID != "" {
			if err := requireAccount(ctx, q, accountUID); err != nil {
				return err
			}
		}
		if _, err := q.Exec(ctx, sqlPutSettings,
			accountUID, int64(fc.PerMinute), int64(fc.PerHour), int64(fc.PerDay), st.SmartCallCallbackURL, blacklist,
			string(st.MachineDetection), st.SmartCallStreamURL, boolInt(st.SmartCallStreamTrusted),
			st.ForkStreamURL, boolInt(st.ForkStreamTrusted), dialtone.FormatForkKinds(st.ForkStreamKinds)); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, sqlPutCallback, callback...); err != nil {
			return err
		}
		return s.notifyAuth(ctx, q, name)
	})
	if err != nil {
		return s.errorf("put settings of account %s: %w", accountUID, err)
	}
	return nil
}
