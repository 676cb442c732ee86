//! OAuth2's lookups and writes: identities by provider user and by user and provider;
//! identity and session token updates; push targets following a replaced session.

use super::*;
use crate::secret::Secret;

/// An identity of `user` at `provider` as provider user `uid`.
fn identity(id: &str, user: &str, provider: &str, uid: &str, email: &str, at: i64) -> IdentityRow {
    IdentityRow {
        provider_uid: uid.into(),
        ..super::lists::identity(id, user, provider, email, at, None)
    }
}

#[tokio::test]
async fn identities_are_found_by_provider_user_and_by_user_and_updated() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(
            &s,
            &[user("u", "u@example.com"), user("v", "v@example.com")],
        )
        .await;
        let mut tx = s.begin().await.unwrap();
        tx.insert_identity("p", &identity("i1", "u", "github", "42", "a@x.io", 1))
            .await
            .unwrap();
        tx.insert_identity("p", &identity("i2", "v", "google", "42", "a@x.io", 2))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // One identity per provider user.
        let mut tx = s.begin().await.unwrap();
        let dup = tx
            .insert_identity("p", &identity("i3", "v", "github", "42", "b@x.io", 3))
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{name}");
        drop(tx);
        let by_uid = s
            .find_identity_by_provider("p", "github", "42")
            .await
            .unwrap();
        assert_eq!(by_uid.map(|i| i.id), Some("i1".into()), "{name}");
        assert!(
            s.find_identity_by_provider("p", "gitlab", "42")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.find_identity_by_provider("q", "github", "42")
                .await
                .unwrap()
                .is_none()
        );
        let of_user = s.find_user_identity("p", "v", "google").await.unwrap();
        assert_eq!(of_user.map(|i| i.id), Some("i2".into()), "{name}");
        assert!(
            s.find_user_identity("p", "u", "google")
                .await
                .unwrap()
                .is_none()
        );

        let mut i = s.find_identity("p", "i2").await.unwrap().unwrap();
        i.provider_access_token = Secret::new("sealed-at");
        i.provider_id_token = Secret::new("sealed-id");
        i.provider_access_token_expiry = Some(99);
        i.updated_at = 50;
        let mut tx = s.begin().await.unwrap();
        tx.update_identity("p", &i).await.unwrap();
        tx.commit().await.unwrap();
        let back = s.find_identity("p", "i2").await.unwrap().unwrap();
        assert_eq!(back.provider_access_token.expose(), "sealed-at", "{name}");
        assert_eq!(back.provider_id_token.expose(), "sealed-id", "{name}");
        assert_eq!(
            (back.provider_access_token_expiry, back.updated_at),
            (Some(99), 50)
        );
    }
}

#[tokio::test]
async fn sessions_take_refreshed_tokens_and_push_targets_follow_a_replaced_session() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut old = session("s1", "u", 1);
        old.provider = "github".into();
        old.provider_uid = "42".into();
        let mut newer = session("s2", "u", 2);
        newer.provider = "github".into();
        newer.provider_uid = "42".into();
        let mut tx = s.begin().await.unwrap();
        tx.insert_session("p", &old).await.unwrap();
        tx.insert_session("p", &newer).await.unwrap();
        tx.insert_target(
            "p",
            &TargetRow {
                id: "t1".into(),
                user_id: "u".into(),
                provider_type: "push".into(),
                identifier: "device-token".into(),
                session_id: Some("s1".into()),
                ..TargetRow::default()
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut refreshed = newer.clone();
        refreshed.provider_access_token = Secret::new("at-2");
        refreshed.provider_refresh_token = Secret::new("rt-2");
        refreshed.provider_access_token_expiry = Some(7);
        refreshed.expire = 9_999;
        let mut tx = s.begin().await.unwrap();
        assert!(
            tx.update_session_provider_tokens("p", &refreshed, 5)
                .await
                .unwrap()
        );
        let mut gone = refreshed.clone();
        gone.id = "nope".into();
        assert!(
            !tx.update_session_provider_tokens("p", &gone, 5)
                .await
                .unwrap()
        );
        assert_eq!(
            tx.repoint_push_targets("p", "u", "s1", "s2", 6)
                .await
                .unwrap(),
            1
        );
        tx.commit().await.unwrap();
        let back = s.find_session("p", "u", "s2").await.unwrap().unwrap();
        assert_eq!(
            (
                back.provider_access_token.expose(),
                back.provider_refresh_token.expose()
            ),
            ("at-2", "rt-2"),
            "{name}"
        );
        assert_eq!(
            (back.provider_access_token_expiry, back.expire),
            (Some(7), 9_999)
        );
        let t = s.find_target("p", "t1").await.unwrap().unwrap();
        assert_eq!(t.session_id.as_deref(), Some("s2"), "{name}");
    }
}
