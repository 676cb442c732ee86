//! Session alert emails (spec §5.16): when the project enables them, a user with an email hears
//! of every new session but their first, except sessions that an email itself signed in
//! (magic URL, email OTP), whose owner already holds the inbox.

use crate::domain::Env;
use crate::domain::geo;
use crate::domain::messages::Template;
use crate::error::Result;
use crate::store::{SessionRow, Tx, UserRow};

/// Queues the alert for `session` in the unit of work that creates it, if one is due;
/// `first` says the user had no session before it.
pub async fn session_alert(
    env: &Env<'_>,
    tx: &mut Box<dyn Tx>,
    user: &UserRow,
    session: &SessionRow,
    first: bool,
) -> Result<()> {
    let Some(email) = user.email.as_deref().filter(|e| !e.is_empty()) else {
        return Ok(());
    };
    if !env.project.settings.auth.session_alerts || !env.project.email_enabled {
        return Ok(());
    }
    let by_email = session.provider == "magic-url"
        || (session.provider == "token" && session.factors.contains("\"email\""));
    if by_email {
        return Ok(());
    }
    if first {
        return Ok(());
    }
    let mut m = env.message(
        Template::SessionAlert,
        email,
        user.name.as_deref().unwrap_or_default(),
    );
    let device = if session.ua.client_name.is_empty() {
        session.user_agent.clone()
    } else {
        session.ua.client_name.clone()
    };
    let at = time::OffsetDateTime::from_unix_timestamp(session.created_at / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    m.vars.insert("device".into(), device);
    m.vars.insert("ipAddress".into(), session.ip.clone());
    m.vars.insert(
        "country".into(),
        geo::country_name_in(&session.country_code, &env.client.locale),
    );
    m.vars
        .insert("month".into(), u8::from(at.month()).to_string());
    m.vars.insert("day".into(), at.day().to_string());
    m.vars.insert("year".into(), at.year().to_string());
    m.vars.insert(
        "time".into(),
        format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second()),
    );
    env.enqueue(tx, &user.id, &m, None).await
}
