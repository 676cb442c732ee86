"""Schemathesis hooks for latchkey's API fuzzing (loaded through SCHEMATHESIS_HOOKS).

Every generated call gets a fresh user, so a logout, an account deletion or a blocked status
never turns the rest of the run into 401s. In session mode (LK_MODE=session) the call carries
that user's session; in key mode (LK_MODE=key) the API key from the command line stands in.
For valid (positive) cases the hook fills what only the server's state can make valid — the
fresh user's email and password, a registered redirect host, `current` for a session id, a
push target to change, and for the routes that complete a flow the secret or code the server
emailed or texted (read from the test sinks' folders, LATCHKEY_MAIL_DIR and LATCHKEY_SMS_DIR)
— so every operation can reach its success path; invalid cases are sent as generated.
Each answer's status is appended to LK_STATUS_FILE for coverage.py.
"""

import glob
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid

from urllib.parse import parse_qsl, urljoin, urlparse

import requests
import schemathesis

# The SDK suite's software passkey authenticator answers the passkey ceremonies.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sdk", "python"))
from soft_passkey import SoftPasskey  # noqa: E402

# A page origin the SDK project's localhost platform allows.
PASSKEY_ORIGIN = "http://localhost:5173"

PROJECT = os.environ.get("LK_PROJECT", "sdk")
MODE = os.environ.get("LK_MODE", "session")
STATUS_FILE = os.environ["LK_STATUS_FILE"]
PASSWORD = "api-fuzz-password-1"
NEW_PASSWORD = "api-fuzz-new-password-1"
COOKIE = f"a_session_{PROJECT}"
REDIRECT = "http://localhost/api-fuzz"
# Operations a guest calls: a session would only change what they test.
GUEST = {
    "POST /v1/account",
    "POST /v1/account/sessions/email",
    "POST /v1/account/sessions/anonymous",
    "POST /v1/account/tokens/email",
    "POST /v1/account/tokens/magic-url",
    "POST /v1/account/tokens/phone",
    "POST /v1/account/recovery",
    "POST /v1/account/recovery/otp",
    "POST /v1/account/sessions/id-token",
    # These complete a sign-in: with a session already on the call they are refused.
    "POST /v1/account/sessions/token",
    "PUT /v1/account/sessions/magic-url",
    "PUT /v1/account/sessions/phone",
}

# Operations whose `email` must be an address no one has yet.
NEW_EMAIL = {
    "POST /v1/account",
    "POST /v1/account/tokens/email",
    "POST /v1/account/tokens/magic-url",
    "PATCH /v1/account/email",
}
# Operations whose `password` is the current one (elsewhere it is a new password).
CURRENT_PASSWORD = {
    "POST /v1/account/sessions/email",
    "PATCH /v1/account/email",
    "PATCH /v1/account/phone",
}

_lock = threading.Lock()
_local = threading.local()


def _http():
    if not hasattr(_local, "s"):
        _local.s = requests.Session()
    return _local.s


def fresh_user(base):
    """A new user and its session secret; kept in _local for the calls that may reuse it."""
    http = _http()
    http.cookies.clear()
    email = f"st-{uuid.uuid4().hex[:16]}@example.com"
    headers = {"X-Appwrite-Project": PROJECT}
    r = http.post(f"{base}/v1/account", json={"userId": "unique()", "email": email, "password": PASSWORD}, headers=headers, timeout=20)
    r.raise_for_status()
    r = http.post(f"{base}/v1/account/sessions/email", json={"email": email, "password": PASSWORD}, headers=headers, timeout=20)
    r.raise_for_status()
    secret = json.loads(r.headers.get("X-Fallback-Cookies", "{}")).get(COOKIE) or r.cookies.get(COOKIE)
    http.cookies.clear()
    _local.user_id, _local.session_id = r.json()["userId"], r.json()["$id"]
    _local.user, _local.clean = (email, secret), True
    return email, secret


def user_for(base, positive):
    """The user of a call. Making one costs two requests and two password hashes, most of the
    run's time, so a user nothing has changed yet is reused: a negative case gets the last
    user while no call on it succeeded (a refused request changes nothing); a positive case,
    whose preparation changes the user, always gets a new one."""
    if positive or not getattr(_local, "clean", False):
        fresh_user(base)
    if positive:
        _local.clean = False
    return _local.user


def _as(secret):
    return {"X-Appwrite-Project": PROJECT, "X-Appwrite-Session": secret}


def push_target(base, secret):
    """A push target of the fresh user, for the routes that change or delete one."""
    r = _http().post(f"{base}/v1/account/targets/push", json={"targetId": "unique()", "identifier": uuid.uuid4().hex}, headers=_as(secret), timeout=20)
    r.raise_for_status()
    return r.json()["$id"]


def give_phone(base, secret):
    """A phone number on the fresh user, for phone verification."""
    phone = new_phone()
    r = _http().patch(f"{base}/v1/account/phone", json={"phone": phone, "password": PASSWORD}, headers=_as(secret), timeout=20)
    r.raise_for_status()
    return phone


MAIL_DIR = os.environ.get("LATCHKEY_MAIL_DIR", "")
SMS_DIR = os.environ.get("LATCHKEY_SMS_DIR", "")
LINK_SECRET = re.compile(r"[?&]secret=([0-9a-f]+)")
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def delivered(folder, to, pattern):
    """The newest match of `pattern` in what the test sinks received for `to` (mail or SMS)."""
    deadline = time.time() + 15
    while time.time() < deadline:
        for f in sorted(glob.glob(os.path.join(folder, "*.json")), reverse=True):
            record = json.load(open(f))
            if to in json.dumps(record.get("rcpt_tos") or record.get("form", {}).get("To", "")):
                found = pattern.search(record.get("text") or record.get("form", {}).get("Body", ""))
                if found:
                    return found.group(1)
        time.sleep(0.1)
    raise RuntimeError(f"nothing delivered to {to} in {folder}")


def new_phone():
    return "+1555" + str(uuid.uuid4().int)[:7]


def account_call(base, secret, method, path, body=None):
    r = _http().request(method, f"{base}/v1/account{path}", json=body, headers=_as(secret), timeout=20)
    r.raise_for_status()
    return r.json() if r.content else {}


def recovery_codes(base, secret):
    return account_call(base, secret, "POST", "/mfa/recovery-codes")["recoveryCodes"]


def recent_challenge(base, secret):
    """Completes a recovery-code challenge on the session, so `mfaProtected` routes open."""
    codes = recovery_codes(base, secret)
    challenge = account_call(base, secret, "POST", "/mfa/challenges", {"factor": "recoveryCode"})
    account_call(base, secret, "PUT", "/mfa/challenges", {"challengeId": challenge["$id"], "otp": codes[0]})


def totp_code(totp_secret):
    """The current TOTP code, from Debian's oathtool; never from the last 1.5 s of its step,
    which it could reach the server after."""
    while time.time() % 30 > 28.5:
        time.sleep(0.1)
    return subprocess.run(["oathtool", "--totp", "-b", totp_secret], check=True, capture_output=True, text=True).stdout.strip()


OIDC = "oidc"  # the loopback OpenID provider (tests/oidc/provider.mjs) of the SDK config


def provider_callback(base, secret=None):
    """Starts a token-flow sign-in (as the user of `secret`, else a guest) and logs in at the
    OpenID provider as a new provider user (a `login_hint` of `new-<id>`); the callback URL
    the provider sends the browser to. (The session flow would also need the binder cookie
    of the browser that started it.)"""
    headers = _as(secret) if secret else {"X-Appwrite-Project": PROJECT}
    r = _http().get(f"{base}/v1/account/tokens/oauth2/{OIDC}", params={"success": REDIRECT, "failure": REDIRECT}, headers=headers, allow_redirects=False, timeout=20)
    url = r.headers["Location"] + "&login_hint=new-" + uuid.uuid4().hex[:12]
    browser = requests.Session()  # the provider's login cookies
    for _ in range(20):
        r = browser.get(url, allow_redirects=False, timeout=20)
        url = urljoin(url, r.headers["Location"])
        if url.startswith(f"{base}/v1/account/sessions/oauth2/callback/"):
            return url
    raise RuntimeError(f"the provider did not send the browser back: {url}")


def redirect_query(base, secret=None):
    """The query (code, state, project) with which latchkey's callback sends the browser on to
    the redirect route."""
    r = requests.get(provider_callback(base, secret), allow_redirects=False, timeout=20)
    return dict(parse_qsl(urlparse(r.headers["Location"]).query))


def linked_identity(base, secret):
    """Links a new provider identity to the fresh user: a sign-in the user starts and
    finishes signed in."""
    r = requests.get(f"{base}/v1/account/sessions/oauth2/{OIDC}/redirect", params=redirect_query(base, secret), headers=_as(secret), allow_redirects=False, timeout=20)
    assert "secret=" in r.headers["Location"], r.headers["Location"]
    return account_call(base, secret, "GET", "/identities")["identities"][0]["$id"]


def provider_id_token(base):
    """An ID token the OpenID provider signs for a new provider user in a code flow of our own,
    and its nonce (the SDK config accepts the provider's tokens as `google`'s)."""
    import base64
    import hashlib
    import secrets

    oidc = os.environ["LATCHKEY_OIDC_URL"]
    callback = f"{base}/v1/account/sessions/oauth2/callback/{OIDC}/{PROJECT}"
    verifier, nonce = secrets.token_urlsafe(32), secrets.token_hex(8)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    url = f"{oidc}/auth?" + requests.compat.urlencode({
        "client_id": "latchkey", "redirect_uri": callback, "response_type": "code", "scope": "openid email",
        "state": "fuzz", "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256",
        "login_hint": "new-" + uuid.uuid4().hex[:12]})
    browser = requests.Session()
    for _ in range(20):
        r = browser.get(url, allow_redirects=False, timeout=20)
        url = urljoin(url, r.headers["Location"])
        if url.startswith(callback):
            break
    code = dict(parse_qsl(urlparse(url).query))["code"]
    r = requests.post(f"{oidc}/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": callback, "client_id": "latchkey", "client_secret": "latchkey-secret", "code_verifier": verifier}, timeout=20)
    return r.json()["id_token"], nonce


def prepare(label, base, email, secret):
    """For an operation that needs a secret the server sends by email or SMS: starts that flow
    for the fresh user and returns the body fields that complete it."""
    guest = {"X-Appwrite-Project": PROJECT}
    post = lambda path, body, headers=guest: _http().post(f"{base}/v1/account{path}", json=body, headers=headers, timeout=20)
    if label in ("POST /v1/account/sessions/token", "PUT /v1/account/sessions/magic-url"):
        magic = label.endswith("magic-url")
        r = post("/tokens/magic-url" if magic else "/tokens/email", {"userId": "unique()", "email": email, **({"url": REDIRECT} if magic else {})})
        r.raise_for_status()
        return {"userId": r.json()["userId"], "secret": delivered(MAIL_DIR, email, LINK_SECRET if magic else CODE)}
    if label == "PUT /v1/account/sessions/phone":
        phone = new_phone()
        r = post("/tokens/phone", {"userId": "unique()", "phone": phone})
        r.raise_for_status()
        return {"userId": r.json()["userId"], "secret": delivered(SMS_DIR, phone, CODE)}
    if label in ("PUT /v1/account/recovery", "PUT /v1/account/recovery/otp"):
        otp = label.endswith("/otp")
        r = post("/recovery/otp" if otp else "/recovery", {"email": email, **({} if otp else {"url": REDIRECT})})
        r.raise_for_status()
        return {"userId": r.json()["userId"], "secret": delivered(MAIL_DIR, email, CODE if otp else LINK_SECRET), "password": NEW_PASSWORD}
    if label in ("PUT /v1/account/verifications/email", "PUT /v1/account/verifications/email/otp"):
        otp = label.endswith("/otp")
        r = post("/verifications/email/otp" if otp else "/verifications/email", {} if otp else {"url": REDIRECT}, _as(secret))
        r.raise_for_status()
        return {"userId": r.json()["userId"], "secret": delivered(MAIL_DIR, email, CODE if otp else LINK_SECRET)}
    if label == "PUT /v1/account/verifications/phone":
        phone = give_phone(base, secret)
        r = post("/verifications/phone", {}, _as(secret))
        r.raise_for_status()
        return {"userId": r.json()["userId"], "secret": delivered(SMS_DIR, phone, CODE)}
    if label == "PUT /v1/account/mfa/authenticators/{type}":
        created = account_call(base, secret, "POST", "/mfa/authenticators/totp")
        return {"otp": totp_code(created["secret"])}
    if label == "POST /v1/account/sessions/id-token":
        token, nonce = provider_id_token(base)
        return {"provider": "google", "idToken": token, "nonce": nonce}
    if label == "PUT /v1/account/mfa/challenges":
        codes = recovery_codes(base, secret)
        challenge = account_call(base, secret, "POST", "/mfa/challenges", {"factor": "recoveryCode"})
        return {"challengeId": challenge["$id"], "otp": codes[0]}
    return {}


def registered_passkey(base, secret):
    """Registers a passkey for the user; its id and the authenticator that holds it."""
    authenticator = SoftPasskey(PASSKEY_ORIGIN)
    challenge = account_call(base, secret, "POST", "/passkeys", {"name": "fuzz"})
    credential = authenticator.create(challenge["publicKey"])
    account_call(base, secret, "PUT", f"/passkeys/{challenge['passkeyId']}/verification", {"credential": credential})
    return challenge["passkeyId"], authenticator


def passkey_case(label, base, secret, body, params):
    """Fills what a passkey operation needs to succeed for the fresh user."""
    if label == "PUT /v1/account/passkeys/{passkeyId}/verification":
        challenge = account_call(base, secret, "POST", "/passkeys", {"name": "fuzz"})
        params["passkeyId"] = challenge["passkeyId"]
        body["credential"] = SoftPasskey(PASSKEY_ORIGIN).create(challenge["publicKey"])
        body.pop("challengeId", None)
    elif "passkeyId" in params:
        params["passkeyId"], _ = registered_passkey(base, secret)
    if label == "PUT /v1/account/tokens/passkey":
        _, authenticator = registered_passkey(base, secret)
        challenge = _http().post(f"{base}/v1/account/tokens/passkey", json={}, headers={"X-Appwrite-Project": PROJECT}, timeout=20).json()
        body["challengeId"] = challenge["$id"]
        body["credential"] = authenticator.get(challenge["publicKey"])


# Valid hashes for the Users API's imports (the e2e suite's vectors; every import is checked
# against its algorithm, so generated strings are refused).
IMPORTED = {
    "POST /v1/users/argon2": {"password": "$argon2id$v=19$m=65536,t=4,p=3$oFSrjXQ91jpoxrHG9XYfeg$WvBzODSr8XQgpGMf/faIq4ZkC3bIgSPIW03Dlzv1XDc"},
    "POST /v1/users/bcrypt": {"password": "$2b$05$xMvNJTdt2n1oqu/b8aX5x.nd4fEN2xnF3oseBc06j/zcqmpnRErp."},
    "POST /v1/users/md5": {"password": "14b94f2bc9a25d8b183218dd7c45feb8"},
    "POST /v1/users/phpass": {"password": "$P$6/OItfyRua1QteUEN8uwLaOFr1ztS.1"},
    "POST /v1/users/sha": {"password": "258e5aad6fd134d5268e6a9980316e6eb0ff05568e1f00874ad97ef147ddacd3092d991d77fa3e5083a8e16f26de695f8b4859118fd11fe85ce5c6728346bf43", "passwordVersion": "sha512"},
    "POST /v1/users/scrypt": {"password": "7885bac9912132c72e55fca69cfdfdd8d1fc3d28ac1895bd3b0474de7c84165a", "passwordSalt": "NaCl-salt", "passwordCpu": 1024, "passwordMemory": 8, "passwordParallel": 1, "passwordLength": 32},
    "POST /v1/users/scrypt-modified": {"password": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==", "passwordSalt": "42xEC+ixf3L2lw==", "passwordSaltSeparator": "Bw==", "passwordSignerKey": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="},
}


def users_api(label, base, email, secret, body, params):
    """Fills what a Users API operation needs to succeed for the fresh user (key mode)."""
    if label.startswith("POST /v1/users") and label.count("/") == 3 or label == "POST /v1/users":
        body["userId"] = "u" + uuid.uuid4().hex[:20]
        if "email" in body or label != "POST /v1/users":
            body["email"] = f"new-{uuid.uuid4().hex[:16]}@example.com"
        if "phone" in body:
            body["phone"] = new_phone()
        body.update(IMPORTED.get(label, {}))
    if label == "PATCH /v1/users/{userId}/email":
        body["email"] = f"new-{uuid.uuid4().hex[:16]}@example.com"
    if label == "PATCH /v1/users/{userId}/phone":
        body["number"] = new_phone()
    if label == "PUT /v1/users/{userId}/labels":
        body["labels"] = ["fuzz"]
    if label == "POST /v1/users/{userId}/jwts":
        body["sessionId"] = _local.session_id
    if label == "POST /v1/users/{userId}/targets":
        body.update({"targetId": "unique()", "providerType": "push", "identifier": uuid.uuid4().hex})
        body.pop("providerId", None)
    if label == "PATCH /v1/users/{userId}/targets/{targetId}" and "identifier" in body:
        body["identifier"] = uuid.uuid4().hex
    if "userId" in params:
        params["userId"] = _local.user_id
    if "sessionId" in params:
        params["sessionId"] = _local.session_id
    if "challengeId" in params:
        params["challengeId"] = account_call(base, secret, "POST", "/mfa/challenges", {"factor": "custom"})["$id"]
    if label in ("GET /v1/users/{userId}/mfa/recovery-codes", "PUT /v1/users/{userId}/mfa/recovery-codes"):
        recovery_codes(base, secret)
    if label == "DELETE /v1/users/{userId}/mfa/authenticators/{type}":
        account_call(base, secret, "POST", "/mfa/authenticators/totp")


GRAPHQL_QUERY = "{ accountGet { _id email } }"


def _base(case):
    return (case.operation.base_url or case.operation.schema.get_base_url()).rstrip("/")


def _positive(case):
    meta = case.meta
    return meta is None or meta.generation.mode.value == "positive"


@schemathesis.hook
def before_call(context, case, **kwargs):
    label = case.operation.label
    email, secret = user_for(_base(case), _positive(case))
    if _positive(case):
        # A generated string is no GraphQL document; a real one reaches the executor (a key's
        # accountGet is a field error inside a 200, as Appwrite answers).
        if label == "GET /v1/graphql":
            case.query = {"query": GRAPHQL_QUERY}
        elif label in ("POST /v1/graphql", "POST /v1/graphql/mutation"):
            # The document declares no body (the route reads it raw), so say it is JSON.
            case.body, case.media_type = {"query": GRAPHQL_QUERY}, "application/json"
        if isinstance(case.body, dict):
            body = dict(case.body)
            if "email" in body:
                body["email"] = f"new-{uuid.uuid4().hex[:16]}@example.com" if label in NEW_EMAIL else email
            # A sign-up's id must be new too (generated ids repeat across operations).
            if label in NEW_EMAIL | {"POST /v1/account/tokens/phone"} and body.get("userId") not in (None, "unique()"):
                body["userId"] = "u" + uuid.uuid4().hex[:20]
            if label == "POST /v1/account/tokens/phone" and "phone" in body:
                body["phone"] = new_phone()
            if "oldPassword" in body:
                body["oldPassword"] = PASSWORD
            if "password" in body and label in CURRENT_PASSWORD:
                body["password"] = PASSWORD
            if "url" in body:
                body["url"] = REDIRECT
            body.update(prepare(label, _base(case), email, secret))
            case.body = body
        params = dict(case.path_parameters or {})
        if label.split(" ")[1].startswith("/v1/users"):
            body = dict(case.body) if isinstance(case.body, dict) else None
            users_api(label, _base(case), email, secret, body if body is not None else {}, params)
            if body is not None:
                case.body = body
            if label == "DELETE /v1/users/identities/{identityId}":
                params["identityId"] = linked_identity(_base(case), secret)
            if "targetId" in params:
                params["targetId"] = push_target(_base(case), secret)
            case.path_parameters = params or case.path_parameters
            params = {}
        if "provider" in params and label != "POST /v1/account/sessions/id-token":
            params["provider"] = OIDC
        if label in ("GET /v1/account/sessions/oauth2/{provider}", "GET /v1/account/tokens/oauth2/{provider}"):
            case.query = {"success": REDIRECT, "failure": REDIRECT, "scopes": ["email"]}
        if label == "GET /v1/account/sessions/oauth2/{provider}/redirect":
            case.query = redirect_query(_base(case))
        if label == "DELETE /v1/account/identities/{identityId}":
            params["identityId"] = linked_identity(_base(case), secret)
        if "passkey" in label:
            body = dict(case.body) if isinstance(case.body, dict) else {}
            passkey_case(label, _base(case), secret, body, params)
            if body:
                case.body = body
        if "projectId" in params and label.startswith("GET /v1/projects/"):
            params["projectId"] = PROJECT
        if "sessionId" in params:
            params["sessionId"] = "current"
        if "targetId" in params:
            params["targetId"] = push_target(_base(case), secret)
        if params:
            case.path_parameters = params
        if label == "POST /v1/account/verifications/phone":
            give_phone(_base(case), secret)
        if label in ("GET /v1/account/mfa/recovery-codes", "PATCH /v1/account/mfa/recovery-codes"):
            recent_challenge(_base(case), secret)
        if label == "DELETE /v1/account/mfa/authenticators/{type}":
            recent_challenge(_base(case), secret)
            account_call(_base(case), secret, "POST", "/mfa/authenticators/totp")
    if case.headers is None:
        case.headers = {}
    if MODE == "session" and label not in GUEST:
        case.headers["X-Appwrite-Session"] = secret


@schemathesis.hook
def after_call(context, case, response):
    if not 400 <= response.status_code < 500:
        _local.clean = False
    with _lock, open(STATUS_FILE, "a") as f:
        # Schemathesis also tries methods the operation does not have (answered 204 as a
        # CORS preflight, or 404); those are not calls of the operation.
        same = case.method.upper() == case.operation.method.upper()
        f.write(json.dumps({"op": case.operation.label, "status": response.status_code, "mode": MODE, "same_method": same}) + "\n")
