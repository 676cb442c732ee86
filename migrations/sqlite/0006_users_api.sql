-- The Users API (server keys). `search` holds the words of a user's id, email, phone and name
-- as the store tokenises them (lower case, split at anything that is not a letter or digit),
-- so both backends index and match the same words; FTS5 keeps its index in step by trigger.
ALTER TABLE users ADD COLUMN search TEXT NOT NULL DEFAULT '';
CREATE VIRTUAL TABLE users_fts USING fts5(
    search,
    content = 'users',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER users_fts_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_fts (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER users_fts_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_fts (users_fts, rowid, search) VALUES ('delete', old.rowid, old.search);
END;
CREATE TRIGGER users_fts_update AFTER UPDATE OF search ON users BEGIN
    INSERT INTO users_fts (users_fts, rowid, search) VALUES ('delete', old.rowid, old.search);
    INSERT INTO users_fts (rowid, search) VALUES (new.rowid, new.search);
END;

-- A queued message goes with its user when the user is deleted.
ALTER TABLE outbox ADD COLUMN user_id TEXT;
CREATE INDEX outbox_user ON outbox (project_id, user_id);

-- API keys made with `latchkey keys create`: only the SHA-256 of the secret.
CREATE TABLE api_keys (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    expire INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX api_keys_secret ON api_keys (secret_hash);

-- `users.listIdentities` searches id, user, provider, provider uid and email the same way,
-- by word prefix over these words (a scan: identities are listed rarely).
ALTER TABLE identities ADD COLUMN search TEXT NOT NULL DEFAULT '';
