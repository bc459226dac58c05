"""The one formula guard every CSV's text passes through (issue 13, "Exports"), and the
per-client key of the email limits."""

from __future__ import annotations

import pytest

from portal.exports.tables import spreadsheet_text
from portal.services.limits import _client_key


@pytest.mark.parametrize("text", [
    '=HYPERLINK("http://x.example","click")', "+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
    "\n=1+1", ' =HYPERLINK("x")', "\u00a0=1+1", "\u3000=1+1", "\uff1dHYPERLINK(1)", "\uff0b1",
    '"=1+1', "' =1", "\u201c=1",
])
def test_text_a_spreadsheet_would_run_is_kept_as_text(text):
    assert spreadsheet_text(text) == "'" + text


@pytest.mark.parametrize("text", ["Bike lights", "Café 1-2-1", "Hunts CSP", "", "100% safer",
                                  "A=B in the title", "Email a@b.org"])
def test_ordinary_text_is_unchanged(text):
    assert spreadsheet_text(text) == text


def test_control_characters_other_than_tab_and_line_breaks_are_dropped():
    assert spreadsheet_text("Hunts\x07CSP\x1b[31m\x00") == "HuntsCSP[31m"
    assert spreadsheet_text("a\tb\r\nc") == "a\tb\r\nc"


@pytest.mark.parametrize(("address", "key"), [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    (None, None), ("", None), ("not an address", "not an address"),
])
def test_a_client_is_counted_by_its_ipv4_address_or_its_ipv6_64(address, key):
    assert _client_key(address) == key
