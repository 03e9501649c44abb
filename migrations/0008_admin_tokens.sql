-- Admin API tokens a first start generated. Only the SHA-256 (hex) of a
-- token is kept: the token itself is shown once and kept in the data
-- directory's credentials file. Every node of a cluster accepts them.
-- Same portability rules as 0001.
CREATE TABLE admin_tokens (
    sha256     TEXT   NOT NULL PRIMARY KEY,
    created_at BIGINT NOT NULL
);
