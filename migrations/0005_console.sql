-- Web console: the people who sign in, and an index for its overview.
-- Same portability rules as 0001.

-- account_uid is '' for an operator, who belongs to no account; that is why
-- it has no foreign key (the store checks that other UIDs exist).
CREATE TABLE console_users (
    username      TEXT   NOT NULL PRIMARY KEY,
    account_uid   TEXT   NOT NULL,
    -- PHC string of a slow salted hash (argon2id); never the password.
    password_hash TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);

-- The overview's aggregates (calls per minute, answer rate, status codes)
-- read only these columns of a day of calls: covering them keeps the
-- GROUP BY an index-only range scan instead of 100,000 row lookups.
CREATE INDEX calls_stats ON calls (account_uid, created_at, status_code, a_start_at);
