//! Users: the account rows themselves.

use super::sessions::insert_session;
use super::targets::insert_target;
use super::*;

pub(super) const USER_COLS: &str = "id, created_at, updated_at, name, email, phone, password, hash, hash_options, \
    password_history, password_update, registration, status, labels, email_verification, \
    phone_verification, mfa, prefs, accessed_at, email_canonical, email_is_free, \
    email_is_disposable, email_is_corporate, email_is_canonical";

fn bind_user<'q>(q: Q<'q>, u: &'q UserRow) -> Q<'q> {
    q.bind(&u.id)
        .bind(u.created_at)
        .bind(u.updated_at)
        .bind(&u.name)
        .bind(&u.email)
        .bind(&u.phone)
        .bind(&u.password)
        .bind(&u.hash)
        .bind(&u.hash_options)
        .bind(&u.password_history)
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
}

fn user_from(r: &AnyRow) -> StoreResult<UserRow> {
    Ok(UserRow {
        id: r.try_get("id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        password: r.try_get("password")?,
        hash: r.try_get("hash")?,
        hash_options: r.try_get("hash_options")?,
        password_history: r.try_get("password_history")?,
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
    })
}

#[async_trait]
impl UserStore for SqlStore {
    async fn count_users(&self, project: &str) -> StoreResult<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM users WHERE project_id = $1")
                .bind(project)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?,
        )
    }

    async fn find_user(&self, project: &str, id: &str) -> StoreResult<Option<UserRow>> {
        self.fetch_opt(
            format!("SELECT {USER_COLS} FROM users WHERE project_id = $1 AND id = $2"),
            &[project, id],
            user_from,
        )
        .await
    }

    async fn find_user_by_email(&self, project: &str, email: &str) -> StoreResult<Option<UserRow>> {
        self.fetch_opt(
            format!("SELECT {USER_COLS} FROM users WHERE project_id = $1 AND email = $2"),
            &[project, email],
            user_from,
        )
        .await
    }

    async fn create_user(
        &self,
        project: &str,
        user: &UserRow,
        target: Option<&TargetRow>,
        session: Option<&SessionRow>,
        audits: &[AuditRow],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        bind_user(
            sqlx::query(insert_sql("users", USER_COLS)).bind(project),
            user,
        )
        .execute(&mut *tx)
        .await
        .map_err(conflict_or)?;
        if let Some(t) = target {
            insert_target(&mut tx, project, t).await?;
        }
        if let Some(s) = session {
            insert_session(&mut tx, project, s).await?;
        }
        for a in audits {
            insert_audit(&mut tx, project, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn update_user(
        &self,
        project: &str,
        user: &UserRow,
        rename_target: Option<(&str, &str)>,
        purge: SessionPurge,
        audit: Option<&AuditRow>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        // Column i of USER_COLS is bound to $(i + 2); the first column (id) is the key.
        let sets = USER_COLS
            .split(',')
            .map(str::trim)
            .enumerate()
            .skip(1)
            .map(|(i, c)| format!("{c} = ${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("UPDATE users SET {sets} WHERE project_id = $1 AND id = $2");
        bind_user(sqlx::query(AssertSqlSafe(sql)).bind(project), user)
            .execute(&mut *tx)
            .await
            .map_err(conflict_or)?;
        if let Some((old, new)) = rename_target {
            sqlx::query(
                "UPDATE targets SET identifier = $1, updated_at = $2 WHERE project_id = $3 AND user_id = $4 AND identifier = $5",
            )
            .bind(new)
            .bind(user.updated_at)
            .bind(project)
            .bind(&user.id)
            .bind(old)
            .execute(&mut *tx)
            .await
            .map_err(conflict_or)?;
        }
        match purge {
            SessionPurge::Keep => {}
            SessionPurge::AllBut(keep) => {
                sqlx::query(
                    "DELETE FROM sessions WHERE project_id = $1 AND user_id = $2 AND id <> $3",
                )
                .bind(project)
                .bind(&user.id)
                .bind(keep)
                .execute(&mut *tx)
                .await?;
            }
            SessionPurge::All => {
                sqlx::query("DELETE FROM sessions WHERE project_id = $1 AND user_id = $2")
                    .bind(project)
                    .bind(&user.id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if let Some(a) = audit {
            insert_audit(&mut tx, project, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn touch_user(&self, project: &str, id: &str, accessed_at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET accessed_at = $1 WHERE project_id = $2 AND id = $3")
            .bind(accessed_at)
            .bind(project)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_user(&self, project: &str, id: &str, audit: &AuditRow) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for table in ["sessions", "targets", "identities"] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE project_id = $1 AND user_id = $2"
            )))
            .bind(project)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM users WHERE project_id = $1 AND id = $2")
            .bind(project)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, project, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}
