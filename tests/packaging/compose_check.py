"""Checks deploy/docker-compose.yml against the files it names, without a Docker engine:
three latchkey nodes from the image, their secrets required from the environment (never
written in the file), nginx's upstream naming exactly the nodes' addresses, and the nodes
trusting exactly nginx's address for X-Forwarded-For. Exits 1 naming what is wrong."""

import re
import sys
import tomllib

import yaml

deploy = sys.argv[1]
problems = []


def check(ok, what):
    if not ok:
        problems.append(what)


with open(f"{deploy}/docker-compose.yml") as f:
    compose = yaml.safe_load(f)
services = compose["services"]
nodes = {k: v for k, v in services.items() if k.startswith("node")}
check(sorted(nodes) == ["node1", "node2", "node3"], f"three nodes, got {sorted(nodes)}")
addresses = {}
for name, s in nodes.items():
    check(s.get("image") == "latchkey:local" and s.get("build", {}).get("context") == "..",
          f"{name}: built from the repository's Dockerfile")
    env = s.get("environment", {})
    for key in ("LATCHKEY_DATABASE_URL", "LATCHKEY_REDIS_URL", "_APP_OPENSSL_KEY_V1"):
        check(key in env, f"{name}: sets {key}")
    for key, value in env.items():
        if key in ("LATCHKEY_DATABASE_URL", "LATCHKEY_REDIS_URL", "_APP_OPENSSL_KEY_V1"):
            check(re.search(r"\$\{[A-Z_]+:\?", str(value)) is not None,
                  f"{name}: {key} takes its secret from the environment, required")
    check(s.get("depends_on", {}).get("postgres", {}).get("condition") == "service_healthy",
          f"{name}: waits for a healthy PostgreSQL")
    addresses[name] = s["networks"]["cluster"]["ipv4_address"]
check(len(set(addresses.values())) == 3, f"distinct node addresses: {addresses}")

with open(f"{deploy}/nginx.conf") as f:
    nginx = f.read()
upstream = re.findall(r"server (\d+\.\d+\.\d+\.\d+):8080", nginx)
check(sorted(upstream) == sorted(addresses.values()),
      f"nginx's upstream {upstream} is the nodes' addresses {sorted(addresses.values())}")
proxy = services["nginx"]["networks"]["cluster"]["ipv4_address"]
with open(f"{deploy}/latchkey.toml", "rb") as f:
    config = tomllib.load(f)
check(config.get("trustedProxies") == [proxy],
      f"latchkey.toml trusts exactly nginx's address {proxy}, got {config.get('trustedProxies')}")
subnet = compose["networks"]["cluster"]["ipam"]["config"][0]["subnet"]
prefix = subnet.rsplit(".", 1)[0]
check(all(a.startswith(prefix + ".") for a in [proxy, *addresses.values()]),
      f"every fixed address is in {subnet}")
for name in ("postgres", "redis"):
    check("healthcheck" in services[name], f"{name} has a health check")
    for key, value in services[name].get("environment", {}).items():
        if "PASSWORD" in key:
            check(str(value).startswith("${"), f"{name}: {key} comes from the environment")

if problems:
    print("\n".join(f"FAIL: {p}" for p in problems))
    sys.exit(1)
print(f"compose: 3 nodes at {sorted(addresses.values())}, nginx at {proxy}, secrets from the environment")
