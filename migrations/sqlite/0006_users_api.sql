-- The Users API (server keys). `search` holds the words of a user's id, email, phone and name
-- as the store tokenises them (lower case, split at anything that is not a letter or digit),
-- so both backends index exactly these words and a search means the same on both.
ALTER TABLE users ADD COLUMN search TEXT NOT NULL DEFAULT '';
-- FTS5 keeps its index by integer row id. `users` has no INTEGER PRIMARY KEY, so its rowid may
-- change in a VACUUM; the words are therefore kept again under a stable id, by trigger.
CREATE TABLE users_search (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    search TEXT NOT NULL
);
CREATE UNIQUE INDEX users_search_user ON users_search (project_id, user_id);
-- `ascii`: the words are already lower case and separated by spaces; any other byte is part of
-- a word, so FTS5 takes the store's words as they are.
CREATE VIRTUAL TABLE users_fts USING fts5(
    search,
    content = 'users_search',
    content_rowid = 'id',
    tokenize = 'ascii'
);
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (project_id, user_id, search) VALUES (new.project_id, new.id, new.search);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF search ON users
WHEN old.search IS NOT new.search BEGIN
    UPDATE users_search SET search = new.search WHERE project_id = new.project_id AND user_id = new.id;
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_search WHERE project_id = old.project_id AND user_id = old.id;
END;
CREATE TRIGGER users_fts_insert AFTER INSERT ON users_search BEGIN
    INSERT INTO users_fts (rowid, search) VALUES (new.id, new.search);
END;
CREATE TRIGGER users_fts_update AFTER UPDATE OF search ON users_search BEGIN
    INSERT INTO users_fts (users_fts, rowid, search) VALUES ('delete', old.id, old.search);
    INSERT INTO users_fts (rowid, search) VALUES (new.id, new.search);
END;
CREATE TRIGGER users_fts_delete AFTER DELETE ON users_search BEGIN
    INSERT INTO users_fts (users_fts, rowid, search) VALUES ('delete', old.id, old.search);
END;

-- Users written before this migration, indexed with no words until the backfill (run after
-- this file, through the triggers) gives them theirs: FTS5 must have indexed a row before it
-- can be told to drop it.
INSERT INTO users_search (project_id, user_id, search) SELECT project_id, id, '' FROM users;

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
