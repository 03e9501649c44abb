-- Receipt delivery: subscriptions, routing of the outbox, MNS-compatible
-- queue messages and HTTP push deliveries. Same portability rules as 0001.

-- One row per account and message type. The queue (when queue = 1) is named
-- Alicom-Queue-<account_uid>-<message_type>, so it needs no table of its own.
CREATE TABLE subscriptions (
    account_uid           TEXT    NOT NULL REFERENCES accounts (uid),
    message_type          TEXT    NOT NULL,
    queue                 INTEGER NOT NULL,
    push_url              TEXT    NOT NULL,
    -- Sealed like access-key secrets; '' when there is none.
    push_secret_sealed    TEXT    NOT NULL,
    -- Queue attributes; 0 means the default.
    visibility_timeout_ms BIGINT  NOT NULL,
    retention_ms          BIGINT  NOT NULL,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL,
    PRIMARY KEY (account_uid, message_type)
);

-- The dispatcher marks an outbox receipt routed (in the transaction that
-- creates its queue message and push delivery) instead of deleting it, so a
-- receipt stays visible for support until the purge job removes it.
ALTER TABLE receipts ADD COLUMN routed_at BIGINT NOT NULL DEFAULT 0;

-- The dispatcher's scan touches only unrouted rows; the partial index stays
-- as small as the backlog. Queries must repeat the literal condition.
CREATE INDEX receipts_unrouted ON receipts (created_at, id) WHERE routed_at = 0;
CREATE INDEX receipts_routed ON receipts (routed_at) WHERE routed_at <> 0;

CREATE TABLE queue_messages (
    id                 TEXT    NOT NULL PRIMARY KEY,
    queue              TEXT    NOT NULL,
    account_uid        TEXT    NOT NULL REFERENCES accounts (uid),
    receipt_id         TEXT    NOT NULL,
    -- The MessageBody as clients receive it (base64 text) and its MD5.
    body               TEXT    NOT NULL,
    body_md5           TEXT    NOT NULL,
    priority           INTEGER NOT NULL,
    enqueued_at        BIGINT  NOT NULL,
    next_visible_at    BIGINT  NOT NULL,
    first_dequeued_at  BIGINT  NOT NULL,
    dequeue_count      INTEGER NOT NULL,
    -- Current receipt handle ('' before the first receive); older handles
    -- no longer match, which is how they become invalid.
    handle             TEXT    NOT NULL,
    expires_at         BIGINT  NOT NULL
);

-- Receive walks one queue in delivery order (priority, then enqueue order)
-- and skips the invisible messages, which are few: only those received and
-- not yet deleted. An index led by next_visible_at would make every receive
-- sort the whole visible backlog instead.
CREATE INDEX queue_messages_receive ON queue_messages (queue, priority, enqueued_at, id);
CREATE INDEX queue_messages_expires ON queue_messages (expires_at);

-- A receipt waiting for (or given up on) HTTP push to its subscription's URL.
-- id is the receipt's ID: one delivery per receipt.
CREATE TABLE push_deliveries (
    id           TEXT    NOT NULL PRIMARY KEY,
    account_uid  TEXT    NOT NULL REFERENCES accounts (uid),
    message_type TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    -- Next attempt; while a worker pushes it, the end of its lease.
    due_at       BIGINT  NOT NULL,
    attempts     INTEGER NOT NULL,
    last_error   TEXT    NOT NULL,
    -- 1: retries exhausted (a dead letter), kept until redriven.
    dead         INTEGER NOT NULL
);

CREATE INDEX push_deliveries_due ON push_deliveries (due_at) WHERE dead = 0;
CREATE INDEX push_deliveries_dead ON push_deliveries (account_uid, created_at, id) WHERE dead = 1;
