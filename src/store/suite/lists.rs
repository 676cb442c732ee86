//! The shared table of list cases: filters, order, cursors and totals must give the same rows
//! on every backend. Queries go through `domain::queries::parse`, so the typed conversion of
//! values is part of what is checked.

use super::*;
use crate::domain::queries::{self, IDENTITY_ATTRIBUTES, USER_ATTRIBUTES};

pub(super) fn identity(
    id: &str,
    user: &str,
    provider: &str,
    email: &str,
    created: i64,
    expiry: Option<i64>,
) -> IdentityRow {
    IdentityRow {
        id: id.into(),
        user_id: user.into(),
        created_at: created,
        updated_at: created,
        provider: provider.into(),
        provider_uid: format!("uid-{id}"),
        provider_email: email.into(),
        provider_access_token_expiry: expiry,
        ..IdentityRow::default()
    }
}

fn parse(queries: &[&str], attributes: &[queries::Attribute]) -> ListQuery {
    let raw: Vec<String> = queries.iter().map(|q| q.to_string()).collect();
    queries::parse(&raw, false, attributes).unwrap_or_else(|e| panic!("{queries:?}: {e}"))
}

/// (queries, expected ids in order, expected total).
const IDENTITY_CASES: &[(&[&str], &[&str], i64)] = &[
    (&[], &["i1", "i2", "i3", "i4"], 4),
    (
        &[r#"{"method":"equal","attribute":"provider","values":["github"]}"#],
        &["i1"],
        1,
    ),
    (
        &[r#"{"method":"equal","attribute":"provider","values":["github","gitlab"]}"#],
        &["i1", "i3"],
        2,
    ),
    (
        &[r#"{"method":"notEqual","attribute":"provider","values":["github"]}"#],
        &["i2", "i3", "i4"],
        3,
    ),
    (
        &[r#"{"method":"startsWith","attribute":"provider","values":["git"]}"#],
        &["i1", "i3"],
        2,
    ),
    (
        &[r#"{"method":"startsWith","attribute":"providerEmail","values":["bob_"]}"#],
        &["i2"],
        1,
    ),
    (
        &[r#"{"method":"startsWith","attribute":"providerEmail","values":["bob%"]}"#],
        &[],
        0,
    ),
    (
        &[r#"{"method":"startsWith","attribute":"providerEmail","values":["b_b"]}"#],
        &[],
        0,
    ),
    (
        &[r#"{"method":"endsWith","attribute":"providerEmail","values":["%@example.org"]}"#],
        &["i3"],
        1,
    ),
    (
        &[r#"{"method":"endsWith","attribute":"providerEmail","values":["exämple.com"]}"#],
        &["i4"],
        1,
    ),
    (
        &[
            r#"{"method":"endsWith","attribute":"providerEmail","values":["a-much-longer-value-than-any-email@example.com"]}"#,
        ],
        &[],
        0,
    ),
    (
        &[r#"{"method":"isNull","attribute":"providerAccessTokenExpiry"}"#],
        &["i1", "i4"],
        2,
    ),
    (
        &[r#"{"method":"isNotNull","attribute":"providerAccessTokenExpiry"}"#],
        &["i2", "i3"],
        2,
    ),
    (
        &[
            r#"{"method":"greaterThan","attribute":"$createdAt","values":["1970-01-01T00:00:02.500+00:00"]}"#,
        ],
        &["i3", "i4"],
        2,
    ),
    (
        &[
            r#"{"method":"lessThanEqual","attribute":"$createdAt","values":["1970-01-01T00:00:02.000+00:00"]}"#,
        ],
        &["i1", "i2"],
        2,
    ),
    // Byte order: "GitHub" < "github" < "gitlab" < "google".
    (
        &[r#"{"method":"lessThan","attribute":"provider","values":["gitlab"]}"#],
        &["i1", "i2"],
        2,
    ),
    (
        &[r#"{"method":"orderAsc","attribute":"provider"}"#],
        &["i2", "i1", "i3", "i4"],
        4,
    ),
    (
        &[r#"{"method":"orderDesc","attribute":"providerAccessTokenExpiry"}"#],
        &["i2", "i3", "i1", "i4"],
        4,
    ),
    (
        &[r#"{"method":"orderAsc","attribute":"providerAccessTokenExpiry"}"#],
        &["i1", "i4", "i3", "i2"],
        4,
    ),
    (
        &[r#"{"method":"cursorAfter","values":["i2"]}"#],
        &["i3", "i4"],
        4,
    ),
    (
        &[
            r#"{"method":"cursorBefore","values":["i3"]}"#,
            r#"{"method":"limit","values":[1]}"#,
        ],
        &["i2"],
        4,
    ),
    (
        &[r#"{"method":"cursorBefore","values":["i4"]}"#],
        &["i1", "i2", "i3"],
        4,
    ),
    (
        &[
            r#"{"method":"orderDesc","attribute":"$createdAt"}"#,
            r#"{"method":"cursorAfter","values":["i3"]}"#,
        ],
        &["i2", "i1"],
        4,
    ),
    (
        &[
            r#"{"method":"orderDesc","attribute":"$createdAt"}"#,
            r#"{"method":"cursorBefore","values":["i2"]}"#,
        ],
        &["i4", "i3"],
        4,
    ),
    (
        &[
            r#"{"method":"orderAsc","attribute":"providerAccessTokenExpiry"}"#,
            r#"{"method":"cursorAfter","values":["i1"]}"#,
        ],
        &["i4", "i3", "i2"],
        4,
    ),
    (
        &[
            r#"{"method":"orderAsc","attribute":"provider"}"#,
            r#"{"method":"cursorAfter","values":["i1"]}"#,
            r#"{"method":"offset","values":[1]}"#,
        ],
        &["i4"],
        4,
    ),
    (
        &[
            r#"{"method":"limit","values":[1]}"#,
            r#"{"method":"offset","values":[1]}"#,
        ],
        &["i2"],
        4,
    ),
];

#[tokio::test]
async fn identity_lists_give_the_same_rows_on_every_backend() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(
            &s,
            &[user("u", "u@example.com"), user("v", "v@example.com")],
        )
        .await;
        let mut tx = s.begin().await.unwrap();
        for i in [
            identity("i1", "u", "github", "Alice@Example.com", 1000, None),
            identity("i2", "u", "GitHub", "bob_x@example.com", 2000, Some(5000)),
            identity("i3", "u", "gitlab", "carol%@example.org", 3000, Some(1000)),
            identity("i4", "u", "google", "dave@exämple.com", 4000, None),
            identity("i5", "v", "github", "eve@example.com", 500, None),
        ] {
            tx.insert_identity("p", &i).await.unwrap();
        }
        tx.commit().await.unwrap();
        for (queries, ids, total) in IDENTITY_CASES {
            let page = s
                .list_identities("p", Some("u"), &parse(queries, IDENTITY_ATTRIBUTES))
                .await
                .unwrap_or_else(|e| panic!("{name} {queries:?}: {e}"));
            let got: Vec<&str> = page.rows.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(&got, ids, "{name} {queries:?}");
            assert_eq!(page.total, *total, "{name} {queries:?}");
        }
        // A cursor naming no row of this list (gone, or another user's) is reported.
        for gone in ["gone", "i5"] {
            let q = parse(
                &[&format!(
                    r#"{{"method":"cursorAfter","values":["{gone}"]}}"#
                )],
                IDENTITY_ATTRIBUTES,
            );
            let r = s.list_identities("p", Some("u"), &q).await;
            assert!(
                matches!(r, Err(StoreError::CursorNotFound)),
                "{name} {gone}: {r:?}"
            );
        }
    }
}

#[tokio::test]
async fn user_lists_filter_booleans_and_datetimes_by_their_wire_values() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        let mut a = user("a", "a@example.com");
        a.registration = 1_600_000_000_000;
        a.email_verification = true;
        let mut b = user("b", "b@example.com");
        b.registration = 1_700_000_000_000;
        b.status = false;
        let mut c = user("c", "c@example.com");
        c.registration = 1_800_000_000_000;
        c.name = Some("Carol".into());
        seed_users(&s, &[a, b, c]).await;
        let cases: &[(&[&str], &[&str])] = &[
            (
                &[r#"{"method":"equal","attribute":"status","values":[false]}"#],
                &["b"],
            ),
            (
                &[r#"{"method":"equal","attribute":"emailVerification","values":[true]}"#],
                &["a"],
            ),
            (
                &[
                    r#"{"method":"greaterThan","attribute":"registration","values":["2023-01-01T00:00:00.000+00:00"]}"#,
                ],
                &["b", "c"],
            ),
            (&[r#"{"method":"isNotNull","attribute":"name"}"#], &["c"]),
            (
                &[
                    r#"{"method":"orderDesc","attribute":"registration"}"#,
                    r#"{"method":"limit","values":[2]}"#,
                ],
                &["c", "b"],
            ),
            (
                &[r#"{"method":"orderAsc","attribute":"name"}"#],
                &["a", "b", "c"],
            ),
        ];
        for (queries, ids) in cases {
            let page = s
                .list_users("p", &parse(queries, USER_ATTRIBUTES))
                .await
                .unwrap();
            let got: Vec<&str> = page.rows.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(&got, ids, "{name} {queries:?}");
        }
    }
}

#[tokio::test]
async fn long_value_lists_give_the_same_rows_on_every_backend() {
    let (stores, _dir) = stores().await;
    for (name, s) in stores {
        seed_users(&s, &[user("u", "u@example.com")]).await;
        let mut tx = s.begin().await.unwrap();
        tx.insert_identity(
            "p",
            &identity("i1", "u", "github", "a@example.com", 1, None),
        )
        .await
        .unwrap();
        tx.insert_identity(
            "p",
            &identity("i2", "u", "gitlab", "b@example.com", 2, None),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        // Within the 4096-character query limit: 1,199 empty strings and one real value.
        let mut values: Vec<String> = vec![String::new(); 1199];
        values.push("github".into());
        let list = serde_json::to_string(&values).unwrap();
        for (method, ids) in [
            ("equal", vec!["i1"]),
            ("notEqual", vec!["i2"]),
            ("lessThan", vec![]),
            ("greaterThanEqual", vec!["i1", "i2"]),
        ] {
            let q = format!(r#"{{"method":"{method}","attribute":"provider","values":{list}}}"#);
            let query = ListQuery {
                filters: parse(&[&q], IDENTITY_ATTRIBUTES).filters,
                ..ListQuery::default()
            };
            let page = s
                .list_identities("p", Some("u"), &query)
                .await
                .unwrap_or_else(|e| panic!("{name} {method}: {e}"));
            let got: Vec<&str> = page.rows.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(got, ids, "{name} {method}");
        }
        // Several bounds: the loosest one decides ("a" < "github" < "gitlab" < "zzz").
        for (method, list, ids) in [
            ("lessThan", r#"["a","gitlab"]"#, vec!["i1"]),
            ("lessThanEqual", r#"["gitlab","a"]"#, vec!["i1", "i2"]),
            ("greaterThan", r#"["zzz","github"]"#, vec!["i2"]),
            ("greaterThanEqual", r#"["zzz","gitlab"]"#, vec!["i2"]),
        ] {
            let q = format!(r#"{{"method":"{method}","attribute":"provider","values":{list}}}"#);
            let query = ListQuery {
                filters: parse(&[&q], IDENTITY_ATTRIBUTES).filters,
                ..ListQuery::default()
            };
            let page = s.list_identities("p", Some("u"), &query).await.unwrap();
            let got: Vec<&str> = page.rows.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(got, ids, "{name} {method} {list}");
        }
    }
}
