"""Test helpers: a client that checks every HTML page it fetches, forms, sign-in, data."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from bs4 import BeautifulSoup
from flask.testing import FlaskClient

from portal.db import session

DEMO_PASSWORD = "grants-demo-password"

LABELLABLE = ("input", "select", "textarea")
UNLABELLED_INPUT_TYPES = {"hidden", "submit", "button", "image", "reset"}


class PageProblem(AssertionError):
    pass


def page_problems(html: str) -> list[str]:
    """What a page breaks of our basic rules: title, lang, unique ids, labels, CSRF, actions."""
    soup = BeautifulSoup(html, "html.parser")
    problems: list[str] = []
    title = soup.find("title")
    if title is None or not title.get_text(strip=True):
        problems.append("page has no <title>")
    root = soup.find("html")
    if root is None or not root.get("lang"):
        problems.append("<html> has no lang")
    ids = Counter(tag["id"] for tag in soup.find_all(id=True))
    problems += [f"id {value!r} used {n} times" for value, n in ids.items() if n > 1]
    labelled = {label.get("for") for label in soup.find_all("label")}
    for control in soup.find_all(LABELLABLE):
        if control.name == "input" and control.get("type", "text") in UNLABELLED_INPUT_TYPES:
            continue
        if (control.get("id") in labelled or control.get("aria-label")
                or control.get("aria-labelledby") or control.find_parent("label")):
            continue
        problems.append(f"<{control.name} name={control.get('name')!r}> has no label")
    problems += error_summary_problems(soup)
    for table in soup.find_all("table"):
        region = table.parent
        if not ("portal-table-scroll" in (region.get("class") or []) and
                region.get("tabindex") == "0" and region.get("role") == "region" and
                region.get("aria-label")):
            problems.append("a table is not in a labelled, focusable scrolling region "
                            "(templates/macros/table.html)")
    for form in soup.find_all("form"):
        if form.get("action") is None:
            problems.append("a form has no action")
        if form.get("method", "get").lower() == "post" and not form.find(
                "input", attrs={"name": "csrf_token"}):
            problems.append(f"POST form to {form.get('action')!r} has no CSRF token")
    return problems


def error_summary_problems(soup: BeautifulSoup) -> list[str]:
    """Each link of an error summary leads to an element of the page that is shown: not
    missing, not a hidden input, not inside something hidden."""
    problems = []
    for link in soup.select(".govuk-error-summary a[href]"):
        href = str(link["href"])
        if not href.startswith("#"):
            continue
        target = soup.find(id=href[1:])
        if target is None:
            problems.append(f"the error summary links to {href}, which is not on the page")
        elif (target.name == "input" and target.get("type") == "hidden") or any(
                element.has_attr("hidden") or "display:none" in
                str(element.get("style", "")).replace(" ", "")
                for element in [target, *target.parents] if hasattr(element, "has_attr")):
            problems.append(f"the error summary links to {href}, which is hidden")
    return problems


class CheckedClient(FlaskClient):
    """A test client that checks every HTML page it receives."""

    check_pages = True

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        response = super().open(*args, **kwargs)
        if self.check_pages and response.mimetype == "text/html" and response.status_code != 302:
            html = response.get_data(as_text=True)
            problems = page_problems(html)
            if problems:
                raise PageProblem(f"{response.request.path}: " + "; ".join(problems))
            if "Traceback (most recent call last)" in html:
                raise PageProblem(f"{response.request.path}: a stack trace reached the page")
        return response

    def csrf_token(self, url: str) -> str:
        """The CSRF token of the form on the page at ``url``."""
        return self.form_tokens(url)["csrf_token"]

    def form_tokens(self, url: str, action: str | None = None) -> dict[str, str]:
        """The CSRF token of the page at ``url`` and the other hidden fields (a one-shot form's
        token ``once``, a version) of the form posting to ``action`` (or the first form)."""
        page = self.get(url)
        soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
        csrf = soup.find("input", attrs={"name": "csrf_token"})
        if csrf is None:
            raise AssertionError(f"no CSRF token on {url} (status {page.status_code})")
        tokens = {"csrf_token": str(csrf["value"])}
        forms = soup.find_all("form", method=re.compile("post", re.I))
        path = (action or url).split("?")[0]
        chosen = next((f for f in forms if (f.get("action") or "").split("?")[0].endswith(path)),
                      forms[0] if forms else None)
        if chosen is not None:  # its hidden fields, as a browser sends them
            for hidden in chosen.find_all("input", attrs={"type": "hidden"}):
                if hidden.get("name") and hidden["name"] != "csrf_token":
                    tokens[str(hidden["name"])] = str(hidden.get("value", ""))
        return tokens

    def submit(self, url: str, data: dict[str, Any] | None = None, *, form_url: str | None = None,
               **kwargs: Any):  # type: ignore[no-untyped-def]
        """Post ``data`` to ``url`` as a browser would: with the tokens of the form's page."""
        payload = {**self.form_tokens(form_url or url, action=url), **dict(data or {})}
        return self.post(url, data=payload, **kwargs)

    def sign_in(self, email: str, password: str = DEMO_PASSWORD):  # type: ignore[no-untyped-def]
        return self.submit("/sign-in", {"email": email, "password": password})


def text_of(response: Any) -> str:
    """The visible text of a page, whitespace collapsed."""
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return re.sub(r"\s+", " ", soup.get_text(" ")).strip()


def load_demo(app: Any, *, awards: bool = False) -> None:
    """The demo organisations, accounts, funds and open rounds (without the demo awards,
    unless asked: tests start from empty rounds)."""
    from portal import demo

    with app.test_request_context():
        demo.load(awards=awards)
        session.commit()


def signed_in(app: Any, email: str) -> FlaskClient:
    """A new client of ``app``, signed in as ``email``."""
    client = app.test_client()
    client.sign_in(email)
    return client


def table_row_counts(app: Any) -> dict[str, int]:
    """Every table's row count, and the newest audit event's hash (the chain's head): equal
    before and after a refused action when the refusal changed nothing."""
    from sqlalchemy import func, select, table

    from portal.db import Base
    from portal.models import AuditEvent

    with app.app_context():
        counts = {name: session.scalar(select(func.count()).select_from(table(name)))
                  for name in sorted(Base.metadata.tables)}
        counts["audit head"] = session.scalar(
            select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    return counts
