-- Console state that must outlive a restart and be shared by every node of
-- a cluster: sign-in sessions, and the outcome of recent receipt pushes.
-- Same portability rules as 0001.

-- One row per signed-in browser. id_hash is the SHA-256 (hex) of the
-- session ID: the cookie itself is never stored, so reading this table does
-- not let anyone sign in. user_stamp fingerprints the user's password hash
-- and account when the session began, so changing either ends the session.
CREATE TABLE console_sessions (
    id_hash     TEXT   NOT NULL PRIMARY KEY,
    username    TEXT   NOT NULL,
    account_uid TEXT   NOT NULL,
    csrf        TEXT   NOT NULL,
    current_uid TEXT   NOT NULL,
    user_stamp  TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);

-- Expiry deletes by idle time and by age.
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen);
CREATE INDEX console_sessions_created ON console_sessions (created_at);

-- The last few push attempts of each account and message type, successful
-- or not, for the console's Receipts page. The store trims every group to
-- its newest rows, so the table stays small whatever the traffic.
CREATE TABLE push_results (
    id           TEXT    NOT NULL PRIMARY KEY,
    account_uid  TEXT    NOT NULL REFERENCES accounts (uid),
    message_type TEXT    NOT NULL,
    at           BIGINT  NOT NULL,
    -- The push URL with any password removed.
    url          TEXT    NOT NULL,
    -- 0 when no HTTP answer came (connection refused, timeout).
    http_status  INTEGER NOT NULL,
    -- '' when the receiver accepted the batch.
    error        TEXT    NOT NULL,
    receipts     INTEGER NOT NULL,
    -- 1 for the console's "send a test receipt".
    test         INTEGER NOT NULL
);

CREATE INDEX push_results_recent ON push_results (account_uid, message_type, at, id);
