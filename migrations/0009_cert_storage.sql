-- The HTTPS certificate manager's files (ACME account, certificates, keys,
-- challenge tokens) and its locks, shared by every node of a cluster
-- (dialtone.CertStore). Values are base64 text, so the column is TEXT on
-- both engines. Same portability rules as 0001.
CREATE TABLE cert_files (
    key         TEXT   NOT NULL PRIMARY KEY,
    value       TEXT   NOT NULL,
    size        BIGINT NOT NULL,
    modified_at BIGINT NOT NULL
);

-- A lock is held by owner until expires_at; its holder extends it while it
-- works, so a lock whose node died expires and is taken over.
CREATE TABLE cert_locks (
    name       TEXT   NOT NULL PRIMARY KEY,
    owner      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
