//! Sessions: insert, find by hash and id, list with the true count, evict, extend, delete.

use super::*;

#[tokio::test]
async fn creating_sessions_evicts_the_oldest_beyond_the_limit() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        for (i, id) in ["s1", "s2", "s3"].iter().enumerate() {
            let mut tx = s.begin().await.unwrap();
            tx.insert_session("p", &session(id, "u", i as i64))
                .await
                .unwrap();
            tx.evict_sessions("p", "u", 2).await.unwrap();
            tx.commit().await.unwrap();
        }
        let page = s.list_sessions("p", "u", 1000).await.unwrap();
        let ids: Vec<&str> = page.rows.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["s2", "s3"], "{name}");
        // 0 means no limit.
        let mut tx = s.begin().await.unwrap();
        tx.insert_session("p", &session("s4", "u", 9))
            .await
            .unwrap();
        tx.evict_sessions("p", "u", 0).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            s.list_sessions("p", "u", 1000).await.unwrap().total,
            3,
            "{name}"
        );
        let found = s.find_session_by_secret_hash("p", "hash-s3").await.unwrap();
        assert_eq!(found.map(|x| x.id), Some("s3".into()), "{name}");
        assert!(
            s.find_session("p", "u", "s1").await.unwrap().is_none(),
            "{name}"
        );
        assert!(
            s.find_session("p", "other", "s2").await.unwrap().is_none(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_cut_list_still_reports_the_true_total() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        for i in 0..5 {
            tx.insert_session("p", &session(&format!("s{i}"), "u", i))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let page = s.list_sessions("p", "u", 2).await.unwrap();
        assert_eq!((page.rows.len(), page.total), (2, 5), "{name}");
        assert_eq!(page.rows[0].id, "s0", "{name}: oldest first");
    }
}

#[tokio::test]
async fn sessions_are_extended_and_deleted_one_all_or_all_but_one() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        for i in 0..4 {
            tx.insert_session("p", &session(&format!("s{i}"), "u", i))
                .await
                .unwrap();
        }
        assert!(
            tx.update_session_expire("p", "u", "s0", 99_000, 50)
                .await
                .unwrap()
        );
        assert!(
            !tx.update_session_expire("p", "other", "s0", 1, 1)
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        let s0 = s.find_session("p", "u", "s0").await.unwrap().unwrap();
        assert_eq!((s0.expire, s0.updated_at), (99_000, 50), "{name}");
        let mut tx = s.begin().await.unwrap();
        assert!(tx.delete_session("p", "u", "s0").await.unwrap(), "{name}");
        assert!(!tx.delete_session("p", "u", "s0").await.unwrap(), "{name}");
        assert_eq!(
            tx.delete_sessions("p", "u", Some("s3")).await.unwrap(),
            2,
            "{name}"
        );
        tx.commit().await.unwrap();
        let left: Vec<String> = s
            .list_sessions("p", "u", 10)
            .await
            .unwrap()
            .rows
            .into_iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(left, ["s3"], "{name}");
        let mut tx = s.begin().await.unwrap();
        assert_eq!(
            tx.delete_sessions("p", "u", None).await.unwrap(),
            1,
            "{name}"
        );
        tx.commit().await.unwrap();
        assert_eq!(
            s.list_sessions("p", "u", 10).await.unwrap().total,
            0,
            "{name}"
        );
    }
}

#[tokio::test]
async fn rows_inserted_many_at_a_time_read_back_as_one_at_a_time() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        // More rows than one multi-row statement holds, so the statements are split.
        let users: Vec<UserRow> = (0..80)
            .map(|i| user(&format!("u{i}"), &format!("u{i}@example.com")))
            .collect();
        let sessions: Vec<SessionRow> = (0..80)
            .flat_map(|i| (0..3).map(move |j| session(&format!("s{i}-{j}"), &format!("u{i}"), j)))
            .collect();
        let targets: Vec<TargetRow> = (0..80)
            .map(|i| TargetRow {
                id: format!("t{i}"),
                user_id: format!("u{i}"),
                provider_type: "email".into(),
                identifier: format!("u{i}@example.com"),
                ..TargetRow::default()
            })
            .collect();
        let mut tx = s.begin().await.unwrap();
        tx.insert_users("p", &users).await.unwrap();
        tx.insert_targets("p", &targets).await.unwrap();
        tx.insert_sessions("p", &sessions).await.unwrap();
        tx.commit().await.unwrap();
        let listed = s.list_targets("p", "u5").await.unwrap();
        assert_eq!(listed, [targets[5].clone()], "{name}");
        assert_eq!(s.count_users("p").await.unwrap(), 80, "{name}");
        let got = s.find_user("p", "u79").await.unwrap().unwrap();
        assert_eq!(got, users[79], "{name}");
        let page = s.list_sessions("p", "u42", 1000).await.unwrap();
        let ids: Vec<&str> = page.rows.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["s42-0", "s42-1", "s42-2"], "{name}");
        let found = s
            .find_session_by_secret_hash("p", "hash-s79-2")
            .await
            .unwrap();
        assert_eq!(found, Some(sessions[239].clone()), "{name}");
        // A taken email anywhere in the batch fails all of it.
        let mut tx = s.begin().await.unwrap();
        let clash = [
            user("new", "new@example.com"),
            user("again", "u3@example.com"),
        ];
        assert!(
            matches!(
                tx.insert_users("p", &clash).await,
                Err(StoreError::Conflict(_))
            ),
            "{name}"
        );
        drop(tx);
        assert!(s.find_user("p", "new").await.unwrap().is_none(), "{name}");
    }
}
