//! The 2.x Account API's passkey routes, one declaration each (Appwrite 2.5's labels: the
//! `passkey` auth-method switch guards the two routes that start a ceremony).

use crate::domain::project::AuthMethod::Passkey;
use crate::http::passkeys;
use crate::http::reply::Model;
use crate::http::route::{Param, Route, Verb::*, h, p};

const ACCOUNT: &str = "account";
const SESSIONS_WRITE: &str = "sessions.write";
const PASSKEY_ID: Param = p::path_uid("passkeyId");
/// `PublicKeyCredential.toJSON()`: a few KB (the attestation object is the largest part).
const CREDENTIAL: Param = p::object("credential", 65_536);

#[rustfmt::skip]
pub static PASSKEY_ROUTES: &[Route] = &[
    Route::new(Get, "/v1/account/passkeys", "account.listPasskeys", h!(passkeys::list))
        .scope(ACCOUNT)
        .params(&[p::queries("queries"), p::boolean("total").or_bool(true)])
        .returns(200, Model::PasskeyList),
    Route::new(Post, "/v1/account/passkeys", "account.createPasskey", h!(passkeys::create))
        .scope(ACCOUNT).auth(Passkey).limit(10, 3600, &["url:{url},userId:{userId}"])
        .params(&[p::custom_id("passkeyId").or_text("unique()"), p::text("name", 0, 128).or_text("")])
        .returns(201, Model::PasskeyChallenge),
    Route::new(Get, "/v1/account/passkeys/:passkeyId", "account.getPasskey", h!(passkeys::get))
        .scope(ACCOUNT).params(&[PASSKEY_ID])
        .returns(200, Model::Passkey),
    Route::new(Patch, "/v1/account/passkeys/:passkeyId", "account.updatePasskey",
               h!(passkeys::update))
        .scope(ACCOUNT).params(&[PASSKEY_ID, p::text("name", 0, 128)])
        .returns(200, Model::Passkey),
    Route::new(Delete, "/v1/account/passkeys/:passkeyId", "account.deletePasskey",
               h!(passkeys::delete))
        .scope(ACCOUNT).params(&[PASSKEY_ID])
        .returns(204, Model::None),
    Route::new(Put, "/v1/account/passkeys/:passkeyId/verification",
               "account.updatePasskeyVerification", h!(passkeys::verify))
        .scope(ACCOUNT).limit(10, 3600, &["url:{url},userId:{userId}"])
        // Earlier 2.x servers also took the challenge id; the passkey knows its own.
        .params(&[PASSKEY_ID, CREDENTIAL, p::text("challengeId", 0, 256).optional()])
        .returns(200, Model::Passkey),
    Route::new(Post, "/v1/account/tokens/passkey", "account.createPasskeyToken",
               h!(passkeys::create_token))
        .scope(SESSIONS_WRITE).auth(Passkey).limit(10, 3600, &["url:{url},ip:{ip}"])
        .returns(201, Model::PasskeyChallenge),
    Route::new(Put, "/v1/account/tokens/passkey", "account.updatePasskeyToken",
               h!(passkeys::update_token))
        .scope(SESSIONS_WRITE).limit(10, 3600, &["url:{url},ip:{ip}"])
        .params(&[p::text("challengeId", 1, 256), CREDENTIAL])
        .returns(201, Model::Token),
];
