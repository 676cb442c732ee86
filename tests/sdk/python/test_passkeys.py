"""PyPI appwrite 27.0.0 (format 2.5.0) on what only the 2.x line has: passkeys, answered by a
software authenticator standing in for the browser (soft_passkey.py); the 2.x placeholders
(consents, memberships); `passwordPwned` on the models; and the project's JWTs verified from
its JWKS by PyJWT, an implementation that is not latchkey's."""

import json
import random
import urllib.request

import jwt
import pytest
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.account import Account
from appwrite.services.users import Users

from sdk_support import ENDPOINT, KEY, PROJECT, plain
from soft_passkey import SoftPasskey

PASSWORD = "py-passkey-password-1"
ORIGIN = "http://localhost:5173"


def guest():
    return Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT))


def signed_in():
    address = f"py-pk-{random.getrandbits(48):x}@example.com"
    admin = Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT).set_key(KEY))
    user = plain(admin.create(ID.unique(), address, PASSWORD, "Passkey User"))
    session = plain(admin.create_email_password_session(address, PASSWORD))
    me = Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT).set_session(session["secret"]))
    return user, session, me


def expect_error(code, type_, fn, *args, **kwargs):
    with pytest.raises(AppwriteException) as e:
        fn(*args, **kwargs)
    assert (e.value.code, e.value.type) == (code, type_), e.value.message
    return e.value


def register(me, authenticator, name="laptop", origin=None):
    challenge = plain(me.create_passkey(name=name))
    assert challenge["passkeyId"] and challenge["expire"]
    options = challenge["publicKey"]
    assert options["rp"]["id"] == "localhost"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    return challenge, authenticator.create(options, origin)


def sign_in_token(authenticator, origin=None):
    challenge = plain(guest().create_passkey_token())
    assert challenge["passkeyId"] == ""
    assert challenge["publicKey"]["allowCredentials"] == []
    credential = authenticator.get(challenge["publicKey"], origin)
    return challenge["$id"], credential


def test_a_passkey_registers_lists_renames_signs_in_and_is_deleted():
    user, _, me = signed_in()
    authenticator = SoftPasskey(ORIGIN)
    challenge, credential = register(me, authenticator)
    passkey = plain(me.update_passkey_verification(challenge["passkeyId"], credential))
    assert passkey["$id"] == challenge["passkeyId"]
    assert passkey["name"] == "laptop" and passkey["accessedAt"] == ""

    listed = plain(me.list_passkeys())
    assert listed["total"] == 1 and listed["passkeys"][0]["$id"] == passkey["$id"]
    by_name = plain(me.list_passkeys([Query.equal("name", ["laptop"])]))
    assert by_name["total"] == 1
    assert plain(me.update_passkey(passkey["$id"], "phone"))["name"] == "phone"
    assert plain(me.get_passkey(passkey["$id"]))["name"] == "phone"

    challenge_id, assertion = sign_in_token(authenticator)
    token = plain(guest().update_passkey_token(challenge_id, assertion))
    assert token["userId"] == user["$id"] and len(token["secret"]) == 64
    session = plain(guest().create_session(token["userId"], token["secret"]))
    assert session["provider"] == "passkey"
    assert session["factors"] == ["passkey", "userVerification"]
    assert plain(me.get_passkey(passkey["$id"]))["accessedAt"] != ""

    # The challenge answered one attempt.
    expect_error(401, "user_invalid_token", guest().update_passkey_token, challenge_id, assertion)
    me.delete_passkey(passkey["$id"])
    expect_error(404, "user_passkey_not_found", me.get_passkey, passkey["$id"])
    challenge_id, assertion = sign_in_token(authenticator)
    expect_error(401, "user_passkey_invalid", guest().update_passkey_token, challenge_id, assertion)


def test_wrong_origins_and_cloned_authenticators_are_refused():
    _, _, me = signed_in()
    authenticator = SoftPasskey(ORIGIN)
    challenge, credential = register(me, authenticator, origin="https://sub.localhost")
    expect_error(401, "user_passkey_invalid", me.update_passkey_verification, challenge["passkeyId"], credential)
    # The failed attempt spent the challenge.
    expect_error(401, "user_invalid_token", me.update_passkey_verification, challenge["passkeyId"], credential)

    authenticator = SoftPasskey(ORIGIN)
    challenge, credential = register(me, authenticator)
    me.update_passkey_verification(challenge["passkeyId"], credential)
    twin = authenticator.clone()
    challenge_id, assertion = sign_in_token(authenticator)
    guest().update_passkey_token(challenge_id, assertion)
    challenge_id, assertion = sign_in_token(twin)
    error = expect_error(401, "user_passkey_invalid", guest().update_passkey_token, challenge_id, assertion)
    assert "compromised" in error.message
    challenge_id, assertion = sign_in_token(authenticator, origin="https://sub.localhost")
    expect_error(401, "user_passkey_invalid", guest().update_passkey_token, challenge_id, assertion)
    # The user handle is not signed, so it is checked against the passkey's user.
    challenge_id, assertion = sign_in_token(authenticator)
    assertion["response"]["userHandle"] = "AAAAAAAAAAAAAAAAAAAAAA"
    error = expect_error(401, "user_passkey_invalid", guest().update_passkey_token, challenge_id, assertion)
    assert "another user" in error.message


def test_a_synced_passkey_signs_in_and_a_changed_backup_eligibility_is_refused():
    _, _, me = signed_in()
    authenticator = SoftPasskey(ORIGIN, synced=True)
    challenge, credential = register(me, authenticator)
    me.update_passkey_verification(challenge["passkeyId"], credential)
    challenge_id, assertion = sign_in_token(authenticator)
    assert plain(guest().update_passkey_token(challenge_id, assertion))["secret"]
    # The same credential now claims it cannot be backed up: re-enrolment is required.
    authenticator.synced = False
    challenge_id, assertion = sign_in_token(authenticator)
    error = expect_error(401, "user_passkey_invalid", guest().update_passkey_token, challenge_id, assertion)
    assert "eligibility" in error.message


def test_the_placeholders_and_password_pwned_parse_into_the_sdks_models():
    _, _, me = signed_in()
    assert plain(me.list_consents()) == {"total": 0, "consents": []}
    assert plain(me.list_memberships())["memberships"] == []
    expect_error(404, "consent_not_found", me.get_consent, "nope")
    account = plain(me.get())
    # Never looked up: this server runs without a breach corpus.
    assert "passwordPwned" in account and account["passwordPwned"] is None


# The project of tests/sdk/latchkey.toml whose JWTs are ES256 with a key pair of its own.
KEYS_PROJECT = "sdk-keys"
KEYS_KEY = "standard_sdk_keys_conformance_key_0123456789"


def test_jwts_verify_with_pyjwt_from_the_projects_jwks():
    client = Client().set_endpoint(ENDPOINT).set_project(KEYS_PROJECT).set_key(KEYS_KEY)
    address = f"py-jwks-{random.getrandbits(48):x}@example.com"
    user = plain(Account(client).create(ID.unique(), address, PASSWORD))
    session = plain(Account(client).create_email_password_session(address, PASSWORD))
    token = plain(Users(client).create_jwt(user["$id"], session["$id"], 600))["jwt"]
    with urllib.request.urlopen(f"{ENDPOINT}/.well-known/jwks.json?project={KEYS_PROJECT}") as r:
        jwks = json.load(r)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=KEYS_PROJECT)
    assert claims["sub"] == user["$id"] and claims["sessionId"] == session["$id"]
    with urllib.request.urlopen(f"{ENDPOINT}/projects/{KEYS_PROJECT}/jwks.json") as r:
        assert json.load(r) == jwks
    # A signature by any other key fails PyJWT's check.
    head, body, _ = token.split(".")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{head}.{body}.{jwt.utils.base64url_encode(bytes(64)).decode()}", key.key,
                   algorithms=["ES256"], audience=KEYS_PROJECT)
    # And the SDK's own calls accept the key-signed JWT.
    me = Account(Client().set_endpoint(ENDPOINT).set_project(KEYS_PROJECT).set_jwt(token))
    assert plain(me.get())["$id"] == user["$id"]
    # The SDK project signs as Appwrite does: HS256, nothing published.
    with urllib.request.urlopen(f"{ENDPOINT}/.well-known/jwks.json?project={PROJECT}") as r:
        assert json.load(r) == {"keys": []}
