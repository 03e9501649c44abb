-- Limits that hold for the whole cluster (dialtone.LimitStore) and the
-- simulated network shared by its nodes (dialtone.NetworkStore). Same
-- portability rules as 0001.

-- One row per holder (a call, a SIP leg) and key (a display number, a
-- trunk): n slots held since since by a call running on node. A key's
-- use is the sum of its rows, counted under a per-key lock when a slot is
-- taken; a dead node's rows go with its calls.
CREATE TABLE limit_slots (
    key    TEXT    NOT NULL,
    holder TEXT    NOT NULL,
    node   TEXT    NOT NULL,
    n      INTEGER NOT NULL,
    since  BIGINT  NOT NULL,
    PRIMARY KEY (key, holder)
);
CREATE INDEX limit_slots_holder ON limit_slots (holder);
CREATE INDEX limit_slots_node ON limit_slots (node);

-- The pace of starts under a key (a trunk's max_cps): next_at is the
-- earliest start, in unix microseconds, that the next caller may reserve.
CREATE TABLE limit_paces (
    key     TEXT   NOT NULL PRIMARY KEY,
    next_at BIGINT NOT NULL
);

-- The simulated network's configuration, one row (id 1), as every node
-- runs it.
CREATE TABLE sim_network (
    id         INTEGER NOT NULL PRIMARY KEY,
    config     TEXT    NOT NULL,
    version    BIGINT  NOT NULL,
    updated_by TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);
