//! `latchkey users seed`: fills a project with many users and sessions for benchmarks and
//! load tests (issue 12 measures at a million users with five sessions each). One password hash is made and shared; rows go
//! in with multi-row inserts, a few thousand users per unit of work, so an interrupted run
//! leaves whole batches and `--first` continues it.

use std::time::Instant;

use clap::Args;
use serde_json::json;

use super::{CliResult, Failure, Opened, table};
use crate::domain::users::seed::{self, Plan};
use crate::error::ErrorType;
use crate::secret::Secret;

#[derive(Args, Debug)]
pub struct SeedArgs {
    #[arg(long)]
    project: Option<String>,
    /// How many users.
    #[arg(long, default_value_t = 1000)]
    users: u64,
    /// Sessions of each user (the project's `maxSessions` is not applied).
    #[arg(long, default_value_t = 5)]
    sessions_per_user: u32,
    /// The password every seeded user gets (8 to 256 characters); better given as the env
    /// name, which `ps` and shell history do not show.
    #[arg(long, env = "LATCHKEY_SEED_PASSWORD", hide_env_values = true, value_parser = crate::secret::parse_arg)]
    password: Secret,
    /// Users are `seed-<n>@<domain>`.
    #[arg(long, default_value = "seed.example.com")]
    email_domain: String,
    /// The number of the first user: continue an earlier run with its count.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Users per unit of work.
    #[arg(long, default_value_t = 5000)]
    batch: u64,
}

/// Most sessions a seeded user may get: a user's session list is capped at 1000 anyway.
const MAX_SESSIONS_PER_USER: u32 = 1000;
/// Most users × sessions one batch builds in memory (a session row is about 1 KB).
const MAX_ROWS_PER_BATCH: u64 = 1_000_000;

pub async fn run(o: &Opened, a: SeedArgs) -> CliResult {
    let project = o.project(a.project.as_deref())?;
    let limit = project.settings.auth.limit;
    if limit > 0 {
        return Err(Failure::bad_input(format!(
            "project `{}` allows at most {limit} users (auth.limit) and seeding does not check it: seed a project without a user limit",
            project.id
        )));
    }
    // Sign-in's own length rule (in bytes), or a seeded user could never sign in.
    crate::domain::passwords::check_plain_length(a.password.expose()).map_err(|why| {
        Failure::bad_input(format!("--password (or LATCHKEY_SEED_PASSWORD): {why}"))
    })?;
    if a.users == 0
        || a.sessions_per_user > MAX_SESSIONS_PER_USER
        || a.batch == 0
        || a.batch
            .saturating_mul(u64::from(a.sessions_per_user).max(1))
            > MAX_ROWS_PER_BATCH
    {
        return Err(Failure::bad_input(format!(
            "--users must be at least 1, --sessions-per-user at most {MAX_SESSIONS_PER_USER}, and --batch × --sessions-per-user 1 to {MAX_ROWS_PER_BATCH} (a batch is built in memory)"
        )));
    }
    let Some(last) = a.first.checked_add(a.users - 1) else {
        return Err(Failure::bad_input("--first + --users is too large"));
    };
    // Stored as sign-in looks emails up: lower case, no spaces around.
    let domain = a.email_domain.trim().to_lowercase();
    // The route's own email rule, on the first and the longest address seeded.
    for n in [a.first, last] {
        crate::domain::validate::email(&seed::email_of(n, &domain)).map_err(|why| {
            Failure::bad_input(format!(
                "--email-domain `{}` does not make valid emails: {why}",
                a.email_domain
            ))
        })?;
    }
    let env = o.env(&project);
    let password = o
        .state
        .hasher
        .hash(a.password.expose())
        .await
        .map_err(|e| Failure::failed(format!("hashing the password: {e:#}")))?;

    let bar = if o.json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(a.users)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} users ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut done = 0u64;
    while done < a.users {
        let count = a.batch.min(a.users - done);
        let plan = Plan {
            first: a.first + done,
            count,
            domain: &domain,
            sessions_per_user: a.sessions_per_user,
            password: &password,
        };
        let rows = seed::batch(&env, &plan).map_err(|e| {
            Failure::bad_input(format!(
                "--email-domain `{}`: {}",
                a.email_domain,
                e.message()
            ))
        })?;
        seed::write(&env, &rows).await.map_err(|e| {
            let from = seed::email_of(a.first + done, &domain);
            let kept = format!("the {done} users before {from} were written, the rest not");
            if e.ty == ErrorType::UserAlreadyExists {
                Failure::failed(format!(
                    "some of these users exist already ({kept}): pass a --first past them or another --email-domain"
                ))
            } else {
                // An internal error's cause (a locked or unreachable database) is its source.
                let cause = e.source.as_ref().map(|s| format!(": {s:#}")).unwrap_or_default();
                Failure::failed(format!("{}{cause} ({kept})", e.message()))
            }
        })?;
        done += count;
        bar.inc(count);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let sessions = a.users * u64::from(a.sessions_per_user);
    let report = json!({
        "users": a.users,
        "sessions": sessions,
        "seconds": (seconds * 10.0).round() / 10.0,
        "firstEmail": seed::email_of(a.first, &domain),
        "lastEmail": seed::email_of(last, &domain),
    });
    o.print(&report, || {
        table::render(
            &["USERS", "SESSIONS", "SECONDS", "USERS/S", "EMAILS"],
            &[vec![
                a.users.to_string(),
                sessions.to_string(),
                format!("{seconds:.1}"),
                format!("{:.0}", a.users as f64 / seconds.max(0.001)),
                format!(
                    "{} … {}",
                    seed::email_of(a.first, &domain),
                    seed::email_of(last, &domain)
                ),
            ]],
        )
    });
    Ok(())
}
