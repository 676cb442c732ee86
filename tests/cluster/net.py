"""The cluster's hosts: one network namespace each, joined by veth links to a bridge that lives
in a namespace of its own, so nothing here touches the machine's own network or reaches any
other. Every address is in 10.77.0.0/24 and exists only inside these namespaces."""

import ctypes
import os
import signal
import subprocess
import time

SUBNET = "10.77.0"
# host name -> last octet of its address
HOSTS = {
    "pg": 2,
    "redis": 3,
    "mail": 4,
    "lb": 5,
    "n1": 11,
    "n2": 12,
    "n3": 13,
    "client": 100,
}
# The client host also holds .101-.119, so simulated users can come from different addresses.
CLIENT_EXTRA_ADDRESSES = 19
CLONE_NEWNET = 0x40000000


def addr(host):
    return f"{SUBNET}.{HOSTS[host]}"


def client_addresses():
    base = HOSTS["client"]
    return [f"{SUBNET}.{base + i}" for i in range(CLIENT_EXTRA_ADDRESSES + 1)]


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Net:
    """The namespaces, named `<tag>-<host>`; `tag` keeps two runs on one machine apart."""

    def __init__(self, tag):
        self.tag = tag
        self.made = []

    def ns(self, host):
        return f"{self.tag}-{host}"

    def up(self):
        sw = self.ns("sw")
        sh("ip", "netns", "add", sw)
        self.made.append(sw)
        sh("ip", "-n", sw, "link", "set", "lo", "up")
        sh("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", sw, "link", "set", "br0", "up")
        for i, host in enumerate(HOSTS):
            ns = self.ns(host)
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            # Interface names are at most 15 characters: the tag is short.
            outer, inner = f"{self.tag}s{i}", f"{self.tag}h{i}"
            sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
            sh("ip", "link", "set", outer, "netns", sw)
            sh("ip", "link", "set", inner, "netns", ns)
            sh("ip", "-n", ns, "link", "set", inner, "name", "eth0")
            sh("ip", "-n", ns, "addr", "add", f"{addr(host)}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", sw, "link", "set", outer, "master", "br0")
            sh("ip", "-n", sw, "link", "set", outer, "up")
        for a in client_addresses()[1:]:
            sh("ip", "-n", self.ns("client"), "addr", "add", f"{a}/24", "dev", "eth0")

    def down(self):
        for ns in reversed(self.made):
            for pid in self.pids(ns, raw=True):
                # This process sits in the client's namespace.
                if pid == os.getpid():
                    continue
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            sh("ip", "netns", "del", ns, check=False)
        self.made = []

    def exec(self, host, args):
        return ["ip", "netns", "exec", self.ns(host)] + list(args)

    def pids(self, host, raw=False):
        ns = host if raw else self.ns(host)
        out = sh("ip", "netns", "pids", ns, check=False).stdout
        return [int(p) for p in out.split()]

    def enter(self, host):
        """Moves this thread (and the threads it starts later) into `host`'s namespace."""
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        fd = os.open(f"/run/netns/{self.ns(host)}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)


class Proc:
    """A process started in a host's namespace, its output in `log` (stdout in `log.out`)."""

    def __init__(self, net, host, args, log, env=None, user=None):
        self.log = log
        self.args = args
        cmd = net.exec(host, (["runuser", "-u", user, "--"] if user else []) + list(args))
        self.out = open(log + ".out", "a")
        self.err = open(log, "a")
        self.p = subprocess.Popen(
            cmd, stdout=self.out, stderr=self.err, env=env, start_new_session=True
        )

    def send(self, sig):
        try:
            os.killpg(self.p.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, sig=signal.SIGTERM, wait=10):
        self.send(sig)
        try:
            return self.p.wait(wait)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            return self.p.wait(5)

    def alive(self):
        return self.p.poll() is None

    def stdout(self):
        with open(self.log + ".out") as f:
            return f.read()

    def stderr(self):
        with open(self.log) as f:
            return f.read()


def wait_for(what, test, timeout=30.0, step=0.05):
    """Polls `test` until it returns something true; raises naming `what` after `timeout`."""
    end = time.monotonic() + timeout
    while True:
        got = test()
        if got:
            return got
        if time.monotonic() > end:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(step)


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """User + system CPU of these processes and of their children already reaped."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # utime, stime, cutime, cstime are fields 14-17 (1-based), 12-15 after the name.
        total += sum(int(x) for x in fields[11:15])
    return total / CLK_TCK
