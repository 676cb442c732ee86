"""The official Python SDK (PyPI appwrite, pinned per virtualenv: 22.2.0 and 10.0.0) against a
running latchkey. 22.x parses every response into pydantic models, so a missing or mistyped
model field fails here even when the JSON looks fine."""

import os
import random

import pytest
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.account import Account

ENDPOINT = os.environ["LATCHKEY_ENDPOINT"]
PROJECT = os.environ["LATCHKEY_PROJECT"]
KEY = os.environ["LATCHKEY_KEY"]
PASSWORD = "py-password-123"


def plain(obj):
    """A response as a dict with wire names, whether the SDK returns dicts or models."""
    if isinstance(obj, dict):
        return obj
    return obj.model_dump(by_alias=True)


def prefs_of(obj):
    """Preferences: a dict in 10.x, a model holding them in `.data` in 22.x."""
    if isinstance(obj, dict):
        return obj
    return obj.data


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
    jwt = plain(me.create_jwt())["jwt"]
    assert plain(as_jwt(jwt).get())["$id"] == anon["userId"]
    expect_error(403, "user_jwt_creation_denied", as_jwt(jwt).create_jwt)


def test_identities_logs_and_status():
    _, _, _, me = sign_in()
    identities = plain(me.list_identities([Query.limit(5)]))
    assert identities["total"] == 0 and identities["identities"] == []
    expect_error(404, "user_identity_not_found", me.delete_identity, "missing")
    logs = plain(me.list_logs())
    assert [entry["event"] for entry in logs["logs"]] == ["session.create", "user.create"]
    assert plain(me.update_status())["status"] is False
    expect_error(403, "user_blocked", me.get)
