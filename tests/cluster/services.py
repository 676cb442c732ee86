"""The cluster's services, each on its own host: Debian's PostgreSQL and redis-server, the
tests' SMTP server (aiosmtpd), three latchkey nodes and Debian's nginx in front of them."""

import glob
import os
import shutil
import signal
import subprocess

from net import Proc, addr, sh, wait_for

PROJECT = "cluster"
KEY = "standard_cluster_test_key_0123456789abcdef"
PG_PASSWORD = "cluster-pg-password"
REDIS_PASSWORD = "cluster-redis-password"
INSTANCE_KEY = "cluster0instance0key0shared0by0every0node"
SMTP_PORT = 2525
NODE_PORT = 8080
# nginx: one port per upstream set, so throughput is measured with 1, 2 and 3 nodes.
LB_PORTS = {3: 8080, 1: 8081, 2: 8082}


def pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    return os.path.dirname(found[-1])


def database_url():
    return f"postgres://latchkey:{PG_PASSWORD}@{addr('pg')}:5432/latchkey"


def redis_url():
    return f"redis://:{REDIS_PASSWORD}@{addr('redis')}:6379/0"


def start_postgres(net, work):
    bin_ = pg_bin()
    d = os.path.join(work, "pg")
    os.makedirs(d)
    if sh("id", "postgres", check=False).returncode != 0:
        sh("useradd", "--system", "--home", d, "postgres")
    shutil.chown(d, "postgres")
    pw = os.path.join(d, "pw")
    with open(pw, "w") as f:
        f.write(PG_PASSWORD)
    shutil.chown(pw, "postgres")
    subprocess.run(
        ["runuser", "-u", "postgres", "--", f"{bin_}/initdb", "-D", f"{d}/data", "-U", "postgres",
         "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pw}", "--no-sync"],
        check=True, stdout=subprocess.DEVNULL,
    )
    with open(f"{d}/data/pg_hba.conf", "a") as f:
        f.write("host all all 10.77.0.0/24 scram-sha-256\n")
    proc = Proc(
        net, "pg",
        [f"{bin_}/postgres", "-D", f"{d}/data", "-k", d, "-c", f"listen_addresses={addr('pg')}",
         "-c", "max_connections=200"],
        os.path.join(work, "postgres.log"), user="postgres",
    )
    psql = net.exec("pg", ["runuser", "-u", "postgres", "--", f"{bin_}/psql", "-h", d, "-qAt"])
    wait_for("PostgreSQL", lambda: subprocess.run(psql + ["-c", "SELECT 1"], capture_output=True).returncode == 0)
    for sql in [f"CREATE ROLE latchkey LOGIN PASSWORD '{PG_PASSWORD}'",
                "CREATE DATABASE latchkey OWNER latchkey"]:
        subprocess.run(psql + ["-c", sql], check=True, capture_output=True)
    return proc, psql


def start_redis(net, work):
    proc = Proc(
        net, "redis",
        ["redis-server", "--bind", addr("redis"), "--port", "6379", "--save", "",
         "--appendonly", "no", "--requirepass", REDIS_PASSWORD],
        os.path.join(work, "redis.log"),
    )
    cli = net.exec("redis", ["redis-cli", "-h", addr("redis"), "--no-auth-warning",
                             "-a", REDIS_PASSWORD])
    wait_for("redis-server", lambda: subprocess.run(cli + ["ping"], capture_output=True, text=True).stdout.strip() == "PONG")
    return proc, cli


def start_mail(net, work, python, folder):
    env = dict(os.environ, SINK_HOST=addr("mail"))
    here = os.path.dirname(os.path.abspath(__file__))
    sink = os.path.join(here, "..", "support", "smtp_sink.py")
    proc = Proc(net, "mail", [python, sink, str(SMTP_PORT), folder],
                os.path.join(work, "mail.log"), env=env)
    wait_for("SMTP server", lambda: "READY" in proc.stdout(), timeout=15)
    return proc


def write_config(work):
    path = os.path.join(work, "cluster.toml")
    with open(path, "w") as f:
        # A bound on stale reads far past the revocation check's cap: only the nodes'
        # broadcasts can end a cached session in time, so a broken one fails the check.
        f.write(f'''trustedProxies = ["{addr('lb')}"]
readCacheMs = 60000

[smtp]
host = "{addr('mail')}"
port = {SMTP_PORT}
sender = "auth@cluster.test"
senderName = "Latchkey cluster test"

[[projects]]
id = "{PROJECT}"
name = "Cluster"
  [[projects.platforms]]
  type = "web"
  hostname = "localhost"
  [[projects.keys]]
  id = "ops"
  secret = "{KEY}"
  scopes = ["sessions.write", "users.read", "users.write"]
''')
    return path


def start_node(net, work, binary, config, name):
    env = dict(
        os.environ,
        LATCHKEY_LOG="info,sqlx=warn",
        _APP_OPENSSL_KEY_V1=INSTANCE_KEY,
    )
    return Proc(
        net, name,
        [binary, "serve", "--listen", f"{addr(name)}:{NODE_PORT}", "--data",
         os.path.join(work, f"{name}-data"), "--database-url", database_url(),
         "--redis-url", redis_url(), "--config", config],
        os.path.join(work, f"{name}.log"), env=env,
    )


def node_ready(proc, starts=1):
    """Whether the node has printed its listening line (the `starts`-th, for a node restarted
    on the same log)."""
    if not proc.alive():
        raise RuntimeError(f"{proc.log}: the node exited:\n{proc.stderr()[-3000:]}")
    return proc.stdout().count("listening on") >= starts


def start_nginx(net, work):
    tmp = os.path.join(work, "nginx-tmp")
    os.makedirs(tmp)
    os.chmod(tmp, 0o777)
    nodes = [f"{addr(n)}:{NODE_PORT}" for n in ("n1", "n2", "n3")]

    def upstream(name, members):
        servers = "".join(f"    server {m} max_fails=1 fail_timeout=2s;\n" for m in members)
        return f"  upstream {name} {{\n{servers}    keepalive 64;\n  }}\n"

    def server(port, up):
        return f'''  server {{
    listen {addr('lb')}:{port};
    location / {{
      proxy_pass http://{up};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-Id $request_id;
      # A node that refuses the connection or fails: the next one. nginx never resends a
      # POST or PATCH that reached a node; GET, PUT and DELETE it may.
      proxy_next_upstream error timeout;
      proxy_connect_timeout 1s;
    }}
  }}
'''

    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f'''daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
{upstream("three", nodes)}{upstream("two", nodes[:2])}{upstream("one", nodes[:1])}
{server(LB_PORTS[3], "three")}{server(LB_PORTS[2], "two")}{server(LB_PORTS[1], "one")}}}
''')
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = Proc(net, "lb", [nginx, "-c", conf, "-e", f"{work}/nginx-error.log"],
                os.path.join(work, "nginx.log"))
    return proc


def stop_all(procs):
    for p in procs:
        if p is not None and p.alive():
            p.stop(signal.SIGTERM, wait=10)
