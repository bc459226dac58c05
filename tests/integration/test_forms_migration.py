"""Migration 0012 (issue 15, "Migration"): bids made before forms were data keep every answer
they have, on SQLite and PostgreSQL. The demo's bids are taken back to the schema before
forms were data (down to 0011, which drops the form versions and each bid's reference to one,
leaving the answers where they are), then brought up again: every bid is on version 1 of its
round's form, which asks exactly the questions it answered, and every answer is shown."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import migrate, questions, standard_forms
from portal.db import get_db, session
from portal.models import Bid, BidSection, FormVersion, Fund, Round
from portal.services import form_versions


def _answers(application) -> dict[int, dict[str, dict]]:
    with application.app_context():
        rows = session.execute(select(BidSection.bid_id, BidSection.key, BidSection.answers,
                                      BidSection.status)).all()
        return {(bid_id, key): (answers, status) for bid_id, key, answers, status in rows}


def test_bids_keep_every_answer_through_the_migration(committed_app):
    application = committed_app("forms_migration", awards=True)
    before = _answers(application)
    assert before, "the demo data has bids with answers"
    engine = get_db(application).engine
    migrate.downgrade(engine, "0011_agreements")
    migrate.upgrade(engine)
    with application.app_context():
        assert _answers(application) == before
        bids = session.scalars(select(Bid).join(Round).join(Fund)
                               .where(Fund.direct.is_(False))).all()
        assert bids
        for bid in bids:
            version = bid.form_version
            assert version is not None and version.number == 1 and version.in_use
            assert version.round_id == bid.round_id
            definition = questions.read(version.definition)
            expected = questions.read(standard_forms.application(youth=bid.round.fund.is_youth))
            assert definition.as_json() == expected.as_json()
            every = questions.merged(s.answers for s in bid.sections)
            for saved in bid.sections:
                section = definition.section(saved.key)
                assert section is not None, (bid.id, saved.key)
                assert questions.unknown_names(section, saved.answers) == []
                assert questions.kept(section, saved.answers, every) == {
                    name: value for name, value in saved.answers.items()
                    if name != "other_issue" or "other" in (every.get("issue_types") or [])}
        # Every round open to bids has exactly one version; direct awards' rounds none.
        for round_ in session.scalars(select(Round)):
            count = session.scalar(select(func.count()).select_from(FormVersion)
                                   .where(FormVersion.round_id == round_.id))
            assert count == (0 if round_.fund.direct else 1), round_.name
            if not round_.fund.direct:
                assert form_versions.current(round_).number == 1
