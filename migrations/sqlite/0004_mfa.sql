-- MFA (spec §6). Authenticator secrets, recovery codes and challenge codes are AES-256-GCM
-- ciphertext under a key derived from the instance key: a six-digit code's hash would be
-- reversed by trying all million codes, so a copy of the database must not reveal one.
CREATE TABLE authenticators (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    type TEXT NOT NULL,
    verified INTEGER NOT NULL,
    secret TEXT NOT NULL,
    -- The last TOTP time step accepted: a code is never accepted twice.
    last_step INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users (project_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX authenticators_user_type ON authenticators (project_id, user_id, type);

CREATE TABLE mfa_challenges (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    type TEXT NOT NULL,
    -- The sealed code of an email, phone or custom challenge; null for totp and recoveryCode.
    code TEXT,
    -- Wrong answers so far; at the limit the challenge is spent.
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expire INTEGER NOT NULL,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users (project_id, id) ON DELETE CASCADE
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (project_id, user_id);
CREATE INDEX mfa_challenges_expire ON mfa_challenges (expire);

CREATE TABLE recovery_codes (
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    -- Sealed JSON array of the codes still unused.
    codes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id),
    FOREIGN KEY (project_id, user_id) REFERENCES users (project_id, id) ON DELETE CASCADE
);
