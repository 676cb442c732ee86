#!/usr/bin/env python3
"""The cluster test: three latchkey nodes on one PostgreSQL and one Redis behind nginx, with
an SMTP server, each host in its own network namespace (see net.py), started, checked and torn
down here. Needs root (namespaces), iproute2, postgresql, redis-server, nginx and wrk.

    run.py --binary target/debug/latchkey --python tests/support/.venv/bin/python --work DIR

Writes DIR/cluster.json and DIR/cluster.md (the figures) and prints the latter; exits 1 when
a check fails. Every log stays in DIR."""

import argparse
import json
import os
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checks  # noqa: E402
from client import Http  # noqa: E402
from net import Net, addr, wait_for  # noqa: E402
from services import (  # noqa: E402
    LB_PORTS, node_ready, start_nginx, start_node, start_postgres, start_redis, stop_all, write_config,
)


class Cluster:
    def __init__(self, args, net, work):
        self.args, self.net, self.work = args, net, work
        self.nodes, self.mail, self.redis, self.pg, self.lb = {}, None, None, None, None
        self.psql = None
        self.config = None

    def psql_value(self, sql):
        out = subprocess.run(self.psql + ["-d", "latchkey", "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        return int(out.strip())

    def procs(self):
        return [self.lb, *self.nodes.values(), self.mail, self.redis, self.pg]


CHECKS = [
    ("migrations run once under the advisory lock", checks.migrations_run_once),
    ("a session made on one node works on every node", checks.session_on_every_node),
    ("revocation on one node reaches the others", checks.revocation_reaches_every_node),
    ("rate limits are exact across nodes", checks.rate_limits_are_exact_across_nodes),
    ("the outbox sends each message once", checks.outbox_sends_each_message_once),
    ("throughput with 1, 2 and 3 nodes", checks.throughput_by_node_count),
    ("Redis frozen and back", checks.redis_outage),
    ("a node killed under load loses no acknowledged write", checks.killed_node_loses_nothing),
]


def report(results, path):
    lines = ["| check | result | figures |", "| --- | --- | --- |"]
    for name, ok, figures in results:
        shown = {k: v for k, v in figures.items() if k != "runs"} if isinstance(figures, dict) else figures
        lines.append(f"| {name} | {'pass' if ok else 'FAIL'} | `{json.dumps(shown)}` |")
    for _, _, figures in results:
        if isinstance(figures, dict) and "runs" in figures:
            runs = figures["runs"]
            cols = list(runs[0].keys())
            lines += ["", "| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
            lines += ["| " + " | ".join(str(r[k]) for k in cols) + " |" for r in runs]
    text = "\n".join(lines) + "\n"
    with open(path, "w") as f:
        f.write(text)
    return text


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True)
    p.add_argument("--python", required=True, help="a Python with aiosmtpd (the SMTP server)")
    p.add_argument("--work", required=True, help="a new folder for logs, data and the report")
    p.add_argument("--seconds", type=int, default=3, help="seconds per wrk run (default 3)")
    p.add_argument("--revocations", type=int, default=6, help="rounds of the four revocations (default 6)")
    p.add_argument("--only", help="run only the checks whose name contains this (the first check, "
                   "migrations, always runs)")
    p.add_argument("--keep", type=int, default=0, metavar="SECONDS",
                   help="keep the cluster up this long after the checks, to look around")
    args = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("the cluster test needs root: it makes network namespaces")
    args.binary = os.path.abspath(args.binary)
    work = os.path.abspath(args.work)
    os.makedirs(work)
    os.chmod(work, 0o755)
    net = Net(f"lk{os.getpid() % 10000}")
    c = Cluster(args, net, work)
    results, started = [], time.monotonic()
    try:
        net.up()
        c.pg, c.psql = start_postgres(net, work)
        c.redis, _ = start_redis(net, work)
        c.config = write_config(work)
        # All three at once on the empty database: one migrates, the others wait for it.
        for n in checks.NODES:
            c.nodes[n] = start_node(net, work, args.binary, c.config, n)
        for n in checks.NODES:
            wait_for(f"node {n} listening", lambda n=n: node_ready(c.nodes[n]), timeout=90)
        c.lb = start_nginx(net, work)
        # From here on this process's own sockets are the client host's.
        net.enter("client")
        wait_for("nginx", lambda: _answers(Http(addr("lb"), LB_PORTS[3])), timeout=20)
        wait_for("every node linked", lambda: all(
            checks.log_count(c, n, checks.LINKED) > 0 for n in checks.NODES), timeout=20)
        for name, check in CHECKS:
            if args.only and args.only not in name and check is not checks.migrations_run_once:
                continue
            t = time.monotonic()
            try:
                figures = check(c)
                results.append((name, True, figures))
            except Exception as e:  # noqa: BLE001 - every failure is reported, the run goes on
                traceback.print_exc()
                results.append((name, False, {"error": str(e)[:2000]}))
            print(f"{'pass' if results[-1][1] else 'FAIL'}  {name}  ({time.monotonic() - t:.1f} s)", flush=True)
        if args.keep:
            print(f"keeping the cluster up for {args.keep} s: ip netns exec {net.ns('client')} …", flush=True)
            time.sleep(args.keep)
    except Exception:
        traceback.print_exc()
        results.append(("cluster set-up", False, {"error": traceback.format_exc()[-2000:]}))
    finally:
        stop_all(c.procs())
        net.down()
    with open(os.path.join(work, "cluster.json"), "w") as f:
        json.dump([{"check": n, "pass": ok, "figures": fig} for n, ok, fig in results], f, indent=2)
    print(report(results, os.path.join(work, "cluster.md")))
    print(f"cluster test: {time.monotonic() - started:.0f} s, logs in {work}")
    complete = args.only or len(results) == len(CHECKS)
    sys.exit(0 if results and complete and all(ok for _, ok, _ in results) else 1)


def _answers(h):
    try:
        return h.call("GET", "/v1/health/version")[0] == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
