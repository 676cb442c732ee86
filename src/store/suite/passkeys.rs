//! Passkeys and their ceremonies.

use super::*;

fn pending(id: &str, user: &str, at: i64) -> PasskeyRow {
    PasskeyRow {
        id: id.into(),
        user_id: user.into(),
        name: format!("key {id}"),
        created_at: at,
        updated_at: at,
        challenge_id: Some(format!("c-{id}")),
        ..PasskeyRow::default()
    }
}

fn verified(mut p: PasskeyRow, credential: &str) -> PasskeyRow {
    p.credential_id = Some(credential.into());
    p.credential = Some(format!(r#"{{"cred":"{credential}"}}"#));
    p.challenge_id = None;
    p
}

fn challenge(id: &str, expire: i64) -> PasskeyChallengeRow {
    PasskeyChallengeRow {
        id: id.into(),
        user_id: Some("u".into()),
        passkey_id: Some("p1".into()),
        rp_id: "localhost".into(),
        state: crate::secret::Secret::new("sealed"),
        created_at: 1,
        expire,
    }
}

#[tokio::test]
async fn passkeys_are_pending_until_verified_and_credentials_are_unique() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(
            &s,
            &[user("u", "u@example.com"), user("v", "v@example.com")],
        )
        .await;
        let mut tx = s.begin().await.unwrap();
        tx.put_pending_passkey("p", &pending("p1", "u", 10))
            .await
            .unwrap();
        tx.put_pending_passkey("p", &pending("p2", "u", 10))
            .await
            .unwrap();
        // The same user starting p1 again replaces the pending row.
        tx.put_pending_passkey("p", &pending("p1", "u", 20))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        assert!(
            matches!(
                tx.put_pending_passkey("p", &pending("p1", "v", 30)).await,
                Err(StoreError::Conflict(_))
            ),
            "{name}: another user's id"
        );
        drop(tx);
        assert_eq!(
            s.find_passkey("p", "p1").await.unwrap().unwrap().created_at,
            20
        );
        let all = ListQuery::default();
        assert_eq!(
            s.list_passkeys("p", "u", &all).await.unwrap().total,
            0,
            "{name}"
        );
        assert_eq!(
            s.count_passkeys("p", "u", 15).await.unwrap(),
            1,
            "{name}: p1 only"
        );
        assert_eq!(s.count_passkeys("p", "u", 0).await.unwrap(), 2, "{name}");

        let mut tx = s.begin().await.unwrap();
        tx.update_passkey("p", &verified(pending("p1", "u", 20), "cred-1"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        assert!(
            matches!(
                tx.update_passkey("p", &verified(pending("p2", "u", 20), "cred-1"))
                    .await,
                Err(StoreError::Conflict(_))
            ),
            "{name}: a credential belongs to one passkey"
        );
        drop(tx);
        let found = s
            .find_passkey_by_credential("p", "cred-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, verified(pending("p1", "u", 20), "cred-1"), "{name}");
        assert!(
            s.find_passkey_by_credential("other", "cred-1")
                .await
                .unwrap()
                .is_none()
        );
        let listed = s.list_passkeys("p", "u", &all).await.unwrap();
        assert_eq!(
            (listed.total, listed.rows[0].id.as_str()),
            (1, "p1"),
            "{name}"
        );

        let mut tx = s.begin().await.unwrap();
        assert!(
            !tx.delete_passkey("p", "v", "p1").await.unwrap(),
            "{name}: not v's"
        );
        assert!(tx.delete_passkey("p", "u", "p1").await.unwrap(), "{name}");
        tx.commit().await.unwrap();
        assert!(s.find_passkey("p", "p1").await.unwrap().is_none());
        // p2 is pending since 10: pruned once its ceremonies are long over.
        assert_eq!(s.prune_passkey_challenges(11).await.unwrap(), 0, "{name}");
        assert_eq!(
            s.prune_passkey_challenges(11 + 3_600_000).await.unwrap(),
            1,
            "{name}"
        );
        assert!(s.find_passkey("p", "p2").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_ceremony_is_taken_once_and_passkeys_go_with_their_user() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        tx.insert_passkey_challenge("p", &challenge("c1", 100))
            .await
            .unwrap();
        tx.insert_passkey_challenge("p", &challenge("c2", 50))
            .await
            .unwrap();
        tx.put_pending_passkey("p", &pending("p1", "u", 1))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        assert_eq!(
            tx.take_passkey_challenge("p", "c1").await.unwrap(),
            Some(challenge("c1", 100)),
            "{name}"
        );
        assert!(
            tx.take_passkey_challenge("p", "c1")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            tx.take_passkey_challenge("other", "c2")
                .await
                .unwrap()
                .is_none()
        );
        tx.commit().await.unwrap();
        assert_eq!(
            s.prune_passkey_challenges(60).await.unwrap(),
            1,
            "{name}: c2"
        );
        let mut tx = s.begin().await.unwrap();
        assert!(
            tx.take_passkey_challenge("p", "c2")
                .await
                .unwrap()
                .is_none()
        );
        tx.delete_user("p", "u").await.unwrap();
        tx.commit().await.unwrap();
        assert!(
            s.find_passkey("p", "p1").await.unwrap().is_none(),
            "{name}: cascade"
        );
    }
}
