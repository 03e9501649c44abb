-- Media streams (issue 17): the account's agent stream for SmartCalls and
-- its listen-only fork, each with who set it (1: the operator, whose URLs
-- may reach loopback and private networks), and the kinds of call the fork
-- streams (a comma-separated list of notification, ivr and clicktodial;
-- '' for every kind). Rows written before this version have no streams.
-- Same portability rules as 0001.
ALTER TABLE account_settings ADD COLUMN smartcall_stream_url TEXT NOT NULL DEFAULT '';
ALTER TABLE account_settings ADD COLUMN smartcall_stream_trusted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE account_settings ADD COLUMN fork_stream_url TEXT NOT NULL DEFAULT '';
ALTER TABLE account_settings ADD COLUMN fork_stream_trusted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE account_settings ADD COLUMN fork_stream_kinds TEXT NOT NULL DEFAULT '';
