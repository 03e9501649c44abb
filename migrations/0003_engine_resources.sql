-- Call engine (events, receipt outbox) and console resources (numbers, TTS
-- templates, voice files, account settings). Same portability rules as 0001:
-- TEXT, INTEGER and BIGINT only, times as BIGINT unix milliseconds (0 for
-- the zero time), JSON as TEXT. The calls table of 0002 already has a column
-- for every field of the Call struct, so it needs no ALTER TABLE.

-- Flow control counts an account's calls to one callee in the last minute,
-- hour and day, inside the write transaction of every CreateCall: this index
-- makes that a short range scan instead of a scan of the account's calls.
CREATE INDEX calls_account_callee_created ON calls (account_uid, callee, created_at);

-- ListCalls (newest first, cursor on (created_at, id)) uses
-- calls_account_created (account_uid, created_at, id) from 0002.

-- ListUnfinishedCalls runs at start-up. A partial index keeps only the live
-- calls, which are few next to the ended ones, so it stays small and the
-- query does not scan the whole history. The query must repeat the literal
-- condition for either engine to use it.
CREATE INDEX calls_unfinished ON calls (node, created_at, id) WHERE state <> 'ended';

-- Every timestamped step of a call. seq is given by the engine (1-based, in
-- order) and unique per call, so a replayed change cannot add an event twice.
CREATE TABLE call_events (
    call_id     TEXT    NOT NULL REFERENCES calls (id),
    seq         INTEGER NOT NULL,
    at          BIGINT  NOT NULL,
    type        TEXT    NOT NULL,
    leg         TEXT    NOT NULL,
    status_code TEXT    NOT NULL,
    -- JSON object of strings; NULL when the event has no detail.
    detail      TEXT,
    PRIMARY KEY (call_id, seq)
);

-- The receipt outbox: rows are written in the transaction of the call change
-- that caused them and removed by the delivery worker once delivered.
CREATE TABLE receipts (
    id           TEXT    NOT NULL PRIMARY KEY,
    account_uid  TEXT    NOT NULL REFERENCES accounts (uid),
    call_id      TEXT    NOT NULL REFERENCES calls (id),
    message_type TEXT    NOT NULL,
    -- The JSON object exactly as it will be delivered.
    body         TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    -- The worker's schedule: not before available_at (created_at at first,
    -- pushed back after each failed attempt), attempts made so far.
    available_at BIGINT  NOT NULL,
    attempts     INTEGER NOT NULL
);

-- The delivery worker takes the rows that are due, oldest first.
CREATE INDEX receipts_available ON receipts (available_at, id);

CREATE TABLE numbers (
    account_uid TEXT    NOT NULL REFERENCES accounts (uid),
    number      TEXT    NOT NULL,
    concurrency INTEGER NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (account_uid, number)
);

CREATE TABLE tts_templates (
    account_uid TEXT   NOT NULL REFERENCES accounts (uid),
    code        TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    content     TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    voice       TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (account_uid, code)
);

CREATE TABLE voice_files (
    account_uid TEXT   NOT NULL REFERENCES accounts (uid),
    code        TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    -- Relative to the data directory, so the directory can move.
    stored_path TEXT   NOT NULL,
    format      TEXT   NOT NULL,
    duration_ms BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_uid, code)
);

-- No foreign key on account_uid: the row with account_uid '' holds the
-- operator's global settings and has no account. The store checks that
-- other UIDs exist before writing.
CREATE TABLE account_settings (
    account_uid            TEXT    NOT NULL PRIMARY KEY,
    -- Calls to one callee per minute / hour / 24 hours; 0 is unlimited.
    flow_per_minute        INTEGER NOT NULL,
    flow_per_hour          INTEGER NOT NULL,
    flow_per_day           INTEGER NOT NULL,
    smartcall_callback_url TEXT    NOT NULL,
    -- JSON array of forbidden keywords; NULL when there is none.
    blacklist              TEXT
);
