//! Users: the account rows themselves.

use super::filter::{Listing, Scope, array, col};
use super::*;

const USER_COLS: &str = "id, created_at, updated_at, name, email, phone, password, hash, hash_options, \
    password_history, password_update, registration, status, labels, email_verification, \
    phone_verification, mfa, prefs, accessed_at, email_canonical, email_is_free, \
    email_is_disposable, email_is_corporate, email_is_canonical, password_pwned";

/// The attributes a user list may filter and order on, and their columns.
/// The written columns: the read ones and the search words.
const USER_WRITE_COLS: &str = "id, created_at, updated_at, name, email, phone, password, hash, hash_options, \
    password_history, password_update, registration, status, labels, email_verification, \
    phone_verification, mfa, prefs, accessed_at, email_canonical, email_is_free, \
    email_is_disposable, email_is_corporate, email_is_canonical, password_pwned, search";

const LISTING: Listing = Listing {
    table: "users",
    select: USER_COLS,
    search: Some(super::search::Index::FullText {
        fts_table: "users_fts",
        words_table: "users_search",
    }),
    columns: &[
        col("$id", "id", true, false),
        col("$createdAt", "created_at", false, false),
        col("$updatedAt", "updated_at", false, false),
        col("name", "name", true, true),
        col("email", "email", true, true),
        col("phone", "phone", true, true),
        col("status", "status", false, false),
        col("passwordUpdate", "password_update", false, true),
        col("registration", "registration", false, false),
        col("emailVerification", "email_verification", false, false),
        col("phoneVerification", "phone_verification", false, false),
        col("accessedAt", "accessed_at", false, false),
        col("passwordPwned", "password_pwned", false, true),
        array("labels", "labels"),
    ],
};

/// The search words of a user (Appwrite indexes id, email, phone and name).
pub(super) fn user_search(u: &UserRow) -> String {
    super::search::document([
        u.id.as_str(),
        u.email.as_deref().unwrap_or_default(),
        u.phone.as_deref().unwrap_or_default(),
        u.name.as_deref().unwrap_or_default(),
    ])
}

fn bind_user<'q>(q: Q<'q>, u: &'q UserRow) -> Q<'q> {
    q.bind(&u.id)
        .bind(u.created_at)
        .bind(u.updated_at)
        .bind(&u.name)
        .bind(&u.email)
        .bind(&u.phone)
        .bind(u.password.as_ref().map(|p| p.expose()))
        .bind(&u.hash)
        .bind(&u.hash_options)
        .bind(u.password_history.expose())
        .bind(u.password_update)
        .bind(u.registration)
        .bind(b(u.status))
        .bind(&u.labels)
        .bind(b(u.email_verification))
        .bind(b(u.phone_verification))
        .bind(b(u.mfa))
        .bind(&u.prefs)
        .bind(u.accessed_at)
        .bind(&u.email_canonical)
        .bind(ob(u.email_is_free))
        .bind(ob(u.email_is_disposable))
        .bind(ob(u.email_is_corporate))
        .bind(ob(u.email_is_canonical))
        .bind(ob(u.password_pwned))
        .bind(user_search(u))
}

fn user_from(r: &AnyRow) -> StoreResult<UserRow> {
    Ok(UserRow {
        id: r.try_get("id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        password: r
            .try_get::<Option<String>, _>("password")?
            .map(crate::secret::Secret::new),
        hash: r.try_get("hash")?,
        hash_options: r.try_get("hash_options")?,
        password_history: get_secret(r, "password_history")?,
        password_update: r.try_get("password_update")?,
        registration: r.try_get("registration")?,
        status: get_bool(r, "status")?,
        labels: r.try_get("labels")?,
        email_verification: get_bool(r, "email_verification")?,
        phone_verification: get_bool(r, "phone_verification")?,
        mfa: get_bool(r, "mfa")?,
        prefs: r.try_get("prefs")?,
        accessed_at: r.try_get("accessed_at")?,
        email_canonical: r.try_get("email_canonical")?,
        email_is_free: get_obool(r, "email_is_free")?,
        email_is_disposable: get_obool(r, "email_is_disposable")?,
        email_is_corporate: get_obool(r, "email_is_corporate")?,
        email_is_canonical: get_obool(r, "email_is_canonical")?,
        password_pwned: get_obool(r, "password_pwned")?,
    })
}

async fn find(
    conn: &mut AnyConnection,
    project: &str,
    id: &str,
    lock: &str,
) -> StoreResult<Option<UserRow>> {
    fetch_opt(
        conn,
        format!("SELECT {USER_COLS} FROM users WHERE project_id = $1 AND id = $2{lock}"),
        &[project.into(), id.into()],
        user_from,
    )
    .await
}

async fn count(conn: &mut AnyConnection, project: &str) -> StoreResult<i64> {
    fetch_count(
        conn,
        "SELECT COUNT(*) AS n FROM users WHERE project_id = $1".into(),
        &[project.into()],
    )
    .await
}

#[async_trait]
impl UserStore for SqlStore {
    async fn count_users(&self, project: &str) -> StoreResult<i64> {
        count(&mut *self.reader().await?, project).await
    }

    async fn find_user(&self, project: &str, id: &str) -> StoreResult<Option<UserRow>> {
        if let Some(hit) = self.cache.user(project, id) {
            return Ok(Some(hit));
        }
        let tick = self.cache.tick();
        let row = find(&mut *self.reader().await?, project, id, "").await?;
        if let Some(row) = &row {
            self.cache.put_user(project, row.clone(), tick);
        }
        Ok(row)
    }

    async fn find_user_by_email(&self, project: &str, email: &str) -> StoreResult<Option<UserRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!("SELECT {USER_COLS} FROM users WHERE project_id = $1 AND email = $2"),
            &[project.into(), email.into()],
            user_from,
        )
        .await
    }

    async fn find_user_by_phone(&self, project: &str, phone: &str) -> StoreResult<Option<UserRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!("SELECT {USER_COLS} FROM users WHERE project_id = $1 AND phone = $2"),
            &[project.into(), phone.into()],
            user_from,
        )
        .await
    }

    async fn list_users(&self, project: &str, query: &ListQuery) -> StoreResult<Page<UserRow>> {
        let scope = Scope {
            condition: "project_id = $1",
            args: vec![project.into()],
        };
        let mut conn = self.reader().await?;
        filter::run(&mut conn, &LISTING, query, self.dialect, scope, user_from).await
    }

    async fn touch_user(&self, project: &str, id: &str, accessed_at: i64) -> StoreResult<()> {
        let mut conn = self.write.acquire().await?;
        let done = execute(
            &mut conn,
            "UPDATE users SET accessed_at = $1 WHERE project_id = $2 AND id = $3",
            &[accessed_at.into(), project.into(), id.into()],
        )
        .await;
        let mut touched = super::cache::Touched::default();
        touched.user(project, id);
        self.cache.wrote_for(&touched);
        done.map(|_| ())
    }
}

#[async_trait]
impl UserTx for SqlTx {
    async fn find_user_by_email(
        &mut self,
        project: &str,
        email: &str,
    ) -> StoreResult<Option<UserRow>> {
        fetch_opt(
            self.conn(),
            format!("SELECT {USER_COLS} FROM users WHERE project_id = $1 AND email = $2"),
            &[project.into(), email.into()],
            user_from,
        )
        .await
    }

    async fn find_user_by_phone(
        &mut self,
        project: &str,
        phone: &str,
    ) -> StoreResult<Option<UserRow>> {
        fetch_opt(
            self.conn(),
            format!("SELECT {USER_COLS} FROM users WHERE project_id = $1 AND phone = $2"),
            &[project.into(), phone.into()],
            user_from,
        )
        .await
    }

    async fn lock_project(&mut self, project: &str) -> StoreResult<()> {
        let sql = format!(
            "SELECT id FROM projects WHERE id = $1{}",
            self.dialect.for_update()
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(project)
            .fetch_optional(self.conn())
            .await?;
        Ok(())
    }

    async fn count_users(&mut self, project: &str) -> StoreResult<i64> {
        count(self.conn(), project).await
    }

    async fn lock_user(&mut self, project: &str, id: &str) -> StoreResult<Option<UserRow>> {
        let lock = self.dialect.for_update();
        find(self.conn_for(project, id), project, id, lock).await
    }

    async fn insert_user(&mut self, project: &str, user: &UserRow) -> StoreResult<()> {
        bind_user(
            sqlx::query(insert_sql("users", USER_WRITE_COLS)).bind(project),
            user,
        )
        .execute(self.conn_for(project, &user.id))
        .await
        .map_err(conflict_or)?;
        Ok(())
    }

    async fn insert_users(&mut self, project: &str, users: &[UserRow]) -> StoreResult<()> {
        let dialect = self.dialect;
        insert_many(
            self.conn(),
            dialect,
            "users",
            USER_WRITE_COLS,
            project,
            users,
            bind_user,
        )
        .await
    }

    async fn update_user(&mut self, project: &str, user: &UserRow) -> StoreResult<()> {
        bind_user(
            sqlx::query(update_sql("users", USER_WRITE_COLS)).bind(project),
            user,
        )
        .execute(self.conn_for(project, &user.id))
        .await
        .map_err(conflict_or)?;
        Ok(())
    }

    async fn delete_user(&mut self, project: &str, id: &str) -> StoreResult<bool> {
        let args = [project.into(), id.into()];
        // The user row first, as every other unit locks (user, then session, then what hangs
        // off the session): a refresh-token exchange racing this waits instead of deadlocking.
        let lock = self.dialect.for_update();
        find(self.conn(), project, id, lock).await?;
        // Everything of the user in one unit; only its audit trail stays (Appwrite keeps
        // audits too).
        for sql in [
            "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2",
            "DELETE FROM targets WHERE project_id = $1 AND user_id = $2",
            "DELETE FROM identities WHERE project_id = $1 AND user_id = $2",
            "DELETE FROM tokens WHERE project_id = $1 AND user_id = $2",
            "DELETE FROM authenticators WHERE project_id = $1 AND user_id = $2",
            "DELETE FROM mfa_challenges WHERE project_id = $1 AND user_id = $2",
            "DELETE FROM recovery_codes WHERE project_id = $1 AND user_id = $2",
            "DELETE FROM outbox WHERE project_id = $1 AND user_id = $2",
        ] {
            execute(self.conn(), sql, &args).await?;
        }
        Ok(execute(
            self.conn(),
            "DELETE FROM users WHERE project_id = $1 AND id = $2",
            &args,
        )
        .await?
            == 1)
    }
}
