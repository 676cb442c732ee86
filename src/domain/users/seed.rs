//! `latchkey users seed`: many users for benchmarks and load tests, each written as sign-up
//! and sign-in write them (the user with its email metadata, an email target, sessions with a
//! client and an expiry), but all sharing one password hash made once: hashing a million
//! passwords with Argon2 would take hours. Projects' email policies and user limits are not
//! applied; the CLI refuses a project with a user limit.

use crate::domain::Env;
use crate::domain::accounts::{messaging_target, new_user, set_email, set_password};
use crate::domain::hashing::StoredPassword;
use crate::domain::ids::unique_id;
use crate::domain::sessions;
use crate::error::{ErrorType, Result};
use crate::store::{SessionRow, TargetRow, UserRow};

/// The email of seeded user number `n` (0-based) under `domain`: what a benchmark signs in
/// with.
pub fn email_of(n: u64, domain: &str) -> String {
    format!("seed-{n}@{domain}")
}

/// One unit of work's worth of seeded rows.
#[derive(Default)]
pub struct Batch {
    pub users: Vec<UserRow>,
    pub targets: Vec<TargetRow>,
    pub sessions: Vec<SessionRow>,
}

/// What to seed: users `first..first + count`, each with `sessions_per_user` sessions.
pub struct Plan<'a> {
    pub first: u64,
    pub count: u64,
    pub domain: &'a str,
    pub sessions_per_user: u32,
    pub password: &'a StoredPassword,
}

/// The rows of users `plan.first..plan.first + plan.count`.
pub fn batch(env: &Env<'_>, plan: &Plan<'_>) -> Result<Batch> {
    let now = env.now();
    let history = env.project.settings.auth.password_history;
    let mut out = Batch::default();
    for n in plan.first..plan.first + plan.count {
        let email = email_of(n, plan.domain);
        let mut user = new_user(unique_id(), now);
        set_email(&mut user, &email)?;
        set_password(&mut user, plan.password.clone(), None, history, now);
        out.targets
            .push(messaging_target(&user.id, "email", &email, now));
        for _ in 0..plan.sessions_per_user {
            // The secret is dropped: a seeded session exists for the table's size only.
            let s = sessions::build(env, &user.id, "email", &email, &["password"]);
            out.sessions.push(s.session);
        }
        out.users.push(user);
    }
    Ok(out)
}

/// Writes a batch in one unit of work: all of it or none.
pub async fn write(env: &Env<'_>, batch: &Batch) -> Result<()> {
    let mut tx = env.begin().await?;
    tx.insert_users(env.pid(), &batch.users)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
    tx.insert_targets(env.pid(), &batch.targets)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserAlreadyExists))?;
    tx.insert_sessions(env.pid(), &batch.sessions).await?;
    tx.commit().await?;
    Ok(())
}
