//! The password-hashing bound of `bench/run.sh`: how many Argon2id verifications a second this
//! machine can do with latchkey's default parameters, measured as cores ÷ the time of one
//! verification on one thread. W2 (sign-in) and W3 (sign-up) cannot beat it, so the bench
//! reports them as a share of it. Prints `cores seconds_per_verify bound_per_second`.

use std::time::Instant;

use latchkey::domain::hashing::{HashParams, PasswordHasher};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let hasher = PasswordHasher::new(HashParams::default())?;
    let stored = hasher.hash("bench-password-1").await?;
    // One warm-up, then one verification at a time: the pool's threads take turns, so this
    // is the time of one verification on one core.
    hasher.verify("bench-password-1", Some(&stored.phc)).await?;
    let start = Instant::now();
    for _ in 0..rounds {
        assert!(hasher.verify("bench-password-1", Some(&stored.phc)).await?);
    }
    let each = start.elapsed().as_secs_f64() / f64::from(rounds);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("{cores} {each:.6} {:.1}", cores as f64 / each);
    Ok(())
}
