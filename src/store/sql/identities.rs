//! OAuth2 identities and the filtered, paged listing of them.

use super::filter::{Listing, Scope, col};
use super::*;

const IDENTITY_COLS: &str = "id, user_id, created_at, updated_at, provider, provider_uid, \
    provider_email, provider_access_token, provider_access_token_expiry, provider_refresh_token, \
    provider_id_token";

/// The attributes `account.listIdentities` may filter and order on, and their columns.
const LISTING: Listing = Listing {
    table: "identities",
    select: IDENTITY_COLS,
    search: Some(super::search::Index::Scan),
    columns: &[
        col("$id", "id", true, false),
        col("$createdAt", "created_at", false, false),
        col("$updatedAt", "updated_at", false, false),
        col("userId", "user_id", true, false),
        col("provider", "provider", true, false),
        col("providerUid", "provider_uid", true, false),
        col("providerEmail", "provider_email", true, false),
        col(
            "providerAccessTokenExpiry",
            "provider_access_token_expiry",
            false,
            true,
        ),
    ],
};

/// Binds the row's columns in `IDENTITY_COLS` order (for an insert, and an update by id).
fn bind_identity<'q>(q: Q<'q>, i: &'q IdentityRow) -> Q<'q> {
    q.bind(&i.id)
        .bind(&i.user_id)
        .bind(i.created_at)
        .bind(i.updated_at)
        .bind(&i.provider)
        .bind(&i.provider_uid)
        .bind(&i.provider_email)
        .bind(i.provider_access_token.expose())
        .bind(i.provider_access_token_expiry)
        .bind(i.provider_refresh_token.expose())
        .bind(i.provider_id_token.expose())
        .bind(super::search::document([
            i.id.as_str(),
            i.user_id.as_str(),
            i.provider.as_str(),
            i.provider_uid.as_str(),
            i.provider_email.as_str(),
        ]))
}

/// The written columns: the read ones and the search words.
const IDENTITY_WRITE_COLS: &str = "id, user_id, created_at, updated_at, provider, provider_uid, \
    provider_email, provider_access_token, provider_access_token_expiry, provider_refresh_token, \
    provider_id_token, search";

fn identity_from(r: &AnyRow) -> StoreResult<IdentityRow> {
    Ok(IdentityRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        provider: r.try_get("provider")?,
        provider_uid: r.try_get("provider_uid")?,
        provider_email: r.try_get("provider_email")?,
        provider_access_token: get_secret(r, "provider_access_token")?,
        provider_access_token_expiry: r.try_get("provider_access_token_expiry")?,
        provider_refresh_token: get_secret(r, "provider_refresh_token")?,
        provider_id_token: get_secret(r, "provider_id_token")?,
    })
}

async fn email_taken(
    conn: &mut AnyConnection,
    project: &str,
    email: &str,
    except_user: Option<&str>,
) -> StoreResult<bool> {
    Ok(fetch_count(
        conn,
        "SELECT COUNT(*) AS n FROM identities \
         WHERE project_id = $1 AND provider_email = $2 AND user_id <> $3"
            .into(),
        &[
            project.into(),
            email.into(),
            except_user.unwrap_or("").into(),
        ],
    )
    .await?
        > 0)
}

#[async_trait]
impl IdentityStore for SqlStore {
    async fn identity_email_taken(
        &self,
        project: &str,
        email: &str,
        except_user: Option<&str>,
    ) -> StoreResult<bool> {
        email_taken(&mut *self.reader().await?, project, email, except_user).await
    }

    async fn list_identities(
        &self,
        project: &str,
        user: Option<&str>,
        query: &ListQuery,
    ) -> StoreResult<Page<IdentityRow>> {
        let scope = match user {
            Some(user) => Scope {
                condition: "project_id = $1 AND user_id = $2",
                args: vec![project.into(), user.into()],
            },
            None => Scope {
                condition: "project_id = $1",
                args: vec![project.into()],
            },
        };
        let mut conn = self.reader().await?;
        filter::run(
            &mut conn,
            &LISTING,
            query,
            self.dialect,
            scope,
            identity_from,
        )
        .await
    }

    async fn find_identity_by_provider(
        &self,
        project: &str,
        provider: &str,
        uid: &str,
    ) -> StoreResult<Option<IdentityRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!(
                "SELECT {IDENTITY_COLS} FROM identities \
                 WHERE project_id = $1 AND provider = $2 AND provider_uid = $3"
            ),
            &[project.into(), provider.into(), uid.into()],
            identity_from,
        )
        .await
    }

    async fn find_user_identity(
        &self,
        project: &str,
        user: &str,
        provider: &str,
    ) -> StoreResult<Option<IdentityRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!(
                "SELECT {IDENTITY_COLS} FROM identities \
                 WHERE project_id = $1 AND user_id = $2 AND provider = $3 \
                 ORDER BY updated_at DESC, id LIMIT 1"
            ),
            &[project.into(), user.into(), provider.into()],
            identity_from,
        )
        .await
    }

    async fn find_identity(&self, project: &str, id: &str) -> StoreResult<Option<IdentityRow>> {
        fetch_opt(
            &mut *self.reader().await?,
            format!("SELECT {IDENTITY_COLS} FROM identities WHERE project_id = $1 AND id = $2"),
            &[project.into(), id.into()],
            identity_from,
        )
        .await
    }
}

#[async_trait]
impl IdentityTx for SqlTx {
    async fn identity_email_taken(
        &mut self,
        project: &str,
        email: &str,
        except_user: Option<&str>,
    ) -> StoreResult<bool> {
        email_taken(self.conn(), project, email, except_user).await
    }

    async fn insert_identity(&mut self, project: &str, i: &IdentityRow) -> StoreResult<()> {
        bind_identity(
            sqlx::query(insert_sql("identities", IDENTITY_WRITE_COLS)).bind(project),
            i,
        )
        .execute(self.conn())
        .await
        .map_err(conflict_or)?;
        Ok(())
    }

    async fn update_identity(&mut self, project: &str, i: &IdentityRow) -> StoreResult<()> {
        bind_identity(
            sqlx::query(update_sql("identities", IDENTITY_WRITE_COLS)).bind(project),
            i,
        )
        .execute(self.conn())
        .await
        .map_err(conflict_or)?;
        Ok(())
    }

    async fn delete_identity(&mut self, project: &str, id: &str) -> StoreResult<bool> {
        Ok(execute(
            self.conn(),
            "DELETE FROM identities WHERE project_id = $1 AND id = $2",
            &[project.into(), id.into()],
        )
        .await?
            > 0)
    }
}
