//! Push targets of the signed-in user (spec §5.17).

use crate::domain::Env;
use crate::domain::ids::unique_id;
use crate::error::{ErrorType, Result};
use crate::store::{SessionRow, TargetRow, UserRow};

/// The target name Appwrite derives from the device: the session's stored fields, parsed
/// once when it was created (a JWT caller has none, so its own user agent is used).
fn device_name(env: &Env<'_>, session: Option<&SessionRow>) -> String {
    let ua = session.map_or_else(|| env.client.ua(), |s| &s.ua);
    format!("{} {}", ua.device_brand, ua.device_model)
}

/// `POST /v1/account/targets/push`: a push target bound to the caller's session.
pub async fn create_push_target(
    env: &Env<'_>,
    user: &UserRow,
    session: Option<&SessionRow>,
    target_id: Option<String>,
    identifier: String,
    provider_id: Option<String>,
) -> Result<TargetRow> {
    // Push targets belong to a device session; JWT callers have none.
    let session = session.ok_or(ErrorType::UserSessionNotFound)?;
    let now = env.now();
    let target = TargetRow {
        id: target_id.unwrap_or_else(unique_id),
        user_id: user.id.clone(),
        created_at: now,
        updated_at: now,
        name: device_name(env, Some(session)),
        provider_id,
        provider_type: "push".into(),
        identifier,
        expired: false,
        session_id: Some(session.id.clone()),
    };
    let mut tx = env.begin().await?;
    tx.insert_target(env.pid(), &target)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserTargetAlreadyExists))?;
    env.commit_audited(tx, user, "target.create", format!("target/{}", target.id))
        .await?;
    Ok(target)
}

/// The user's own target with this id; `user_target_not_found` for anyone else's.
async fn own_target(env: &Env<'_>, user: &UserRow, id: &str) -> Result<TargetRow> {
    env.store
        .find_target(env.pid(), id)
        .await?
        .filter(|t| t.user_id == user.id)
        .ok_or_else(|| ErrorType::UserTargetNotFound.into())
}

/// `PUT /v1/account/targets/:targetId/push`.
pub async fn update_push_target(
    env: &Env<'_>,
    user: &UserRow,
    session: Option<&SessionRow>,
    id: &str,
    identifier: String,
) -> Result<TargetRow> {
    let mut target = own_target(env, user, id).await?;
    target.identifier = identifier;
    target.expired = false;
    target.name = device_name(env, session);
    target.updated_at = env.now();
    let mut tx = env.begin().await?;
    tx.update_target(env.pid(), &target)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserTargetAlreadyExists))?;
    env.commit_audited(tx, user, "target.update", format!("target/{}", target.id))
        .await?;
    Ok(target)
}

/// `DELETE /v1/account/targets/:targetId/push`.
pub async fn delete_push_target(env: &Env<'_>, user: &UserRow, id: &str) -> Result<()> {
    let target = own_target(env, user, id).await?;
    let mut tx = env.begin().await?;
    if !tx.delete_target(env.pid(), &target.id).await? {
        return Err(ErrorType::UserTargetNotFound.into());
    }
    env.commit_audited(tx, user, "target.delete", format!("target/{}", target.id))
        .await?;
    Ok(())
}
