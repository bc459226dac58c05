"""The portal as production runs it, for tests that must go through the real server.

- ``PortalServer``: gunicorn (this virtual environment's, several worker processes) serving
  ``wsgi:app`` on a free loopback port, configured only through the environment variables
  the portal reads (``portal/config.py``); its output is kept in a log file, to show when a
  test fails.
- ``MailServer``: a real SMTP server (aiosmtpd) on loopback that the portal sends through.
- ``Browser``: one HTTP session (urllib with its own cookie jar; redirects are not followed
  unless asked), which signs in, reads a page's form (its CSRF and one-time tokens) and posts
  it; ``fork()`` copies the session, as a second click of the same tab would send it.
- ``release_together``: runs calls in threads held at a barrier, so they start at once.
"""

from __future__ import annotations

import copy
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

from bs4 import BeautifulSoup

from tests.conftest import Mailbox, free_port
from tests.helpers import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
T = TypeVar("T")


# --- mail --------------------------------------------------------------------------------------


class MailServer:
    """An SMTP server on loopback; ``messages`` holds what arrived, in order."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = 0
        self._controller: Any = None

    @property
    def messages(self) -> list[Any]:
        return self.mailbox.messages

    def mark(self) -> int:
        return len(self.messages)

    def since(self, mark: int) -> list[Any]:
        return list(self.messages[mark:])

    def start(self) -> MailServer:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# --- the server --------------------------------------------------------------------------------


def _gunicorn_has(setting: str) -> bool:
    try:
        from gunicorn import config
    except ImportError:
        return False
    return any(getattr(known, "name", None) == setting for known in config.KNOWN_SETTINGS)


_ACCESS_LINE = re.compile(r'^\S+ - \S+ \[[^\]]+\] "')


class ServerFailed(RuntimeError):
    pass


class PortalServer:
    """gunicorn serving the portal on loopback against ``database_url``.

    ``secret_key`` and ``audit_key`` must be those of the app that prepared the database
    (the audit trail's hash chain is keyed by ``audit_key``)."""

    def __init__(self, *, database_url: str, directory: Path, secret_key: str, audit_key: str,
                 mail_port: int | None = None, workers: int = 3,
                 environment: Mapping[str, str] | None = None, bind_host: str = "127.0.0.1",
                 command_prefix: Sequence[str] = ()) -> None:
        """``bind_host``: the address gunicorn listens on (and ``base_url`` names);
        ``command_prefix``: run before gunicorn's command, e.g. ``ip netns exec <name>`` to
        serve from another network namespace (``tests/hosts.py``)."""
        self.database_url = database_url
        self.directory = Path(directory)
        self.secret_key = secret_key
        self.audit_key = audit_key
        self.mail_port = mail_port
        self.workers = workers
        self.extra_environment = dict(environment or {})
        self.bind_host = bind_host
        self.command_prefix = list(command_prefix)
        self.port = 0
        self.base_url = ""
        self.log_path = self.directory / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    def environment(self) -> dict[str, str]:
        instance = self.directory / "instance"
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("MAIL_", "DATABASE_URL", "PYTEST_"))}
        env.update({
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": self.secret_key,
            "AUDIT_KEY": self.audit_key,
            "BASE_URL": self.base_url,
            "PORTAL_INSTANCE_PATH": str(instance),
            "MAIL_OUTBOX": str(self.directory / "outbox"),
            "UPLOAD_FOLDER": str(self.directory / "uploads"),
            "SESSION_COOKIE_SECURE": "false",
            "FLASK_DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
        })
        if self.mail_port:
            env.update({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(self.mail_port)})
        env.update(self.extra_environment)
        return env

    def command(self) -> list[str]:
        command = [*self.command_prefix, str(GUNICORN), "--workers", str(self.workers),
                   "--bind", f"{self.bind_host}:{self.port}", "--timeout", "60",
                   "--graceful-timeout", "5", "--access-logfile", "-", "--error-logfile", "-",
                   "--log-level", "info"]
        if _gunicorn_has("control_socket_disable"):
            # gunicorn 25.1+ opens a control socket at one path per user: servers started
            # side by side (other tests, other checkouts) must not fight over it.
            command.append("--no-control-socket")
        return [*command, "wsgi:app"]

    def start(self, wait_seconds: float | None = 60) -> PortalServer:
        """Start gunicorn; wait until it answers unless ``wait_seconds`` is None (then call
        ``wait_until_up`` later: the workers boot while the caller does something else)."""
        if not GUNICORN.exists():
            raise ServerFailed(f"{GUNICORN} is missing (pip install gunicorn)")
        self.port = free_port()  # free on loopback; a namespace of its own has every port free
        self.base_url = f"http://{self.bind_host}:{self.port}"
        self.directory.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(self.command(), cwd=ROOT, env=self.environment(),
                                        stdout=self._log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        if wait_seconds is not None:
            self.wait_until_up(wait_seconds)
        return self

    def wait_until_up(self, wait_seconds: float = 60) -> None:
        """Return once the portal answers; stop it and raise (with its log) if it does not."""
        try:
            self._wait_until_up(wait_seconds)
        except BaseException:
            self.stop()
            raise

    def _wait_until_up(self, wait_seconds: float) -> None:
        deadline = time.monotonic() + wait_seconds
        probe = Browser(self.base_url, timeout=5)
        last: object = None
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise ServerFailed(f"gunicorn exited while starting:\n{self.log()}")
            try:
                page = probe.get("/sign-in")
                if page.status == 200:
                    return
                last = f"status {page.status}"
            except OSError as exc:
                last = exc
            time.sleep(0.2)
        raise ServerFailed(f"gunicorn did not answer within {wait_seconds}s ({last}):\n"
                           f"{self.log()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path)

    def browser(self) -> Browser:
        return Browser(self.base_url)

    # The log: everything gunicorn and its workers wrote (access lines, tracebacks).

    def log_offset(self) -> int:
        if self._log_file is not None:
            self._log_file.flush()
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log(self, since: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as handle:
            handle.seek(since)
            return handle.read().decode("utf-8", "replace")

    def errors(self, since: int = 0) -> list[str]:
        """What the server logged as errors since ``since``, each with its traceback: from a
        line that starts one (a traceback, an error logged by the portal, gunicorn's
        ERROR or CRITICAL) to the next access-log or gunicorn line."""
        found: list[list[str]] = []
        current: list[str] | None = None
        for line in self.log(since).splitlines():
            starts = (line.startswith("Traceback (most recent call last)")
                      or "Unhandled error" in line or "Could not send email" in line
                      or "[ERROR]" in line or "[CRITICAL]" in line)
            ordinary = bool(_ACCESS_LINE.match(line)) or "[INFO]" in line
            if starts and not (current and line.startswith("Traceback")):
                current = [line]
                found.append(current)
            elif ordinary:
                current = None
            elif current is not None:
                current.append(line)
        return ["\n".join(block).rstrip() for block in found]

    def server_errors(self, since: int = 0) -> list[str]:
        """Access-log lines of responses with a 5xx status since ``since``."""
        return [line for line in self.log(since).splitlines()
                if re.search(r'" 5\d\d ', line)]


# --- pages and forms ---------------------------------------------------------------------------


NOTICE_CLASSES = ("govuk-notification-banner", "govuk-error-summary", "govuk-panel")


@dataclass
class Page:
    """One HTTP response."""

    method: str
    url: str
    status: int
    headers: Message
    body: bytes
    redirected_from: Page | None = None
    _soup: Any = field(default=None, repr=False)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400 and bool(self.headers.get("Location"))

    @property
    def location(self) -> str:
        return urljoin(self.url, self.headers.get("Location", ""))

    @property
    def is_html(self) -> bool:
        return (self.headers.get("Content-Type") or "").startswith("text/html")

    @property
    def soup(self) -> Any:
        if self._soup is None:
            self._soup = BeautifulSoup(self.text, "html.parser")
        return self._soup

    def title(self) -> str:
        title = self.soup.find("title")
        return title.get_text(" ", strip=True) if title is not None else ""

    def visible_text(self) -> str:
        return re.sub(r"\s+", " ", self.soup.get_text(" ")).strip()

    def notices(self) -> list[str]:
        """What the page tells the user about the last action: notification banners (flash
        messages), the error summary and confirmation panels."""
        found = []
        for tag in self.soup.find_all(class_=list(NOTICE_CLASSES)):
            text = re.sub(r"\s+", " ", tag.get_text(" ")).strip()
            if text:
                found.append(text)
        return found

    def describe(self) -> str:
        chain = []
        page: Page | None = self
        while page is not None:
            chain.append(f"{page.method} {page.path} -> {page.status}")
            page = page.redirected_from
        return " <- ".join(chain)

    def form(self, action: str | None = None) -> Form:
        """The POST form whose action is ``action`` (a path; the page's own URL when the form
        has no action), or the page's only POST form other than the frame's (sign-out, the
        idle warning's)."""
        forms = []
        for tag in self.soup.find_all("form"):
            if (tag.get("method") or "get").lower() != "post":
                continue
            target = urljoin(self.url, tag.get("action") or self.url)
            forms.append((tag, target))
        if action is not None:
            wanted = urlsplit(urljoin(self.url, action)).path
            chosen = [(t, u) for t, u in forms if urlsplit(u).path == wanted]
        else:
            # The frame's own forms: sign out, and "Stay signed in" of the idle warning.
            chosen = [(t, u) for t, u in forms
                      if not urlsplit(u).path.endswith(("/sign-out", "/session/keep-alive"))]
        if len(chosen) != 1:
            actions = [urlsplit(u).path for _t, u in forms]
            raise AssertionError(f"{self.path} (status {self.status}): expected one form posting "
                                 f"to {action or 'the page'}, found the forms {actions}")
        tag, target = chosen[0]
        hidden = [(str(i["name"]), str(i.get("value", ""))) for i in tag.find_all("input")
                  if i.get("name") and (i.get("type") or "").lower() == "hidden"]
        return Form(action=target, enctype=(tag.get("enctype") or "").lower(), hidden=hidden)


@dataclass
class Form:
    action: str
    enctype: str
    hidden: list[tuple[str, str]]

    @property
    def multipart(self) -> bool:
        return self.enctype == "multipart/form-data"

    def value(self, name: str) -> str | None:
        return next((value for key, value in self.hidden if key == name), None)

    @property
    def once(self) -> str | None:
        """The one-time token of a one-shot form."""
        return self.value("once")

    def fields(self, data: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
        """The form's hidden fields, then ``data`` (a list value posts the name once per item,
        as the three boxes of a date do); a name in ``data`` replaces a hidden one."""
        data = dict(data or {})
        pairs = [(key, value) for key, value in self.hidden if key not in data]
        for key, value in data.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            pairs += [(key, "" if item is None else str(item)) for item in values]
        return pairs


# --- a browser session -------------------------------------------------------------------------


class _KeepEveryResponse(urllib.request.HTTPErrorProcessor):
    """Hand back every response as it came: redirects are not followed, errors not raised."""

    def http_response(self, request: Any, response: Any) -> Any:
        return response

    https_response = http_response


def _multipart(pairs: Sequence[tuple[str, str]],
               files: Mapping[str, tuple[str, bytes, str]] | None = None) -> tuple[bytes, str]:
    """The body of a multipart form: ``pairs`` as text fields, then ``files`` (field name ->
    file name, content, content type) as a browser sends a file input."""
    boundary = "----portal-test-" + secrets.token_hex(12)
    chunks = []
    for name, value in pairs:
        chunks.append(f"--{boundary}\r\nContent-Disposition: form-data; "
                      f"name=\"{name}\"\r\n\r\n".encode() + value.encode() + b"\r\n")
    for name, (filename, content, content_type) in (files or {}).items():
        chunks.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                      f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
                      .encode() + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


class Browser:
    """One session with the portal: its cookies, nothing else shared."""

    user_agent = "portal-tests/1.0"

    def __init__(self, base_url: str, jar: CookieJar | None = None, timeout: float = 60) -> None:
        self.base_url = base_url
        self.jar = jar if jar is not None else CookieJar()
        self.timeout = timeout
        self.email: str | None = None
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                   _KeepEveryResponse())

    def fork(self) -> Browser:
        """A copy of this session (the same cookies) that goes its own way from here."""
        jar = CookieJar()
        for cookie in self.jar:
            jar.set_cookie(copy.copy(cookie))
        twin = Browser(self.base_url, jar, self.timeout)
        twin.email = self.email
        return twin

    def request(self, method: str, path: str, fields: Sequence[tuple[str, str]] | None = None,
                *, multipart: bool = False,
                files: Mapping[str, tuple[str, bytes, str]] | None = None) -> Page:
        url = urljoin(self.base_url + "/", path)
        body = None
        headers = {"User-Agent": self.user_agent, "Accept": "text/html"}
        if fields is not None:
            if multipart or files:
                body, headers["Content-Type"] = _multipart(fields, files)
            else:
                body = urlencode(list(fields)).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=body, headers=headers, method=method)
        with self._opener.open(request, timeout=self.timeout) as response:
            return Page(method, url, response.status, response.headers, response.read())

    def get(self, path: str) -> Page:
        return self.request("GET", path)

    def follow(self, page: Page, limit: int = 5) -> Page:
        """Follow ``page``'s redirects, as a browser would (with GET)."""
        while page.is_redirect and limit > 0:
            after = self.get(page.location)
            after.redirected_from = page
            page, limit = after, limit - 1
        return page

    def open_page(self, path: str) -> Page:
        """GET ``path`` and follow its redirects."""
        return self.follow(self.get(path))

    def post(self, form: Form, data: Mapping[str, Any] | None = None, *,
             follow: bool = False,
             files: Mapping[str, tuple[str, bytes, str]] | None = None) -> Page:
        """Post ``form`` with ``data``; ``files`` (field name -> file name, content, content
        type) are sent as its file inputs (the form must be multipart)."""
        if files and not form.multipart:
            raise AssertionError(f"{form.action}: files posted with a form that is not multipart")
        page = self.request("POST", form.action, form.fields(data), multipart=form.multipart,
                            files=files)
        return self.follow(page) if follow else page

    def form(self, path: str, action: str | None = None) -> Form:
        """The form posting to ``action`` on the page at ``path`` (fetched now: a fresh CSRF
        token and, for a one-shot form, a fresh one-time token)."""
        page = self.open_page(path)
        if page.status != 200:
            raise AssertionError(f"{page.describe()}: the form page did not open")
        return page.form(action)

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> Browser:
        form = self.form("/sign-in")
        page = self.post(form, {"email": email, "password": password})
        if not page.is_redirect or urlsplit(page.location).path == "/sign-in":
            raise AssertionError(f"{email} could not sign in: {page.describe()} "
                                 f"{page.notices() if page.is_html else page.text[:300]}")
        self.email = email
        return self


# --- released together -------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one call released at the barrier returned, or raised."""

    value: Any = None
    error: BaseException | None = None
    started: float = 0.0
    finished: float = 0.0


def release_together(calls: Iterable[Callable[[], T]], timeout: float = 120) -> list[Outcome]:
    """Run ``calls`` in threads that wait at a barrier and start together; their outcomes in
    the order given."""
    calls = list(calls)
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome() for _ in calls]

    def run(index: int) -> None:
        outcome = outcomes[index]
        try:
            barrier.wait(timeout=timeout)
            outcome.started = time.monotonic()
            outcome.value = calls[index]()
        except BaseException as exc:  # noqa: BLE001 - reported with the outcome
            outcome.error = exc
        finally:
            outcome.finished = time.monotonic()

    threads = [threading.Thread(target=run, args=(i,), name=f"release-{i}", daemon=True)
               for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    for index, thread in enumerate(threads):
        if thread.is_alive():
            outcomes[index].error = TimeoutError(f"call {index} still running after {timeout}s")
    return outcomes
