//! Black-box tests: each starts a server on a free port and speaks only HTTP.
//! Set `LATCHKEY_TEST_POSTGRES_URL` to run them all on PostgreSQL instead of SQLite.

mod account;
mod alerts;
mod bounded_input;
mod breached;
mod callers;
mod concurrency;
mod delivery;
mod graphql;
mod hardening;
mod harness;
mod health;
mod identities;
mod jwt;
mod jwt_keys;
mod logs;
mod mfa;
mod nodes;
mod oauth2;
mod outbox;
mod passkeys;
mod passwordless;
mod passwords;
mod pipeline;
mod placeholders;
mod projects;
mod rate_limits;
mod recovery;
mod revocation;
mod secrets;
mod session_rules;
mod sessions;
mod targets;
mod token_rules;
mod users;
