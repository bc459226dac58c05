"""Two app hosts on one machine, as production runs several behind a proxy (issue 17).

Each host is gunicorn (``tests.server.PortalServer``) inside a Linux network namespace of its
own, joined to the test's (root) namespace by a veth pair on a /30 of its own: the host has
the namespace's end, ``address``; the root namespace has the other, ``gateway``. The test
reaches a host at ``address``; a host reaches what it shares with the other — the one
PostgreSQL, the S3 endpoint, the mail server — at its ``gateway``, where a ``Forwarder`` (TCP,
threads, in the root namespace) hands each connection on to the service on loopback. The hosts
share nothing else: no loopback, no folder (each has its own instance and upload folder).

- ``namespaces_unavailable()``: why namespaces cannot be made here (not root, no iproute2,
  ``ip netns add`` refused), or None.
- ``Network``: the namespaces and veth pairs, named after the process id so runs side by side
  do not meet; ``close()`` (also on failure) deletes them and ends what still runs in them.
- ``S3Endpoint``: moto's standalone server on loopback with one bucket.
- ``Host``: one namespace and its server; ``flask(...)`` runs a portal command in the
  namespace with the server's environment.
- ``carried_to(browser, base_url)``: the same session (its cookies) sent to another host.

Needs root (network namespaces) and iproute2 (``ip``).
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.conftest import free_port
from tests.server import ROOT, Browser, PortalServer

IP = shutil.which("ip") or "/usr/sbin/ip"
FLASK = Path(sys.executable).with_name("flask")
PREFIX = "portal-hosts"  # namespaces are "<PREFIX>-<pid>-<host>"
SUBNETS = ipaddress.IPv4Network("10.199.0.0/16")  # split in /29s: one per run, a /30 per host


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([IP, *args], capture_output=True, text=True, timeout=30,
                            check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed ({result.returncode}): "
                           f"{result.stderr.strip()}")
    return result


def namespaces_unavailable() -> str | None:
    """Why this machine cannot give the test network namespaces, or None if it can."""
    if os.geteuid() != 0:
        return "the two-host test needs root to make network namespaces (ip netns add)"
    if not Path(IP).exists():
        return "the two-host test needs iproute2 (the ip command) for network namespaces"
    probe = f"{PREFIX}-probe-{os.getpid()}"
    made = _ip("netns", "add", probe, check=False)
    if made.returncode != 0:
        return f"network namespaces are not allowed here: ip netns add: {made.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _end_processes_in(namespace: str) -> None:
    """End what still runs in ``namespace`` (only this run's processes run there)."""
    listed = _ip("netns", "pids", namespace, check=False)
    pids = [int(pid) for pid in listed.stdout.split() if pid.isdigit()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if _alive(pid)]
        time.sleep(0.05)


def remove_leftovers() -> None:
    """Delete the namespaces of earlier runs whose process is gone (killed before cleaning
    up): their veth pairs go with them."""
    listed = _ip("netns", "list", check=False).stdout
    for line in listed.splitlines():
        name = line.split()[0] if line.split() else ""
        found = re.fullmatch(rf"{PREFIX}-(\d+)-\w+", name)
        if found and not _alive(int(found.group(1))):
            _end_processes_in(name)
            _ip("netns", "del", name, check=False)


@dataclass
class Host:
    """One app host: a network namespace, its veth pair and (once started) its server."""

    label: str  # "a", "b"
    namespace: str
    veth_root: str  # the root namespace's end
    veth_host: str  # the namespace's end
    gateway: str  # the root end's address: where the host reaches the shared services
    address: str  # the namespace end's address: where the test reaches the host
    server: PortalServer | None = None

    @property
    def prefix(self) -> list[str]:
        """The command prefix that runs a program inside this host's namespace."""
        return [IP, "netns", "exec", self.namespace]

    @property
    def base_url(self) -> str:
        assert self.server is not None, f"host {self.label} has no server"
        return self.server.base_url

    def browser(self) -> Browser:
        return Browser(self.base_url)

    def flask_command(self, *args: str) -> list[str]:
        return [*self.prefix, str(FLASK), *args]

    def flask_environment(self) -> dict[str, str]:
        assert self.server is not None, f"host {self.label} has no server"
        return {**self.server.environment(), "FLASK_APP": "wsgi"}

    def flask(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        """Run ``flask <args>`` on this host (its namespace, its server's environment)."""
        return subprocess.run(self.flask_command(*args), cwd=ROOT, env=self.flask_environment(),
                              capture_output=True, text=True, timeout=timeout, check=False)


def _free_block(count: int) -> ipaddress.IPv4Network:
    """A /29 (a /30 for each of ``count`` <= 2 hosts) of SUBNETS chosen by the process id,
    skipping any that an address on this machine already uses."""
    in_use = [ipaddress.IPv4Interface(word).network for word in
              re.findall(r"inet (\S+)", _ip("-o", "-4", "addr", "show", check=False).stdout)]
    assert count <= 2
    blocks = list(SUBNETS.subnets(new_prefix=29))
    start = os.getpid() % len(blocks)
    for step in range(len(blocks)):
        block = blocks[(start + step) % len(blocks)]
        if not any(block.overlaps(network) for network in in_use):
            return block
    raise RuntimeError(f"no free /29 in {SUBNETS} for the hosts' links")


class Network:
    """Network namespaces for ``labels`` (at most two), each linked to the root namespace."""

    def __init__(self, labels: Sequence[str] = ("a", "b")) -> None:
        pid = os.getpid()
        self.hosts: list[Host] = []
        remove_leftovers()
        block = _free_block(len(labels))
        for index, label in enumerate(labels):
            link = list(block.subnets(new_prefix=30))[index]
            gateway, address = (str(a) for a in link.hosts())
            self.hosts.append(Host(label, f"{PREFIX}-{pid}-{label}", f"ph{pid}{label}r",
                                   f"ph{pid}{label}n", gateway, address))

    def open(self) -> Network:
        try:
            for host in self.hosts:
                _ip("netns", "add", host.namespace)
                _ip("link", "add", host.veth_root, "type", "veth", "peer", "name", host.veth_host,
                    "netns", host.namespace)
                _ip("addr", "add", f"{host.gateway}/30", "dev", host.veth_root)
                _ip("link", "set", host.veth_root, "up")
                _ip("-n", host.namespace, "addr", "add", f"{host.address}/30", "dev",
                    host.veth_host)
                _ip("-n", host.namespace, "link", "set", host.veth_host, "up")
                _ip("-n", host.namespace, "link", "set", "lo", "up")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Delete every namespace and veth pair made (those not made are ignored)."""
        for host in self.hosts:
            _end_processes_in(host.namespace)
            _ip("netns", "del", host.namespace, check=False)
            _ip("link", "del", host.veth_root, check=False)  # gone with its peer, normally

    def __enter__(self) -> Network:
        return self.open()

    def __exit__(self, *_exc: object) -> None:
        self.close()


# --- forwarding TCP from the hosts' links to a service on loopback ------------------------------


@dataclass
class Forwarder:
    """Listens on ``addresses`` (one port for all, ``port``) and joins every connection to
    ``target``: the hosts reach a loopback service at their own gateway."""

    target: tuple[str, int]
    addresses: Sequence[str]
    port: int = 0
    _listeners: list[socket.socket] = field(default_factory=list)
    _open: set[socket.socket] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    _stopping: bool = False

    def start(self) -> Forwarder:
        for _attempt in range(20):
            try:
                self._listen()
                break
            except OSError:
                self._close_listeners()
        else:
            raise RuntimeError(f"no port free on every one of {list(self.addresses)}")
        for listener in self._listeners:
            self._spawn(self._accept, listener)
        return self

    def _listen(self) -> None:
        port = 0
        for address in self.addresses:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._listeners.append(listener)
            listener.bind((address, port))
            listener.listen(64)
            port = listener.getsockname()[1]
        self.port = port

    def _close_listeners(self) -> None:
        for listener in self._listeners:
            _close(listener)
        self._listeners.clear()

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True,
                                  name=f"forward-{self.target[1]}")
        thread.start()
        self._threads.append(thread)

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping:
            try:
                client, _peer = listener.accept()
            except OSError:
                return  # closed by stop()
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
                self._threads = [t for t in self._threads if t.is_alive()]
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)  # the other direction may still be talking

    def stop(self) -> None:
        self._stopping = True
        self._close_listeners()
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _close(sock)
        for thread in self._threads:
            thread.join(timeout=2)


def _close(sock: socket.socket) -> None:
    """Close ``sock``, waking a thread blocked in its accept or recv (close alone does not)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


# --- the S3 endpoint ------------------------------------------------------------------------------


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                  "AWS_DEFAULT_REGION": "us-east-1"}


class S3Endpoint:
    """moto's standalone S3 server on loopback, with ``bucket`` made; its log is kept in
    ``directory``."""

    def __init__(self, directory: Path, bucket: str) -> None:
        self.directory = Path(directory)
        self.bucket = bucket
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.url,
                            aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                            region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"])

    def start(self, wait_seconds: float = 30) -> S3Endpoint:
        self.port = free_port()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._log = open(self.directory / "moto.log", "ab")  # noqa: SIM115 - closed in stop()
        environment = {key: value for key, value in os.environ.items()
                       if not key.startswith("AWS_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=self.directory, env=environment, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + wait_seconds
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto's server exited: {self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto's server did not listen: {self.log()}") from None
                time.sleep(0.1)
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def log(self) -> str:
        path = self.directory / "moto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        """Every object under ``prefix``: key -> content."""
        client = self.client()
        listed = client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return {item["Key"]: client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
                for item in listed.get("Contents", [])}

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


# --- sessions across hosts -----------------------------------------------------------------------


def carried_to(browser: Browser, base_url: str) -> Browser:
    """A browser at ``base_url`` holding ``browser``'s cookies, as if the proxy had sent the
    same session to another host (the cookies are re-addressed to that host's name)."""
    host = urlsplit(base_url).hostname or ""
    jar = CookieJar()
    for cookie in browser.jar:
        moved = copy.copy(cookie)
        moved.domain = host
        jar.set_cookie(moved)
    twin = Browser(base_url, jar, browser.timeout)
    twin.email = browser.email
    return twin


def run_together(commands: Sequence[tuple[Sequence[str], Mapping[str, str]]],
                 timeout: float = 90) -> list[subprocess.CompletedProcess[str]]:
    """Start every (command, environment) at once (from ``ROOT``) and wait for them all."""
    processes = [subprocess.Popen(list(command), cwd=ROOT, env=dict(environment),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for command, environment in commands]
    results = []
    for command, process in zip(commands, processes, strict=True):
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            err += f"\n(killed after {timeout}s)"
        results.append(subprocess.CompletedProcess(list(command[0]), process.returncode,
                                                   out, err))
    return results
