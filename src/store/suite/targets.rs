//! Targets and identities: insert, find, list, update, rename, delete.

use super::*;

fn target(id: &str, identifier: &str) -> TargetRow {
    TargetRow {
        id: id.into(),
        user_id: "u".into(),
        created_at: 1,
        updated_at: 1,
        provider_type: "push".into(),
        identifier: identifier.into(),
        ..TargetRow::default()
    }
}

#[tokio::test]
async fn targets_are_created_found_updated_renamed_and_deleted() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        tx.insert_target("p", &target("t1", "token-1"))
            .await
            .unwrap();
        tx.insert_target("p", &target("t2", "token-2"))
            .await
            .unwrap();
        assert!(
            matches!(
                tx.insert_target("p", &target("t3", "token-1")).await,
                Err(StoreError::Conflict(_))
            ),
            "{name}"
        );
        drop(tx);
        let mut tx = s.begin().await.unwrap();
        tx.insert_target("p", &target("t1", "token-1"))
            .await
            .unwrap();
        tx.insert_target("p", &target("t2", "token-2"))
            .await
            .unwrap();
        assert!(
            tx.target_identifier_taken("p", "token-2").await.unwrap(),
            "{name}"
        );
        tx.commit().await.unwrap();
        let mut t1 = s.find_target("p", "t1").await.unwrap().unwrap();
        t1.identifier = "token-9".into();
        t1.name = "Pixel".into();
        t1.expired = true;
        t1.updated_at = 5;
        let mut tx = s.begin().await.unwrap();
        tx.update_target("p", &t1).await.unwrap();
        let mut clash = t1.clone();
        clash.identifier = "token-2".into();
        assert!(
            matches!(
                tx.update_target("p", &clash).await,
                Err(StoreError::Conflict(_))
            ),
            "{name}"
        );
        drop(tx);
        let mut tx = s.begin().await.unwrap();
        tx.update_target("p", &t1).await.unwrap();
        tx.rename_target("p", "u", "token-2", "token-3", 7)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(s.find_target("p", "t1").await.unwrap(), Some(t1), "{name}");
        assert!(
            s.target_identifier_taken("p", "token-3").await.unwrap(),
            "{name}"
        );
        assert!(
            !s.target_identifier_taken("p", "token-2").await.unwrap(),
            "{name}"
        );
        let ids: Vec<String> = s
            .list_targets("p", "u")
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, ["t1", "t2"], "{name}");
        let mut tx = s.begin().await.unwrap();
        assert!(tx.delete_target("p", "t1").await.unwrap(), "{name}");
        assert!(!tx.delete_target("p", "t1").await.unwrap(), "{name}");
        tx.commit().await.unwrap();
        assert!(s.find_target("p", "t1").await.unwrap().is_none(), "{name}");
    }
}

#[tokio::test]
async fn identities_are_created_found_checked_by_email_and_deleted() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(
            &s,
            &[user("u", "u@example.com"), user("v", "v@example.com")],
        )
        .await;
        let identity = IdentityRow {
            id: "i".into(),
            user_id: "u".into(),
            provider: "github".into(),
            provider_uid: "42".into(),
            provider_email: "gh@example.com".into(),
            provider_access_token: crate::secret::Secret::new("token"),
            provider_access_token_expiry: Some(9),
            ..IdentityRow::default()
        };
        let mut tx = s.begin().await.unwrap();
        tx.insert_identity("p", &identity).await.unwrap();
        let same_uid = IdentityRow {
            id: "j".into(),
            ..identity.clone()
        };
        assert!(
            matches!(
                tx.insert_identity("p", &same_uid).await,
                Err(StoreError::Conflict(_))
            ),
            "{name}"
        );
        drop(tx);
        let mut tx = s.begin().await.unwrap();
        tx.insert_identity("p", &identity).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            s.find_identity("p", "i").await.unwrap(),
            Some(identity),
            "{name}"
        );
        assert!(
            s.identity_email_taken("p", "gh@example.com", None)
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            s.identity_email_taken("p", "gh@example.com", Some("v"))
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !s.identity_email_taken("p", "gh@example.com", Some("u"))
                .await
                .unwrap(),
            "{name}"
        );
        let mut tx = s.begin().await.unwrap();
        assert!(tx.delete_identity("p", "i").await.unwrap(), "{name}");
        assert!(!tx.delete_identity("p", "i").await.unwrap(), "{name}");
        tx.commit().await.unwrap();
        assert!(s.find_identity("p", "i").await.unwrap().is_none(), "{name}");
    }
}
