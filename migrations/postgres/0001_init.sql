-- Datetimes are milliseconds since the epoch; booleans are 0/1; JSON is text.
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    settings TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE users (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    name TEXT,
    email TEXT,
    phone TEXT,
    password TEXT,
    hash TEXT,
    hash_options TEXT,
    password_history TEXT NOT NULL DEFAULT '[]',
    password_update BIGINT,
    registration BIGINT NOT NULL,
    status BIGINT NOT NULL,
    labels TEXT NOT NULL DEFAULT '[]',
    email_verification BIGINT NOT NULL,
    phone_verification BIGINT NOT NULL,
    mfa BIGINT NOT NULL,
    prefs TEXT NOT NULL DEFAULT '{}',
    accessed_at BIGINT NOT NULL,
    email_canonical TEXT,
    email_is_free BIGINT,
    email_is_disposable BIGINT,
    email_is_corporate BIGINT,
    email_is_canonical BIGINT,
    PRIMARY KEY (project_id, id)
);
CREATE UNIQUE INDEX users_email ON users (project_id, email);
CREATE UNIQUE INDEX users_phone ON users (project_id, phone);

CREATE TABLE sessions (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expire BIGINT NOT NULL,
    provider TEXT NOT NULL,
    provider_uid TEXT NOT NULL,
    provider_access_token TEXT NOT NULL,
    provider_access_token_expiry BIGINT,
    provider_refresh_token TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    os_code TEXT NOT NULL,
    os_name TEXT NOT NULL,
    os_version TEXT NOT NULL,
    client_type TEXT NOT NULL,
    client_code TEXT NOT NULL,
    client_name TEXT NOT NULL,
    client_version TEXT NOT NULL,
    client_engine TEXT NOT NULL,
    client_engine_version TEXT NOT NULL,
    device_name TEXT NOT NULL,
    device_brand TEXT NOT NULL,
    device_model TEXT NOT NULL,
    country_code TEXT NOT NULL,
    factors TEXT NOT NULL,
    mfa_updated_at BIGINT,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users (project_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX sessions_secret ON sessions (project_id, secret_hash);
CREATE INDEX sessions_user ON sessions (project_id, user_id, created_at);

CREATE TABLE targets (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    name TEXT NOT NULL,
    provider_id TEXT,
    provider_type TEXT NOT NULL,
    identifier TEXT NOT NULL,
    expired BIGINT NOT NULL,
    session_id TEXT,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users (project_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX targets_identifier ON targets (project_id, identifier);
CREATE INDEX targets_user ON targets (project_id, user_id, created_at);

CREATE TABLE identities (
    project_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    provider TEXT NOT NULL,
    provider_uid TEXT NOT NULL,
    provider_email TEXT NOT NULL,
    provider_access_token TEXT NOT NULL,
    provider_access_token_expiry BIGINT,
    provider_refresh_token TEXT NOT NULL,
    PRIMARY KEY (project_id, id),
    FOREIGN KEY (project_id, user_id) REFERENCES users (project_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX identities_provider_uid ON identities (project_id, provider, provider_uid);
CREATE INDEX identities_user ON identities (project_id, user_id, created_at);
CREATE INDEX identities_email ON identities (project_id, provider_email);

-- Audit records outlive the user they describe, so there is no foreign key.
CREATE TABLE audit_logs (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    event TEXT NOT NULL,
    resource TEXT NOT NULL,
    user_email TEXT NOT NULL,
    user_name TEXT NOT NULL,
    mode TEXT NOT NULL,
    user_type TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    country_code TEXT NOT NULL,
    time BIGINT NOT NULL
);
CREATE INDEX audit_logs_user ON audit_logs (project_id, user_id, time);
