"""Welsh names under load (issue 16): managers and administrators naming funds, rounds and
organisations at the same moment get one name each way and clear refusals, never two records
a Welsh reader cannot tell apart. A breaker raced case variants ("Cronfa Ras", "CRONFA RAS")
and one fund's Welsh name against another's English, which the unique indexes (exact text,
one column) could not catch: the services now take them one after the other."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from portal.db import session, write_intent
from portal.models import Fund, Organisation, OrganisationType
from portal.models.funds import PaymentRule
from portal.services import DomainError, accounts, organisations, setup

RACERS = 6


@pytest.fixture
def real_app(committed_app):
    return committed_app("welsh_names")


def race(app, jobs: list[Callable[[], None]]) -> list[str]:
    """Run each job in its own request at the same moment; each commits or is refused."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(job: Callable[[], None]) -> None:
        with app.test_request_context():
            token = write_intent.set(False)
            session.commit()
            write_intent.reset(token)
            barrier.wait(timeout=60)
            try:
                job()
                session.commit()
                result = "saved"
            except DomainError:
                session.rollback()
                result = "refused"
            except Exception as exc:  # noqa: BLE001 - a database error would be a 500
                session.rollback()
                result = f"error: {type(exc).__name__}: {exc}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == len(jobs)
    assert set(outcomes) <= {"saved", "refused"}, outcomes
    return outcomes


def new_fund(number: int, name_cy: str) -> Callable[[], None]:
    def job() -> None:
        manager = accounts.get_user_by_email("manager@example.org")
        setup.create_fund(setup.FundDetails(
            code=f"R{number}", name=f"Race fund {number}", purpose="Racing.", is_youth=False,
            allows_multi_year=False, payment_rule=PaymentRule.ADVANCE, terms="",
            name_cy=name_cy), manager)
    return job


def test_case_variants_of_one_welsh_fund_name_make_one_fund(real_app):
    variants = ["Cronfa Ras", "CRONFA RAS", "cronfa ras", "CrOnFa RaS", "cRONFA rAS", "Cronfa ras"]
    outcomes = race(real_app, [new_fund(n, name) for n, name in enumerate(variants)])
    assert outcomes.count("saved") == 1, outcomes
    with real_app.app_context():
        assert session.scalar(select(func.count()).select_from(Fund).where(
            func.lower(Fund.name_cy) == "cronfa ras")) == 1


def test_a_welsh_name_raced_against_the_same_english_name_keeps_them_apart(real_app):
    with real_app.app_context():
        funds = session.scalars(select(Fund).order_by(Fund.id)).all()[:3]
        fixed = [(f.id, f.code, f.name, f.purpose, f.is_youth, f.allows_multi_year,
                  f.payment_rule, f.terms, f.direct) for f in funds]

    def rename(values) -> Callable[[], None]:
        fund_id, code, name, purpose, youth, multi, rule, terms, direct = values

        def job() -> None:
            manager = accounts.get_user_by_email("manager@example.org")
            setup.update_fund(session.get(Fund, fund_id), setup.FundDetails(
                code=code, name=name, purpose=purpose, is_youth=youth, allows_multi_year=multi,
                payment_rule=rule, terms=terms, direct=direct, name_cy="Eta Cross"), manager)
        return job

    def create(number: int) -> Callable[[], None]:
        def job() -> None:
            manager = accounts.get_user_by_email("manager@example.org")
            setup.create_fund(setup.FundDetails(
                code=f"X{number}", name="Eta Cross", purpose="Racing.", is_youth=False,
                allows_multi_year=False, payment_rule=PaymentRule.ADVANCE, terms=""), manager)
        return job

    race(real_app, [rename(values) for values in fixed] + [create(n) for n in range(3)])
    with real_app.app_context():
        named = session.scalar(select(func.count()).select_from(Fund).where(
            (func.lower(Fund.name) == "eta cross") | (func.lower(Fund.name_cy) == "eta cross")))
        assert named == 1


def test_case_variants_of_one_welsh_organisation_name_name_one_organisation(real_app):
    with real_app.app_context():
        ids = session.scalars(select(Organisation.id).where(
            Organisation.type == OrganisationType.CSP).order_by(Organisation.id)).all()
    variants = ["Achos", "ACHOS", "achos", "AcHoS", "aCHOS", "AChos"]

    def name(organisation_id: int, welsh: str) -> Callable[[], None]:
        def job() -> None:
            admin = accounts.get_user_by_email("admin@example.org")
            organisations.update(session.get(Organisation, organisation_id), name_cy=welsh,
                                 language="en", actor=admin)
        return job

    outcomes = race(real_app, [name(i, w) for i, w in zip(ids, variants, strict=True)])
    assert outcomes.count("saved") == 1, outcomes
    with real_app.app_context():
        assert session.scalar(select(func.count()).select_from(Organisation).where(
            func.lower(Organisation.name_cy) == "achos")) == 1


def test_one_administrator_posting_a_change_six_times_at_once_records_it_once(real_app):
    from portal.models import AuditEvent

    with real_app.app_context():
        organisation_id = session.scalar(select(Organisation.id).where(
            Organisation.type == OrganisationType.CSP).order_by(Organisation.id))
        before = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "organisation.changed"))

    def job() -> None:
        admin = accounts.get_user_by_email("admin@example.org")
        organisations.update(session.get(Organisation, organisation_id), name_cy="Dwbl",
                             language="cy", actor=admin)

    race(real_app, [job] * RACERS)
    with real_app.app_context():
        after = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "organisation.changed"))
        assert after == before + 1
