-- Several nodes on one store: node heartbeats, and an index for claiming
-- queued calls. Same portability rules as 0001.

-- One row per running node; a node whose last_seen is older than the lease
-- is dead, and any live node ends its calls and frees its queued ones.
CREATE TABLE nodes (
    name      TEXT   NOT NULL PRIMARY KEY,
    last_seen BIGINT NOT NULL
);

-- ClaimCalls scans the queued calls oldest first on every sweep of every
-- node; this partial index holds only them, so the scan stays short however
-- long the history. The queries repeat the literal condition so that both
-- engines use it.
CREATE INDEX calls_queued ON calls (created_at, id) WHERE state = 'queued';
