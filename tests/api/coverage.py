"""Fails unless every operation of the OpenAPI document got at least one success (a 2xx, or
the 301 of a redirect route) over the runs,
apart from those listed with --impossible (they need state that no request can make yet). Prints one line per operation.

usage: coverage.py OPENAPI.json STATUS_FILE [--impossible "POST /v1/account/sessions/id-token" ...]
"""
import argparse
import collections
import json
import sys

p = argparse.ArgumentParser()
p.add_argument("schema")
p.add_argument("statuses")
p.add_argument("--impossible", action="append", default=[])
a = p.parse_args()
doc = json.load(open(a.schema))
ops = [f"{m.upper()} {path}" for path, item in doc["paths"].items() for m in item]
seen = collections.defaultdict(collections.Counter)
for line in open(a.statuses):
    r = json.loads(line)
    if r.get("same_method", True):
        seen[r["op"]][r["status"]] += 1
missing = []
for op in ops:
    got = seen.get(op, {})
    ok = sum(n for s, n in got.items() if 200 <= s < 300 or s == 301)
    mark = "2xx " if ok else ("n/a " if op in a.impossible else "NONE")
    print(f"{mark} {op:55s} {sum(got.values()):5d} calls {dict(sorted(got.items()))}")
    if not ok and op not in a.impossible:
        missing.append(op)
total = sum(sum(c.values()) for c in seen.values())
print(f"api fuzz: {total} calls over {len(ops)} operations; {len(ops) - len(missing) - len([o for o in a.impossible if o in ops])} with a 2xx")
if missing:
    print(f"no 2xx for: {', '.join(missing)}", file=sys.stderr)
    sys.exit(1)
