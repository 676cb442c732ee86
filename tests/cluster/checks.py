"""What the cluster test checks, in the order it runs them. Each check raises AssertionError
when the cluster misbehaves and returns the figures it measured."""

import concurrent.futures
import http.client
import json
import os
import signal
import threading
import time
import uuid

from client import PASSWORD, Clock, Http, expect, new_user, node, percentile, sign_in, wrk, wrk_script
from net import addr, client_addresses, cpu_seconds, wait_for
from services import KEY, LB_PORTS, NODE_PORT, PROJECT, node_ready, start_mail, start_node

NODES = ("n1", "n2", "n3")
HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATIONS = os.path.join(HERE, "..", "..", "migrations", "postgres")
LINKED = "cache invalidations linked"
UNLINKED = "cache invalidations from other nodes stopped"


def log_count(c, name, text):
    return c.nodes[name].stderr().count(text)


def migrations_run_once(c):
    """Three nodes started at once on an empty database: each migration is applied by one."""
    expected = len([f for f in os.listdir(MIGRATIONS) if f.endswith(".sql")])
    applied = sum(log_count(c, n, "applied migration") for n in NODES)
    waited = [n for n in NODES if log_count(c, n, "holds the migration lock") > 0]
    rows = c.psql_value("SELECT COUNT(*) FROM schema_migrations")
    assert applied == expected, f"{applied} migrations applied for {expected} files"
    assert rows == expected, f"schema_migrations has {rows} rows for {expected} files"
    return {"migrations": expected, "applied": applied, "nodes that waited for the lock": waited}


def session_on_every_node(c):
    """A session created on one node works on the others at once."""
    h = node("n1")
    _, email = new_user(h)
    _, secret = sign_in(h, email)
    for n in NODES:
        expect(f"GET /v1/account on {n}", node(n).call("GET", "/v1/account", session=secret), 200)
    return {}


KINDS = ("logout", "session deleted", "password change", "block")


def revoke(kind, h, uid, sid, secret, actor):
    if kind == "logout":
        expect(kind, h.call("DELETE", "/v1/account/sessions/current", session=secret), 204)
    elif kind == "session deleted":
        expect(kind, h.call("DELETE", f"/v1/users/{uid}/sessions/{sid}", key=True), 204)
    elif kind == "password change":
        body = {"password": "cluster-password-2", "oldPassword": PASSWORD}
        expect(kind, h.call("PATCH", "/v1/account/password", body, session=actor), 200)
    else:
        expect(kind, h.call("PATCH", f"/v1/users/{uid}/status", {"status": False}, key=True), 200)


def revocation_sample(kind, writer, source, cap_ms=10_000):
    """One change on `writer` after every node has the session cached: for each other node,
    the milliseconds from the writer's answer to that node's first refusal, and how many
    requests it still served meanwhile."""
    hosts = {n: node(n, source) for n in NODES}
    h = hosts[writer]
    uid, email = new_user(h)
    sid, secret = sign_in(h, email)
    actor = sign_in(h, email)[1] if kind == "password change" else None
    for n in NODES:
        for _ in range(2):
            expect(f"warm {n}", hosts[n].call("GET", "/v1/account", session=secret), 200)
    revoke(kind, h, uid, sid, secret, actor)
    t0 = Clock.ms()
    waiting = [n for n in NODES if n != writer]
    delays, stale = {}, 0
    while waiting:
        for n in list(waiting):
            status, _ = hosts[n].call("GET", "/v1/account", session=secret)
            if status in (401, 403):
                delays[n] = Clock.ms() - t0
                waiting.remove(n)
            elif status == 200:
                stale += 1
            else:
                raise AssertionError(f"{kind}: {n} answered {status}")
        if Clock.ms() - t0 > cap_ms:
            raise AssertionError(f"{kind} on {writer}: {waiting} still served after {cap_ms} ms")
    for x in hosts.values():
        x.close()
    return delays, stale


def revocation_reaches_every_node(c):
    """Logout, session deletion, password change and block on one node, refused on the
    others: the delay from the change's answer to the first refusal, p50/p99."""
    samples, by_kind, stale = [], {k: [] for k in KINDS}, 0
    ips = client_addresses()
    for r in range(c.args.revocations):
        for i, kind in enumerate(KINDS):
            writer = NODES[(r + i) % len(NODES)]
            # One address per sample: the password route's limit is per IP.
            source = ips[(r * len(KINDS) + i) % len(ips)]
            delays, s = revocation_sample(kind, writer, source)
            samples += delays.values()
            by_kind[kind] += delays.values()
            stale += s
    fmt = lambda v: round(v, 2)
    return {
        "samples": len(samples),
        "p50 ms": fmt(percentile(samples, 50)),
        "p99 ms": fmt(percentile(samples, 99)),
        "max ms": fmt(max(samples)),
        "requests still served after the change": stale,
        "p99 ms by kind": {k: fmt(percentile(v, 99)) for k, v in by_kind.items()},
    }


def wrong_logins(targets, email, count=30):
    """`count` wrong-password sign-ins for `email` at once, spread over `targets` (Http
    factories); their statuses."""
    def one(i):
        h = targets[i % len(targets)](client_addresses()[i % 20])
        try:
            return h.call("POST", "/v1/account/sessions/email",
                          {"email": email, "password": "wrong-password-1"},
                          headers={"Host": "auth.cluster.test"})[0]
        finally:
            h.close()
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def rate_limits_are_exact_across_nodes(c):
    """30 parallel wrong sign-ins for one email (limit 10 an hour), straight to the three
    nodes and then through nginx: exactly 10 are checked, 20 refused with 429."""
    out = {}
    for how, targets in [
        ("direct to the nodes", [lambda s, n=n: node(n, s) for n in NODES]),
        ("through nginx", [lambda s: Http(addr("lb"), LB_PORTS[3], s)]),
    ]:
        _, email = new_user(node("n1"))
        statuses = wrong_logins(targets, email)
        counts = {s: statuses.count(s) for s in sorted(set(statuses))}
        assert counts == {401: 10, 429: 20}, f"{how}: {counts}"
        out[how] = counts
    return out


def mail_files(folder):
    if not os.path.isdir(folder):
        return []
    return sorted(f for f in os.listdir(folder) if f.endswith(".json"))


def outbox_sends_each_message_once(c, count=30):
    """Email codes accepted by all three nodes while the SMTP server is down, then delivered
    when it comes up, with every node's worker claiming from the same backlog: each arrives
    exactly once."""
    emails = [f"outbox-{i}-{uuid.uuid4().hex[:8]}@cluster.test" for i in range(count)]
    for i, email in enumerate(emails):
        h = node(NODES[i % 3])
        expect("email token", h.call("POST", "/v1/account/tokens/email",
                                     {"userId": "unique()", "email": email}, key=True), 201)
    retried = lambda: sum(log_count(c, n, "will retry") for n in NODES) >= count
    wait_for("every message tried once while SMTP is down", retried, timeout=30)
    folder = os.path.join(c.work, "mail")
    c.mail = start_mail(c.net, c.work, c.args.python, folder)
    wait_for("every message delivered", lambda: len(mail_files(folder)) >= count, timeout=90, step=0.2)
    # Time for a second sender of any message to show itself.
    time.sleep(3)
    recipients = []
    for f in mail_files(folder):
        with open(os.path.join(folder, f)) as fh:
            recipients += json.load(fh)["rcpt_tos"]
    mine = [r for r in recipients if r in emails]
    assert len(mine) == count, f"{len(mine)} deliveries for {count} messages"
    assert sorted(set(mine)) == sorted(emails), "some address got two messages and another none"
    sent_by = {n: log_count(c, n, "message sent") for n in NODES}
    return {"messages": count, "deliveries": len(mine), "sent by node": sent_by}


def cpu_of(c):
    hosts = list(NODES) + ["pg", "redis", "lb", "client"]
    return {h: cpu_seconds(c.net.pids(h)) for h in hosts}


def throughput_by_node_count(c):
    """wrk through nginx to 1, 2 and 3 nodes: reads (GET /v1/account), writes (PATCH
    /v1/account/prefs) and password sign-ins, with the CPU each host spent per request."""
    h = node("n1")
    users = []
    for _ in range(24):
        uid, email = new_user(h)
        users.append((email, sign_in(h, email)[1]))
    base = {"X-Appwrite-Project": PROJECT}
    scripts = {
        "read": (32, wrk_script(os.path.join(c.work, "read.lua"), "GET", "/v1/account",
                                [dict(base, **{"X-Appwrite-Session": s}) for _, s in users])),
        "write": (16, wrk_script(os.path.join(c.work, "write.lua"), "PATCH", "/v1/account/prefs",
                                 [dict(base, **{"X-Appwrite-Session": s, "Content-Type": "application/json"})
                                  for _, s in users], {"prefs": {"theme": "dark"}})),
    }
    # Sign-ins with the key (never rate limited), by users of their own: each sign-in past
    # `maxSessions` ends the user's oldest session, which must not be a reader's.
    signers = [new_user(h)[1] for _ in range(3)]
    signin_headers = [dict(base, **{"X-Appwrite-Key": KEY, "Content-Type": "application/json"})]
    rows = []
    for n in (1, 2, 3):
        url = f"http://{addr('lb')}:{LB_PORTS[n]}"
        for name in ("read", "write", "signin"):
            if name == "signin":
                email = signers[n - 1]
                conns, script = 8, wrk_script(os.path.join(c.work, f"signin-{n}.lua"), "POST",
                                              "/v1/account/sessions/email", signin_headers,
                                              {"email": email, "password": PASSWORD})
            else:
                conns, script = scripts[name]
            before = cpu_of(c)
            requests, errors, rps, out = wrk(c.net, url, script, conns, c.args.seconds)
            after = cpu_of(c)
            spent = {k: after[k] - before[k] for k in after}
            assert requests > 0, f"{name} on {n} nodes: no requests\n{out}"
            assert errors == 0, f"{name} on {n} nodes: {errors} errors\n{out}"
            per = lambda s: round(1000.0 * s / requests, 3)
            rows.append({
                "nodes": n, "workload": name, "connections": conns, "requests": requests,
                "req/s": round(rps, 1),
                "node cpu ms/req": per(sum(spent[x] for x in NODES)),
                "postgres cpu ms/req": per(spent["pg"]),
                "redis cpu ms/req": per(spent["redis"]),
                "nginx cpu ms/req": per(spent["lb"]),
                "wrk cpu ms/req": per(spent["client"]),
            })
    return {"runs": rows}


def redis_outage(c):
    """Redis frozen (SIGSTOP: connections stay open, nothing answers): each node notices
    within its heartbeat timeout and reads the database on every request, so a logout
    on one node is refused on the others at once; every request is answered (limits count
    per node); when Redis wakes the nodes link again and changes travel by pub/sub."""
    before = {n: log_count(c, n, UNLINKED) for n in NODES}
    linked_before = {n: log_count(c, n, LINKED) for n in NODES}
    h = node("n1")
    _, email = new_user(h)
    _, secret = sign_in(h, email)
    c.redis.send(signal.SIGSTOP)
    t0 = Clock.ms()
    try:
        wait_for("every node unlinked", lambda: all(log_count(c, n, UNLINKED) > before[n] for n in NODES), timeout=10)
        noticed = Clock.ms() - t0
        worst = 0.0
        for n in NODES:
            t = Clock.ms()
            status, body = Http(addr(n), NODE_PORT).call("GET", "/readyz")
            worst = max(worst, Clock.ms() - t)
            assert status == 200 and body == {"status": "pass", "degraded": ["cache"]}, f"{n} /readyz: {status} {body}"
            t = Clock.ms()
            expect(f"GET /v1/account on {n}", node(n).call("GET", "/v1/account", session=secret), 200)
            _, other = new_user(node(n))
            sign_in(Http(addr(n), NODE_PORT), other)
            worst = max(worst, Clock.ms() - t)
        delays, stale = revocation_sample("logout", "n1", client_addresses()[5])
    finally:
        c.redis.send(signal.SIGCONT)
    t1 = Clock.ms()
    wait_for("every node linked again", lambda: all(log_count(c, n, LINKED) > linked_before[n] for n in NODES), timeout=20)
    relinked = Clock.ms() - t1
    after, _ = revocation_sample("logout", "n2", client_addresses()[6])
    assert stale == 0, f"{stale} requests served from a cache while Redis was gone"
    return {
        "noticed after ms": round(noticed),
        "slowest request meanwhile ms": round(worst, 1),
        "revocation delay meanwhile ms": {k: round(v, 2) for k, v in delays.items()},
        "linked again after ms": round(relinked),
        "revocation delay after ms": {k: round(v, 2) for k, v in after.items()},
    }


def killed_node_loses_nothing(c, total=300, workers=4):
    """Users created through nginx by 4 clients; node n2 is killed (SIGKILL) a third of the
    way in. Every creation that was answered 201 must exist afterwards, the other nodes must
    keep answering, and n2 must come back and link."""
    acked, failed, lock = [], [], threading.Lock()
    done = [0]
    killed = threading.Event()

    def run(worker):
        h = Http(addr("lb"), LB_PORTS[3], client_addresses()[worker])
        for i in range(worker, total, workers):
            email = f"load-{i}-{uuid.uuid4().hex[:8]}@cluster.test"
            after = killed.is_set()
            try:
                status, body = h.call("POST", "/v1/users", {"userId": "unique()", "email": email}, key=True)
            except (OSError, http.client.HTTPException) as e:
                status, body = type(e).__name__, None
            with lock:
                done[0] += 1
                if status == 201:
                    acked.append((body["$id"], after))
                else:
                    failed.append(status)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    t0 = Clock.ms()
    for t in threads:
        t.start()
    wait_for("a third of the load", lambda: done[0] >= total // 3, timeout=120, step=0.01)
    c.nodes["n2"].send(signal.SIGKILL)
    killed.set()
    for t in threads:
        t.join(300)
    took = Clock.ms() - t0
    check = node("n1")
    lost = [uid for uid, _ in acked if check.call("GET", f"/v1/users/{uid}", key=True)[0] != 200]
    after_kill = sum(1 for _, a in acked if a)
    assert not lost, f"{len(lost)} acknowledged users are missing: {lost[:5]}"
    assert after_kill > 0, "nothing was acknowledged after the kill"
    # n2 comes back on its data folder and serves and links again (its log is appended to).
    linked_before = log_count(c, "n2", LINKED)
    starts = c.nodes["n2"].stdout().count("listening on") + 1
    c.nodes["n2"] = start_node(c.net, c.work, c.args.binary, c.config, "n2")
    wait_for("n2 restarted", lambda: node_ready(c.nodes["n2"], starts), timeout=60)
    wait_for("n2 linked", lambda: log_count(c, "n2", LINKED) > linked_before, timeout=20)
    _, email = new_user(node("n1"))
    _, secret = sign_in(node("n1"), email)
    expect("GET /v1/account on the restarted n2", node("n2").call("GET", "/v1/account", session=secret), 200)
    statuses = {}
    for s in failed:
        statuses[str(s)] = statuses.get(str(s), 0) + 1
    return {
        "requests": total, "acknowledged": len(acked), "acknowledged after the kill": after_kill,
        "not acknowledged": statuses, "acknowledged but lost": len(lost), "seconds": round(took / 1000, 1),
    }
