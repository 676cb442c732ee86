//! The delivery worker. Each cycle it reads due messages, leases each (so that of several
//! nodes on one database only one sends it), sends them concurrently and records the outcome.
//! It wakes when a rule commits a message, and at least every second for retries.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::delivery::SendError;
use crate::state::AppState;
use crate::store::OutboxRow;

/// Messages taken per cycle.
const BATCH: i64 = 32;
/// How long a leased message is left to its node before another may send it (ms).
const LEASE_MS: i64 = 120_000;
/// The longest wait between two attempts (ms).
const MAX_BACKOFF_MS: i64 = 3_600_000;
/// How often counts are logged and finished messages pruned (ms of the server clock).
const HOUSEKEEPING_MS: i64 = 60_000;

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

/// Records the outcome of one attempt.
async fn record(state: &AppState, row: &OutboxRow, outcome: Result<(), SendError>) {
    let now = state.clock.now_ms();
    let attempts = row.attempts + 1;
    let max = i64::from(state.delivery.settings.max_attempts.max(1));
    let result = match outcome {
        Ok(()) => {
            tracing::info!(id = %row.id, kind = %row.kind, channel = %row.channel, attempts, "message sent");
            state.store.mark_sent(&row.id, now).await
        }
        Err(SendError::Transient(e)) if attempts < max => {
            let next = now.saturating_add(backoff_ms(row.attempts));
            tracing::warn!(id = %row.id, kind = %row.kind, attempts, retry_in_ms = next - now, error = %e, "message not sent; will retry");
            state.store.mark_retry(&row.id, attempts, next, &e).await
        }
        Err(SendError::Transient(e) | SendError::Permanent(e)) => {
            tracing::error!(id = %row.id, kind = %row.kind, attempts, error = %e, "message given up on");
            state.store.mark_failed(&row.id, attempts, now, &e).await
        }
    };
    if let Err(e) = result {
        // The lease runs out and the message is tried again: at least once.
        tracing::error!(id = %row.id, error = %e, "could not record a delivery outcome");
    }
}

/// One pass: lease and send what is due. Returns how many messages were attempted.
pub async fn cycle(state: &Arc<AppState>) -> usize {
    let now = state.clock.now_ms();
    let due = match state.store.due_messages(now, BATCH).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "outbox: cannot read due messages");
            return 0;
        }
    };
    let mut sends = JoinSet::new();
    for row in due {
        match state
            .store
            .lease_message(&row.id, row.next_attempt_at, now.saturating_add(LEASE_MS))
            .await
        {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::error!(error = %e, "outbox: cannot lease a message");
                continue;
            }
        }
        let state = state.clone();
        sends.spawn(async move {
            let outcome = deliver(&state, &row).await;
            record(&state, &row, outcome).await;
        });
    }
    let n = sends.len();
    while sends.join_next().await.is_some() {}
    n
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
    match state.store.count_messages().await {
        Ok(c) if c.pending > 0 || c.failed > 0 => {
            tracing::info!(pending = c.pending, failed = c.failed, "outbox")
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "outbox: cannot count"),
    }
}

/// Runs the worker until `stop` turns true; a cycle in flight finishes first.
pub async fn run(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut last_housekeeping = i64::MIN;
    loop {
        cycle(&state).await;
        let now = state.clock.now_ms();
        if now.saturating_sub(last_housekeeping) >= HOUSEKEEPING_MS {
            housekeeping(&state).await;
            last_housekeeping = now;
        }
        tokio::select! {
            _ = state.outbox.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
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
