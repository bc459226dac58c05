"""The page checks every test client runs catch the faults they name."""

from __future__ import annotations

from tests.helpers import page_problems

GOOD = """<!DOCTYPE html><html lang="en"><head><title>Fine</title></head><body>
<form method="post" action="/x"><input type="hidden" name="csrf_token" value="t">
<label for="a">A</label><input id="a" name="a"></form></body></html>"""


def test_a_good_page_has_no_problems():
    assert page_problems(GOOD) == []


def test_each_fault_is_caught():
    assert "page has no <title>" in page_problems(GOOD.replace("<title>Fine</title>", ""))
    assert "<html> has no lang" in page_problems(GOOD.replace(' lang="en"', ""))
    assert any("used 2 times" in p for p in page_problems(
        GOOD.replace("</form>", '<span id="a"></span></form>')))
    assert any("has no label" in p for p in page_problems(GOOD.replace('<label for="a">A</label>', "")))
    assert any("no CSRF token" in p for p in page_problems(GOOD.replace('name="csrf_token"', 'name="x"')))
    assert "a form has no action" in page_problems(GOOD.replace(' action="/x"', ""))
