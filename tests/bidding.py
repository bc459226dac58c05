"""Helpers that drive the applicant journey through the test client."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from portal.db import session
from portal.models import Bid, Fund, Round

OFFICER = "officer.southcambs@example.org"

ABOUT = {
    "title": "Bike repair sessions and lights for low-income families",
    "summary": "Free bike repair sessions and bike lights for low-income families in South "
               "Cambridgeshire, so children can cycle to school safely in winter.",
    "start_date": ["1", "12", "{year}"],
    "end_date": ["28", "2", "{next_year}"],
    "completed": "yes",
}
PROBLEM = {
    "issue_types": ["road_safety", "bike_theft"],
    "district": "South Cambridgeshire",
    "places": "Cambourne, Northstowe",
    "priority_category": "preventing",
    "evidence_sources": "Police collision data and a survey of parents at two primary schools.",
    "evidence_shows": "Children cycling without lights after dark; bikes left unrepaired.",
    "completed": "yes",
}
DELIVERY = {
    "activities": "Twelve bike repair sessions and 300 sets of lights given out.",
    "delivered_by": "The district council's community safety team with a local bike charity.",
    "partners": "Cambridgeshire Constabulary, two primary schools, the parish council.",
    "completed": "yes",
}
OUTCOMES = {
    "rows-0-measure": "Bike lights given out", "rows-0-target": "300",
    "rows-0-how_measured": "Sign-up sheets at each session",
    "rows-1-measure": "Bikes repaired", "rows-1-target": "120",
    "rows-1-how_measured": "Mechanic's log",
    "completed": "yes",
}
BUDGET = {
    "rows-0-item": "Bike lights (300 sets)", "rows-0-kind": "capital", "rows-0-amount": "£2,250.00",
    "rows-1-item": "Mechanic for twelve sessions", "rows-1-kind": "revenue", "rows-1-amount": "1,800",
    "rows-2-item": "Spare parts", "rows-2-kind": "revenue", "rows-2-amount": "700",
    "match_funding": "", "match_funding_sources": "",
    "completed": "yes",
}
YOUTH = {
    "age_from": "10", "age_to": "17", "young_people": "40",
    "safeguarding_lead": "Priya Shah", "safeguarding_policy": "y", "dbs_checked": "y",
    "completed": "yes",
}
DECLARATIONS = {"accurate": "y", "authorised": "y", "name": "Sam Officer",
                "role": "Community safety officer", "completed": "yes"}
SECTIONS = {"about": ABOUT, "problem": PROBLEM, "delivery": DELIVERY, "outcomes": OUTCOMES,
            "budget": BUDGET, "youth": YOUTH, "declarations": DECLARATIONS}


def early_acceptance(round_: Round) -> datetime:
    """A moment to accept an offer on ``round_`` at so that a whole-year project keeps a
    periodic and a final return whatever today is: a day after the round opens. No return
    falls due within RETURN_GRACE_DAYS of acceptance (issue 13), so an offer accepted today
    late in the year has its earlier periods merged into one return."""
    return round_.opens_at + timedelta(days=1)


def round_of(app: Any, code: str) -> Round:
    with app.app_context():
        return session.scalar(select(Round).join(Fund).where(Fund.code == code))


def start(client: Any, app: Any, code: str = "SCF") -> int:
    round_ = round_of(app, code)
    page = client.get(f"/rounds/{round_.id}").get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    csrf = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"',
                     page).group(1)
    response = client.post(f"/rounds/{round_.id}/start", data={"token": token, "csrf_token": csrf})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def section_url(bid_id: int, key: str) -> str:
    return f"/bids/{bid_id}/sections/{key}"


def version_of(client: Any, bid_id: int, key: str) -> str:
    page = client.get(section_url(bid_id, key)).get_data(as_text=True)
    return re.search(r'name="version" type="hidden" value="(\d*)"', page).group(1)


def fill(answers: dict[str, Any], year: int) -> dict[str, Any]:
    def expand(value: Any) -> Any:
        if isinstance(value, list):
            return [str(v).format(year=year, next_year=year + 1) for v in value]
        return value

    return {key: expand(value) for key, value in answers.items()}


def save(client: Any, bid_id: int, key: str, answers: dict[str, Any], year: int,
         version: str | None = None):  # type: ignore[no-untyped-def]
    url = section_url(bid_id, key)
    data = fill(answers, year)
    data["version"] = version if version is not None else version_of(client, bid_id, key)
    return client.submit(url, data)


def complete(client: Any, app: Any, bid_id: int, skip: tuple[str, ...] = ()) -> None:
    with app.app_context():
        bid = session.get(Bid, bid_id)
        year, youth = bid.round.financial_year, bid.round.fund.is_youth
    for key, answers in SECTIONS.items():
        if key in skip or (key == "youth" and not youth):
            continue
        response = save(client, bid_id, key, answers, year)
        assert response.status_code == 302, (key, response.get_data(as_text=True)[:3000])


def submit(client: Any, bid_id: int):  # type: ignore[no-untyped-def]
    return client.submit(f"/bids/{bid_id}/submit", {}, form_url=f"/bids/{bid_id}/check-answers")


def _answers(year: int, amount_pence: int) -> dict[str, dict[str, Any]]:
    return {
        "about": {"title": ABOUT["title"], "summary": ABOUT["summary"],
                  "start_date": f"{year}-12-01", "end_date": f"{year + 1}-02-28"},
        "problem": {"issue_types": ["road_safety"], "other_issue": "", "district": "Fenland",
                    "places": "Wisbech", "priority_category": "emerging",
                    "evidence_sources": "Police data", "evidence_shows": "A rise in incidents"},
        "delivery": {"activities": "Sessions", "delivered_by": "The council",
                     "partners": "Police"},
        "outcomes": {"rows": [{"measure": "Lights given out", "target": 300,
                               "how_measured": "Sign-up sheets"}]},
        "budget": {"rows": [{"item": "Lights", "kind": "capital", "amount_pence": amount_pence}],
                   "match_funding_pence": 0, "match_funding_sources": ""},
        "youth": {"age_from": 10, "age_to": 17, "young_people": 40, "safeguarding_lead": "Priya",
                  "safeguarding_policy": True, "dbs_checked": True},
        "declarations": {"accurate": True, "authorised": True, "name": "Sam",
                         "role": "Officer"},
    }


def submitted_bid(app: Any, officer_email: str = OFFICER, code: str = "SCF",
                  amount_pence: int = 475000, title: str | None = None) -> int:
    """A complete, submitted bid made through the services (fast); returns its id."""
    from portal.services import accounts, bids

    with app.test_request_context():
        officer = accounts.get_user_by_email(officer_email)
        round_ = session.scalar(select(Round).join(Fund).where(Fund.code == code))
        bid = bids.start_bid(round_, officer, bids.new_creation_token())
        for section in bids.sections_for(round_):
            answers = _answers(round_.financial_year, amount_pence)[section.key]
            if title and section.key == "about":
                answers["title"] = title
            bids.save_section(bid, section.key, answers, completed=True, expected_version=None,
                              actor=officer)
        bids.submit(bid, officer)
        session.commit()
        return bid.id
