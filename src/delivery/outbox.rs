//! The outbox's two ends: [`Outbox`], through which rules seal what they queue and ring for
//! the worker, and the delivery worker ([`run`]), which runs on every node. The worker claims
//! due messages with a lease in one statement (nodes on one database claim disjoint rows, so
//! each message is sent by one node), sends up to [`MAX_IN_FLIGHT`] at once,
//! and records each outcome under its lease. It wakes when a rule commits a message, and at
//! least every second for retries.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::delivery::SendError;
use crate::domain::messages::{Message, Postbox};
use crate::seal::Sealer;
use crate::secret::Secret;
use crate::state::AppState;
use crate::store::OutboxRow;

/// Messages being sent at once by one node.
pub const MAX_IN_FLIGHT: usize = 32;
/// How long a leased message is left to its node before another may send it (ms).
const LEASE_MS: i64 = 120_000;
/// How long one send may take before it counts as failed: inside the lease, and long enough
/// that lettre's own 10 s per SMTP command ends a stuck exchange first (cancelling one
/// mid-exchange could return a confused connection to its pool).
const SEND_TIMEOUT: Duration = Duration::from_secs(110);
/// The longest wait between two attempts (ms).
const MAX_BACKOFF_MS: i64 = 3_600_000;
/// How often counts are logged and finished messages and expired tokens pruned (ms of the
/// server clock).
const HOUSEKEEPING_MS: i64 = 60_000;

/// Seals payloads with a key derived from the instance key, and wakes the worker.
pub struct Outbox {
    sealer: Sealer,
    wake: tokio::sync::Notify,
}

impl Outbox {
    pub fn new(instance_key: &Secret) -> Self {
        Outbox {
            sealer: Sealer::new(instance_key, "outbox"),
            wake: tokio::sync::Notify::new(),
        }
    }

    /// Opens a stored payload; `None` if it was not sealed by this instance's key for this row.
    pub fn open(&self, row: &OutboxRow) -> Option<Message> {
        let sealed = row.payload.as_ref()?;
        let plain = self.sealer.open(&row.id, sealed.expose())?;
        serde_json::from_slice(&plain).ok()
    }

    async fn notified(&self) {
        self.wake.notified().await;
    }
}

impl Postbox for Outbox {
    fn seal(&self, id: &str, plain: &[u8]) -> String {
        self.sealer.seal(id, plain)
    }

    fn notify(&self) {
        self.wake.notify_one();
    }
}

/// The wait before attempt `attempts + 1`: 1 s, 2 s, 4 s … up to an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(0, 22)).unwrap_or(22);
    (1000i64 << exp).min(MAX_BACKOFF_MS)
}

/// Sends one message; the error says whether to try again.
async fn deliver(state: &AppState, row: &OutboxRow) -> Result<(), SendError> {
    let Some(message) = state.outbox.open(row) else {
        return Err(SendError::Permanent(
            "the payload does not open with this instance key".into(),
        ));
    };
    let d = &state.delivery;
    match message.channel() {
        "sms" => {
            let body = d
                .templates
                .render_sms(&message)
                .map_err(|e| SendError::Permanent(format!("template: {e}")))?;
            let Some(sms) = d.sms_for(&row.project_id) else {
                return Err(SendError::Transient(
                    "no SMS provider is configured for the project".into(),
                ));
            };
            sms.send(&message.to, &body).await
        }
        _ => {
            let rendered = d
                .templates
                .render_email(&message)
                .map_err(|e| SendError::Permanent(format!("template: {e}")))?;
            let Some(smtp) = d.email_for(&row.project_id) else {
                return Err(SendError::Transient(
                    "no SMTP server is configured for the project".into(),
                ));
            };
            smtp.send(&row.id, &message.to, &message.to_name, &rendered)
                .await
        }
    }
}

/// Records the outcome of the attempt made under `lease` (the claimed row's `attempts`
/// already counts it).
async fn record(state: &AppState, row: &OutboxRow, lease: i64, outcome: Result<(), SendError>) {
    let now = state.clock.now_ms();
    let attempts = row.attempts;
    let max = i64::from(state.delivery.settings.max_attempts.max(1));
    let expired = row.expires_at.is_some_and(|e| e < now);
    let result = match outcome {
        Ok(()) => {
            tracing::info!(id = %row.id, kind = %row.kind, channel = %row.channel, attempts, "message sent");
            state.store.mark_sent(&row.id, lease, now).await
        }
        Err(SendError::Transient(e)) if attempts < max && !expired => {
            let next = now.saturating_add(backoff_ms(attempts - 1));
            tracing::warn!(id = %row.id, kind = %row.kind, attempts, retry_in_ms = next - now, error = %e, "message not sent; will retry");
            state.store.mark_retry(&row.id, lease, next, &e).await
        }
        Err(SendError::Transient(e)) if expired => {
            let e = format!("{e}; its token has expired since");
            tracing::error!(id = %row.id, kind = %row.kind, attempts, error = %e, "message given up on");
            state.store.mark_failed(&row.id, lease, now, &e).await
        }
        Err(SendError::Transient(e) | SendError::Permanent(e)) => {
            tracing::error!(id = %row.id, kind = %row.kind, attempts, error = %e, "message given up on");
            state.store.mark_failed(&row.id, lease, now, &e).await
        }
    };
    match result {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            id = %row.id,
            "the lease ran out before the outcome was recorded; another attempt may follow"
        ),
        // The lease runs out and the message is tried again: at least once.
        Err(e) => tracing::error!(id = %row.id, error = %e, "could not record a delivery outcome"),
    }
}

/// Claims what is due and starts sending it, keeping at most [`MAX_IN_FLIGHT`] sends in
/// `sends`. Returns how many sends it started.
pub async fn cycle(state: &Arc<AppState>, sends: &mut JoinSet<()>) -> usize {
    while let Some(done) = sends.try_join_next() {
        log_panic(done);
    }
    let room = MAX_IN_FLIGHT.saturating_sub(sends.len());
    if room == 0 {
        return 0;
    }
    let now = state.clock.now_ms();
    let lease = now.saturating_add(LEASE_MS);
    let claimed = match state.store.claim_messages(now, lease, room as i64).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "outbox: cannot claim due messages");
            return 0;
        }
    };
    let max = i64::from(state.delivery.settings.max_attempts.max(1));
    let started = claimed.len();
    for row in claimed {
        let state = state.clone();
        sends.spawn(async move {
            // A node that died mid-send left its attempt counted: past the limit, stop.
            // (`record` reports this claim's attempt number, one past the limit.)
            let outcome = if row.attempts > max {
                Err(SendError::Permanent(format!(
                    "{} attempts made, the last one never finished",
                    row.attempts - 1
                )))
            } else if row.expires_at.is_some_and(|e| e < now) {
                Err(SendError::Permanent(
                    "not sent before its token expired".into(),
                ))
            } else {
                match tokio::time::timeout(SEND_TIMEOUT, deliver(&state, &row)).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(SendError::Transient("the send timed out".into())),
                }
            };
            record(&state, &row, lease, outcome).await;
        });
    }
    started
}

/// A send that panicked is logged; its lease runs out and it is tried again.
fn log_panic(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        tracing::error!(error = %e, "a message send panicked");
    }
}

async fn housekeeping(state: &AppState) {
    let now = state.clock.now_ms();
    let retention = crate::domain::time::seconds_to_ms(state.delivery.settings.retention);
    match state
        .store
        .prune_messages(now.saturating_sub(retention))
        .await
    {
        Ok(n) if n > 0 => tracing::info!(deleted = n, "outbox: pruned finished messages"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "outbox: cannot prune"),
    }
    if let Err(e) = state.store.prune_tokens(now).await {
        tracing::error!(error = %e, "cannot prune expired tokens");
    }
    let retired_before = now - crate::domain::jwt_keys::RETIRED_KEY_GRACE_MS;
    if let Err(e) = state.store.prune_jwt_keys(retired_before).await {
        tracing::error!(error = %e, "cannot prune retired JWT signing keys");
    }
    if let Err(e) = state.store.prune_refresh_tokens(now).await {
        tracing::error!(error = %e, "cannot prune expired JWT refresh tokens");
    }
    if let Err(e) = state.store.prune_passkey_challenges(now).await {
        tracing::error!(error = %e, "cannot prune expired passkey ceremonies");
    }
    if let Err(e) = state.store.prune_challenges(now).await {
        tracing::error!(error = %e, "cannot prune expired MFA challenges");
    }
    match state.store.count_messages().await {
        Ok(c) if c.pending > 0 || c.failed > 0 => {
            tracing::info!(pending = c.pending, failed = c.failed, "outbox")
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "outbox: cannot count"),
    }
}

/// Runs the worker until `stop` turns true, then gives sends in flight 15 s to finish (what
/// they do not finish is sent again once its lease ends).
pub async fn run(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut sends = JoinSet::new();
    let mut last_housekeeping = i64::MIN;
    loop {
        cycle(&state, &mut sends).await;
        let now = state.clock.now_ms();
        if now.saturating_sub(last_housekeeping) >= HOUSEKEEPING_MS {
            housekeeping(&state).await;
            last_housekeeping = now;
        }
        tokio::select! {
            _ = state.outbox.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            Some(done) = sends.join_next(), if !sends.is_empty() => log_panic(done),
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
        if *stop.borrow() {
            break;
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(done) = sends.join_next().await {
            log_panic(done);
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_a_second_to_an_hour() {
        assert_eq!(backoff_ms(0), 1000);
        assert_eq!(backoff_ms(1), 2000);
        assert_eq!(backoff_ms(5), 32_000);
        assert_eq!(backoff_ms(12), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(1000), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(-3), 1000);
    }
}
