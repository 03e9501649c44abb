-- Requests sent on an account's behalf (issue 16) and receipts one can see
-- (issue 20): who set each outbound URL, rotated signing secrets, the audit
-- trail of changes, and every push attempt. Same portability rules as 0001.

-- Who set the push URL: 1 for the operator (admin API, provisioning,
-- operator console users), whose URLs may reach loopback and private
-- networks. URLs stored before this migration count as an account user's:
-- saving them again through an operator's door trusts them.
ALTER TABLE subscriptions ADD COLUMN push_url_trusted INTEGER NOT NULL DEFAULT 0;
-- The secret a rotation replaced, sealed like push_secret_sealed, and the
-- end of its grace period ('' and 0 when none).
ALTER TABLE subscriptions ADD COLUMN push_secret_previous_sealed TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN push_secret_previous_until BIGINT NOT NULL DEFAULT 0;

-- The SmartCall callback's trust and signing secrets, beside the account's
-- settings (account_settings.smartcall_callback_url) in a table of their
-- own. A row is written with every settings row; an account without one
-- has an untrusted URL and no secret.
CREATE TABLE account_callbacks (
    account_uid            TEXT    NOT NULL PRIMARY KEY,
    url_trusted            INTEGER NOT NULL,
    secret_sealed          TEXT    NOT NULL,
    secret_previous_sealed TEXT    NOT NULL,
    secret_previous_until  BIGINT  NOT NULL
);

-- Every committed change of a resource: who, when, what. detail is a JSON
-- object of strings and never holds a secret. account_uid is '' for the
-- node's own resources (console users, the global blacklist).
CREATE TABLE audit_log (
    id          TEXT   NOT NULL PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT   NOT NULL,
    account_uid TEXT   NOT NULL,
    resource    TEXT   NOT NULL,
    resource_id TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    detail      TEXT
);

CREATE INDEX audit_log_account ON audit_log (account_uid, at, id);
CREATE INDEX audit_log_at ON audit_log (at, id);

-- Every push attempt (replacing push_results, which kept the last 20 per
-- type): what was sent where, what came back, how long it took, why it
-- failed and when it is retried. Housekeeping deletes attempts older than
-- the longest receipt retention and all but the newest of each account,
-- message type and kind.
CREATE TABLE push_attempts (
    id           TEXT    NOT NULL PRIMARY KEY,
    account_uid  TEXT    NOT NULL REFERENCES accounts (uid),
    message_type TEXT    NOT NULL,
    at           BIGINT  NOT NULL,
    -- The push URL with any password removed.
    url          TEXT    NOT NULL,
    -- 0 when no HTTP answer came.
    http_status  INTEGER NOT NULL,
    -- The start of the answer (at most 200 bytes), shown to operators only;
    -- its "code" and "msg" when it is the receipt format.
    answer       TEXT    NOT NULL,
    answer_code  TEXT    NOT NULL,
    answer_msg   TEXT    NOT NULL,
    latency_ms   BIGINT  NOT NULL,
    -- '' when the receiver accepted the batch.
    error        TEXT    NOT NULL,
    -- The egress policy's rule when it refused the URL.
    rule         TEXT    NOT NULL,
    receipts     INTEGER NOT NULL,
    -- 1 for the console's "send a test receipt".
    test         INTEGER NOT NULL,
    next_retry   BIGINT  NOT NULL,
    dead         INTEGER NOT NULL
);

CREATE INDEX push_attempts_recent ON push_attempts (account_uid, message_type, test, at, id);
CREATE INDEX push_attempts_at ON push_attempts (at);

-- The receipts each attempt carried, to follow one receipt through its
-- attempts.
CREATE TABLE push_attempt_receipts (
    attempt_id  TEXT NOT NULL,
    account_uid TEXT NOT NULL,
    receipt_id  TEXT NOT NULL,
    PRIMARY KEY (attempt_id, receipt_id)
);

CREATE INDEX push_attempt_receipts_receipt ON push_attempt_receipts (account_uid, receipt_id);

INSERT INTO push_attempts (id, account_uid, message_type, at, url, http_status, answer, answer_code, answer_msg,
    latency_ms, error, rule, receipts, test, next_retry, dead)
SELECT id, account_uid, message_type, at, url, http_status, '', '', '', 0, error, '', receipts, test, 0, 0
FROM push_results;

DROP TABLE push_results;

-- The console lists a call's receipts.
CREATE INDEX receipts_call ON receipts (account_uid, call_id, created_at);
