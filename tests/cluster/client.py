"""The test's client side: HTTP/1.1 with keep-alive from a chosen source address (so simulated
users come from different IPs), the Appwrite calls the checks need, and wrk for load."""

import http.client
import json
import math
import os
import re
import subprocess
import time
import uuid

from net import addr
from services import KEY, NODE_PORT, PROJECT


class Http:
    """One keep-alive connection to `host:port` from `source`; reconnects when it drops."""

    def __init__(self, host, port, source=None, timeout=10):
        self.target = (host, port)
        self.source = (source, 0) if source else None
        self.timeout = timeout
        self.conn = None

    def call(self, method, path, body=None, session=None, key=False, headers=None):
        """(status, parsed JSON body or None)."""
        h = {"X-Appwrite-Project": PROJECT}
        if key:
            h["X-Appwrite-Key"] = KEY
        if session:
            h["X-Appwrite-Session"] = session
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body)
        h.update(headers or {})
        for attempt in (0, 1):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    *self.target, timeout=self.timeout, source_address=self.source
                )
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = None
                # A kept-alive connection the server had closed before it read this request:
                # once more, fresh. Anything else (a timeout, a fresh connection failing) may
                # have reached the server and is not sent twice.
                if attempt == 1 or not reused:
                    raise
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                raise
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return r.status, parsed

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def node(name, source=None):
    return Http(addr(name), NODE_PORT, source)


def expect(what, got, status):
    if got[0] != status:
        raise AssertionError(f"{what}: expected {status}, got {got[0]} {got[1]}")
    return got[1]


PASSWORD = "cluster-password-1"


def new_user(h, prefix="u", password=PASSWORD):
    """A user made with the API key (keys are never rate limited); (id, email)."""
    email = f"{prefix}-{uuid.uuid4().hex[:12]}@cluster.test"
    body = expect(
        "create user",
        h.call("POST", "/v1/users", {"userId": "unique()", "email": email, "password": password}, key=True),
        201,
    )
    return body["$id"], email


def sign_in(h, email, password=PASSWORD):
    """A session made with the API key, as server-side SDKs do: (session id, secret)."""
    body = expect(
        "sign in",
        h.call("POST", "/v1/account/sessions/email", {"email": email, "password": password}, key=True),
        201,
    )
    return body["$id"], body["secret"]


def wrk(net, url, script, connections, seconds):
    """Runs wrk from the client host; (requests, errors, requests per second)."""
    cmd = net.exec("client", ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    m = re.search(r"(\d+) requests in", out)
    requests = int(m.group(1)) if m else 0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return requests, errors, float(rps.group(1)) if rps else 0.0, out


def wrk_script(path, method, route, headers_list, body=None):
    """A wrk script sending `method route` with each request's headers taken in turn from
    `headers_list` (so load spreads over many users)."""
    rows = ",\n".join(
        "  {" + ", ".join(f'["{k}"] = "{v}"' for k, v in h.items()) + "}" for h in headers_list
    )
    body_lua = "nil" if body is None else json.dumps(json.dumps(body))
    with open(path, "w") as f:
        f.write(f'''local headers = {{
{rows}
}}
local body = {body_lua}
local i = 0
-- A refused request is shown, so a failed run says why.
response = function(status, headers, body)
  if status >= 300 then
    io.write("non-2xx: " .. status .. " " .. string.sub(body, 1, 300) .. "\\n")
  end
end
request = function()
  i = i + 1
  return wrk.format("{method}", "{route}", headers[(i % #headers) + 1], body)
end
''')
    return path


class Clock:
    """Milliseconds on the client's monotonic clock."""

    @staticmethod
    def ms():
        return time.perf_counter() * 1000.0


def percentile(values, p):
    """The nearest-rank percentile."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, math.ceil(p / 100.0 * len(s)) - 1)]


def env_int(name, default):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default
