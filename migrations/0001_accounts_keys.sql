-- Accounts, long-lived access keys, temporary credentials and request nonces.
--
-- This file is shared by the SQLite and PostgreSQL stores, so it uses only
-- types and syntax both accept: TEXT, INTEGER (booleans as 0/1) and BIGINT
-- (times as unix milliseconds, 0 meaning "never"/zero time). JSON documents
-- are TEXT so that neither engine's JSON type leaks into the other.

CREATE TABLE accounts (
    uid           TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    voice_service INTEGER NOT NULL,
    -- JSON array of features. NULL means "all features" and must stay
    -- distinct from '[]' (no feature at all).
    features      TEXT,
    -- JSON object action -> requests per second; NULL when not set.
    rate_limits   TEXT,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);

-- ListAccounts orders by (created_at, uid).
CREATE INDEX accounts_created ON accounts (created_at, uid);

CREATE TABLE access_keys (
    id            TEXT    NOT NULL PRIMARY KEY,
    account_uid   TEXT    NOT NULL REFERENCES accounts (uid),
    -- base64 of the Sealer's ciphertext; the plain secret is never stored.
    secret_sealed TEXT    NOT NULL,
    enabled       INTEGER NOT NULL,
    -- JSON array of allowed actions; NULL when not set.
    actions       TEXT,
    created_at    BIGINT  NOT NULL
);

-- ListAccessKeys filters by account and orders by (created_at, id).
CREATE INDEX access_keys_account ON access_keys (account_uid, created_at, id);

CREATE TABLE temp_credentials (
    access_key_id  TEXT   NOT NULL PRIMARY KEY,
    -- base64 of the Sealer's ciphertext, as for access_keys.
    secret_sealed  TEXT   NOT NULL,
    security_token TEXT   NOT NULL,
    account_uid    TEXT   NOT NULL REFERENCES accounts (uid),
    -- JSON array; NULL when not set.
    scope          TEXT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);

-- PurgeTempCredentials deletes by expiry.
CREATE INDEX temp_credentials_expires ON temp_credentials (expires_at);

-- A nonce is remembered per scope (access key ID) until expires_at; a row
-- whose expires_at has passed no longer blocks reuse and may be purged.
CREATE TABLE nonces (
    scope      TEXT   NOT NULL,
    nonce      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (scope, nonce)
);

CREATE INDEX nonces_expires ON nonces (expires_at);
