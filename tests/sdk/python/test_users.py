"""The official Python SDK's Users service (PyPI appwrite, pinned per virtualenv: 27.0.0 and
22.2.0) against a running latchkey, with an API key. Both versions parse every response into
pydantic models (22.x strictly), so a missing or mistyped model field fails here even when
the JSON looks fine. Imported password hashes are made at test time by independent tools
(bcrypt, passlib, hashlib, argon2-cffi) or taken from Firebase's published scrypt vector.
Not covered: update_impersonator (latchkey does not implement it yet) and py27's passkey
methods (list/get/update/delete_passkey; no such routes in latchkey yet)."""

import base64
import hashlib
import random
import secrets

import pytest
from appwrite.client import Client
from appwrite.enums.authenticator_type import AuthenticatorType
from appwrite.enums.messaging_provider_type import MessagingProviderType
from appwrite.enums.password_hash import PasswordHash
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.account import Account
from appwrite.services.users import Users

from sdk_support import ENDPOINT, KEY, PROJECT, plain, prefs_of

PASSWORD = "py-users-password-1"


def email():
    return f"pyu-{random.getrandbits(48):x}@example.com"


def phone():
    return "+1650" + "".join(random.choice("0123456789") for _ in range(7))


def tag():
    """A word no other user's name or email holds (for name queries and search)."""
    return f"Zq{random.getrandbits(40):x}"


def key_client():
    return Client().set_endpoint(ENDPOINT).set_project(PROJECT).set_key(KEY)


def users():
    return Users(key_client())


def admin():
    return Account(key_client())


def guest():
    return Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT))


def as_session(secret):
    return Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT).set_session(secret))


def as_jwt(jwt):
    return Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT).set_jwt(jwt))


def new_user(name="Py Users", password=PASSWORD, with_phone=False):
    address = email()
    number = phone() if with_phone else None
    user = plain(users().create(ID.unique(), address, number, password, name))
    return user, address


def login(address, password=PASSWORD):
    """A password session made through the key, so its secret comes back."""
    return plain(admin().create_email_password_session(address, password))


def expect_error(code, type_, fn, *args, **kwargs):
    with pytest.raises(AppwriteException) as e:
        fn(*args, **kwargs)
    assert (e.value.code, e.value.type) == (code, type_), e.value.message
    return e.value


# --- create / get / list / delete -------------------------------------------------------


def test_create_get_list_search_and_delete():
    word = tag()
    first, first_email = new_user(name=f"{word} One", with_phone=True)
    second, _ = new_user(name=f"{word} One")
    assert first["name"] == f"{word} One" and first["email"] == first_email
    assert first["status"] is True and first["labels"] == [] and first["prefs"] == {}
    assert first["emailVerification"] is False and first["phoneVerification"] is False
    assert first["mfa"] is False and first["hash"] == "argon2"
    assert first["password"].startswith("$argon2"), "a key sees the stored hash"
    assert sorted(t["providerType"] for t in first["targets"]) == ["email", "sms"]

    got = plain(users().get(first["$id"]))
    assert got["$id"] == first["$id"] and got["phone"] == first["phone"]
    assert got["registration"] == first["registration"]

    named = plain(users().list([Query.equal("name", [f"{word} One"])]))
    assert named["total"] == 2
    assert sorted(u["$id"] for u in named["users"]) == sorted([first["$id"], second["$id"]])
    limited = plain(users().list([Query.equal("name", [f"{word} One"]), Query.limit(1)]))
    assert limited["total"] == 2 and len(limited["users"]) == 1
    found = plain(users().list(search=first_email))
    assert [u["$id"] for u in found["users"]] == [first["$id"]]
    uncounted = plain(users().list([Query.equal("name", [f"{word} One"])], total=False))
    assert uncounted["total"] == 0 and len(uncounted["users"]) == 2

    # A user made with only an id: no email, phone or password, and no targets.
    bare = plain(users().create(ID.unique()))
    assert bare["email"] == "" and bare["phone"] == "" and bare["targets"] == []

    expect_error(409, "user_already_exists", users().create, first["$id"], email(), None, PASSWORD)
    expect_error(409, "user_already_exists", users().create, ID.unique(), first_email, None, PASSWORD)
    expect_error(409, "user_already_exists", users().create, ID.unique(), None, first["phone"])
    expect_error(400, "general_argument_invalid", users().create, ID.unique(), "not-an-email", None, PASSWORD)
    expect_error(400, "general_argument_invalid", users().create, ID.unique(), email(), None, "short")
    expect_error(400, "general_argument_invalid", users().list, [Query.equal("password", ["x"])])
    expect_error(404, "user_not_found", users().get, "missing-user")

    users().delete(second["$id"])
    expect_error(404, "user_not_found", users().get, second["$id"])
    expect_error(404, "user_not_found", users().delete, second["$id"])
    assert plain(users().list([Query.equal("name", [f"{word} One"])]))["total"] == 1


# --- hash imports -------------------------------------------------------------------------


def _bcrypt(pw):
    import bcrypt

    return {"hash": bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=5)).decode()}


def _argon2(pw):
    argon2 = pytest.importorskip("argon2")
    return {"hash": argon2.PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash(pw)}


def _md5(pw):
    from passlib.hash import hex_md5

    return {"hash": hex_md5.hash(pw)}


def _phpass(pw):
    from passlib.hash import phpass

    return {"hash": phpass.hash(pw)}


def _sha(version):
    def make(pw):
        from passlib import hash as ph

        tools = {"sha1": ph.hex_sha1.hash, "sha256": ph.hex_sha256.hash, "sha512": ph.hex_sha512.hash}
        digest = tools[version](pw) if version in tools else hashlib.new(version.replace("/", "_"), pw.encode()).hexdigest()
        return {"hash": digest, "version": version}

    return make


def _scrypt(pw):
    salt = secrets.token_hex(8)
    digest = hashlib.scrypt(pw.encode(), salt=salt.encode(), n=1024, r=8, p=1, dklen=32).hex()
    return {"hash": digest, "salt": salt}


FIREBASE = {
    "signer_key": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
    "separator": "Bw==",
    "salt": "42xEC+ixf3L2lw==",
    "password": "user1password",
    "hash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
}


def _import(kind, vector, uid, address, name):
    u = users()
    if kind == "argon2":
        return u.create_argon2_user(uid, address, vector["hash"], name)
    if kind == "bcrypt":
        return u.create_bcrypt_user(uid, address, vector["hash"], name)
    if kind == "md5":
        return u.create_md5_user(uid, address, vector["hash"], name)
    if kind == "phpass":
        return u.create_ph_pass_user(uid, address, vector["hash"], name)
    if kind == "sha":
        version = vector["version"]
        enum = next(p for p in PasswordHash if p.value == version)
        # The enum for most versions, the raw string (which the SDK also accepts) for one.
        return u.create_sha_user(uid, address, vector["hash"], version if version == "sha384" else enum, name)
    if kind == "scrypt":
        return u.create_scrypt_user(uid, address, vector["hash"], vector["salt"], 1024, 8, 1, 32, name)
    if kind == "scryptMod":
        return u.create_scrypt_modified_user(uid, address, FIREBASE["hash"], FIREBASE["salt"], FIREBASE["separator"], FIREBASE["signer_key"], name)
    raise AssertionError(kind)


IMPORTS = [
    ("argon2", _argon2),
    ("bcrypt", _bcrypt),
    ("md5", _md5),
    ("phpass", _phpass),
    ("sha", _sha("sha1")),
    ("sha", _sha("sha224")),
    ("sha", _sha("sha256")),
    ("sha", _sha("sha384")),
    ("sha", _sha("sha512")),
    ("sha", _sha("sha3-256")),
    ("sha", _sha("sha3-512")),
    ("scrypt", _scrypt),
    ("scryptMod", lambda pw: {}),
]


@pytest.mark.parametrize("kind,make", IMPORTS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(IMPORTS)])
def test_imported_hash_signs_in_and_is_rehashed_to_argon2(kind, make):
    password = FIREBASE["password"] if kind == "scryptMod" else f"pw-{secrets.token_hex(6)}"
    vector = make(password)
    address, uid = email(), ID.unique()
    created = plain(_import(kind, vector, uid, address, f"Imported {kind}"))
    assert created["$id"] == uid and created["email"] == address and created["name"] == f"Imported {kind}"
    assert created["hash"] == kind
    assert created["hashOptions"]["type"] == kind
    before = plain(users().get(uid))
    assert before["hash"] == kind and before["hashOptions"]["type"] == kind
    assert before["password"] == (FIREBASE["hash"] if kind == "scryptMod" else vector["hash"])
    if kind == "scrypt":
        opts = before["hashOptions"]
        assert (opts["costCpu"], opts["costMemory"], opts["costParallel"], opts["length"]) == (1024, 8, 1, 32)
    if kind == "scryptMod":
        opts = before["hashOptions"]
        assert (opts["salt"], opts["saltSeparator"], opts["signerKey"]) == (FIREBASE["salt"], FIREBASE["separator"], FIREBASE["signer_key"])

    expect_error(401, "user_invalid_credentials", admin().create_email_password_session, address, password + "x")
    expect_error(409, "user_already_exists", _import, kind, vector, ID.unique(), address, "Again")

    session = login(address, password)
    assert session["userId"] == uid and session["provider"] == "email"
    assert plain(as_session(session["secret"]).get())["$id"] == uid
    after = plain(users().get(uid))
    assert after["hash"] == "argon2" and after["hashOptions"]["type"] == "argon2"
    assert after["password"].startswith("$argon2")
    assert after["password"] != before["password"] or kind == "argon2"
    # The re-hashed password still works; a guest login (no key) too.
    assert plain(guest().create_email_password_session(address, password))["userId"] == uid


def test_hash_import_errors():
    u = users()
    expect_error(400, "general_argument_invalid", u.create_sha_user, ID.unique(), email(), "ab" * 20, "sha0")
    expect_error(400, "general_argument_invalid", u.create_bcrypt_user, ID.unique(), "not-an-email", "$2b$05$x")
    expect_error(400, "general_argument_invalid", u.create_scrypt_user, ID.unique(), email(), "00", "salt", 0, 8, 1, 32)


# --- profile updates -----------------------------------------------------------------------


def test_update_name_email_phone_password_labels_and_prefs():
    user, address = new_user(with_phone=True)
    other, other_email = new_user(with_phone=True)
    uid = user["$id"]
    u = users()

    assert plain(u.update_name(uid, "Renamed User"))["name"] == "Renamed User"
    expect_error(400, "general_argument_invalid", u.update_name, uid, "n" * 129)
    expect_error(404, "user_not_found", u.update_name, "missing-user", "Nobody")

    new_email = email()
    updated = plain(u.update_email(uid, new_email))
    assert updated["email"] == new_email and updated["emailVerification"] is False
    identifiers = [t["identifier"] for t in plain(u.list_targets(uid))["targets"] if t["providerType"] == "email"]
    assert identifiers == [new_email]
    expect_error(409, "user_email_already_exists", u.update_email, uid, other_email)
    expect_error(400, "general_argument_invalid", u.update_email, uid, "nope")

    number = phone()
    assert plain(u.update_phone(uid, number))["phone"] == number
    expect_error(409, "user_phone_already_exists", u.update_phone, uid, other["phone"])
    expect_error(400, "general_argument_invalid", u.update_phone, uid, "12345")

    before = plain(u.get(uid))["passwordUpdate"]
    changed = plain(u.update_password(uid, "py-users-new-password"))
    assert changed["hash"] == "argon2" and changed["passwordUpdate"] >= before
    expect_error(401, "user_invalid_credentials", admin().create_email_password_session, new_email, PASSWORD)
    assert login(new_email, "py-users-new-password")["userId"] == uid
    expect_error(400, "general_argument_invalid", u.update_password, uid, "short")
    expect_error(404, "user_not_found", u.update_password, "missing-user", "py-users-new-password")

    assert plain(u.update_labels(uid, ["vip", "beta2", "vip"]))["labels"] == ["vip", "beta2"]
    assert plain(u.get(uid))["labels"] == ["vip", "beta2"]
    assert plain(u.update_labels(uid, []))["labels"] == []
    expect_error(400, "general_argument_invalid", u.update_labels, uid, ["not ok!"])
    expect_error(404, "user_not_found", u.update_labels, "missing-user", ["vip"])

    assert prefs_of(u.get_prefs(uid)) == {}
    assert prefs_of(u.update_prefs(uid, {"theme": "dark", "n": 3})) == {"theme": "dark", "n": 3}
    assert prefs_of(u.get_prefs(uid)) == {"theme": "dark", "n": 3}
    got = u.get(uid)
    assert prefs_of(got["prefs"] if isinstance(got, dict) else got.prefs) == {"theme": "dark", "n": 3}
    expect_error(404, "user_not_found", u.get_prefs, "missing-user")
    expect_error(404, "user_not_found", u.update_prefs, "missing-user", {"a": 1})


def test_status_and_verification_flags():
    user, address = new_user(with_phone=True)
    uid = user["$id"]
    u = users()
    me = as_session(login(address)["secret"])

    blocked = plain(u.update_status(uid, False))
    assert blocked["$id"] == uid and blocked["status"] is False
    # appwrite 1.9.6 app/config/errors.php: USER_BLOCKED is 403 (older releases said 401).
    expect_error(403, "user_blocked", me.get)
    expect_error(403, "user_blocked", admin().create_email_password_session, address, PASSWORD)
    assert plain(u.update_status(uid, True))["status"] is True
    assert plain(me.get())["$id"] == uid, "unblocking restores the sessions it had"
    expect_error(404, "user_not_found", u.update_status, "missing-user", False)

    assert plain(u.update_email_verification(uid, True))["emailVerification"] is True
    assert plain(me.get())["emailVerification"] is True
    assert plain(u.update_email_verification(uid, False))["emailVerification"] is False
    expect_error(404, "user_not_found", u.update_email_verification, "missing-user", True)

    assert plain(u.update_phone_verification(uid, True))["phoneVerification"] is True
    assert plain(u.get(uid))["phoneVerification"] is True
    expect_error(404, "user_not_found", u.update_phone_verification, "missing-user", True)


# --- sessions, tokens, JWTs -------------------------------------------------------------------


def test_sessions_create_list_delete():
    user, address = new_user()
    uid = user["$id"]
    u = users()

    made = plain(u.create_session(uid))
    assert made["userId"] == uid and made["provider"] == "server" and made["secret"]
    assert plain(as_session(made["secret"]).get())["$id"] == uid
    password_session = login(address)

    listed = plain(u.list_sessions(uid))
    assert listed["total"] == 2
    assert sorted(s["$id"] for s in listed["sessions"]) == sorted([made["$id"], password_session["$id"]])
    assert {s["provider"] for s in listed["sessions"]} == {"server", "email"}
    uncounted = plain(u.list_sessions(uid, total=False))
    assert uncounted["total"] == 0 and len(uncounted["sessions"]) == 2

    u.delete_session(uid, made["$id"])
    expect_error(401, "general_unauthorized_scope", as_session(made["secret"]).get)
    assert [s["$id"] for s in plain(u.list_sessions(uid))["sessions"]] == [password_session["$id"]]
    expect_error(404, "user_session_not_found", u.delete_session, uid, made["$id"])
    expect_error(404, "user_not_found", u.create_session, "missing-user")
    expect_error(404, "user_not_found", u.list_sessions, "missing-user")

    plain(u.create_session(uid))
    assert plain(u.list_sessions(uid))["total"] == 2
    u.delete_sessions(uid)
    assert plain(u.list_sessions(uid)) == {"total": 0, "sessions": []}
    expect_error(401, "general_unauthorized_scope", as_session(password_session["secret"]).get)
    expect_error(404, "user_not_found", u.delete_sessions, "missing-user")


def test_token_exchange_and_jwt():
    user, _ = new_user()
    uid = user["$id"]
    u = users()

    token = plain(u.create_token(uid, 8, 120))
    assert token["userId"] == uid and len(token["secret"]) == 8 and token["expire"]
    session = plain(guest().create_session(uid, token["secret"]))
    assert session["userId"] == uid and session["provider"] == "token"
    expect_error(401, "user_invalid_token", guest().create_session, uid, token["secret"])
    default = plain(u.create_token(uid))
    assert len(default["secret"]) == 6, "Appwrite's default token length"
    expect_error(400, "general_argument_invalid", u.create_token, uid, 2)
    expect_error(400, "general_argument_invalid", u.create_token, uid, 8, 10)
    expect_error(404, "user_not_found", u.create_token, "missing-user")

    server_session = plain(u.create_session(uid))
    jwt = plain(u.create_jwt(uid, server_session["$id"], 600))["jwt"]
    assert jwt.count(".") == 2
    assert plain(as_jwt(jwt).get())["$id"] == uid
    recent = plain(u.create_jwt(uid))["jwt"]
    assert plain(as_jwt(recent).get())["$id"] == uid
    expect_error(400, "general_argument_invalid", u.create_jwt, uid, server_session["$id"], 4000)
    expect_error(404, "user_not_found", u.create_jwt, "missing-user")
    # A JWT names its session: once that is gone, the JWT is a guest's (Appwrite empties the user).
    u.delete_session(uid, server_session["$id"])
    expect_error(401, "general_unauthorized_scope", as_jwt(jwt).get)


# --- targets --------------------------------------------------------------------------------


def test_targets_crud():
    user, address = new_user()
    uid = user["$id"]
    u = users()

    listed = plain(u.list_targets(uid))
    assert listed["total"] == 1
    assert listed["targets"][0]["identifier"] == address and listed["targets"][0]["providerType"] == "email"

    tid, number = ID.unique(), phone()
    created = plain(u.create_target(uid, tid, MessagingProviderType.SMS, number, None, "Phone"))
    assert (created["$id"], created["userId"], created["providerType"], created["identifier"], created["name"]) == (tid, uid, "sms", number, "Phone")
    assert created["expired"] is False
    got = plain(u.get_target(uid, tid))
    assert got["$id"] == tid and got["identifier"] == number
    assert plain(u.list_targets(uid))["total"] == 2
    sms = plain(u.list_targets(uid, [Query.equal("providerType", ["sms"])]))
    assert [t["$id"] for t in sms["targets"]] == [tid]
    limited = plain(u.list_targets(uid, [Query.limit(1)], total=False))
    assert limited["total"] == 0 and len(limited["targets"]) == 1

    other = phone()
    updated = plain(u.update_target(uid, tid, other, None, "Work phone"))
    assert updated["identifier"] == other and updated["name"] == "Work phone"
    assert plain(u.get_target(uid, tid))["identifier"] == other

    mail_target = plain(u.create_target(uid, ID.unique(), "email", email()))
    assert mail_target["providerType"] == "email"

    expect_error(409, "user_target_already_exists", u.create_target, uid, tid, MessagingProviderType.SMS, phone())
    expect_error(400, "general_invalid_email", u.create_target, uid, ID.unique(), MessagingProviderType.EMAIL, "not-an-email")
    expect_error(400, "general_invalid_phone", u.create_target, uid, ID.unique(), MessagingProviderType.SMS, "12")
    expect_error(400, "general_argument_invalid", u.create_target, uid, ID.unique(), "bogus", "x")
    expect_error(404, "user_target_not_found", u.get_target, uid, "missing-target")
    expect_error(404, "user_target_not_found", u.update_target, uid, "missing-target", phone())
    expect_error(404, "user_not_found", u.list_targets, "missing-user")

    u.delete_target(uid, tid)
    expect_error(404, "user_target_not_found", u.get_target, uid, tid)
    expect_error(404, "user_target_not_found", u.delete_target, uid, tid)
    assert plain(u.list_targets(uid))["total"] == 2


# --- identities, memberships, logs -------------------------------------------------------------


def test_identities_memberships_and_logs():
    user, address = new_user()
    uid = user["$id"]
    u = users()

    identities = plain(u.list_identities([Query.equal("userId", [uid])]))
    assert identities == {"total": 0, "identities": []}
    assert plain(u.list_identities([Query.limit(5)], search=uid))["identities"] == []
    expect_error(400, "general_argument_invalid", u.list_identities, [Query.equal("secretThing", ["x"])])
    expect_error(404, "user_identity_not_found", u.delete_identity, "missing-identity")

    memberships = plain(u.list_memberships(uid))
    assert memberships == {"total": 0, "memberships": []}
    assert plain(u.list_memberships(uid, [Query.limit(5)], "team", False))["memberships"] == []
    expect_error(404, "user_not_found", u.list_memberships, "missing-user")

    if not hasattr(u, "list_logs"):  # PyPI 27 dropped it
        return
    login(address)
    logs = plain(u.list_logs(uid))
    events = [entry["event"] for entry in logs["logs"]]
    assert "session.create" in events, events
    assert logs["total"] == len(events)
    assert all(entry["userId"] == uid for entry in logs["logs"] if entry["event"] == "session.create")
    assert len(plain(u.list_logs(uid, [Query.limit(1)]))["logs"]) == 1
    expect_error(404, "user_not_found", u.list_logs, "missing-user")


# --- MFA --------------------------------------------------------------------------------------


def test_mfa_flag_factors_recovery_codes_and_authenticator():
    user, address = new_user()
    uid = user["$id"]
    u = users()

    factors = plain(u.list_mfa_factors(uid))
    assert (factors["totp"], factors["phone"], factors["email"], factors["recoveryCode"]) == (False, False, False, False)
    expect_error(404, "user_not_found", u.list_mfa_factors, "missing-user")

    expect_error(404, "user_recovery_codes_not_found", u.get_mfa_recovery_codes, uid)
    expect_error(404, "user_recovery_codes_not_found", u.update_mfa_recovery_codes, uid)
    codes = plain(u.create_mfa_recovery_codes(uid))["recoveryCodes"]
    assert len(codes) == 6 and len(set(codes)) == 6
    expect_error(409, "user_recovery_codes_already_exists", u.create_mfa_recovery_codes, uid)
    assert plain(u.get_mfa_recovery_codes(uid))["recoveryCodes"] == codes
    fresh = plain(u.update_mfa_recovery_codes(uid))["recoveryCodes"]
    assert len(fresh) == 6 and not set(fresh) & set(codes)
    assert plain(u.get_mfa_recovery_codes(uid))["recoveryCodes"] == fresh
    assert plain(u.list_mfa_factors(uid))["recoveryCode"] is True

    assert plain(u.update_mfa(uid, True))["mfa"] is True
    assert plain(u.get(uid))["mfa"] is True
    assert plain(u.update_mfa(uid, False))["mfa"] is False
    expect_error(404, "user_not_found", u.update_mfa, "missing-user", True)

    expect_error(404, "user_authenticator_not_found", u.delete_mfa_authenticator, uid, AuthenticatorType.TOTP)
    me = as_session(login(address)["secret"])
    added = plain(me.create_mfa_authenticator(AuthenticatorType.TOTP))
    assert added["secret"] and added["uri"].startswith("otpauth://totp/")
    u.delete_mfa_authenticator(uid, AuthenticatorType.TOTP)
    expect_error(404, "user_authenticator_not_found", u.delete_mfa_authenticator, uid, AuthenticatorType.TOTP)
    assert plain(u.list_mfa_factors(uid))["totp"] is False


@pytest.mark.skipif(not hasattr(Users, "get_mfa_challenge"), reason="PyPI 27 (Appwrite 2.x) method")
def test_custom_mfa_challenge_code_read_through_the_key():
    from appwrite.enums.authentication_factor import AuthenticationFactor

    user, address = new_user()
    uid = user["$id"]
    u = users()
    me = as_session(login(address)["secret"])

    challenge = plain(me.create_mfa_challenge(AuthenticationFactor.CUSTOM))
    assert challenge["userId"] == uid and challenge["expire"] and "code" not in challenge
    secret = plain(u.get_mfa_challenge(uid, challenge["$id"]))
    assert (secret["$id"], secret["userId"], secret["expire"]) == (challenge["$id"], uid, challenge["expire"])
    assert secret["code"]
    expect_error(401, "user_invalid_token", me.update_mfa_challenge, challenge["$id"], "not-the-code")
    session = plain(me.update_mfa_challenge(challenge["$id"], secret["code"]))
    assert session["userId"] == uid and "custom" in session["factors"]
    expect_error(404, "user_not_found", u.get_mfa_challenge, "missing-user", challenge["$id"])
    second = plain(me.create_mfa_challenge("custom"))
    assert plain(u.get_mfa_challenge(uid, second["$id"]))["code"] != secret["code"]
    # Like Account's update_mfa_challenge, an unknown challenge (or another user's) is an invalid token.
    other, _ = new_user()
    expect_error(401, "user_invalid_token", u.get_mfa_challenge, other["$id"], second["$id"])
    expect_error(401, "user_invalid_token", u.get_mfa_challenge, uid, "missing-challenge")
