"""The official Python SDK (PyPI appwrite, pinned per virtualenv: 27.0.0, 22.2.0 and 10.0.0)
against a running latchkey. 22.x and 27.x parse every response into pydantic models, so a
missing or mistyped model field fails here even when the JSON looks fine. Codes and links are
read from the emails and SMS that reached the test run's real SMTP server and SMS endpoint."""

import glob
import json
import os
import random
import time
import urllib.parse

import pytest
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.account import Account

from sdk_support import ENDPOINT, KEY, PROJECT, plain, prefs_of

PASSWORD = "py-password-123"


def email():
    return f"py-{random.getrandbits(48):x}@example.com"


def admin():
    return Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT).set_key(KEY))


def as_session(secret):
    return Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT).set_session(secret))


def as_jwt(jwt):
    return Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT).set_jwt(jwt))


def sign_in():
    address = email()
    user = plain(admin().create(ID.unique(), address, PASSWORD, "Py User"))
    session = plain(admin().create_email_password_session(address, PASSWORD))
    return address, user, session, as_session(session["secret"])


def expect_error(code, type_, fn, *args):
    with pytest.raises(AppwriteException) as e:
        fn(*args)
    assert e.value.code == code, e.value.message
    assert e.value.type == type_, e.value.message


def test_create_and_session_through_a_key_then_set_session():
    address, user, session, me = sign_in()
    assert user["email"] == address
    assert user["targets"][0]["identifier"] == address
    assert session["secret"] and session["current"] is True
    account = plain(me.get())
    assert account["$id"] == user["$id"]
    assert account["name"] == "Py User"


def test_create_errors():
    address, *_ = sign_in()
    expect_error(409, "user_already_exists", admin().create, ID.unique(), address, PASSWORD)
    expect_error(400, "general_argument_invalid", admin().create, ID.unique(), "not-an-email", PASSWORD)
    expect_error(401, "user_invalid_credentials", admin().create_email_password_session, address, "wrong-pass")
    expect_error(401, "general_unauthorized_scope", admin().get)


def test_name_prefs_password_email_phone():
    address, _, _, me = sign_in()
    assert plain(me.update_name("Renamed"))["name"] == "Renamed"
    updated = me.update_prefs({"theme": "dark"})
    assert prefs_of(updated["prefs"] if isinstance(updated, dict) else updated.prefs) == {"theme": "dark"}
    assert prefs_of(me.get_prefs()) == {"theme": "dark"}
    expect_error(401, "user_invalid_credentials", me.update_password, "new-password-1", "wrong-old")
    me.update_password("new-password-1", PASSWORD)
    assert plain(admin().create_email_password_session(address, "new-password-1"))["secret"]
    new_email = email()
    assert plain(me.update_email(new_email, "new-password-1"))["email"] == new_email
    phone = "+1650" + str(random.randint(1000000, 9999999))
    assert plain(me.update_phone(phone, "new-password-1"))["phone"] == phone
    expect_error(400, "general_argument_invalid", me.update_phone, "123", "new-password-1")


def test_oversized_and_too_deep_prefs_are_appwrite_errors_and_nothing_is_saved():
    _, _, _, me = sign_in()
    expect_error(413, "general_bad_request", me.update_prefs, {"blob": "x" * (300 * 1024)})
    deep = {"leaf": 1}
    for _ in range(70):
        deep = {"a": deep}
    expect_error(400, "general_argument_invalid", me.update_prefs, deep)
    assert prefs_of(me.get_prefs()) == {}


def test_sessions_list_get_update_delete():
    address, _, session, me = sign_in()
    second = plain(admin().create_email_password_session(address, PASSWORD))
    listed = plain(me.list_sessions())
    assert listed["total"] == 2
    assert [s["current"] for s in listed["sessions"]] == [True, False]
    assert plain(me.get_session("current"))["$id"] == session["$id"]
    assert plain(me.update_session("current"))["$id"] == session["$id"]
    expect_error(404, "user_session_not_found", me.get_session, "missing")
    me.delete_session(second["$id"])
    assert plain(me.list_sessions())["total"] == 1
    me.delete_sessions()
    expect_error(401, "general_unauthorized_scope", me.get)


def test_anonymous_session_and_jwt():
    anon = plain(admin().create_anonymous_session())
    assert anon["provider"] == "anonymous"
    me = as_session(anon["secret"])
    assert plain(me.get())["email"] == ""
    if not hasattr(me, "create_jwt"):
        return  # PyPI 27 moved JWTs out of Account (into the Tokens service, a later issue)
    jwt = plain(me.create_jwt())["jwt"]
    assert plain(as_jwt(jwt).get())["$id"] == anon["userId"]
    expect_error(403, "user_jwt_creation_denied", as_jwt(jwt).create_jwt)


def test_identities_logs_and_status():
    _, _, _, me = sign_in()
    identities = plain(me.list_identities([Query.limit(5)]))
    assert identities["total"] == 0 and identities["identities"] == []
    expect_error(404, "user_identity_not_found", me.delete_identity, "missing")
    if hasattr(me, "list_logs"):  # gone from the 2.x SDKs
        logs = plain(me.list_logs())
        assert [entry["event"] for entry in logs["logs"]] == ["session.create", "user.create"]
    assert plain(me.update_status())["status"] is False
    expect_error(403, "user_blocked", me.get)


def received(folder, match, n=1):
    """The `n` newest of the messages in `folder` that `match` (waits up to 20 s for them)."""
    deadline = time.time() + 20
    while True:
        found = []
        for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
            with open(path) as f:
                record = json.load(f)
            if match(record):
                found.append(record)
        if len(found) >= n:
            return found[-1]
        assert time.time() < deadline, f"no message matched in {folder}"
        time.sleep(0.05)


def mail_to(address, n=1):
    return received(os.environ["LATCHKEY_MAIL_DIR"], lambda m: address in m["rcpt_tos"], n)


def sms_to(phone, n=1):
    return received(os.environ["LATCHKEY_SMS_DIR"], lambda m: m["form"].get("To") == phone, n)


def code_of(mail):
    return next(w for w in "".join(c if c.isdigit() else " " for c in mail["text"]).split() if len(w) == 6)


def link_params(mail):
    text = mail["text"]
    link = text[text.index("http"):].split()[0]
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(link).query))


def guest():
    return Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT))


def test_email_code_through_a_key_then_its_session():
    address = email()
    token = plain(admin().create_email_token(ID.unique(), address, True))
    assert len(token["secret"]) == 6 and token["phrase"], "a key sees the code and the phrase"
    mail = mail_to(address)
    assert code_of(mail) == token["secret"]
    assert token["phrase"] in mail["text"]
    session = plain(admin().create_session(token["userId"], token["secret"]))
    assert session["provider"] == "token" and session["secret"]
    me = as_session(session["secret"])
    assert plain(me.get())["emailVerification"] is True
    expect_error(401, "user_invalid_token", guest().create_session, token["userId"], token["secret"])


def test_magic_link_from_the_email_signs_a_guest_in():
    address = email()
    token = plain(guest().create_magic_url_token(ID.unique(), address, "http://localhost/magic"))
    assert token["secret"] == ""
    params = link_params(mail_to(address))
    assert params["userId"] == token["userId"] and params["project"] == PROJECT
    session = plain(guest().update_magic_url_session(params["userId"], params["secret"]))
    assert session["provider"] == "magic-url" and session["secret"] == ""
    expect_error(400, "general_argument_invalid", guest().create_magic_url_token, ID.unique(), email(), "https://evil.example.org/")


def test_phone_code_by_sms_signs_in():
    phone = "+1650555" + "".join(random.choice("0123456789") for _ in range(4))
    token = plain(guest().create_phone_token(ID.unique(), phone))
    sms = sms_to(phone)
    assert sms["path"] == "/2010-04-01/Accounts/ACsdk/Messages.json"
    session = plain(guest().create_session(token["userId"], sms["form"]["Body"]))
    assert session["provider"] == "phone"


def test_recovery_by_link_then_login_with_the_new_password():
    address, user, _, _ = sign_in()
    assert plain(guest().create_recovery(address, "http://localhost/reset"))["secret"] == ""
    params = link_params(mail_to(address))
    assert params["userId"] == user["$id"]
    expect_error(401, "user_invalid_token", guest().update_recovery, user["$id"], "wrong", "py-new-password-1")
    done = plain(guest().update_recovery(params["userId"], params["secret"], "py-new-password-1"))
    assert done["userId"] == user["$id"]
    assert plain(admin().create_email_password_session(address, "py-new-password-1"))["secret"]
    expect_error(404, "user_not_found", guest().create_recovery, email(), "http://localhost/reset")


def test_email_verification_by_link():
    address, user, _, me = sign_in()
    create = getattr(me, "create_email_verification", None) or me.create_verification
    update = getattr(guest(), "update_email_verification", None) or guest().update_verification
    create("http://localhost/verify")
    params = link_params(mail_to(address))
    update(params["userId"], params["secret"])
    assert plain(me.get())["emailVerification"] is True
    expect_error(409, "user_email_already_verified", create, "http://localhost/verify")


@pytest.mark.skipif(not hasattr(Account, "create_recovery_otp"), reason="2.x method")
def test_recovery_and_verification_by_code():
    address, user, _, me = sign_in()
    plain(guest().create_recovery_otp(address))
    code = code_of(mail_to(address))
    expect_error(401, "user_invalid_token", guest().update_recovery, user["$id"], code, "py-code-password-1")
    plain(guest().update_recovery_otp(user["$id"], code, "py-code-password-1"))
    fresh = plain(admin().create_email_password_session(address, "py-code-password-1"))
    me = as_session(fresh["secret"])
    # The reset proved the inbox; a new address needs its own proof.
    new_address = email()
    plain(me.update_email(new_address, "py-code-password-1"))
    plain(me.create_email_verification_otp())
    plain(guest().update_email_verification_otp(user["$id"], code_of(mail_to(new_address))))
    account = plain(me.get())
    assert account["emailVerification"] is True
    assert "passwordPwned" in account


def totp(secret, after=None):
    """A TOTP code from Debian's oathtool (independent of the server) and its 30-second step:
    of a step after `after` when given (the server accepts a code once), and never from the
    last 1.5 s of a step (it could reach the server in the next one)."""
    import subprocess

    while (after is not None and int(time.time() // 30) <= after) or time.time() % 30 > 28.5:
        time.sleep(0.1)
    at = int(time.time())
    out = subprocess.run(["oathtool", "--totp", "-b", secret, "--now", f"@{at}"], check=True, capture_output=True, text=True)
    return out.stdout.strip(), at // 30


@pytest.mark.skipif(not hasattr(Account, "create_mfa_authenticator"), reason="MFA came with Appwrite 1.5 (PyPI appwrite 5)")
def test_mfa_totp_gate_challenge_and_single_use_recovery_codes():
    from appwrite.enums.authentication_factor import AuthenticationFactor
    from appwrite.enums.authenticator_type import AuthenticatorType

    from importlib.metadata import version

    # PyPI appwrite 10 puts the enum itself into the path (a TypeError); its users pass the
    # string, as this test then does.
    kind = "totp" if int(version("appwrite").split(".")[0]) < 11 else AuthenticatorType.TOTP
    address, _, _, me = sign_in()
    login = lambda: as_session(plain(admin().create_email_password_session(address, PASSWORD))["secret"])
    created = plain(me.create_mfa_authenticator(kind))
    assert created["uri"].startswith("otpauth://totp/SDK%20Conformance%3A")
    expect_error(401, "user_invalid_token", me.update_mfa_authenticator, kind, "abcdef")
    first, verified_at = totp(created["secret"])
    assert plain(me.update_mfa_authenticator(kind, first))["email"] == address
    codes = plain(me.create_mfa_recovery_codes())["recoveryCodes"]
    assert len(codes) == 6
    expect_error(409, "user_recovery_codes_already_exists", me.create_mfa_recovery_codes)
    assert plain(me.update_mfa(True))["mfa"] is True
    factors = plain(me.list_mfa_factors())
    assert factors["totp"] is True and factors["recoveryCode"] is True and factors["email"] is False
    expect_error(401, "user_challenge_required", me.get_mfa_recovery_codes)

    second = login()
    expect_error(401, "user_more_factors_required", second.get)
    if hasattr(AuthenticationFactor, "CUSTOM"):
        # 2.x: the custom factor (on in the test project); its code reaches only the server.
        assert plain(second.list_mfa_factors())["custom"] is True
        custom = plain(second.create_mfa_challenge(AuthenticationFactor.CUSTOM))
        expect_error(401, "user_invalid_token", second.update_mfa_challenge, custom["$id"], "not-the-code")
    challenge = plain(second.create_mfa_challenge(AuthenticationFactor.TOTP))
    assert challenge["userId"] and challenge["expire"] and "code" not in challenge
    session = plain(second.update_mfa_challenge(challenge["$id"], totp(created["secret"], after=verified_at)[0]))
    assert session["factors"] == ["password", "totp"] and session["mfaUpdatedAt"]
    assert plain(second.get())["email"] == address
    assert plain(second.get_mfa_recovery_codes())["recoveryCodes"] == codes

    third = login()
    by_code = plain(third.create_mfa_challenge(AuthenticationFactor.RECOVERYCODE))
    assert plain(third.update_mfa_challenge(by_code["$id"], codes[0]))["factors"] == ["password", "recoveryCode"]
    fourth = login()
    again = plain(fourth.create_mfa_challenge(AuthenticationFactor.RECOVERYCODE))
    expect_error(401, "user_invalid_token", fourth.update_mfa_challenge, again["$id"], codes[0])
    expect_error(401, "user_more_factors_required", fourth.get)

    expect_error(401, "user_challenge_required", me.delete_mfa_authenticator, kind)
    fresh = plain(third.update_mfa_recovery_codes())["recoveryCodes"]
    assert len(fresh) == 6 and fresh != codes
    third.delete_mfa_authenticator(kind)
    expect_error(404, "user_authenticator_not_found", third.delete_mfa_authenticator, kind)
    assert plain(third.list_mfa_factors())["totp"] is False


OIDC_URL = os.environ.get("LATCHKEY_OIDC_URL")


def follow_to(url, stop):
    """Follows redirects like a browser with a cookie jar of its own until the URL starts
    with `stop` (which is not fetched)."""
    import requests

    browser = requests.Session()
    for _ in range(20):
        if url.startswith(stop):
            return url
        r = browser.get(url, allow_redirects=False, timeout=20)
        assert r.status_code in (301, 302, 303), (url, r.status_code, r.text[:300])
        url = urllib.parse.urljoin(url, r.headers["Location"])
    raise AssertionError(f"no redirect to {stop}: {url}")


@pytest.mark.skipif(not OIDC_URL, reason="needs the test OpenID provider that scripts/test.sh starts")
def test_oauth2_token_flow_then_identities_refresh_and_unlink():
    success, failure = "http://localhost:3000/py-ok", "http://localhost:3000/py-fail"
    guest = Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT))
    # PyPI 10 puts the path param into the URL as it is, so it must be the string.
    login = guest.create_o_auth2_token("oidc", success, failure)
    assert login.startswith(OIDC_URL), login
    sub = f"new-py{random.getrandbits(40):x}"
    back = urllib.parse.urlparse(follow_to(f"{login}&login_hint={sub}", success))
    q = dict(urllib.parse.parse_qsl(back.query))
    session = plain(admin().create_session(q["userId"], q["secret"]))
    assert session["provider"] == "oidc" and session["providerUid"] == sub
    me = as_session(session["secret"])
    assert plain(me.get())["email"] == f"{sub}@oidc.test"
    identities = plain(me.list_identities())
    assert identities["total"] == 1
    identity = identities["identities"][0]
    assert identity["provider"] == "oidc" and identity["providerUid"] == sub
    refreshed = plain(me.update_session("current"))
    assert refreshed["providerAccessToken"] and refreshed["providerRefreshToken"]
    assert refreshed["providerAccessToken"] != session["providerAccessToken"], "a refresh-token grant ran"
    me.delete_identity(identity["$id"])
    assert plain(me.list_identities())["total"] == 0
    with pytest.raises(AppwriteException) as e:
        admin().create_session(q["userId"], q["secret"])
    assert e.value.code == 401 and e.value.type == "user_invalid_token"


@pytest.mark.skipif(not OIDC_URL, reason="needs the test OpenID provider that scripts/test.sh starts")
@pytest.mark.skipif(not hasattr(Account, "create_id_token_session"), reason="a 2.x method (PyPI 27)")
def test_id_token_session_from_a_token_the_real_provider_signed():
    """A native app's ID token: here one the loopback OpenID provider signs (RS256) in a code
    flow the test runs itself; the SDK config points `google`'s JWKS and issuer there."""
    import base64
    import hashlib
    import secrets

    import requests

    origin = ENDPOINT.rsplit("/v1", 1)[0]
    callback = f"{origin}/v1/account/sessions/oauth2/callback/oidc/{PROJECT}"
    verifier = secrets.token_urlsafe(32)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    nonce, sub = secrets.token_hex(8), f"new-pyid{random.getrandbits(40):x}"
    authorize = f"{OIDC_URL}/auth?" + urllib.parse.urlencode({
        "client_id": "latchkey", "redirect_uri": callback, "response_type": "code",
        "scope": "openid email profile", "state": "native", "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256", "login_hint": sub,
    })
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(follow_to(authorize, callback)).query))["code"]
    answer = requests.post(f"{OIDC_URL}/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": callback,
        "client_id": "latchkey", "client_secret": "latchkey-secret", "code_verifier": verifier,
    }, timeout=20).json()
    id_token = answer["id_token"]
    guest = Account(Client().set_endpoint(ENDPOINT).set_project(PROJECT))
    with pytest.raises(AppwriteException) as e:
        guest.create_id_token_session("google", id_token, nonce="not-the-nonce")
    assert e.value.code == 401 and e.value.type == "user_oauth2_token_invalid"
    # With the key, the session's secret comes back, to look at what the sign-in stored.
    session = plain(admin().create_id_token_session("google", id_token, nonce=nonce, access_token=answer["access_token"], access_token_expiry=3600))
    assert session["provider"] == "google" and session["providerUid"] == sub
    assert session["providerAccessToken"] == answer["access_token"]
    me = as_session(session["secret"])
    assert plain(me.get())["email"] == f"{sub}@oidc.test"
    identity = plain(me.list_identities())["identities"][0]
    assert identity["provider"] == "google" and identity["providerIdToken"] == id_token
