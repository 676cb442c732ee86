-- Per-project signing keys of account JWTs (projects that sign with EdDSA or ES256; HS256 uses
-- the instance key). `private_key` is the PKCS#8 key sealed with a key derived from the
-- instance key; `public_jwk` is what /v1/.well-known/jwks.json publishes. One key per project
-- signs (`retired_at IS NULL`); a retired key still verifies until the JWTs it signed expire.
CREATE TABLE jwt_keys (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    alg TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX jwt_keys_signing ON jwt_keys (project_id) WHERE retired_at IS NULL;

-- Single-use refresh tokens of short JWTs (only the SHA-256 of a secret). Each exchange spends
-- one and issues the next of the same family; presenting a spent one deletes the family. They
-- go with the session that issued them.
CREATE TABLE jwt_refresh_tokens (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    duration INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    spent_at INTEGER,
    expire INTEGER NOT NULL,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, session_id) REFERENCES sessions (project_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX jwt_refresh_tokens_secret ON jwt_refresh_tokens (secret_hash);
CREATE INDEX jwt_refresh_tokens_family ON jwt_refresh_tokens (project_id, family_id);
CREATE INDEX jwt_refresh_tokens_session ON jwt_refresh_tokens (project_id, session_id);
CREATE INDEX jwt_refresh_tokens_expire ON jwt_refresh_tokens (expire);
