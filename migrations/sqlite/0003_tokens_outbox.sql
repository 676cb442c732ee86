-- Tokens of passwordless sign-in, verification and recovery: only the SHA-256 of a secret.
CREATE TABLE tokens (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    type INTEGER NOT NULL,
    secret_hash TEXT NOT NULL,
    expire INTEGER NOT NULL,
    -- Wrong guesses against this user's tokens of this kind; at the limit the token goes.
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users (project_id, id) ON DELETE CASCADE
);
CREATE INDEX tokens_user ON tokens (project_id, user_id, secret_hash);
CREATE INDEX tokens_expire ON tokens (expire);

-- Accepted emails and SMS until delivered. `payload` is AES-256-GCM ciphertext (it holds a live
-- link or code) and is dropped once the message is sent or given up on.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    done_at INTEGER,
    -- A message carrying a token is useless once the token expires: given up on then.
    expires_at INTEGER,
    payload TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_done ON outbox (done_at);
