"""Evidence through the file store (issue 17): a file is kept only if its row commits, a
removal deletes it only after the commit, downloads stream from the store, and a store that
is down or missing a file says so clearly. Each test runs on a folder and on an S3 bucket
(moto's in-process endpoint behind the real boto3 calls)."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws
from sqlalchemy import select

from portal import storage
from portal.db import session
from portal.models import AuditEvent, Bid, EvidenceFile, GrantReturn, ReturnEvidence
from portal.services import accounts, evidence
from portal.services import return_evidence as return_files
from tests import bidding
from tests.helpers import text_of
from tests.integration.test_awards_applicant import (
    EXE,
    PDF,
    awarded,
    complete_return,
    error_links,
    facts,
    return_facts,
    return_url,
)

OFFICER = bidding.OFFICER
BUCKET = "opcc-evidence-test"
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-2"}


def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(params=["file", "s3"])
def store_kind(request: pytest.FixtureRequest, app, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's store for this test: a folder of its own, or a bucket of its own."""
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    try:
        if request.param == "file":
            yield "file"
            return
        _fake_aws(monkeypatch)
        with mock_aws():
            monkeypatch.setitem(app.config, "STORAGE_URL", f"s3://{BUCKET}/evidence")
            with app.app_context():
                client = storage.current_store().client  # type: ignore[attr-defined]
                client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={
                    "LocationConstraint": "eu-west-2"})
            yield "s3"
    finally:
        app.extensions.pop("store", None)


@pytest.fixture
def officer(client):
    client.sign_in(OFFICER)
    return client


@pytest.fixture
def bid_id(app, officer) -> int:
    return bidding.start(officer, app)


def stored(app) -> set[str]:
    with app.app_context():
        return {name for name, _ in storage.current_store().names()}


def upload(client, bid_id: int, name: str, content: bytes):
    return client.submit(f"/bids/{bid_id}/evidence",
                         {"file": (io.BytesIO(content), name), "description": "Quote"},
                         content_type="multipart/form-data")


def files(app, bid_id: int) -> list[EvidenceFile]:
    with app.app_context():
        return list(session.scalars(select(EvidenceFile).where(EvidenceFile.bid_id == bid_id)))


def uploaded(app, officer, bid_id: int) -> EvidenceFile:
    assert upload(officer, bid_id, "quote.pdf", PDF).status_code == 302
    [item] = files(app, bid_id)
    return item


def test_an_upload_is_kept_in_the_store_and_streams_back_as_a_private_attachment(
        app, store_kind, officer, bid_id):
    item = uploaded(app, officer, bid_id)
    assert stored(app) == {item.stored_name}
    download = officer.get(f"/bids/{bid_id}/evidence/{item.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"] == "attachment; filename=quote.pdf"
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Length"] == str(len(PDF))


def test_a_refused_upload_leaves_no_object_in_the_store(app, store_kind, officer, bid_id):
    response = upload(officer, bid_id, "invoice.pdf", EXE)
    assert error_links(response) == {
        "file": "The selected file must be a PDF, Word, Excel, CSV, PNG or JPEG"}
    assert files(app, bid_id) == [] and stored(app) == set()


def test_a_file_stored_by_a_return_save_that_is_refused_is_deleted(app, store_kind, officer):
    """The file passes its checks and is stored; the rest of the return is refused: the
    service's savepoint rolls back, and the object goes with its row."""
    award_id = awarded(app, accepted=True)
    known = facts(app, award_id)
    return_id = known["returns"][0]
    data = complete_return(app, award_id) | {"evidence": (io.BytesIO(PDF), "invoice.pdf"),
                                             f"narrative-{known['measures'][0]}": "",
                                             "submit": "y"}
    response = officer.submit(return_url(award_id, return_id), data,
                              content_type="multipart/form-data")
    assert response.status_code == 200 and error_links(response)
    assert return_facts(app, return_id)["evidence"] == [] and stored(app) == set()


def test_a_file_stored_in_a_transaction_that_rolls_back_is_deleted(app, store_kind, bid_id):
    with app.test_request_context():
        actor = accounts.get_user_by_email(OFFICER)
        item = evidence.add(session.get(Bid, bid_id), "a.pdf", io.BytesIO(PDF), "", actor)
        assert stored(app) == {item.stored_name}  # stored before the commit…
        session.rollback()
    assert stored(app) == set()  # …and gone with its row


def test_a_removal_deletes_the_object_only_once_it_commits(app, store_kind, officer, bid_id):
    item = uploaded(app, officer, bid_id)
    with app.test_request_context():
        evidence.remove(session.get(Bid, bid_id), item.id, accounts.get_user_by_email(OFFICER))
        assert stored(app) == {item.stored_name}  # the row is gone, not yet committed
        session.commit()
    assert stored(app) == set()


def test_a_removal_that_rolls_back_keeps_the_object(app, store_kind, officer, bid_id):
    item = uploaded(app, officer, bid_id)
    with app.test_request_context():
        evidence.remove(session.get(Bid, bid_id), item.id, accounts.get_user_by_email(OFFICER))
        session.rollback()  # e.g. the request failed after the service
    assert stored(app) == {item.stored_name}
    assert [f.id for f in files(app, bid_id)] == [item.id]
    assert officer.get(f"/bids/{bid_id}/evidence/{item.id}").data == PDF


def test_a_delete_that_fails_after_the_commit_is_logged_and_the_removal_stands(
        app, store_kind, officer, bid_id, caplog):
    item = uploaded(app, officer, bid_id)

    def store_down(_name: str) -> None:
        raise storage.StoreError("The file store is not answering.")

    with app.test_request_context():
        store = storage.current_store()
        store.delete = store_down  # type: ignore[method-assign]
        try:
            evidence.remove(session.get(Bid, bid_id), item.id,
                            accounts.get_user_by_email(OFFICER))
            session.commit()
        finally:
            del store.delete  # the class's own again
    assert files(app, bid_id) == []
    assert item.stored_name in caplog.text and "flask store-orphans" in caplog.text
    assert stored(app) == {item.stored_name}  # an orphan, for the command to find


def test_a_removal_through_the_page_deletes_the_object(app, store_kind, officer, bid_id):
    item = uploaded(app, officer, bid_id)
    response = officer.submit(f"/bids/{bid_id}/evidence/{item.id}/remove", {},
                              form_url=f"/bids/{bid_id}/evidence")
    assert response.status_code == 302
    assert files(app, bid_id) == [] and stored(app) == set()


def test_a_file_missing_from_the_store_shows_a_clear_page_not_an_error(app, store_kind,
                                                                       officer, bid_id):
    item = uploaded(app, officer, bid_id)
    with app.app_context():
        storage.current_store().delete(item.stored_name)
    response = officer.get(f"/bids/{bid_id}/evidence/{item.id}")
    assert response.status_code == 404
    page = text_of(response)
    assert "This file is missing" in page
    assert "Contact the grants team" in page
    assert item.stored_name not in page


def test_a_store_that_does_not_answer_gives_a_clear_503_page_for_a_download(
        app, store_kind, officer, bid_id, monkeypatch):
    item = uploaded(app, officer, bid_id)
    _fake_aws(monkeypatch)
    with mock_aws():  # an empty endpoint: the bucket is not there
        monkeypatch.setitem(app.config, "STORAGE_URL", "s3://gone-bucket/evidence")
        response = officer.get(f"/bids/{bid_id}/evidence/{item.id}")
    assert response.status_code == 503
    page = text_of(response)
    assert "files cannot be downloaded at the moment" in page and "gone-bucket" not in page


@pytest.fixture(params=["missing bucket", "unwritable folder"])
def refusing_store(request: pytest.FixtureRequest, app, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A store that cannot take a file: an S3 bucket that is not there, or a folder that
    cannot be written (its parent is a file: tests run as root, which ignores modes)."""
    try:
        if request.param == "unwritable folder":
            blocker = tmp_path / "a-file"
            blocker.write_text("not a folder")
            monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(blocker / "uploads"))
            yield "The file store would not keep the file, so nothing was saved. Contact the " \
                  "grants team."
            return
        _fake_aws(monkeypatch)
        with mock_aws():
            monkeypatch.setitem(app.config, "STORAGE_URL", "s3://no-such-bucket/evidence")
            yield "The file store is not set up correctly, so files cannot be saved or " \
                  "downloaded now. Contact the grants team."
    finally:
        app.extensions.pop("store", None)


def test_a_store_that_refuses_the_file_is_shown_beside_the_file_field_and_saves_nothing(
        app, refusing_store, officer, bid_id):
    response = upload(officer, bid_id, "quote.pdf", PDF)
    assert response.status_code == 200
    assert error_links(response) == {"file": refusing_store}
    assert files(app, bid_id) == []
    with app.app_context():
        assert session.scalar(select(AuditEvent).where(
            AuditEvent.action == "bid.evidence_added",
            AuditEvent.record_id == str(bid_id))) is None


def test_a_store_that_refuses_a_returns_file_keeps_the_whole_return_unsaved(
        app, refusing_store, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    before = return_facts(app, return_id)
    data = complete_return(app, award_id) | {"evidence": (io.BytesIO(PDF), "invoice.pdf"),
                                             "save_draft": "y"}
    response = officer.submit(return_url(award_id, return_id), data,
                              content_type="multipart/form-data")
    assert response.status_code == 200
    assert error_links(response) == {"evidence": refusing_store}
    assert return_facts(app, return_id) == before


def test_the_health_check_names_the_store_when_it_is_down(app, client, refusing_store):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "ok", "store": "unreachable"}
    body = response.get_data(as_text=True)
    assert "no-such-bucket" not in body and "a-file" not in body


def test_the_health_check_says_ok_for_the_database_and_the_store(app, client, store_kind):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "store": "ok"}


def _age(app, store_kind: str, name: str) -> None:
    """Make a stored file look two days old (a folder's file only: S3 sets its own times)."""
    if store_kind == "file":
        old = time.time() - 48 * 3600
        os.utime(Path(app.config["UPLOAD_FOLDER"]) / name, (old, old))


def test_store_orphans_lists_and_removes_objects_with_no_row_and_lists_rows_with_no_object(
        app, store_kind, officer, bid_id):
    kept = uploaded(app, officer, bid_id)
    assert upload(officer, bid_id, "lost.pdf", PDF).status_code == 302
    lost = next(f for f in files(app, bid_id) if f.original_name == "lost.pdf")
    with app.app_context():
        store = storage.current_store()
        store.delete(lost.stored_name)  # a row whose object is missing
        store.put("0rphan.pdf", io.BytesIO(PDF))  # an object whose row never committed
    _age(app, store_kind, "0rphan.pdf")
    hours = "24" if store_kind == "file" else "0"
    runner = app.test_cli_runner()

    fresh = runner.invoke(args=["store-orphans", "--older-than-hours", "1000"])
    assert fresh.exit_code == 0, fresh.output
    assert "0 stored file(s) with no row" in fresh.output  # spared: not old enough

    listed = runner.invoke(args=["store-orphans", "--older-than-hours", hours])
    assert listed.exit_code == 0, listed.output
    assert "1 stored file(s) with no row" in listed.output and "0rphan.pdf" in listed.output
    with app.app_context():
        reference = session.get(Bid, bid_id).reference
    owner = f"bid {bid_id}" + (f" ({reference})" if reference else "")
    assert (f"{owner}: evidence_files {lost.id} “lost.pdf” (stored as {lost.stored_name})"
            in listed.output)
    assert kept.stored_name not in listed.output
    assert stored(app) == {kept.stored_name, "0rphan.pdf"}  # listing removes nothing

    removed = runner.invoke(args=["store-orphans", "--older-than-hours", hours, "--remove"])
    assert removed.exit_code == 0, removed.output
    assert "Removed 1 of 1 stored file(s) with no row." in removed.output
    assert stored(app) == {kept.stored_name}  # the row's missing object is only listed
    assert [f.id for f in files(app, bid_id)] == sorted([kept.id, lost.id])


def test_store_orphans_lists_a_returns_row_with_the_return_and_award(app, store_kind, officer):
    award_id = awarded(app, accepted=True)
    return_id = facts(app, award_id)["returns"][0]
    with app.test_request_context():
        item = return_files.add_return_evidence(session.get(GrantReturn, return_id), "r.pdf",
                                                io.BytesIO(PDF),
                                                accounts.get_user_by_email(OFFICER))
        session.commit()
        storage.current_store().delete(item.stored_name)
        item_id = session.scalar(select(ReturnEvidence.id).where(
            ReturnEvidence.stored_name == item.stored_name))
    result = app.test_cli_runner().invoke(args=["store-orphans"])
    assert result.exit_code == 0, result.output
    assert (f"return {return_id} of award {award_id}: return_evidence {item_id} “r.pdf”"
            in result.output)


def test_store_orphans_refuses_hours_that_are_not_plain_digits(app):
    result = app.test_cli_runner().invoke(args=["store-orphans", "--older-than-hours", "２４"])
    assert result.exit_code != 0 and "ASCII digits" in result.output


def test_store_orphans_removes_rows_whose_file_is_missing_only_when_asked_and_audits_each(
        app, store_kind, officer, bid_id):
    kept = uploaded(app, officer, bid_id)
    assert upload(officer, bid_id, "lost.pdf", PDF).status_code == 302
    lost = next(f for f in files(app, bid_id) if f.original_name == "lost.pdf")
    with app.app_context():
        storage.current_store().delete(lost.stored_name)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["store-orphans", "--remove"])
    assert listed.exit_code == 0 and "Removed" not in listed.output.split("missing")[-1]
    assert [f.id for f in files(app, bid_id)] == sorted([kept.id, lost.id])  # only listed
    removed = runner.invoke(args=["store-orphans", "--remove-rows"])
    assert removed.exit_code == 0, removed.output
    assert "Removed 1 of 1 row(s) whose file is missing." in removed.output
    assert [f.id for f in files(app, bid_id)] == [kept.id]  # the file that is there stays
    with app.app_context():
        from portal.models import AuditEvent

        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "bid.evidence_lost"))
        assert (event.record_type, event.record_id) == ("bid", str(bid_id))
        assert event.before["file"] == "lost.pdf" and event.actor_id is None
    again = runner.invoke(args=["store-orphans", "--remove-rows"])
    assert again.exit_code == 0 and "0 row(s) whose file is missing" in again.output
