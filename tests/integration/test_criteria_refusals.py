"""Where the criteria form shows a refusal: totals and "enter one" go beside the first
criterion actually typed (not a blank first row), a descriptor's beside its own box."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import session
from portal.models import Fund, Round
from tests.helpers import text_of

MANAGER = "manager@example.org"
SCALE = {
    "scale_min": "0", "scale_max": "5",
    "descriptors-0-text": "No evidence", "descriptors-1-text": "Poor",
    "descriptors-2-text": "Partial", "descriptors-3-text": "Satisfactory",
    "descriptors-4-text": "Good", "descriptors-5-text": "Strong",
}


@pytest.fixture
def manager(client):
    client.sign_in(MANAGER)
    return client


def scf_round_id(app) -> int:
    with app.app_context():
        return session.scalar(select(Round.id).join(Fund).where(Fund.code == "SCF"))


def test_a_weight_total_is_refused_beside_the_first_criterion_typed(app, manager):
    """Row 0 left blank: the total goes beside row 1's weight, the first one typed."""
    data = dict(SCALE, **{"rows-0-title": "", "rows-0-guidance": "", "rows-0-weight": "",
                          "rows-1-title": "Evidence of need", "rows-1-weight": "60",
                          "rows-2-title": "Value for money", "rows-2-weight": "30"})
    response = manager.submit(f"/manage/rounds/{scf_round_id(app)}/criteria/edit", data)
    assert "Weights must add up to 100. They add up to 90." in text_of(response)
    html = response.get_data(as_text=True)
    assert 'href="#rows-1-weight"' in html
    assert 'href="#rows-0-weight"' not in html


def test_a_descriptor_past_the_top_score_is_refused_beside_its_own_box(app, manager):
    data = dict(SCALE, **{"rows-0-title": "Evidence of need", "rows-0-weight": "100",
                          "scale_max": "2"})
    response = manager.submit(f"/manage/rounds/{scf_round_id(app)}/criteria/edit", data)
    assert "Leave this blank: a scale from 0 to 2 has 3 scores" in text_of(response)
    assert 'href="#descriptors-3-text"' in response.get_data(as_text=True)
