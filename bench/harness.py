#!/usr/bin/env python3
"""The benchmark behind bench/run.sh: starts each target (the bare-axum ceiling, latchkey on
SQLite and on PostgreSQL, Better Auth), drives the same workloads at each with one load tool
(Debian's wrk), and writes one markdown table of figures and ratios, plus PNG plots.

Everything is measured in one run on one machine, so the ratios mean something even when the
machine is shared and noisy; the absolute numbers do not travel. Nothing here asserts a speed.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"

# Latchkey's project for the bench: rate limits off (one address logs in over and over), and
# room for the sessions a sign-in storm makes for one user.
LATCHKEY_CONFIG = """
rateLimits = false
[[projects]]
id = "bench"
name = "Bench"
  [[projects.platforms]]
  type = "web"
  hostname = "localhost"
  [projects.auth]
  maxSessions = 100
"""

# One unique sign-up per request: wrk gives each thread its own Lua state, so each thread
# numbers its requests under its own id.
SIGNUP_LUA = """
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
request = function()
  counter = counter + 1
  local body = string.format(BODY, id or 0, counter)
  return wrk.format("POST", nil, nil, body)
end
"""


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A target process; `started_ms` is exec to its `listening on` line."""

    def __init__(self, name, cmd, cwd=None, env=None, log_path=None):
        self.name = name
        t0 = time.monotonic()
        self.log = open(log_path or os.devnull, "wb")
        self.proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        self.url = None
        deadline = t0 + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline().decode(errors="replace")
            if not line:
                break
            m = re.search(r"listening on (http://[0-9.:]+)", line)
            if m:
                self.url = m.group(1)
                break
        if not self.url:
            self.stop()
            raise RuntimeError(f"{name} did not start; see {log_path}")
        self.started_ms = (time.monotonic() - t0) * 1000
        # Keep reading stdout so the process never blocks on a full pipe.
        import threading

        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def status(self, key):
        """A /proc/PID/status figure in MB (VmRSS, VmHWM)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def call(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.headers, json.loads(r.read() or b"null")


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk(url, conns, duration, work, headers=(), script=None, threads=None):
    """One wrk run: req/s, p50 and p99 in ms, and the count of failed requests."""
    cmd = ["wrk", "--latency", f"-t{threads or min(2, conns)}", f"-c{conns}", f"-d{duration}s"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        path = Path(work) / f"wrk-{abs(hash(script))}.lua"
        path.write_text(script)
        cmd += ["-s", str(path)]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def parse_wrk(out):
    """wrk's report: good responses a second (failures are not throughput), p50, p99."""
    done = re.search(r"(\d+) requests in ([0-9.]+)(us|ms|s|m),", out)
    total, elapsed = int(done.group(1)), float(done.group(2)) * UNITS[done.group(3)] / 1000
    lat = {}
    for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([0-9.]+)(us|ms|s|m)\s*$", out, re.M):
        lat[pct] = float(value) * UNITS[unit]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(bad.group(1)) if bad else 0
    failed += sum(int(x) for x in errors.groups()) if errors else 0
    rps = max(total - failed, 0) / elapsed if elapsed else 0.0
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"), "failed": failed}


def json_lua(method, body, headers):
    lines = [f'wrk.method = "{method}"']
    for k, v in headers.items():
        lines.append(f'wrk.headers["{k}"] = "{v}"')
    lines.append(f"wrk.body = [[{json.dumps(body)}]]")
    return "\n".join(lines) + "\n"


def signup_lua(body_template, headers):
    lines = ['wrk.method = "POST"']
    for k, v in headers.items():
        lines.append(f'wrk.headers["{k}"] = "{v}"')
    lines.append(f"BODY = [[{body_template}]]")
    return "\n".join(lines) + SIGNUP_LUA


class Latchkey:
    """Latchkey's routes for each workload."""

    def __init__(self, url):
        self.url = url
        self.h = {"x-appwrite-project": "bench"}
        for user in ("reader", "stormer"):
            call("POST", f"{url}/v1/account", {"userId": user, "email": f"{user}@example.com",
                                               "password": PASSWORD}, self.h)
        _, headers, _ = call("POST", f"{url}/v1/account/sessions/email",
                             {"email": "reader@example.com", "password": PASSWORD}, self.h)
        fallback = headers["x-fallback-cookies"]
        self.session = json.loads(fallback)["a_session_bench"]
        _, _, jwt = call("POST", f"{url}/v1/account/jwts", {},
                         {**self.h, "x-appwrite-session": self.session})
        self.jwt = jwt["jwt"]

    def read(self):
        return f"{self.url}/v1/account", [f"x-appwrite-project: bench", f"x-appwrite-session: {self.session}"], None

    def read_jwt(self):
        return f"{self.url}/v1/account", [f"x-appwrite-project: bench", f"x-appwrite-jwt: {self.jwt}"], None

    def login(self):
        body = {"email": "stormer@example.com", "password": PASSWORD}
        return f"{self.url}/v1/account/sessions/email", [], json_lua(
            "POST", body, {"content-type": "application/json", "x-appwrite-project": "bench"})

    def signup(self):
        body = '{"userId":"unique()","email":"w3-%d-%d@example.com","password":"' + PASSWORD + '"}'
        return f"{self.url}/v1/account", [], signup_lua(
            body, {"content-type": "application/json", "x-appwrite-project": "bench"})


class BetterAuth:
    """Better Auth's routes for the same workloads (its JWT plugin is not set up: no W5)."""

    def __init__(self, url):
        self.url = url
        self.origin = {"origin": url}
        for user in ("reader", "stormer"):
            call("POST", f"{url}/api/auth/sign-up/email",
                 {"email": f"{user}@example.com", "password": PASSWORD, "name": user}, self.origin)
        _, headers, _ = call("POST", f"{url}/api/auth/sign-in/email",
                             {"email": "reader@example.com", "password": PASSWORD}, self.origin)
        self.cookie = next(c.split(";")[0] for c in headers.get_all("set-cookie")
                           if c.startswith("better-auth.session_token="))
        # Its get-session answers 200 with `null` for a bad session: check the body once here,
        # since wrk only counts statuses.
        _, _, got = call("GET", f"{url}/api/auth/get-session", None, {"cookie": self.cookie})
        assert got and got["user"]["email"] == "reader@example.com", got

    def read(self):
        return f"{self.url}/api/auth/get-session", [f"cookie: {self.cookie}"], None

    read_jwt = None

    def login(self):
        body = {"email": "stormer@example.com", "password": PASSWORD}
        return f"{self.url}/api/auth/sign-in/email", [], json_lua(
            "POST", body, {"content-type": "application/json", "origin": self.url})

    def signup(self):
        body = '{"email":"w3-%d-%d@example.com","password":"' + PASSWORD + '","name":"w3"}'
        return f"{self.url}/api/auth/sign-up/email", [], signup_lua(
            body, {"content-type": "application/json", "origin": self.url})


def measure(target, api, d, work, idle):
    """Every workload against one started target, in an order that lets VmHWM tell the peak
    under reads apart from the peak after a sign-in storm."""
    r = {"start_ms": target.started_ms, "idle_rss": idle}
    url, headers, script = api.read()
    r["W1 c=1"] = wrk(url, 1, d, work, headers, script)
    r["W1 c=64"] = wrk(url, 64, d, work, headers, script)
    if api.read_jwt:
        url, headers, script = api.read_jwt()
        r["W5 c=64"] = wrk(url, 64, d, work, headers, script)
    r["read_hwm"] = target.status("VmHWM")
    url, headers, script = api.login()
    r["W2 c=16"] = wrk(url, 16, d, work, headers, script)
    # W4: reads at 64 connections while 8 connections keep the hashing pool busy.
    storm_lua = Path(work) / "storm.lua"
    storm_lua.write_text(script)
    storm = subprocess.Popen(
        ["wrk", "--latency", "-t1", "-c8", f"-d{d + 2}s", "-s", str(storm_lua), url],
        stdout=subprocess.PIPE, text=True,
    )
    time.sleep(1)
    rurl, rheaders, rscript = api.read()
    r["W4 c=64"] = wrk(rurl, 64, d, work, rheaders, rscript)
    # The storm's own figures: W4 means nothing if the storm was not there.
    r["W4 storm"] = parse_wrk(storm.communicate()[0])
    url, headers, script = api.signup()
    r["W3 c=16"] = wrk(url, 16, d, work, headers, script)
    # Long enough for latchkey's hashing pool to free its memory after a storm.
    time.sleep(3)
    r["storm_hwm"] = target.status("VmHWM")
    r["after_rss"] = target.status("VmRSS")
    return r


def at_size(name, binary, data, extra, users, work, d):
    """Start-up, W1 and W2 with `users` seeded users (five sessions each) already in the store,
    for the comparison with the same backend empty. The store is made by a first start, then
    filled by `latchkey users seed` (one shared hash, batched inserts), then started again."""
    serve = [binary, "serve", "--listen", "127.0.0.1:0", "--data", str(data),
             "--config", str(work / "bench.toml"), *extra]
    Server(name, serve).stop()
    log(f"{name}: seeding {users:,} users with 5 sessions each")
    t0 = time.monotonic()
    out = subprocess.run([binary, "users", "seed", "--data", str(data), "--config", str(work / "bench.toml"),
                          "--project", "bench", "--users", str(users), "--sessions-per-user", "5",
                          "--json", *extra],
                         env={**os.environ, "LATCHKEY_SEED_PASSWORD": PASSWORD},
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"seeding failed: {out.stderr[-2000:]}")
    r = {"users": users, "sessions": users * 5, "seed_s": time.monotonic() - t0}
    db = Path(data) / "latchkey.db"
    if db.exists():
        r["db_mb"] = db.stat().st_size / 1e6
    s = Server(name, serve, log_path=work / f"{name.replace(' ', '-')}-sized.log")
    try:
        r["start_ms"] = s.started_ms
        api = Latchkey(s.url)
        url, headers, script = api.read()
        r["W1 c=64"] = wrk(url, 64, d, work, headers, script)
        url, headers, script = api.login()
        r["W2 c=16"] = wrk(url, 16, d, work, headers, script)
    finally:
        s.stop()
    return r


def sized_table(sized, results):
    if not sized:
        return ""
    first = next(iter(sized.values()))
    out = ["", f"At size: {first['users']:,} users and {first['sessions']:,} sessions seeded by "
           "`latchkey users seed` before the start, against the same backend empty (above).", "",
           "| at size | " + " | ".join(sized) + " |", "|---" * (len(sized) + 1) + "|"]
    rows = [("seeding, s (users/s)", lambda r, e: f"{r['seed_s']:.0f} ({r['users'] / r['seed_s']:,.0f})"),
            ("store on disk, MB", lambda r, e: fmt(r.get("db_mb"))),
            ("start to listening, ms (empty)", lambda r, e: f"{r['start_ms']:.0f} ({e['start_ms']:.0f})")]
    for w in ("W1 c=64", "W2 c=16"):
        rows.append((f"{w} req/s, p99 ms", lambda r, e, w=w: f"{fmt(r[w]['rps'])}, {fmt(r[w]['p99'], 'ms')}"
                     + (f" ⚠ {r[w]['failed']} failed" if r[w]["failed"] else "")))
        rows.append((f"{w} at size ÷ empty", lambda r, e, w=w: ratio(r[w]["rps"], e[w]["rps"])))
    for label, cell in rows:
        out.append(f"| {label} | " + " | ".join(cell(sized[n], results[n]) for n in sized) + " |")
    return "\n".join(out) + "\n"


def settled(target):
    """RSS with no request served yet, once start-up's background work is done."""
    time.sleep(2)
    return target.status("VmRSS")


def hash_bound(binary):
    out = subprocess.run([binary], capture_output=True, text=True, check=True).stdout.split()
    return {"cores": int(out[0]), "verify_ms": float(out[1]) * 1000, "bound": float(out[2])}


def machine_facts():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = next((l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines()
                if l.startswith("MemTotal")), "?")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem) / 1024 / 1024, 1) if mem != "?" else "?",
        "kernel": platform.release(),
        "rustc": subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip(),
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip(),
        "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
    }


def fmt(x, unit=""):
    if x is None or x != x:
        return "–"
    if unit == "ms":
        return f"{x:.2f}"
    return f"{x:,.0f}"


def ratio(a, b):
    if not a or not b:
        return "–"
    return f"{a / b:.2f}"


WORKLOADS = ["W1 c=1", "W1 c=64", "W5 c=64", "W2 c=16", "W3 c=16", "W4 c=64", "W4 storm"]


def table(results, bound, facts, args):
    names = list(results)
    lk = results.get("latchkey SQLite", {})
    ba = results.get("Better Auth", {})
    ceiling = results.get("ceiling", {})
    note = [] if args.profile == "release" else [
        f"**{args.profile} build: these figures only show that the harness runs.**", ""]
    out = note + [f"Command: `{args.command}` · {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · "
           f"{args.duration} s per workload",
           "",
           f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['memory_gib']} GiB, "
           f"Linux {facts['kernel']}, {facts['rustc']}, {facts['wrk']}, node {facts['node']}",
           "",
           "| workload | " + " | ".join(f"{n} req/s (p50 / p99 ms)" for n in names) + " |",
           "|---" * (len(names) + 1) + "|"]
    for w in WORKLOADS:
        cells = []
        for n in names:
            m = results[n].get(w)
            cells.append("–" if not m else
                         f"{fmt(m['rps'])} ({fmt(m['p50'], 'ms')} / {fmt(m['p99'], 'ms')})"
                         + (f" ⚠ {m['failed']} failed" if m["failed"] else ""))
        out.append(f"| {w} | " + " | ".join(cells) + " |")
    out += ["", "| memory and start | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key, label in [("start_ms", "start to listening, ms"), ("idle_rss", "RSS idle (2 s after start, no request), MB"),
                       ("read_hwm", "peak RSS after W1/W5, MB"),
                       ("storm_hwm", "peak RSS after W2/W3/W4, MB"), ("after_rss", "RSS 3 s after the storms, MB")]:
        out.append(f"| {label} | " + " | ".join(fmt(results[n].get(key)) for n in names) + " |")
    rps = lambda r, w: (r.get(w) or {}).get("rps")
    out += ["", f"Hash bound: {bound['cores']} cores ÷ {bound['verify_ms']:.1f} ms per Argon2id "
            f"verification (m=19456 KiB, t=2, p=1) = {bound['bound']:.1f} verifications/s.", "",
            "| ratio | latchkey SQLite | latchkey PostgreSQL |", "|---|---|---|"]
    pg = results.get("latchkey PostgreSQL", {})
    out.append(f"| W1 c=64 ÷ ceiling | {ratio(rps(lk, 'W1 c=64'), rps(ceiling, 'W1 c=64'))} | "
               f"{ratio(rps(pg, 'W1 c=64'), rps(ceiling, 'W1 c=64'))} |")
    same = ceiling.get("W1 c=64 same bytes") or {}
    out.append(f"| W1 c=64 ÷ ceiling sending latchkey's headers and body size "
               f"({fmt(same.get('rps'))} req/s) | {ratio(rps(lk, 'W1 c=64'), same.get('rps'))} | "
               f"{ratio(rps(pg, 'W1 c=64'), same.get('rps'))} |")
    out.append(f"| W1 c=64 ÷ Better Auth | {ratio(rps(lk, 'W1 c=64'), rps(ba, 'W1 c=64'))} | "
               f"{ratio(rps(pg, 'W1 c=64'), rps(ba, 'W1 c=64'))} |")
    for w in ("W2 c=16", "W3 c=16"):
        out.append(f"| {w} ÷ hash bound | {ratio(rps(lk, w), bound['bound'])} | "
                   f"{ratio(rps(pg, w), bound['bound'])} |")
        out.append(f"| {w} ÷ Better Auth | {ratio(rps(lk, w), rps(ba, w))} | "
                   f"{ratio(rps(pg, w), rps(ba, w))} |")
    out.append(f"| W4 p99 ms (reads during a sign-in storm) | {fmt((lk.get('W4 c=64') or {}).get('p99'), 'ms')} | "
               f"{fmt((pg.get('W4 c=64') or {}).get('p99'), 'ms')} |")
    return "\n".join(out) + "\n"


def plots(results, out_dir):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no plots")
        return []
    names = list(results)
    written = []
    for key, label, fname in [("rps", "requests per second (log scale)", "throughput.png"),
                              ("p99", "p99 latency, ms (log scale)", "p99.png")]:
        fig, ax = plt.subplots(figsize=(10, 4.5))
        width = 0.8 / len(names)
        for i, n in enumerate(names):
            ys = [((results[n].get(w) or {}).get(key) or 0) for w in WORKLOADS]
            xs = [j + i * width for j in range(len(WORKLOADS))]
            ax.bar(xs, ys, width, label=n)
        ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(WORKLOADS))], WORKLOADS)
        ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
        ax.set_title(f"latchkey bench: {label.split(',')[0].split(' (')[0]}")
        fig.tight_layout()
        fig.savefig(out_dir / fname, dpi=90)
        plt.close(fig)
        written.append(fname)
    return written


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--profile", default="release")
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--postgres-url", default=None)
    p.add_argument("--peer-dir", type=Path, default=None)
    p.add_argument("--command", default="bench/run.sh")
    p.add_argument("--seed-users", type=int, default=1_000_000,
                   help="users (five sessions each) in the store for the at-size figures; 0 skips them")
    args = p.parse_args()
    target = ROOT / "target" / args.profile
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="latchkey-bench."))
    (work / "bench.toml").write_text(LATCHKEY_CONFIG)
    d = args.duration
    results = {}
    sized = {}
    try:
        log("hash bound")
        bound = hash_bound(str(target / "examples" / "hash_bound"))
        log("ceiling")
        s = Server("ceiling", [str(target / "examples" / "ceiling"), "127.0.0.1:0"])
        try:
            results["ceiling"] = {
                "start_ms": s.started_ms, "idle_rss": s.status("VmRSS"),
                "W1 c=1": wrk(s.url + "/v1/account", 1, d, work),
                "W1 c=64": wrk(s.url + "/v1/account", 64, d, work),
                "read_hwm": s.status("VmHWM"),
            }
        finally:
            s.stop()
        log("ceiling, same bytes")
        s = Server("ceiling same bytes", [str(target / "examples" / "ceiling"), "127.0.0.1:0", "--same-bytes"])
        try:
            results["ceiling"]["W1 c=64 same bytes"] = wrk(s.url + "/v1/account", 64, d, work)
        finally:
            s.stop()
        backends = [("latchkey SQLite", [])]
        if args.postgres_url:
            db = f"bench_{int(time.time() * 1000)}"
            subprocess.run(["psql", args.postgres_url, "-qc", f"CREATE DATABASE {db}"], check=True)
            backends.append(("latchkey PostgreSQL",
                             ["--database-url", args.postgres_url.rsplit("/", 1)[0] + "/" + db]))
        for name, extra in backends:
            log(name)
            s = Server(name, [str(target / "latchkey"), "serve", "--listen", "127.0.0.1:0",
                              "--data", str(work / name.replace(" ", "-")),
                              "--config", str(work / "bench.toml"), *extra],
                       log_path=work / f"{name.replace(' ', '-')}.log")
            try:
                # Idle first: setting up the workloads' users hashes passwords.
                idle = settled(s)
                results[name] = measure(s, Latchkey(s.url), d, work, idle)
            finally:
                s.stop()
            if args.seed_users:
                sized_extra = extra
                if extra:
                    db = f"bench_sized_{int(time.time() * 1000)}"
                    subprocess.run(["psql", args.postgres_url, "-qc", f"CREATE DATABASE {db}"], check=True)
                    sized_extra = ["--database-url", args.postgres_url.rsplit("/", 1)[0] + "/" + db]
                sized[name] = at_size(name, str(target / "latchkey"), work / (name.replace(" ", "-") + "-sized"),
                                      sized_extra, args.seed_users, work, d)
        if args.peer_dir:
            log("Better Auth")
            port = free_port()
            s = Server("Better Auth", ["node", "server.mjs"], cwd=args.peer_dir,
                       env={"PORT": str(port), "DB": str(work / "better-auth.db")},
                       log_path=work / "better-auth.log")
            try:
                idle = settled(s)
                results["Better Auth"] = measure(s, BetterAuth(s.url), d, work, idle)
            finally:
                s.stop()
        facts = machine_facts()
        md = table(results, bound, facts, args) + sized_table(sized, results)
        written = plots(results, args.out)
        md += "".join(f"\n![{w}]({w})\n" for w in written)
        (args.out / "results.md").write_text(md)
        (args.out / "results.json").write_text(json.dumps(
            {"results": results, "at_size": sized, "hash_bound": bound, "machine": facts}, indent=1))
        print(md)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
