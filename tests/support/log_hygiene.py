"""Greps server logs for every secret a test run used: key secrets and provider passwords
from the config files, every password literal of the SDK suites, and every link secret and
code that was emailed or texted. Any hit fails the run (exit 1); nothing secret is printed.

usage: log_hygiene.py --logs FILE... --configs FILE... --sources FILE... --deliveries DIR...
"""
import argparse
import json
import pathlib
import re
import sys
import tomllib
from urllib.parse import parse_qs, urlparse


def config_secrets(path):
    found = set()

    def walk(v, key=""):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, k)
        elif isinstance(v, list):
            for x in v:
                walk(x, key)
        elif isinstance(v, str) and key.lower() in ("secret", "password") and v:
            found.add(v)

    walk(tomllib.loads(pathlib.Path(path).read_text()))
    return found


PASSWORD_LITERAL = re.compile(
    r"""(?:password|PASSWORD)\w*\s*[:=]\s*['"]([^'"]{6,})['"]"""
)


def source_secrets(path):
    return set(PASSWORD_LITERAL.findall(pathlib.Path(path).read_text()))


def delivered_secrets(folder):
    """Link secrets (`secret=` in any URL) and 6-digit codes of every captured email or SMS."""
    found = set()
    for f in pathlib.Path(folder).glob("*.json"):
        text = json.dumps(json.loads(f.read_text()))
        for url in re.findall(r"https?://[^\s\"'<>\\]+", text):
            found.update(parse_qs(urlparse(url).query).get("secret", []))
        found.update(re.findall(r"(?<![\w.])\d{6}(?![\w.])", text))
    return found


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--logs", nargs="+", required=True)
    p.add_argument("--configs", nargs="*", default=[])
    p.add_argument("--sources", nargs="*", default=[])
    p.add_argument("--deliveries", nargs="*", default=[])
    a = p.parse_args()
    secrets = {}
    for c in a.configs:
        secrets.update({s: f"config {c}" for s in config_secrets(c)})
    for s in a.sources:
        secrets.update({x: f"password literal in {s}" for x in source_secrets(s)})
    for d in a.deliveries:
        secrets.update({x: f"delivered in {d}" for x in delivered_secrets(d)})
    logs = {f: pathlib.Path(f).read_text(errors="replace") for f in a.logs}
    # Whole words of every log, once: a secret made of word characters is looked up in the
    # set; any other is searched as a substring (thousands of secrets, megabytes of logs).
    words = {f: set(re.findall(r"\w+", text)) for f, text in logs.items()}
    hits = 0
    for secret, origin in secrets.items():
        for f, text in logs.items():
            if re.fullmatch(r"\w+", secret):
                n = int(secret in words[f])
            else:
                n = len(re.findall(r"(?<![\w])" + re.escape(secret) + r"(?![\w])", text)) if secret in text else 0
            if n:
                hits += n
                print(f"LEAK: a secret ({origin}, {len(secret)} chars) appears in {f}")
    size = sum(len(t) for t in logs.values())
    print(f"log hygiene: {len(secrets)} secrets searched in {len(logs)} logs ({size} bytes): {hits} hits")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
