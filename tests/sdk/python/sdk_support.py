"""What both PyPI appwrite suites share: the run's endpoint, project and key, and turning the
SDK's answers (dicts in 10.x, pydantic models in 22.x and 27.x) into plain dicts."""

import os

ENDPOINT = os.environ["LATCHKEY_ENDPOINT"]
PROJECT = os.environ["LATCHKEY_PROJECT"]
KEY = os.environ["LATCHKEY_KEY"]


def plain(obj):
    """A response as a dict with wire names, whether the SDK returns dicts or models."""
    if isinstance(obj, dict):
        return obj
    return obj.model_dump(by_alias=True)


def prefs_of(obj):
    """Preferences: a dict in 10.x, a model holding them in `.data` in 22.x and 27.x."""
    if isinstance(obj, dict):
        return obj
    return obj.data
