//! Push targets of the signed-in user (spec §5.17).

use axum::http::StatusCode;

use crate::domain::ids::unique_id;
use crate::domain::time::now_ms;
use crate::domain::validate;
use crate::error::{ErrorType, Result};
use crate::http::extract::Params;
use crate::http::gate::Ctx;
use crate::http::models;
use crate::http::reply::{Model, Reply};
use crate::store::TargetRow;

/// The target name Appwrite derives from the device: the current session's stored fields,
/// parsed once when it was created (a JWT caller has none, so its user agent is parsed here).
fn device_name(ctx: &Ctx) -> String {
    let parsed;
    let ua = match ctx.current_session() {
        Some(s) => &s.ua,
        None => {
            parsed = crate::domain::useragent::parse(&ctx.client.user_agent);
            &parsed
        }
    };
    format!("{} {}", ua.device_brand, ua.device_model)
}

fn identifier(p: &Params) -> Result<String> {
    p.required("identifier", |s| validate::text(s, 1, 255))
}

/// `account.createPushTarget` — POST /v1/account/targets/push.
pub async fn create_push_target(ctx: Ctx, p: Params) -> Result<Reply> {
    let target_id = p.required("targetId", validate::custom_id)?;
    let identifier = identifier(&p)?;
    let provider_id = p.optional("providerId", validate::uid)?;
    let user = ctx.user()?;
    // Push targets belong to a device session; JWT callers have none.
    let session = ctx
        .current_session()
        .ok_or(ErrorType::UserSessionNotFound)?;
    let now = now_ms();
    let target = TargetRow {
        id: target_id.unwrap_or_else(unique_id),
        user_id: user.id.clone(),
        created_at: now,
        updated_at: now,
        name: device_name(&ctx),
        provider_id,
        provider_type: "push".into(),
        identifier,
        expired: false,
        session_id: Some(session.id.clone()),
    };
    let audit = ctx
        .env()
        .audit(user, "target.create", format!("target/{}", target.id));
    ctx.state
        .store
        .create_target(&ctx.project.id, &target, &audit)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserTargetAlreadyExists))?;
    Ok(Reply::json(
        StatusCode::CREATED,
        Model::Target,
        models::target(&target),
    ))
}

async fn own_target(ctx: &Ctx) -> Result<TargetRow> {
    let user = ctx.user()?;
    ctx.state
        .store
        .find_target(&ctx.project.id, ctx.path("targetId"))
        .await?
        .filter(|t| t.user_id == user.id)
        .ok_or_else(|| ErrorType::UserTargetNotFound.into())
}

/// `account.updatePushTarget` — PUT /v1/account/targets/:targetId/push.
pub async fn update_push_target(ctx: Ctx, p: Params) -> Result<Reply> {
    let identifier = identifier(&p)?;
    let mut target = own_target(&ctx).await?;
    target.identifier = identifier;
    target.expired = false;
    target.name = device_name(&ctx);
    target.updated_at = now_ms();
    let audit = ctx.env().audit(
        ctx.user()?,
        "target.update",
        format!("target/{}", target.id),
    );
    ctx.state
        .store
        .update_target(&ctx.project.id, &target, &audit)
        .await
        .map_err(|e| e.conflict_as(ErrorType::UserTargetAlreadyExists))?;
    Ok(Reply::ok(Model::Target, models::target(&target)))
}

/// `account.deletePushTarget` — DELETE /v1/account/targets/:targetId/push.
pub async fn delete_push_target(ctx: Ctx, _: Params) -> Result<Reply> {
    let target = own_target(&ctx).await?;
    let audit = ctx.env().audit(
        ctx.user()?,
        "target.delete",
        format!("target/{}", target.id),
    );
    ctx.state
        .store
        .delete_target(&ctx.project.id, &target.id, &audit)
        .await?;
    Ok(Reply::no_content())
}
