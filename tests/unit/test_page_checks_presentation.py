"""The page checks of the test client catch error summary links that lead nowhere visible,
and tables that would widen the page instead of scrolling in their own region (issue 13)."""

from __future__ import annotations

from tests.helpers import page_problems

PAGE = """<!DOCTYPE html><html lang="en"><head><title>Fine</title></head><body>
<div class="govuk-error-summary"><ul><li><a href="#file">Select a file</a></li></ul></div>
{body}</body></html>"""
TABLE = "<table><caption>Payments</caption><tr><td>1</td></tr></table>"


def test_an_error_summary_link_to_a_visible_element_is_fine():
    assert page_problems(PAGE.format(body='<label for="file">F</label><input id="file" '
                                          'name="file" type="file">')) == []
    assert page_problems(PAGE.format(body='<p id="file">Too many files</p>')) == []


def test_an_error_summary_link_to_nothing_or_to_something_hidden_is_caught():
    assert any("not on the page" in p for p in page_problems(PAGE.format(body="")))
    assert any("which is hidden" in p for p in page_problems(
        PAGE.format(body='<input id="file" name="file" type="hidden">')))
    assert any("which is hidden" in p for p in page_problems(
        PAGE.format(body='<div hidden><label for="file">F</label><input id="file" name="f">'
                         "</div>")))


def test_a_table_must_scroll_in_a_labelled_focusable_region():
    fine = ('<p id="file">x</p><div class="portal-table-scroll" tabindex="0" role="region" '
            f'aria-label="Payments">{TABLE}</div>')
    assert page_problems(PAGE.format(body=fine)) == []
    bare = '<p id="file">x</p>' + TABLE
    assert any("scrolling region" in p for p in page_problems(PAGE.format(body=bare)))
    unlabelled = fine.replace(' aria-label="Payments"', "")
    assert any("scrolling region" in p for p in page_problems(PAGE.format(body=unlabelled)))
