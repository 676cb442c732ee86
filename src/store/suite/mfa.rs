//! MFA: authenticators, challenges, recovery codes, session factors, and their going with the
//! user.

use super::*;
use crate::secret::Secret;

fn authenticator(id: &str) -> AuthenticatorRow {
    AuthenticatorRow {
        id: id.into(),
        user_id: "u".into(),
        kind: "totp".into(),
        secret: Secret::new("sealed-secret"),
        created_at: 1,
        updated_at: 1,
        ..AuthenticatorRow::default()
    }
}

fn challenge(id: &str, expire: i64) -> ChallengeRow {
    ChallengeRow {
        id: id.into(),
        user_id: "u".into(),
        kind: "email".into(),
        code: Some(Secret::new("sealed-code")),
        created_at: 1,
        expire,
        ..ChallengeRow::default()
    }
}

#[tokio::test]
async fn one_authenticator_per_type_is_stored_updated_and_deleted() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        tx.insert_authenticator("p", &authenticator("a1"))
            .await
            .unwrap();
        assert!(
            matches!(
                tx.insert_authenticator("p", &authenticator("a2")).await,
                Err(StoreError::Conflict(_))
            ),
            "{name}: one totp per user"
        );
        drop(tx);
        let mut tx = s.begin().await.unwrap();
        tx.insert_authenticator("p", &authenticator("a1"))
            .await
            .unwrap();
        let mut a = tx
            .lock_authenticator("p", "u", "totp")
            .await
            .unwrap()
            .unwrap();
        a.verified = true;
        a.last_step = 42;
        a.updated_at = 7;
        tx.update_authenticator("p", &a).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            s.find_authenticator("p", "u", "totp").await.unwrap(),
            Some(a),
            "{name}"
        );
        assert_eq!(s.find_authenticator("p", "u", "sms").await.unwrap(), None);
        let mut tx = s.begin().await.unwrap();
        assert!(tx.delete_authenticator("p", "u", "totp").await.unwrap());
        assert!(!tx.delete_authenticator("p", "u", "totp").await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(s.find_authenticator("p", "u", "totp").await.unwrap(), None);
    }
}

#[tokio::test]
async fn challenges_count_wrong_answers_and_expired_ones_are_pruned() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        tx.insert_challenge("p", &challenge("c1", 100))
            .await
            .unwrap();
        tx.insert_challenge("p", &challenge("c2", 300))
            .await
            .unwrap();
        let mut totp = challenge("c3", 300);
        totp.kind = "totp".into();
        totp.code = None;
        tx.insert_challenge("p", &totp).await.unwrap();
        tx.bump_challenge_attempts("p", "c2").await.unwrap();
        tx.bump_challenge_attempts("p", "c2").await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        let c2 = tx.lock_challenge("p", "c2").await.unwrap().unwrap();
        assert_eq!(c2.attempts, 2, "{name}");
        assert_eq!(
            c2.code.as_ref().map(|c| c.expose().to_owned()).as_deref(),
            Some("sealed-code")
        );
        assert!(tx.lock_challenge("p", "nope").await.unwrap().is_none());
        drop(tx);
        assert_eq!(
            s.find_challenge("p", "c3").await.unwrap(),
            Some(totp),
            "{name}"
        );
        assert_eq!(s.prune_challenges(200).await.unwrap(), 1, "{name}");
        assert!(s.find_challenge("p", "c1").await.unwrap().is_none());
        let mut tx = s.begin().await.unwrap();
        assert!(tx.delete_challenge("p", "c2").await.unwrap());
        assert!(!tx.delete_challenge("p", "c2").await.unwrap());
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn recovery_codes_are_replaced_and_session_factors_set() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        assert!(tx.lock_recovery_codes("p", "u").await.unwrap().is_none());
        tx.put_recovery_codes("p", "u", &Secret::new("first"), 1)
            .await
            .unwrap();
        tx.put_recovery_codes("p", "u", &Secret::new("second"), 2)
            .await
            .unwrap();
        tx.insert_session("p", &session("s1", "u", 1))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let codes = s.find_recovery_codes("p", "u").await.unwrap().unwrap();
        assert_eq!(codes.expose(), "second", "{name}");

        let mut tx = s.begin().await.unwrap();
        let locked = tx.lock_session("p", "u", "s1").await.unwrap().unwrap();
        assert_eq!(locked.factors, "[]");
        assert!(tx.lock_session("p", "other", "s1").await.unwrap().is_none());
        assert!(
            tx.update_session_factors("p", "u", "s1", r#"["password","totp"]"#, Some(9), 9)
                .await
                .unwrap()
        );
        assert!(
            !tx.update_session_factors("p", "u", "nope", "[]", None, 9)
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        let s1 = s.find_session("p", "u", "s1").await.unwrap().unwrap();
        assert_eq!(s1.factors, r#"["password","totp"]"#, "{name}");
        assert_eq!((s1.mfa_updated_at, s1.updated_at), (Some(9), 9));
    }
}

#[tokio::test]
async fn mfa_rows_go_with_their_user() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        tx.insert_authenticator("p", &authenticator("a1"))
            .await
            .unwrap();
        tx.insert_challenge("p", &challenge("c1", 100))
            .await
            .unwrap();
        tx.put_recovery_codes("p", "u", &Secret::new("codes"), 1)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        tx.delete_user("p", "u").await.unwrap();
        tx.commit().await.unwrap();
        assert!(
            s.find_authenticator("p", "u", "totp")
                .await
                .unwrap()
                .is_none(),
            "{name}"
        );
        assert!(
            s.find_challenge("p", "c1").await.unwrap().is_none(),
            "{name}"
        );
        assert!(
            s.find_recovery_codes("p", "u").await.unwrap().is_none(),
            "{name}"
        );
    }
}
