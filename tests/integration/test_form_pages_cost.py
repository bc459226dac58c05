"""Issue 15, "Done when": the bid page's query count stays bounded. A bid's pages read its form
once, whatever the form holds: a form of many sections and questions, all answered, costs the
same queries as the standard one, on the officer's task list, check answers and a section,
and on the OPCC's read-only bid."""

from __future__ import annotations

import copy

from sqlalchemy import select

from portal import standard_forms
from portal.db import session, utcnow
from portal.models import Bid, FormKind, FormVersion
from portal.services import bids, form_versions
from tests import bidding
from tests.helpers import signed_in

EXTRA_SECTIONS = 8
QUESTIONS_EACH = 8


def _big_form(app) -> list[str]:
    """The Safer Communities round's form with many more sections of many questions."""
    definition = copy.deepcopy(standard_forms.application(youth=False))
    added = []
    for n in range(EXTRA_SECTIONS):
        key = f"extra_{n}"
        added.append(key)
        definition["sections"].insert(1, {"key": key, "title": f"Extra {n}", "intro": "",
                                          "questions": [
            {"key": f"q_{n}_{m}", "type": "short_text", "label": f"Question {n}.{m}",
             "required": True} for m in range(QUESTIONS_EACH)]})
    with app.app_context():
        round_ = session.merge(bidding.round_of(app, "SCF"))
        current = form_versions.current(round_)
        session.add(FormVersion(kind=FormKind.APPLICATION, round_id=round_.id,
                                number=current.number + 1, definition=definition,
                                published_at=utcnow()))  # the next version, published
        session.commit()
    return added


def _pages(bid_id: int) -> list[str]:
    return [f"/bids/{bid_id}", f"/bids/{bid_id}/check-answers",
            f"/bids/{bid_id}/sections/delivery"]


def test_a_bids_pages_cost_the_same_however_large_its_form(app, count_queries):
    officer = signed_in(app, bidding.OFFICER)
    manager = signed_in(app, "manager@example.org")

    def cost(bid_id: int) -> list[int]:
        found = []
        for page in _pages(bid_id):
            with count_queries() as queries:
                assert officer.get(page).status_code == 200, page
            found.append(len(queries))
        return found

    small = bidding.start(officer, app)
    bidding.complete(officer, app, small)
    before = cost(small)
    added = _big_form(app)
    big = bidding.start(officer, app)
    bidding.complete(officer, app, big)
    with app.test_request_context():
        bid = session.get(Bid, big)
        author = bid.created_by
        for key in added:
            n = key.split("_")[1]
            bids.save_section(bid, key, {f"q_{n}_{m}": f"Answer {m}" for m in
                                         range(QUESTIONS_EACH)},
                              completed=True, expected_version=None, actor=author)
        session.commit()
    assert cost(big) == before
    # The OPCC's read-only bid, once both are submitted.
    for bid_id in (small, big):
        assert bidding.submit(officer, bid_id).status_code == 302
    with app.app_context():
        assert session.scalar(select(Bid.reference).where(Bid.id == big))

    def manager_cost(bid_id: int) -> int:
        with count_queries() as queries:
            assert manager.get(f"/manage/bids/{bid_id}").status_code == 200
        return len(queries)

    assert manager_cost(big) == manager_cost(small)
