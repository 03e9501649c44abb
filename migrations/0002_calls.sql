-- Calls created through the API. Same portability rules as 0001: times are
-- BIGINT unix milliseconds with 0 for "never happened".

CREATE TABLE calls (
    id                 TEXT    NOT NULL PRIMARY KEY,
    account_uid        TEXT    NOT NULL REFERENCES accounts (uid),
    kind               TEXT    NOT NULL,
    prod_id            BIGINT  NOT NULL,
    caller             TEXT    NOT NULL,
    callee             TEXT    NOT NULL,
    caller_show_number TEXT    NOT NULL,
    callee_show_number TEXT    NOT NULL,
    out_id             TEXT    NOT NULL,
    -- The engine's JSON document, kept as text; NULL when the call has none.
    params             TEXT,

    state              TEXT    NOT NULL,
    status_code        TEXT    NOT NULL,
    smart_status_code  TEXT    NOT NULL,
    status_msg         TEXT    NOT NULL,
    hangup_direction   TEXT    NOT NULL,
    dtmf               TEXT    NOT NULL,
    reason             TEXT    NOT NULL,

    created_at         BIGINT  NOT NULL,
    a_originate_at     BIGINT  NOT NULL,
    a_ring_at          BIGINT  NOT NULL,
    a_start_at         BIGINT  NOT NULL,
    a_end_at           BIGINT  NOT NULL,
    b_originate_at     BIGINT  NOT NULL,
    b_ring_at          BIGINT  NOT NULL,
    b_start_at         BIGINT  NOT NULL,
    b_end_at           BIGINT  NOT NULL,
    duration           INTEGER NOT NULL,

    node               TEXT    NOT NULL,
    lease_till         BIGINT  NOT NULL,
    version            BIGINT  NOT NULL
);

-- Every call query is scoped to an account; most list recent calls first.
CREATE INDEX calls_account_created ON calls (account_uid, created_at, id);
