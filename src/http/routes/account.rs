//! The Account API's routes (spec §4), one declaration each.

use crate::domain::project::AuthMethod::{
    Anonymous, EmailOtp, EmailPassword, Jwt, MagicUrl, Phone,
};
use crate::http::reply::Model;
use crate::http::route::{Group::*, Param, Route, URL_IP, Verb::*, h, p};
use crate::http::{
    account, identities, jwts, logs, mfa, oauth2, openapi, placeholders, recovery, sessions,
    targets, tokens, verification,
};

const ACCOUNT: &str = "account";
const SESSIONS_WRITE: &str = "sessions.write";
const TARGETS_WRITE: &str = "targets.write";
const PUBLIC: &str = "public";
const EMAIL_AND_IP: &[&str] = &["url:{url},email:{param-email}", "url:{url},ip:{ip}"];
const TOKEN_EXCHANGE: &[&str] = &["ip:{ip},userId:{param-userId}"];
/// The params of both OAuth2 start routes (spec §7.2; `state` is 2.x).
const OAUTH2_START: &[Param] = &[
    p::path_provider("provider"),
    p::redirect("success").optional(),
    p::redirect("failure").optional(),
    p::strings("scopes", 100, 4096).optional(),
    p::text("state", 0, 256).optional(),
];
const CONSENT_ID: Param = p::path_uid("consentId");
const OAUTH2_CALLBACK: &[Param] = &[
    p::path_provider("provider"),
    p::path_text("projectId", 255),
    p::text("code", 0, 4096).optional(),
    p::text("state", 0, 8192).optional(),
    p::text("error", 0, 2048).optional(),
    p::text("error_description", 0, 2048).optional(),
    p::text("user", 0, 2048).optional(),
];

/// Every route, one block each: method, path, SDK method and handler, then what Appwrite
/// declares for it (spec §4), then its params and its success status and model.
#[rustfmt::skip]
pub static ACCOUNT_ROUTES: &[Route] = &[
    Route::new(Get, "/v1/openapi.json", "openapi.get", h!(openapi::get)).projectless(),
    Route::new(Post, "/v1/account", "account.create", h!(account::create))
        .scope(SESSIONS_WRITE).auth(EmailPassword).limit(10, 3600, URL_IP)
        .params(&[p::custom_id("userId"), p::email("email"), p::new_password("password"),
                  p::text("name", 1, 128).optional()])
        .returns(201, Model::Account),
    Route::new(Get, "/v1/account", "account.get", h!(account::get))
        .scope(ACCOUNT).returns(200, Model::Account),
    Route::new(Delete, "/v1/account", "account.delete", h!(account::delete))
        .scope(ACCOUNT).returns(204, Model::None),
    Route::new(Get, "/v1/account/sessions", "account.listSessions", h!(sessions::list_sessions))
        .scope(ACCOUNT).returns(200, Model::SessionList),
    Route::new(Delete, "/v1/account/sessions", "account.deleteSessions", h!(sessions::delete_sessions))
        .scope(ACCOUNT).limit(100, 3600, URL_IP)
        .returns(204, Model::None),
    Route::new(Post, "/v1/account/sessions/email", "account.createEmailPasswordSession",
               h!(sessions::create_email_password_session))
        .aliases(&["/v1/account/sessions"])
        .scope(SESSIONS_WRITE).auth(EmailPassword).groups(&[Session])
        .limit_reset(10, 3600, &["url:{url},email:{param-email}"])
        .params(&[p::email("email"), p::password("password")])
        .returns(201, Model::Session),
    Route::new(Post, "/v1/account/sessions/anonymous", "account.createAnonymousSession",
               h!(sessions::create_anonymous_session))
        .scope(SESSIONS_WRITE).auth(Anonymous).groups(&[Session]).limit(50, 3600, &["ip:{ip}"])
        .returns(201, Model::Session),
    Route::new(Get, "/v1/account/sessions/:sessionId", "account.getSession", h!(sessions::get_session))
        .scope(ACCOUNT)
        .params(&[p::path_uid("sessionId")])
        .returns(200, Model::Session),
    Route::new(Patch, "/v1/account/sessions/:sessionId", "account.updateSession",
               h!(sessions::update_session))
        .scope(ACCOUNT).limit(10, 3600, URL_IP)
        .params(&[p::path_uid("sessionId")])
        .returns(200, Model::Session),
    Route::new(Delete, "/v1/account/sessions/:sessionId", "account.deleteSession",
               h!(sessions::delete_session))
        .scope(ACCOUNT).groups(&[Mfa]).limit(100, 3600, URL_IP)
        .params(&[p::path_uid("sessionId")])
        .returns(204, Model::None),
    Route::new(Post, "/v1/account/sessions/token", "account.createSession", h!(tokens::create_session))
        .scope(SESSIONS_WRITE).groups(&[Session]).limit_reset(10, 3600, TOKEN_EXCHANGE)
        .params(&[p::custom_id("userId"), p::text("secret", 1, 256)])
        .returns(201, Model::Session),
    Route::new(Get, "/v1/account/sessions/oauth2/:provider", "account.createOAuth2Session",
               h!(oauth2::create_oauth2_session))
        .scope(SESSIONS_WRITE).html_errors().limit(50, 3600, &["ip:{ip}"])
        .params(OAUTH2_START)
        .returns(301, Model::None),
    Route::new(Get, "/v1/account/tokens/oauth2/:provider", "account.createOAuth2Token",
               h!(oauth2::create_oauth2_token))
        .scope(SESSIONS_WRITE).html_errors().limit(50, 3600, &["ip:{ip}"])
        .params(OAUTH2_START)
        .returns(301, Model::None),
    // No project, origin or session checks: the provider's redirect carries no project
    // header (spec §7.3); the POST is Apple's form_post.
    Route::new(Get, "/v1/account/sessions/oauth2/callback/:provider/:projectId",
               "account.createOAuth2Callback", h!(oauth2::callback))
        .projectless().html_errors()
        .params(OAUTH2_CALLBACK)
        .returns(301, Model::None),
    Route::new(Post, "/v1/account/sessions/oauth2/callback/:provider/:projectId",
               "account.createOAuth2CallbackPost", h!(oauth2::callback))
        .projectless().html_errors()
        .params(OAUTH2_CALLBACK)
        .returns(301, Model::None),
    Route::new(Get, "/v1/account/sessions/oauth2/:provider/redirect", "account.createOAuth2Redirect",
               h!(oauth2::redirect))
        .scope(PUBLIC).html_errors().limit(50, 3600, &["ip:{ip}"])
        .params(&[p::path_provider("provider"), p::text("code", 0, 4096).or_text(""),
                  p::text("state", 0, 8192).or_text(""), p::text("error", 0, 2048).or_text(""),
                  p::text("error_description", 0, 2048).or_text(""),
                  p::text("user", 0, 2048).or_text("")])
        .returns(301, Model::None),
    Route::new(Post, "/v1/account/sessions/id-token", "account.createIdTokenSession",
               h!(oauth2::create_id_token_session))
        .scope(SESSIONS_WRITE).groups(&[Session]).limit_reset(10, 3600, URL_IP)
        .params(&[p::provider("provider"), p::text("idToken", 1, 8192),
                  p::text("nonce", 0, 256).optional(), p::text("accessToken", 0, 4096).optional(),
                  p::integer("accessTokenExpiry", 0, 31_536_000).or_int(0),
                  p::text("name", 0, 128).optional()])
        .returns(201, Model::Session),
    Route::new(Put, "/v1/account/sessions/magic-url", "account.updateMagicURLSession",
               h!(tokens::create_session))
        .scope(SESSIONS_WRITE).groups(&[Session]).limit_reset(10, 3600, TOKEN_EXCHANGE)
        .params(&[p::custom_id("userId"), p::text("secret", 1, 256)])
        .returns(201, Model::Session),
    Route::new(Put, "/v1/account/sessions/phone", "account.updatePhoneSession", h!(tokens::create_session))
        .scope(SESSIONS_WRITE).groups(&[Session]).limit(10, 3600, TOKEN_EXCHANGE)
        .params(&[p::custom_id("userId"), p::text("secret", 1, 256)])
        .returns(201, Model::Session),
    Route::new(Post, "/v1/account/tokens/magic-url", "account.createMagicURLToken",
               h!(tokens::create_magic_url_token))
        .aliases(&["/v1/account/sessions/magic-url"])
        .scope(SESSIONS_WRITE).auth(MagicUrl).limit(60, 3600, EMAIL_AND_IP)
        .params(&[p::custom_id("userId"), p::email("email"), p::redirect("url").or_text(""),
                  p::strict_boolean("phrase").or_bool(false)])
        .returns(201, Model::Token),
    Route::new(Post, "/v1/account/tokens/email", "account.createEmailToken", h!(tokens::create_email_token))
        .scope(SESSIONS_WRITE).auth(EmailOtp).limit(10, 3600, EMAIL_AND_IP)
        .params(&[p::custom_id("userId"), p::email("email"), p::strict_boolean("phrase").or_bool(false)])
        .returns(201, Model::Token),
    Route::new(Post, "/v1/account/tokens/phone", "account.createPhoneToken", h!(tokens::create_phone_token))
        .aliases(&["/v1/account/sessions/phone"])
        .scope(SESSIONS_WRITE).auth(Phone)
        .limit(10, 3600, &["url:{url},phone:{param-phone}", "url:{url},ip:{ip}"])
        .params(&[p::custom_id("userId"), p::phone("phone")])
        .returns(201, Model::Token),
    Route::new(Post, "/v1/account/recovery", "account.createRecovery", h!(recovery::create_recovery))
        .scope(SESSIONS_WRITE).limit(10, 3600, EMAIL_AND_IP)
        .params(&[p::email("email"), p::redirect("url")])
        .returns(201, Model::Token),
    Route::new(Put, "/v1/account/recovery", "account.updateRecovery", h!(recovery::update_recovery))
        .scope(SESSIONS_WRITE).limit(10, 3600, &["url:{url},userId:{param-userId}"])
        .params(&[p::uid("userId"), p::text("secret", 1, 256), p::new_password("password")])
        .returns(200, Model::Token),
    Route::new(Post, "/v1/account/recovery/otp", "account.createRecoveryOTP", h!(recovery::create_recovery_otp))
        .scope(SESSIONS_WRITE).limit(10, 3600, EMAIL_AND_IP)
        .params(&[p::email("email"), p::strict_boolean("phrase").or_bool(false)])
        .returns(201, Model::Token),
    Route::new(Put, "/v1/account/recovery/otp", "account.updateRecoveryOTP", h!(recovery::update_recovery_otp))
        .scope(SESSIONS_WRITE).limit(10, 3600, &["url:{url},userId:{param-userId}"])
        .params(&[p::uid("userId"), p::text("secret", 1, 256), p::new_password("password")])
        .returns(200, Model::Token),
    Route::new(Post, "/v1/account/verifications/email", "account.createEmailVerification",
               h!(verification::create_email_verification))
        .aliases(&["/v1/account/verification"])
        .scope(ACCOUNT).limit(10, 3600, &["url:{url},userId:{userId}"])
        .params(&[p::redirect("url")])
        .returns(201, Model::Token),
    Route::new(Put, "/v1/account/verifications/email", "account.updateEmailVerification",
               h!(verification::update_email_verification))
        .aliases(&["/v1/account/verification"])
        .scope(PUBLIC).limit(10, 3600, &["url:{url},userId:{param-userId}"])
        .params(&[p::uid("userId"), p::text("secret", 1, 256)])
        .returns(200, Model::Token),
    Route::new(Post, "/v1/account/verifications/email/otp", "account.createEmailVerificationOTP",
               h!(verification::create_email_verification_otp))
        .scope(ACCOUNT).limit(10, 3600, &["url:{url},userId:{userId}"])
        .params(&[p::strict_boolean("phrase").or_bool(false)])
        .returns(201, Model::Token),
    Route::new(Put, "/v1/account/verifications/email/otp", "account.updateEmailVerificationOTP",
               h!(verification::update_email_verification_otp))
        .scope(PUBLIC).limit(10, 3600, &["url:{url},userId:{param-userId}"])
        .params(&[p::uid("userId"), p::text("secret", 1, 256)])
        .returns(200, Model::Token),
    Route::new(Post, "/v1/account/verifications/phone", "account.createPhoneVerification",
               h!(verification::create_phone_verification))
        .aliases(&["/v1/account/verification/phone"])
        .scope(ACCOUNT).auth(Phone).limit(10, 3600, &["url:{url},userId:{userId}", "url:{url},ip:{ip}"])
        .returns(201, Model::Token),
    Route::new(Put, "/v1/account/verifications/phone", "account.updatePhoneVerification",
               h!(verification::update_phone_verification))
        .aliases(&["/v1/account/verification/phone"])
        .scope(PUBLIC).limit(10, 3600, &["userId:{param-userId}"])
        .params(&[p::uid("userId"), p::text("secret", 1, 256)])
        .returns(200, Model::Token),
    Route::new(Post, "/v1/account/jwts", "account.createJWT", h!(jwts::create_jwt))
        .aliases(&["/v1/account/jwt"])
        .scope(ACCOUNT).auth(Jwt).limit(120, 60, &["url:{url},userId:{userId}"])
        // Appwrite allows 0, which its JWT library then refuses with a 500 (spec §5.10).
        .params(&[p::integer("duration", 1, 3600).or_int(900),
                  // latchkey: also a refresh token (see `jwts/refresh`).
                  p::boolean("refresh").or_bool(false)])
        .returns(201, Model::Jwt),
    // latchkey: a new short JWT and the next refresh token for a refresh token.
    Route::new(Post, "/v1/account/jwts/refresh", "account.refreshJWT", h!(jwts::refresh_jwt))
        .scope(PUBLIC).auth(Jwt).limit(60, 60, &["ip:{ip}"])
        .params(&[p::text("refreshToken", 1, 128)])
        .returns(201, Model::Jwt),
    Route::new(Get, "/v1/account/prefs", "account.getPrefs", h!(account::get_prefs))
        .scope(ACCOUNT).returns(200, Model::Preferences),
    Route::new(Patch, "/v1/account/prefs", "account.updatePrefs", h!(account::update_prefs))
        .scope(ACCOUNT)
        .params(&[p::object("prefs", 65535)])
        .returns(200, Model::Account),
    Route::new(Patch, "/v1/account/name", "account.updateName", h!(account::update_name))
        .scope(ACCOUNT)
        .params(&[p::text("name", 1, 128)])
        .returns(200, Model::Account),
    Route::new(Patch, "/v1/account/password", "account.updatePassword", h!(account::update_password))
        .scope(ACCOUNT).limit(10, 3600, URL_IP)
        .params(&[p::new_password("password"), p::text("oldPassword", 0, 256).or_text("")])
        .returns(200, Model::Account),
    Route::new(Patch, "/v1/account/email", "account.updateEmail", h!(account::update_email))
        .scope(ACCOUNT)
        .params(&[p::email("email"), p::password("password")])
        .returns(200, Model::Account),
    Route::new(Patch, "/v1/account/phone", "account.updatePhone", h!(account::update_phone))
        .scope(ACCOUNT)
        .params(&[p::phone("phone"), p::password("password")])
        .returns(200, Model::Account),
    Route::new(Patch, "/v1/account/status", "account.updateStatus", h!(account::update_status))
        .scope(ACCOUNT).returns(200, Model::Account),
    Route::new(Post, "/v1/account/targets/push", "account.createPushTarget", h!(targets::create_push_target))
        .scope(TARGETS_WRITE)
        .params(&[p::custom_id("targetId"), p::text("identifier", 1, 255), p::uid("providerId").optional()])
        .returns(201, Model::Target),
    Route::new(Put, "/v1/account/targets/:targetId/push", "account.updatePushTarget",
               h!(targets::update_push_target))
        .scope(TARGETS_WRITE)
        .params(&[p::path_uid("targetId"), p::text("identifier", 1, 255)])
        .returns(200, Model::Target),
    Route::new(Delete, "/v1/account/targets/:targetId/push", "account.deletePushTarget",
               h!(targets::delete_push_target))
        .scope(TARGETS_WRITE)
        .params(&[p::path_uid("targetId")])
        .returns(204, Model::None),
    Route::new(Get, "/v1/account/identities", "account.listIdentities", h!(identities::list_identities))
        .scope(ACCOUNT)
        .params(&[p::queries("queries"), p::boolean("total").or_bool(true)])
        .returns(200, Model::IdentityList),
    Route::new(Delete, "/v1/account/identities/:identityId", "account.deleteIdentity",
               h!(identities::delete_identity))
        .scope(ACCOUNT)
        .params(&[p::path_uid("identityId")])
        .returns(204, Model::None),
    Route::new(Patch, "/v1/account/mfa", "account.updateMFA", h!(mfa::update_mfa))
        .scope(ACCOUNT)
        .params(&[p::strict_boolean("mfa")])
        .returns(200, Model::Account),
    Route::new(Get, "/v1/account/mfa/factors", "account.listMfaFactors", h!(mfa::list_factors))
        .scope(ACCOUNT).groups(&[Mfa])
        .returns(200, Model::MfaFactors),
    Route::new(Post, "/v1/account/mfa/authenticators/:type", "account.createMfaAuthenticator",
               h!(mfa::create_authenticator))
        .scope(ACCOUNT)
        .params(&[p::path_one_of("type", mfa::AUTHENTICATORS)])
        // Appwrite answers 200 here, not 201 (spec §12.11).
        .returns(200, Model::MfaType),
    Route::new(Put, "/v1/account/mfa/authenticators/:type", "account.updateMfaAuthenticator",
               h!(mfa::verify_authenticator))
        .scope(ACCOUNT)
        .params(&[p::path_one_of("type", mfa::AUTHENTICATORS), p::text("otp", 1, 256)])
        .returns(200, Model::Account),
    Route::new(Delete, "/v1/account/mfa/authenticators/:type", "account.deleteMfaAuthenticator",
               h!(mfa::delete_authenticator))
        .scope(ACCOUNT).groups(&[MfaProtected])
        .params(&[p::path_one_of("type", mfa::AUTHENTICATORS)])
        .returns(204, Model::None),
    Route::new(Post, "/v1/account/mfa/challenges", "account.createMfaChallenge",
               h!(mfa::create_challenge))
        .aliases(&["/v1/account/mfa/challenge"])
        .scope(ACCOUNT).groups(&[Mfa]).limit(10, 3600, &["url:{url},userId:{userId}"])
        .params(&[p::one_of("factor", mfa::FACTORS)])
        .returns(201, Model::MfaChallenge),
    Route::new(Put, "/v1/account/mfa/challenges", "account.updateMfaChallenge",
               h!(mfa::verify_challenge))
        .aliases(&["/v1/account/mfa/challenge"])
        .scope(ACCOUNT).groups(&[Mfa])
        .limit(10, 3600, &["url:{url},challengeId:{param-challengeId}"])
        .params(&[p::text("challengeId", 1, 256), p::text("otp", 1, 256)])
        .returns(200, Model::Session),
    Route::new(Post, "/v1/account/mfa/recovery-codes", "account.createMfaRecoveryCodes",
               h!(mfa::create_recovery_codes))
        .scope(ACCOUNT)
        .returns(201, Model::MfaRecoveryCodes),
    Route::new(Get, "/v1/account/mfa/recovery-codes", "account.getMfaRecoveryCodes",
               h!(mfa::get_recovery_codes))
        .scope(ACCOUNT).groups(&[MfaProtected])
        .returns(200, Model::MfaRecoveryCodes),
    Route::new(Patch, "/v1/account/mfa/recovery-codes", "account.updateMfaRecoveryCodes",
               h!(mfa::regenerate_recovery_codes))
        .scope(ACCOUNT).groups(&[MfaProtected])
        .returns(200, Model::MfaRecoveryCodes),
    Route::new(Get, "/v1/account/logs", "account.listLogs", h!(logs::list_logs))
        .scope(ACCOUNT)
        .params(&[p::queries("queries"), p::boolean("total").or_bool(true)])
        .returns(200, Model::LogList),
    // 2.x routes of things latchkey does not have: placeholders (`placeholders.rs`).
    Route::new(Get, "/v1/account/consents", "account.listConsents", h!(placeholders::list_consents))
        .scope(ACCOUNT)
        .params(&[p::queries("queries"), p::boolean("total").or_bool(true)])
        .returns(200, Model::ConsentList),
    Route::new(Get, "/v1/account/consents/:consentId", "account.getConsent",
               h!(placeholders::consent_not_found))
        .scope(ACCOUNT).params(&[CONSENT_ID]).returns(200, Model::Plain),
    Route::new(Delete, "/v1/account/consents/:consentId", "account.deleteConsent",
               h!(placeholders::consent_not_found))
        .scope(ACCOUNT).params(&[CONSENT_ID]).returns(204, Model::None),
    Route::new(Get, "/v1/account/consents/:consentId/tokens", "account.listConsentTokens",
               h!(placeholders::consent_not_found))
        .scope(ACCOUNT)
        .params(&[CONSENT_ID, p::queries("queries"), p::boolean("total").or_bool(true)])
        .returns(200, Model::Plain),
    Route::new(Get, "/v1/account/consents/:consentId/tokens/:tokenId", "account.getConsentToken",
               h!(placeholders::consent_not_found))
        .scope(ACCOUNT).params(&[CONSENT_ID, p::path_uid("tokenId")]).returns(200, Model::Plain),
    Route::new(Delete, "/v1/account/consents/:consentId/tokens/:tokenId",
               "account.deleteConsentToken", h!(placeholders::consent_not_found))
        .scope(ACCOUNT).params(&[CONSENT_ID, p::path_uid("tokenId")]).returns(204, Model::None),
    Route::new(Get, "/v1/account/memberships", "account.listMemberships",
               h!(placeholders::list_memberships))
        .scope(ACCOUNT)
        .params(&[p::queries("queries"), p::boolean("total").or_bool(true)])
        .returns(200, Model::MembershipList),
];
