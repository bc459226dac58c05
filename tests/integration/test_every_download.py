"""Every file the portal sends goes one way (issue 13, "Exports"): through ``portal.downloads``,
as an attachment with a safe name, ``no-store`` when private, and every CSV keeps a
formula-like cell as text.

The endpoints are found from the app's URL map (a rule ending ``.csv`` or ``.xlsx``, or a
view that calls ``downloads.attachment``), so a new export is checked without being listed."""

from __future__ import annotations

import ast
import csv
import inspect
import io
import textwrap
from pathlib import Path

import pytest

from portal.exports.tables import TABLES
from tests import bidding
from tests.helpers import load_demo, signed_in

FORMULA = '=HYPERLINK("http://x.example","click")'
MANAGER = "manager@example.org"
PORTAL = Path(__file__).resolve().parents[2] / "portal"
BLUEPRINTS = ("admin", "applicant", "auth", "decisions", "finance", "public", "reports",
              "review")


def _calls(function: object) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))  # type: ignore[arg-type]
    return {node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            for node in ast.walk(tree) if isinstance(node, ast.Call)}


def file_endpoints(app) -> set[str]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        if rule.rule.endswith((".csv", ".xlsx")) or "attachment" in _calls(
                inspect.unwrap(view)):
            found.add(rule.endpoint)
    return found


def test_no_blueprint_writes_a_file_response_of_its_own():
    """``send_file``, a CSV writer, a Content-Disposition header or a CSV media type in a
    view would be a second path, missing the guard, the cache rule or the name's quoting."""
    offenders = []
    for blueprint in BLUEPRINTS:
        for path in (PORTAL / blueprint).glob("*.py"):
            source = path.read_text(encoding="utf-8")
            for needle in ("send_file", "csv.writer", "Content-Disposition", "text/csv",
                           "spreadsheetml"):
                if needle in source:
                    offenders.append(f"{path.relative_to(PORTAL)}: {needle}")
    assert offenders == []


def test_every_file_endpoint_is_found_and_sent_through_the_downloads_module(app):
    endpoints = file_endpoints(app)
    assert {"decisions.ranking_csv", "reports.export_csv", "reports.export_workbook",
            "public.giving360_csv", "applicant.download_evidence",
            "decisions.download_evidence", "review.download_evidence",
            "applicant.download_return_evidence"} <= endpoints
    for endpoint in endpoints:
        calls = _calls(inspect.unwrap(app.view_functions[endpoint]))
        assert calls & {"attachment", "csv_file", "workbook_file", "_open_data"}, endpoint


def _private_downloads(app, round_id: int) -> dict[str, list[str]]:
    """Each private CSV/workbook endpoint and the URLs that reach it (every report table)."""
    return {
        "decisions.ranking_csv": [f"/manage/rounds/{round_id}/ranking.csv"],
        "reports.export_csv": [f"/reports/export/{name}.csv" for name in TABLES],
        "reports.export_workbook": ["/reports/export/workbook.xlsx"],
        "reports.plan_list_csv": ["/reports/plan-list.csv"],
        "reports.plan_list_workbook": ["/reports/plan-list.xlsx"],
    }


@pytest.mark.parametrize("title", [FORMULA, "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"])
def test_every_private_csv_is_an_attachment_not_stored_and_keeps_formulas_as_text(app, title):
    bid_id = bidding.submitted_bid(app, title=title)
    from portal.db import session
    from portal.models import Bid

    with app.app_context():
        round_id = session.get(Bid, bid_id).round_id
    manager = signed_in(app, MANAGER)
    urls = _private_downloads(app, round_id)
    private = {e for e in file_endpoints(app) if e.endswith("_csv") or e.endswith("workbook")}
    private.discard("public.giving360_csv")
    assert set(urls) == private, "a new CSV or workbook export: add how to reach it here"
    for paths in urls.values():
        for path in paths:
            response = manager.get(path)
            assert response.status_code == 200, path
            disposition = response.headers["Content-Disposition"]
            assert disposition.startswith("attachment; filename="), path
            assert response.headers["Cache-Control"] == "no-store", path
            if not path.endswith(".csv"):
                continue
            for row in csv.reader(io.StringIO(response.get_data(as_text=True))):
                for cell in row:
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or (
                        _numeric(cell)), (path, cell)


def _numeric(cell: str) -> bool:
    """A negative number (an underspend) is a number, not a formula."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_the_public_open_data_csv_is_an_attachment_and_keeps_formulas_as_text(app, client):
    load_demo(app, awards=True)
    response = client.get("/transparency/360giving.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    for row in csv.reader(io.StringIO(response.get_data(as_text=True))):
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
