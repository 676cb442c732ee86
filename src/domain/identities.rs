//! OAuth2 identities of the signed-in user (spec §5.18); OAuth2 sign-in creates them later.

use crate::domain::Env;
use crate::domain::queries::{self, IDENTITY_ATTRIBUTES};
use crate::error::{Error, ErrorType, Result};
use crate::store::{IdentityRow, Page, StoreError, UserRow};

/// Appwrite counts at most this many for `total` (`APP_LIMIT_COUNT`).
const MAX_COUNT: i64 = 5000;

/// `account.listIdentities`: the user's identities matching `queries`.
pub async fn list(
    env: &Env<'_>,
    user: &UserRow,
    raw_queries: &[String],
    legacy_syntax: bool,
) -> Result<Page<IdentityRow>> {
    let query = queries::parse(raw_queries, legacy_syntax, IDENTITY_ATTRIBUTES)?;
    let mut page = match env
        .store
        .list_identities(env.pid(), Some(&user.id), &query)
        .await
    {
        Err(StoreError::CursorNotFound) => {
            let id = query.cursor.map(|c| c.id).unwrap_or_default();
            return Err(Error::from(ErrorType::GeneralCursorNotFound)
                .with_message(format!("Identity '{id}' for the 'cursor' value not found.")));
        }
        other => other?,
    };
    page.total = page.total.min(MAX_COUNT);
    Ok(page)
}

/// `account.deleteIdentity`: one of the user's own identities.
pub async fn delete(env: &Env<'_>, user: &UserRow, id: &str) -> Result<()> {
    let identity = env
        .store
        .find_identity(env.pid(), id)
        .await?
        .ok_or(ErrorType::UserIdentityNotFound)?;
    if identity.user_id != user.id {
        // Appwrite fails on document permissions here rather than saying "not found".
        return Err(ErrorType::UserUnauthorized.into());
    }
    let mut tx = env.begin().await?;
    if !tx.delete_identity(env.pid(), &identity.id).await? {
        return Err(ErrorType::UserIdentityNotFound.into());
    }
    env.commit_audited(
        tx,
        user,
        "identity.delete",
        format!("identity/{}", identity.id),
    )
    .await?;
    Ok(())
}
