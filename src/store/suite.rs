//! Store tests that run on in-memory SQLite, and on PostgreSQL too when
//! `LATCHKEY_TEST_POSTGRES_URL` names a server (each test gets its own database).
