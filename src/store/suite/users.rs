//! Users: insert, read, update, lock, count, touch, delete.

use super::*;

#[tokio::test]
async fn users_round_trip_and_a_taken_email_or_id_is_a_conflict_that_writes_nothing() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        let mut u = user("u1", "a@example.com");
        u.prefs = r#"{"k":1}"#.into();
        u.email_is_free = Some(true);
        u.password = Some(crate::secret::Secret::new("$argon2id$x"));
        seed_users(&s, std::slice::from_ref(&u)).await;
        assert_eq!(
            s.find_user("p", "u1").await.unwrap().as_ref(),
            Some(&u),
            "{name}"
        );
        assert_eq!(
            s.find_user_by_email("p", "a@example.com")
                .await
                .unwrap()
                .map(|u| u.id),
            Some("u1".into()),
            "{name}"
        );
        assert_eq!(
            s.find_user("other", "u1").await.unwrap(),
            None,
            "{name}: projects are separate"
        );
        for dup in [user("u2", "a@example.com"), user("u1", "b@example.com")] {
            let mut tx = s.begin().await.unwrap();
            tx.insert_audit("p", &audit("u2", "user.create", 1))
                .await
                .unwrap();
            let r = tx.insert_user("p", &dup).await;
            assert!(matches!(r, Err(StoreError::Conflict(_))), "{name}: {r:?}");
        }
        assert_eq!(
            s.list_logs("p", "u2", 25, 0).await.unwrap().total,
            0,
            "{name}"
        );
        assert_eq!(s.count_users("p").await.unwrap(), 1, "{name}");
    }
}

#[tokio::test]
async fn updates_overwrite_every_column_and_lock_user_reads_the_current_row() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(
            &s,
            &[user("u", "u@example.com"), user("v", "v@example.com")],
        )
        .await;
        let mut tx = s.begin().await.unwrap();
        let mut u = tx.lock_user("p", "u").await.unwrap().unwrap();
        assert!(
            tx.lock_user("p", "nobody").await.unwrap().is_none(),
            "{name}"
        );
        u.name = Some("Renamed".into());
        u.status = false;
        u.mfa = true;
        u.phone = Some("+16502530000".into());
        tx.update_user("p", &u).await.unwrap();
        assert_eq!(tx.count_users("p").await.unwrap(), 2, "{name}");
        tx.commit().await.unwrap();
        assert_eq!(
            s.find_user("p", "u").await.unwrap(),
            Some(u.clone()),
            "{name}"
        );
        // Taking another user's email is a conflict.
        let mut v = s.find_user("p", "v").await.unwrap().unwrap();
        v.email = u.email.clone();
        let mut tx = s.begin().await.unwrap();
        tx.lock_project("p").await.unwrap();
        assert!(
            matches!(tx.update_user("p", &v).await, Err(StoreError::Conflict(_))),
            "{name}"
        );
        drop(tx);
        s.touch_user("p", "u", 42_000).await.unwrap();
        assert_eq!(
            s.find_user("p", "u").await.unwrap().unwrap().accessed_at,
            42_000,
            "{name}"
        );
    }
}

#[tokio::test]
async fn deleting_a_user_removes_its_sessions_targets_and_identities_but_not_its_audit() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        let target = TargetRow {
            id: "t".into(),
            user_id: "u".into(),
            provider_type: "email".into(),
            identifier: "u@example.com".into(),
            ..TargetRow::default()
        };
        let identity = IdentityRow {
            id: "i".into(),
            user_id: "u".into(),
            provider: "github".into(),
            provider_uid: "1".into(),
            provider_email: "u@example.com".into(),
            ..IdentityRow::default()
        };
        let mut tx = s.begin().await.unwrap();
        tx.insert_user("p", &user("u", "u@example.com"))
            .await
            .unwrap();
        tx.insert_target("p", &target).await.unwrap();
        tx.insert_session("p", &session("s", "u", 1)).await.unwrap();
        tx.insert_identity("p", &identity).await.unwrap();
        tx.insert_audit("p", &audit("u", "user.create", 1))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        tx.delete_user("p", "u").await.unwrap();
        tx.commit().await.unwrap();
        assert!(s.find_user("p", "u").await.unwrap().is_none(), "{name}");
        assert!(
            s.find_session_by_secret_hash("p", "hash-s")
                .await
                .unwrap()
                .is_none(),
            "{name}"
        );
        assert!(
            !s.target_identifier_taken("p", "u@example.com")
                .await
                .unwrap(),
            "{name}"
        );
        assert!(s.find_identity("p", "i").await.unwrap().is_none(), "{name}");
        assert_eq!(
            s.list_logs("p", "u", 25, 0).await.unwrap().total,
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn stored_keys_are_found_by_their_secret_hash_listed_and_revoked() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        let key = |id: &str, project: &str, created_at: i64| crate::store::KeyRow {
            project_id: project.into(),
            id: id.into(),
            name: format!("key {id}"),
            scopes: r#"["users.read"]"#.into(),
            secret_hash: format!("hash-{project}-{id}"),
            expire: None,
            created_at,
        };
        s.insert_key(&key("k2", "p", 2)).await.unwrap();
        s.insert_key(&key("k1", "p", 1)).await.unwrap();
        s.insert_key(&key("k1", "q", 1)).await.unwrap();
        assert!(
            matches!(
                s.insert_key(&key("k1", "p", 3)).await,
                Err(StoreError::Conflict(_))
            ),
            "{name}: ids are unique per project"
        );
        let ids: Vec<String> = s
            .list_keys("p")
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.id)
            .collect();
        assert_eq!(ids, ["k1", "k2"], "{name}: oldest first");
        let found = s
            .find_key_by_secret_hash("hash-q-k1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.project_id, "q", "{name}");
        assert!(s.delete_key("p", "k1").await.unwrap(), "{name}");
        assert!(!s.delete_key("p", "k1").await.unwrap(), "{name}");
        assert!(
            s.find_key_by_secret_hash("hash-p-k1")
                .await
                .unwrap()
                .is_none(),
            "{name}"
        );
        assert!(
            s.find_key_by_secret_hash("hash-q-k1")
                .await
                .unwrap()
                .is_some(),
            "{name}"
        );
    }
}

/// Units of work locking and updating one user at once (concurrent profile changes), while
/// requests read it, each find the user: waiting for another unit's lock never turns into "no
/// such user" (a `SKIP LOCKED` on this lock answered 404 to most concurrent updates).
#[tokio::test]
async fn concurrent_units_locking_one_user_all_find_it() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let units: Vec<_> = (0..16)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move {
                    let mut missing = 0;
                    for _ in 0..20 {
                        let mut tx = s.begin().await.unwrap();
                        match tx.lock_user("p", "u").await.unwrap() {
                            Some(mut u) => {
                                u.prefs = format!("{{\"n\":{i}}}");
                                tx.update_user("p", &u).await.unwrap();
                                tx.commit().await.unwrap();
                            }
                            None => missing += 1,
                        }
                    }
                    missing
                })
            })
            .collect();
        let readers: Vec<_> = (0..16)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move {
                    for _ in 0..40 {
                        assert!(s.find_user("p", "u").await.unwrap().is_some());
                    }
                })
            })
            .collect();
        let mut missing = 0;
        for r in readers {
            r.await.unwrap();
        }
        for u in units {
            missing += u.await.unwrap();
        }
        assert_eq!(missing, 0, "{name}: a locked user went missing");
    }
}
