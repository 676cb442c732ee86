//! The Users API's routes (server spec 1.8.x `/users…`, plus the 2.x challenge read), one
//! declaration each. Every one is `keys_only`: users hold `targets.read`/`targets.write` for
//! their own push targets, which must not open other users' targets here. Appwrite declares
//! no rate limits on these routes.

use crate::domain::hashing::SHA_VERSIONS;
use crate::http::reply::Model;
use crate::http::route::{Param, Route, Verb::*, h, p};
use crate::http::users::{self, access, create};

const READ: &str = "users.read";
const WRITE: &str = "users.write";
const TARGETS_READ: &str = "targets.read";
const TARGETS_WRITE: &str = "targets.write";
const USER_ID: Param = p::path_uid("userId");
/// A list's `queries`, `search` and `total`.
const LISTED: &[Param] = &[
    p::queries("queries"),
    p::text("search", 0, 256).or_text(""),
    p::boolean("total").or_bool(true),
];
/// Every hash import takes these first (then its own parameters, then `name`).
const HASHED: [Param; 3] = [
    p::custom_id("userId"),
    p::email("email"),
    p::text("password", 1, 2048),
];
const NAME: Param = p::text("name", 0, 128).optional();

#[rustfmt::skip]
pub static USERS: &[Route] = &[
    Route::new(Get, "/v1/users", "users.list", h!(users::list))
        .scope(READ).keys_only()
        .params(LISTED)
        .returns(200, Model::UserList),
    Route::new(Post, "/v1/users", "users.create", h!(create::create))
        .scope(WRITE).keys_only()
        .params(&[p::custom_id("userId"), p::email("email").optional(), p::phone("phone").optional(),
                  p::new_password("password").optional(), NAME])
        .returns(201, Model::User),
    Route::new(Post, "/v1/users/argon2", "users.createArgon2User", h!(create::create_argon2))
        .scope(WRITE).keys_only()
        .params(&[HASHED[0], HASHED[1], HASHED[2], NAME])
        .returns(201, Model::User),
    Route::new(Post, "/v1/users/bcrypt", "users.createBcryptUser", h!(create::create_bcrypt))
        .scope(WRITE).keys_only()
        .params(&[HASHED[0], HASHED[1], HASHED[2], NAME])
        .returns(201, Model::User),
    Route::new(Post, "/v1/users/md5", "users.createMD5User", h!(create::create_md5))
        .scope(WRITE).keys_only()
        .params(&[HASHED[0], HASHED[1], HASHED[2], NAME])
        .returns(201, Model::User),
    Route::new(Post, "/v1/users/phpass", "users.createPHPassUser", h!(create::create_phpass))
        .scope(WRITE).keys_only()
        .params(&[HASHED[0], HASHED[1], HASHED[2], NAME])
        .returns(201, Model::User),
    Route::new(Post, "/v1/users/sha", "users.createSHAUser", h!(create::create_sha))
        .scope(WRITE).keys_only()
        .params(&[HASHED[0], HASHED[1], HASHED[2], p::one_of("passwordVersion", SHA_VERSIONS).or_text("sha3-512"),
                  NAME])
        .returns(201, Model::User),
    Route::new(Post, "/v1/users/scrypt", "users.createScryptUser", h!(create::create_scrypt))
        .scope(WRITE).keys_only()
        .params(&[HASHED[0], HASHED[1], HASHED[2], p::text("passwordSalt", 0, 128),
                  p::integer("passwordCpu", 0, 1 << 30), p::integer("passwordMemory", 0, 1 << 20),
                  p::integer("passwordParallel", 0, 1 << 10), p::integer("passwordLength", 0, 1 << 10),
                  NAME])
        .returns(201, Model::User),
    Route::new(Post, "/v1/users/scrypt-modified", "users.createScryptModifiedUser",
               h!(create::create_scrypt_modified))
        .scope(WRITE).keys_only()
        .params(&[HASHED[0], HASHED[1], HASHED[2], p::text("passwordSalt", 1, 128),
                  p::text("passwordSaltSeparator", 1, 128), p::text("passwordSignerKey", 1, 256), NAME])
        .returns(201, Model::User),
    Route::new(Get, "/v1/users/identities", "users.listIdentities", h!(users::list_identities))
        .scope(READ).keys_only()
        .params(LISTED)
        .returns(200, Model::IdentityList),
    Route::new(Delete, "/v1/users/identities/:identityId", "users.deleteIdentity",
               h!(users::delete_identity))
        .scope(WRITE).keys_only()
        .params(&[p::path_uid("identityId")])
        .returns(204, Model::None),
    Route::new(Get, "/v1/users/:userId", "users.get", h!(users::get))
        .scope(READ).keys_only()
        .params(&[USER_ID])
        .returns(200, Model::User),
    Route::new(Delete, "/v1/users/:userId", "users.delete", h!(users::delete))
        .scope(WRITE).keys_only()
        .params(&[USER_ID])
        .returns(204, Model::None),
    Route::new(Patch, "/v1/users/:userId/email", "users.updateEmail", h!(users::update_email))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::email("email").or_empty()])
        .returns(200, Model::User),
    Route::new(Post, "/v1/users/:userId/jwts", "users.createJWT", h!(access::create_jwt))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::text("sessionId", 0, 36).or_text(""),
                  // Appwrite allows 0, which its JWT library then refuses with a 500 (spec §5.10).
                  p::integer("duration", 1, 3600).or_int(900)])
        .returns(201, Model::Jwt),
    Route::new(Put, "/v1/users/:userId/labels", "users.updateLabels", h!(users::update_labels))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::strings("labels", 1000, 36)])
        .returns(200, Model::User),
    Route::new(Get, "/v1/users/:userId/logs", "users.listLogs", h!(users::list_logs))
        .scope(READ).keys_only()
        .params(&[USER_ID, p::queries("queries"), p::boolean("total").or_bool(true)])
        .returns(200, Model::LogList),
    Route::new(Get, "/v1/users/:userId/memberships", "users.listMemberships",
               h!(users::list_memberships))
        .scope(READ).keys_only()
        .params(&[USER_ID, p::queries("queries"), p::text("search", 0, 256).or_text(""),
                  p::boolean("total").or_bool(true)])
        .returns(200, Model::MembershipList),
    Route::new(Patch, "/v1/users/:userId/mfa", "users.updateMfa", h!(access::update_mfa))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::strict_boolean("mfa")])
        .returns(200, Model::User),
    Route::new(Delete, "/v1/users/:userId/mfa/authenticators/:type", "users.deleteMfaAuthenticator",
               h!(access::delete_authenticator))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::path_one_of("type", crate::http::mfa::AUTHENTICATORS)])
        .returns(204, Model::None),
    Route::new(Get, "/v1/users/:userId/mfa/challenges/:challengeId", "users.getMfaChallenge",
               h!(access::get_challenge))
        .scope(READ).keys_only()
        .params(&[USER_ID, p::path_uid("challengeId")])
        .returns(200, Model::MfaChallengeSecret),
    Route::new(Get, "/v1/users/:userId/mfa/factors", "users.listMfaFactors", h!(access::list_factors))
        .scope(READ).keys_only()
        .params(&[USER_ID])
        .returns(200, Model::MfaFactors),
    Route::new(Get, "/v1/users/:userId/mfa/recovery-codes", "users.getMfaRecoveryCodes",
               h!(access::get_recovery_codes))
        .scope(READ).keys_only()
        .params(&[USER_ID])
        .returns(200, Model::MfaRecoveryCodes),
    Route::new(Put, "/v1/users/:userId/mfa/recovery-codes", "users.updateMfaRecoveryCodes",
               h!(access::regenerate_recovery_codes))
        .scope(WRITE).keys_only()
        .params(&[USER_ID])
        .returns(200, Model::MfaRecoveryCodes),
    Route::new(Patch, "/v1/users/:userId/mfa/recovery-codes", "users.createMfaRecoveryCodes",
               h!(access::create_recovery_codes))
        .scope(WRITE).keys_only()
        .params(&[USER_ID])
        .returns(201, Model::MfaRecoveryCodes),
    Route::new(Patch, "/v1/users/:userId/name", "users.updateName", h!(users::update_name))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::text("name", 0, 128)])
        .returns(200, Model::User),
    Route::new(Patch, "/v1/users/:userId/password", "users.updatePassword", h!(users::update_password))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::new_password("password")])
        .returns(200, Model::User),
    Route::new(Patch, "/v1/users/:userId/phone", "users.updatePhone", h!(users::update_phone))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::phone("number").or_empty()])
        .returns(200, Model::User),
    Route::new(Get, "/v1/users/:userId/prefs", "users.getPrefs", h!(users::get_prefs))
        .scope(READ).keys_only()
        .params(&[USER_ID])
        .returns(200, Model::Preferences),
    Route::new(Patch, "/v1/users/:userId/prefs", "users.updatePrefs", h!(users::update_prefs))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::object("prefs", 65535)])
        .returns(200, Model::Preferences),
    Route::new(Get, "/v1/users/:userId/sessions", "users.listSessions", h!(access::list_sessions))
        .scope(READ).keys_only()
        .params(&[USER_ID, p::boolean("total").or_bool(true)])
        .returns(200, Model::SessionList),
    Route::new(Post, "/v1/users/:userId/sessions", "users.createSession", h!(access::create_session))
        .scope(WRITE).keys_only()
        .params(&[USER_ID])
        .returns(201, Model::Session),
    Route::new(Delete, "/v1/users/:userId/sessions", "users.deleteSessions", h!(access::delete_sessions))
        .scope(WRITE).keys_only()
        .params(&[USER_ID])
        .returns(204, Model::None),
    Route::new(Delete, "/v1/users/:userId/sessions/:sessionId", "users.deleteSession",
               h!(access::delete_session))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::path_uid("sessionId")])
        .returns(204, Model::None),
    Route::new(Patch, "/v1/users/:userId/status", "users.updateStatus", h!(users::update_status))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::boolean("status")])
        .returns(200, Model::User),
    Route::new(Get, "/v1/users/:userId/targets", "users.listTargets", h!(access::list_targets))
        .scope(TARGETS_READ).keys_only()
        .params(&[USER_ID, p::queries("queries"), p::boolean("total").or_bool(true)])
        .returns(200, Model::TargetList),
    Route::new(Post, "/v1/users/:userId/targets", "users.createTarget", h!(access::create_target))
        .scope(TARGETS_WRITE).keys_only()
        .params(&[USER_ID, p::custom_id("targetId"), p::one_of("providerType", &["email", "sms", "push"]),
                  p::text("identifier", 1, 255), p::uid("providerId").optional(), NAME])
        .returns(201, Model::Target),
    Route::new(Get, "/v1/users/:userId/targets/:targetId", "users.getTarget", h!(access::get_target))
        .scope(TARGETS_READ).keys_only()
        .params(&[USER_ID, p::path_uid("targetId")])
        .returns(200, Model::Target),
    Route::new(Patch, "/v1/users/:userId/targets/:targetId", "users.updateTarget",
               h!(access::update_target))
        .scope(TARGETS_WRITE).keys_only()
        .params(&[USER_ID, p::path_uid("targetId"), p::text("identifier", 1, 255).optional(),
                  p::uid("providerId").optional(), NAME])
        .returns(200, Model::Target),
    Route::new(Delete, "/v1/users/:userId/targets/:targetId", "users.deleteTarget",
               h!(access::delete_target))
        .scope(TARGETS_WRITE).keys_only()
        .params(&[USER_ID, p::path_uid("targetId")])
        .returns(204, Model::None),
    Route::new(Post, "/v1/users/:userId/tokens", "users.createToken", h!(access::create_token))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::integer("length", 4, 128).or_int(6),
                  p::integer("expire", 60, 31_536_000).or_int(900)])
        .returns(201, Model::Token),
    Route::new(Patch, "/v1/users/:userId/verification", "users.updateEmailVerification",
               h!(users::update_email_verification))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::boolean("emailVerification")])
        .returns(200, Model::User),
    Route::new(Patch, "/v1/users/:userId/verification/phone", "users.updatePhoneVerification",
               h!(users::update_phone_verification))
        .scope(WRITE).keys_only()
        .params(&[USER_ID, p::boolean("phoneVerification")])
        .returns(200, Model::User),
];
