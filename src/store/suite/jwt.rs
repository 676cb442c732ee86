//! JWT signing keys and refresh tokens.

use super::*;

fn key(id: &str, at: i64) -> JwtKeyRow {
    JwtKeyRow {
        id: id.into(),
        alg: "EdDSA".into(),
        private_key: format!("sealed-{id}"),
        public_jwk: format!(r#"{{"kid":"{id}"}}"#),
        created_at: at,
        retired_at: None,
    }
}

fn refresh(id: &str, family: &str, session: &str, hash: &str) -> RefreshTokenRow {
    RefreshTokenRow {
        id: id.into(),
        family_id: family.into(),
        user_id: "u".into(),
        session_id: session.into(),
        secret_hash: crate::secret::Secret::new(hash),
        duration: 60,
        created_at: 1,
        spent_at: None,
        expire: 1000,
    }
}

#[tokio::test]
async fn a_project_has_one_signing_key_and_retired_ones_stay_listed() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        let mut tx = s.begin().await.unwrap();
        tx.insert_jwt_key("p", &key("k1", 10)).await.unwrap();
        tx.commit().await.unwrap();
        // A second node's first key loses to the unique index and writes nothing.
        let mut tx = s.begin().await.unwrap();
        assert!(
            matches!(
                tx.insert_jwt_key("p", &key("k2", 11)).await,
                Err(StoreError::Conflict(_))
            ),
            "{name}"
        );
        drop(tx);
        let mut tx = s.begin().await.unwrap();
        assert!(tx.retire_jwt_key("p", 20).await.unwrap(), "{name}");
        tx.insert_jwt_key("p", &key("k3", 21)).await.unwrap();
        tx.insert_jwt_key("other", &key("k1", 5)).await.unwrap();
        tx.commit().await.unwrap();
        let keys = s.list_jwt_keys("p").await.unwrap();
        let seen: Vec<(&str, Option<i64>)> =
            keys.iter().map(|k| (k.id.as_str(), k.retired_at)).collect();
        assert_eq!(
            seen,
            [("k3", None), ("k1", Some(20))],
            "{name}: newest first"
        );
        assert_eq!(keys[0].private_key, "sealed-k3", "{name}");
        assert_eq!(s.list_jwt_keys("other").await.unwrap().len(), 1, "{name}");
        // Retired keys go once they verify nothing; signing ones never.
        assert_eq!(s.prune_jwt_keys(20).await.unwrap(), 0, "{name}");
        assert_eq!(s.prune_jwt_keys(21).await.unwrap(), 1, "{name}");
        let left: Vec<String> = s
            .list_jwt_keys("p")
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.id)
            .collect();
        assert_eq!(left, ["k3"], "{name}");
    }
}

#[tokio::test]
async fn refresh_tokens_are_spent_once_revoked_by_family_and_go_with_their_session() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        tx.insert_session("p", &session("s1", "u", 1))
            .await
            .unwrap();
        tx.insert_session("p", &session("s2", "u", 2))
            .await
            .unwrap();
        tx.insert_refresh_token("p", &refresh("r1", "f1", "s1", "h1"))
            .await
            .unwrap();
        tx.insert_refresh_token("p", &refresh("r2", "f1", "s1", "h2"))
            .await
            .unwrap();
        tx.insert_refresh_token("p", &refresh("r3", "f2", "s2", "h3"))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let mut tx = s.begin().await.unwrap();
        let r1 = tx.lock_refresh_token("p", "h1").await.unwrap().unwrap();
        assert_eq!(r1, refresh("r1", "f1", "s1", "h1"), "{name}");
        assert!(
            tx.lock_refresh_token("other", "h1")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            tx.spend_refresh_token("p", "r1", 7).await.unwrap(),
            "{name}"
        );
        assert!(
            !tx.spend_refresh_token("p", "r1", 8).await.unwrap(),
            "{name}: once"
        );
        tx.commit().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        let r1 = tx.lock_refresh_token("p", "h1").await.unwrap().unwrap();
        assert_eq!(r1.spent_at, Some(7), "{name}");
        assert_eq!(tx.delete_refresh_family("p", "f1").await.unwrap(), 2);
        tx.commit().await.unwrap();

        let mut tx = s.begin().await.unwrap();
        assert!(tx.lock_refresh_token("p", "h2").await.unwrap().is_none());
        assert!(tx.lock_refresh_token("p", "h3").await.unwrap().is_some());
        // Logout: the session's refresh tokens go with it.
        tx.delete_session("p", "u", "s2").await.unwrap();
        assert!(
            tx.lock_refresh_token("p", "h3").await.unwrap().is_none(),
            "{name}: cascade"
        );
        tx.insert_refresh_token("p", &refresh("r4", "f3", "s1", "h4"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(s.prune_refresh_tokens(1000).await.unwrap(), 0, "{name}");
        assert_eq!(s.prune_refresh_tokens(1001).await.unwrap(), 1, "{name}");
    }
}

#[tokio::test]
async fn spent_tokens_and_old_families_are_trimmed() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        tx.insert_session("p", &session("s1", "u", 1))
            .await
            .unwrap();
        for (i, family) in ["fa", "fa", "fa", "fb", "fc"].iter().enumerate() {
            let mut t = refresh(&format!("r{i}"), family, "s1", &format!("h{i}"));
            t.created_at = i as i64;
            t.spent_at = (i < 2).then_some(5);
            tx.insert_refresh_token("p", &t).await.unwrap();
        }
        // r0 and r1 are spent: only r1 is kept.
        assert_eq!(
            tx.trim_refresh_family("p", "fa", "r1").await.unwrap(),
            1,
            "{name}"
        );
        // fa is the oldest family (newest row at 2), then fb (3), fc (4): keep two.
        assert_eq!(
            tx.trim_refresh_families("p", "s1", 2).await.unwrap(),
            2,
            "{name}"
        );
        tx.commit().await.unwrap();
        assert!(
            s.find_refresh_token("p", "h1").await.unwrap().is_none(),
            "{name}"
        );
        assert!(
            s.find_refresh_token("p", "h3").await.unwrap().is_some(),
            "{name}"
        );
        assert!(
            s.find_refresh_token("p", "h4").await.unwrap().is_some(),
            "{name}"
        );
        assert!(s.find_refresh_token("other", "h4").await.unwrap().is_none());
    }
}
