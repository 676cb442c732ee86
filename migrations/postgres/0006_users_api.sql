-- The Users API (server keys). `search` holds the words of a user's id, email, phone and name
-- as the store tokenises them (lower case, split at anything that is not a letter or digit),
-- so both backends index exactly these words: the vector is made of them as they are (no
-- parser, stemming or stop words), and queries are bound as `tsquery` text for the same reason.
ALTER TABLE users ADD COLUMN search TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (array_to_tsvector(string_to_array(search, ' '))) STORED;
CREATE INDEX users_search ON users USING GIN (search_vector);

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
    expire BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX api_keys_secret ON api_keys (secret_hash);

-- `users.listIdentities` searches id, user, provider, provider uid and email the same way,
-- by word prefix over these words (a scan: identities are listed rarely).
ALTER TABLE identities ADD COLUMN search TEXT NOT NULL DEFAULT '';
