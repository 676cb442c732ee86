//! Tokens and the outbox: a token and its message land together, a token is consumed once,
//! and the outbox claims, retries, finishes and prunes messages.

use super::*;
use crate::secret::Secret;

fn token(id: &str, user: &str, hash: &str, expire: i64) -> TokenRow {
    TokenRow {
        id: id.into(),
        user_id: user.into(),
        created_at: 1,
        kind: 3,
        secret_hash: Secret::new(hash),
        expire,
    }
}

fn message(id: &str, next: i64) -> OutboxRow {
    OutboxRow {
        id: id.into(),
        project_id: "p".into(),
        channel: "email".into(),
        kind: "recovery".into(),
        created_at: next,
        status: "pending".into(),
        next_attempt_at: next,
        payload: Some(Secret::new("sealed")),
        ..OutboxRow::default()
    }
}

#[tokio::test]
async fn a_token_and_its_message_land_together_or_not_at_all() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        tx.insert_token("p", &token("t1", "u", "h1", 10))
            .await
            .unwrap();
        tx.enqueue_message(&message("m1", 5)).await.unwrap();
        drop(tx);
        assert!(
            s.find_tokens_by_secret_hash("p", "u", "h1")
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        assert!(s.find_message("m1").await.unwrap().is_none(), "{name}");

        let mut tx = s.begin().await.unwrap();
        tx.insert_token("p", &token("t1", "u", "h1", 10))
            .await
            .unwrap();
        tx.insert_token("p", &token("t2", "u", "h2", 10))
            .await
            .unwrap();
        tx.enqueue_message(&message("m1", 5)).await.unwrap();
        tx.commit().await.unwrap();
        let found = s.find_tokens_by_secret_hash("p", "u", "h1").await.unwrap();
        assert_eq!(found, vec![token("t1", "u", "h1", 10)], "{name}");
        assert!(
            s.find_tokens_by_secret_hash("p", "other", "h1")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            s.find_tokens_by_secret_hash("q", "u", "h1")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            s.find_message("m1").await.unwrap(),
            Some(message("m1", 5)),
            "{name}"
        );

        let mut tx = s.begin().await.unwrap();
        assert!(tx.delete_token("p", "t1").await.unwrap(), "{name}");
        assert!(
            !tx.delete_token("p", "t1").await.unwrap(),
            "{name}: consumed once"
        );
        tx.commit().await.unwrap();
        assert!(
            s.find_tokens_by_secret_hash("p", "u", "h1")
                .await
                .unwrap()
                .is_empty()
        );

        // Guesses count against the user's tokens of the named types; past the limit
        // they go. Other types are untouched.
        let mut tx = s.begin().await.unwrap();
        tx.insert_token(
            "p",
            &TokenRow {
                kind: 9,
                ..token("t3", "u", "h3", 10)
            },
        )
        .await
        .unwrap();
        for _ in 0..3 {
            tx.record_failed_attempt("p", "u", &[9, 6], 3)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        assert_eq!(
            s.find_tokens_by_secret_hash("p", "u", "h3")
                .await
                .unwrap()
                .len(),
            1,
            "{name}: three guesses are within a limit of three"
        );
        // A guess counted and rolled back (it was right) leaves the count as it was.
        let mut tx = s.begin().await.unwrap();
        tx.record_failed_attempt("p", "u", &[9], 3).await.unwrap();
        assert!(
            tx.find_tokens_by_secret_hash("p", "u", "h3")
                .await
                .unwrap()
                .is_empty(),
            "{name}: the fourth is over"
        );
        drop(tx);
        assert_eq!(
            s.find_tokens_by_secret_hash("p", "u", "h3")
                .await
                .unwrap()
                .len(),
            1,
            "{name}: rolled back"
        );
        let mut tx = s.begin().await.unwrap();
        tx.record_failed_attempt("p", "u", &[9], 3).await.unwrap();
        tx.commit().await.unwrap();
        assert!(
            s.find_tokens_by_secret_hash("p", "u", "h3")
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        assert_eq!(
            s.find_tokens_by_secret_hash("p", "u", "h2")
                .await
                .unwrap()
                .len(),
            1,
            "{name}: type 3 untouched"
        );

        let mut tx = s.begin().await.unwrap();
        assert_eq!(tx.delete_user_tokens("p", "u", &[2, 5]).await.unwrap(), 0);
        assert_eq!(
            tx.delete_user_tokens("p", "u", &[3]).await.unwrap(),
            1,
            "{name}"
        );
        tx.insert_token("p", &token("t4", "u", "h4", 10))
            .await
            .unwrap();
        tx.insert_token("p", &token("t5", "u", "h5", 20))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            s.prune_tokens(11).await.unwrap(),
            1,
            "{name}: only t4 expired before 11"
        );

        // Deleting the user takes its tokens and its queued messages with it, not others'.
        let mut tx = s.begin().await.unwrap();
        let mut mine = message("mine", 1);
        mine.user_id = Some("u".into());
        let mut theirs = message("theirs", 1);
        theirs.user_id = Some("someone-else".into());
        tx.enqueue_message(&mine).await.unwrap();
        tx.enqueue_message(&theirs).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        assert!(tx.delete_user("p", "u").await.unwrap(), "{name}");
        tx.commit().await.unwrap();
        assert!(
            s.find_tokens_by_secret_hash("p", "u", "h5")
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        assert!(s.find_message("mine").await.unwrap().is_none(), "{name}");
        assert!(s.find_message("theirs").await.unwrap().is_some(), "{name}");
        let mut tx = s.begin().await.unwrap();
        assert!(
            !tx.delete_user("p", "u").await.unwrap(),
            "{name}: gone already"
        );
    }
}

#[tokio::test]
async fn the_outbox_leases_retries_finishes_and_prunes_messages() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        let mut tx = s.begin().await.unwrap();
        for (id, next) in [("a", 10), ("b", 20), ("c", 30)] {
            tx.enqueue_message(&message(id, next)).await.unwrap();
        }
        tx.commit().await.unwrap();
        let due: Vec<String> = s
            .due_messages(20, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(due, ["a", "b"], "{name}");
        assert_eq!(
            s.due_messages(30, 1).await.unwrap().len(),
            1,
            "{name}: limit"
        );

        // A claim takes what is due at 20, oldest first, leases it until 100 and counts the
        // attempt; a second claim at the same time finds nothing left.
        let claimed = s.claim_messages(20, 100, 10).await.unwrap();
        assert_eq!(
            claimed
                .iter()
                .map(|m| (m.id.as_str(), m.attempts, m.next_attempt_at))
                .collect::<Vec<_>>(),
            [("a", 1, 100), ("b", 1, 100)],
            "{name}"
        );
        assert!(s.claim_messages(20, 100, 10).await.unwrap().is_empty());
        assert!(
            s.due_messages(99, 10)
                .await
                .unwrap()
                .iter()
                .all(|m| m.id != "a" && m.id != "b")
        );
        assert_eq!(s.find_message("a").await.unwrap().unwrap().attempts, 1);
        // An outcome recorded under a lease that is no longer the row's is ignored.
        s.mark_sent("a", 99, 50).await.unwrap();
        assert_eq!(
            s.find_message("a").await.unwrap().unwrap().status,
            "pending",
            "{name}"
        );
        s.mark_sent("a", 100, 50).await.unwrap();
        let a = s.find_message("a").await.unwrap().unwrap();
        assert_eq!(
            (a.status.as_str(), a.payload, a.done_at, a.attempts),
            ("sent", None, Some(50), 1)
        );
        s.mark_failed("a", 100, 60, "late").await.unwrap();
        assert_eq!(
            s.find_message("a").await.unwrap().unwrap().status,
            "sent",
            "{name}: a sent message stays sent"
        );

        s.mark_retry("b", 100, 200, "connection refused")
            .await
            .unwrap();
        let b = s.find_message("b").await.unwrap().unwrap();
        assert_eq!(
            (b.attempts, b.next_attempt_at, b.last_error.as_str()),
            (1, 200, "connection refused")
        );
        assert!(
            b.payload.is_some(),
            "{name}: a retried message keeps its payload"
        );

        let claimed = s.claim_messages(30, 160, 1).await.unwrap();
        assert_eq!(claimed.len(), 1, "{name}: the limit");
        assert_eq!(claimed[0].id, "c", "{name}: `b` waits until 200");
        s.mark_failed("c", 160, 60, "550 mailbox unavailable")
            .await
            .unwrap();
        let c = s.find_message("c").await.unwrap().unwrap();
        assert_eq!((c.status.as_str(), c.payload), ("failed", None), "{name}");
        assert_eq!(
            s.count_messages().await.unwrap(),
            OutboxCounts {
                pending: 1,
                failed: 1
            }
        );

        assert_eq!(
            s.prune_messages(55).await.unwrap(),
            1,
            "{name}: only `a` finished before 55"
        );
        assert_eq!(
            s.prune_messages(1000).await.unwrap(),
            1,
            "{name}: then `c`; `b` is pending"
        );
        assert!(s.find_message("b").await.unwrap().is_some());
    }
}

#[tokio::test]
async fn nodes_claiming_at_once_never_get_the_same_message() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        let mut tx = s.begin().await.unwrap();
        for i in 0..120 {
            tx.enqueue_message(&message(&format!("m{i:03}"), i))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        // Six claimers at once, each taking up to 7 per claim until nothing is left, as the
        // workers of six nodes on one database would.
        let claimers = (0..6).map(|node| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = s.claim_messages(1000, 5000 + node, 7).await.unwrap();
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|m| (m.id, m.attempts)));
                }
            })
        });
        let mut all = Vec::new();
        for c in claimers {
            all.extend(c.await.unwrap());
        }
        assert_eq!(all.len(), 120, "{name}: each message claimed once");
        assert!(all.iter().all(|(_, attempts)| *attempts == 1), "{name}");
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 120, "{name}: no message claimed twice");
    }
}

/// PostgreSQL only (SQLite has one writer): a node claiming while another node's claim holds
/// some due rows takes the next ones at once, neither waiting for the held rows nor taking them.
#[tokio::test]
async fn a_claim_passes_over_rows_another_node_is_claiming() {
    use sqlx::Connection;
    let Some(url) = postgres_database().await else {
        return;
    };
    let s = open_node(&url).await.unwrap();
    let mut tx = s.begin().await.unwrap();
    for i in 0..6 {
        tx.enqueue_message(&message(&format!("m{i}"), i))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // The other node's claim, caught holding the three oldest rows.
    let mut other = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("BEGIN; SELECT id FROM outbox WHERE id IN ('m0', 'm1', 'm2') FOR UPDATE")
        .execute(&mut other)
        .await
        .unwrap();
    let claimed = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        s.claim_messages(100, 500, 10),
    )
    .await
    .expect("the claim waited for the other node's rows")
    .unwrap();
    let ids: Vec<&str> = claimed.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m3", "m4", "m5"]);
    sqlx::raw_sql("ROLLBACK").execute(&mut other).await.unwrap();
    let rest = s.claim_messages(100, 500, 10).await.unwrap();
    assert_eq!(rest.len(), 3, "the released rows are claimable again");
}

#[tokio::test]
async fn a_unit_of_work_reads_its_own_writes_without_a_second_connection() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        let mut tx = s.begin().await.unwrap();
        let mut u = user("u", "u@example.com");
        u.phone = Some("+16505550100".into());
        tx.insert_user("p", &u).await.unwrap();
        assert_eq!(
            tx.find_user_by_email("p", "u@example.com")
                .await
                .unwrap()
                .map(|u| u.id),
            Some("u".into()),
            "{name}"
        );
        assert_eq!(
            tx.find_user_by_phone("p", "+16505550100")
                .await
                .unwrap()
                .map(|u| u.id),
            Some("u".into()),
            "{name}"
        );
        assert!(
            tx.find_user_by_email("q", "u@example.com")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(tx.count_sessions("p", "u").await.unwrap(), 0);
        tx.insert_identity(
            "p",
            &IdentityRow {
                id: "i".into(),
                user_id: "u".into(),
                provider: "github".into(),
                provider_uid: "1".into(),
                provider_email: "gh@example.com".into(),
                ..IdentityRow::default()
            },
        )
        .await
        .unwrap();
        assert!(
            tx.identity_email_taken("p", "gh@example.com", None)
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !tx.identity_email_taken("p", "gh@example.com", Some("u"))
                .await
                .unwrap(),
            "{name}"
        );
        // On in-memory SQLite this read would wait for the writer this unit holds.
        tx.commit().await.unwrap();
        assert!(
            s.find_user_by_phone("p", "+16505550100")
                .await
                .unwrap()
                .is_some()
        );
    }
}
