-- Passkeys (2.x): WebAuthn credentials a user signs in with. A row is pending (no
-- `credential_id`) from `POST /account/passkeys` until its registration is verified; pending
-- rows are never listed. `credential` is webauthn-rs's record of the credential: its public
-- key, signature counter and backup state (nothing secret).
CREATE TABLE passkeys (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    accessed_at BIGINT,
    credential_id TEXT,
    credential TEXT,
    -- The registration challenge of a pending passkey.
    challenge_id TEXT,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users (project_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX passkeys_credential ON passkeys (project_id, credential_id);
CREATE INDEX passkeys_user ON passkeys (project_id, user_id, created_at);

-- A WebAuthn ceremony in progress: registration (`user_id`, `passkey_id` set) or sign-in.
-- `state` is webauthn-rs's ceremony state (the challenge and what it expects), sealed; a
-- challenge is deleted by the attempt that uses it, successful or not.
CREATE TABLE passkey_challenges (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT,
    passkey_id TEXT,
    -- The relying party the ceremony was made for: a changed configuration voids it.
    rp_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expire BIGINT NOT NULL,
    PRIMARY KEY (project_id, id)
);
CREATE INDEX passkey_challenges_expire ON passkey_challenges (expire);
