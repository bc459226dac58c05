"""The file store (issue 17): a folder and an S3 bucket behind one interface, through the same
tests. S3 is moto's in-process endpoint (``mock_aws``) behind the real boto3 calls, or for the
memory test moto's standalone server in its own process (its copy of the bytes is not ours)."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from moto import mock_aws

from portal import create_app, storage
from portal.storage import FileStore, MissingFile, S3Store, StoreError, open_store

BUCKET = "opcc-evidence"
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-west-2"}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def s3_store(bucket: str = BUCKET, *, create: bool = True) -> S3Store:
    store = S3Store(bucket, "evidence")
    if create:
        store.client.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    return store


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> storage.Store:
    if request.param == "file":
        return FileStore(tmp_path / "uploads")
    request.getfixturevalue("aws")
    return s3_store()


def read(store: storage.Store, name: str) -> bytes:
    return b"".join(store.chunks(name))


class Breaks(io.RawIOBase):
    """A source that gives some bytes, then fails as a dropped upload does."""

    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer):  # type: ignore[no-untyped-def]
        if self.sent:
            raise OSError("connection reset")
        self.sent = True
        buffer[:4] = b"%PDF"
        return 4


def test_a_file_put_comes_back_in_chunks_and_is_listed_with_its_time(store):
    content = os.urandom(300 * 1024)
    before = datetime.now(UTC) - timedelta(seconds=5)
    store.put("a1.pdf", io.BytesIO(content))
    assert read(store, "a1.pdf") == content
    assert [len(c) for c in store.chunks("a1.pdf", 100 * 1024)] == [102400, 102400, 102400]
    [(name, modified)] = list(store.names())
    assert name == "a1.pdf"
    assert modified.tzinfo is not None and before <= modified <= datetime.now(UTC) + timedelta(1)
    store.put("a1.pdf", io.BytesIO(b"second"))
    assert read(store, "a1.pdf") == b"second"


def test_a_missing_file_raises_missing_file_before_any_chunk(store):
    with pytest.raises(MissingFile) as caught:
        store.chunks("nowhere.pdf")
    assert "missing" in caught.value.message


def test_a_delete_removes_the_file_and_a_missing_one_is_fine(store):
    store.put("gone.pdf", io.BytesIO(b"x"))
    store.delete("gone.pdf")
    store.delete("gone.pdf")
    assert list(store.names()) == []
    with pytest.raises(MissingFile):
        store.chunks("gone.pdf")


def test_a_working_store_passes_its_check(store):
    store.check()


def test_a_put_that_fails_half_way_leaves_nothing(store):
    with pytest.raises((StoreError, OSError)):
        store.put("half.pdf", Breaks())
    assert list(store.names()) == []


def test_a_name_that_is_not_one_segment_is_refused(store):
    for name in ("../escape.pdf", "a/b.pdf", "", ".."):
        with pytest.raises(ValueError):
            store.put(name, io.BytesIO(b"x"))


def test_a_folder_that_cannot_be_written_fails_the_check_and_the_put_clearly(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = FileStore(blocker / "uploads")  # its parent is a file: nothing can be made there
    for attempt in (store.check, lambda: store.put("x.pdf", io.BytesIO(b"x"))):
        with pytest.raises(StoreError) as caught:
            attempt()
        assert caught.value.message.startswith("The file store would not keep the file")
        assert str(blocker) not in caught.value.message


def test_a_missing_bucket_fails_the_check_and_the_put_without_naming_the_bucket(aws):
    store = s3_store("no-such-bucket", create=False)
    for attempt in (store.check, lambda: store.put("x.pdf", io.BytesIO(b"x")),
                    lambda: store.chunks("x.pdf"), lambda: list(store.names())):
        with pytest.raises(StoreError) as caught:
            attempt()
        assert type(caught.value) is StoreError  # not "missing file": the bucket is gone
        assert "not set up" in caught.value.message
        assert "no-such-bucket" not in caught.value.message


def test_an_endpoint_that_does_not_answer_is_a_store_error_not_a_crash(monkeypatch):
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = S3Store(BUCKET, "evidence")
    for attempt in (store.check, lambda: store.put("x.pdf", io.BytesIO(b"x")),
                    lambda: store.chunks("x.pdf")):
        with pytest.raises(StoreError) as caught:
            attempt()
        assert "127.0.0.1" not in caught.value.message and str(port) not in caught.value.message


def test_no_credentials_is_a_store_error(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(StoreError) as caught:
        S3Store(BUCKET).check()
    assert "not set up" in caught.value.message


@pytest.mark.parametrize("url, expected", [
    ("file:", FileStore), ("file:/srv/evidence", FileStore), ("file:///srv/evidence", FileStore),
    ("s3://bucket", S3Store), ("s3://bucket/some/prefix/", S3Store)])
def test_storage_url_names_the_store(aws, url, expected):
    store = open_store(url, folder="/var/uploads")
    assert isinstance(store, expected)
    if url == "file:":
        assert store.folder == Path("/var/uploads")  # type: ignore[attr-defined]
    if url.endswith("prefix/"):
        assert (store.bucket, store.prefix) == ("bucket", "some/prefix")  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", ["ftp://host/x", "s3://", "s3:///prefix", "file:relative",
                                 "file://host/x", "s3://KEY:SECRET@bucket/x", "/srv/evidence",
                                 "s3://bucket/x?region=eu"])
def test_an_invalid_storage_url_stops_the_app_at_start_naming_the_setting(tmp_path, url):
    with pytest.raises(ValueError, match="STORAGE_URL") as caught:
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "STORAGE_URL": url,
                    "SECRET_KEY": "x", "AUDIT_KEY": "x"})
    assert "SECRET" not in str(caught.value)


# --- memory stays flat ------------------------------------------------------------------------

BIG = 12 * 1024 * 1024  # past the upload limit (10 MB) and the upload spool (1 MB)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's S3 endpoint in its own process, so the bytes it keeps are not counted here."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("moto's server did not start")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(params=["file", "s3"])
def far_store(request: pytest.FixtureRequest, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> storage.Store:
    if request.param == "file":
        return FileStore(tmp_path / "uploads")
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", request.getfixturevalue("moto_server"))
    store = s3_store("memory-test")
    return store


def test_a_large_file_goes_in_and_out_with_memory_well_below_its_size(far_store, tmp_path):
    source = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with source.open("wb") as out:
        for _ in range(BIG // (1024 * 1024)):
            block = os.urandom(1024 * 1024)
            digest.update(block)
            out.write(block)
    far_store.put("warm.bin", io.BytesIO(b"warm up the client"))  # its first-use caches
    read(far_store, "warm.bin")
    tracemalloc.start()
    try:
        with source.open("rb") as handle:
            far_store.put("big.bin", handle)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        back = hashlib.sha256()
        size = 0
        for chunk in far_store.chunks("big.bin"):
            back.update(chunk)
            size += len(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (size, back.hexdigest()) == (BIG, digest.hexdigest())
    assert put_peak < BIG / 4, put_peak
    assert read_peak < BIG / 8, read_peak


def test_an_upload_is_checked_with_memory_well_below_its_size(tmp_path):
    from flask import Flask

    from portal.services import evidence

    app = Flask(__name__)
    app.config["MAX_UPLOAD_BYTES"] = BIG
    content = b"%PDF-1.4\n" + os.urandom(BIG - 9)
    source = io.BytesIO(content)
    with app.app_context():
        tracemalloc.start()
        try:
            upload = evidence.check_upload("big.pdf", source, attached=0, most=1, too_many="",
                                           field="file")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert (upload.size, upload.kind.content_type) == (BIG, "application/pdf")
    assert peak < BIG / 6, peak
    assert upload.spool.read() == content
    upload.spool.close()


SAMPLES = [
    b"a,b\n1,2\n", "\ufeffname,amount\nŵ,£5\n".encode(), b"a,b\n" * 40000 + b"\x00",
    "caf\u00e9,x\n".encode() * 30000 + b"\xff", "\u20ac,".encode() * 50000, b"\xef\xbb\xbf",
    b'"unclosed,field\n' * 3, "x\u00e9".encode()[:-1],
]


@pytest.mark.parametrize("content", SAMPLES, ids=range(len(SAMPLES)))
def test_the_csv_check_fed_in_chunks_decides_as_on_the_whole_file(content):
    """The old check read the whole file: no NUL, UTF-8 throughout, rows in the first 64 KiB.
    Fed a byte, seven bytes or 64 KiB at a time (splitting a BOM and multi-byte letters),
    the streaming check decides the same."""
    from portal.services.evidence import _CsvCheck, _looks_like_csv

    def whole(data: bytes) -> bool:  # the check as it was before streaming
        import csv

        if b"\x00" in data:
            return False
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return False
        try:
            return len(list(csv.reader(io.StringIO(text[:65536])))) > 0
        except csv.Error:
            return False

    expected = whole(content)
    assert _looks_like_csv(content) == expected
    for step in (1, 7, 65536):
        if step == 1 and len(content) > 100_000:
            continue  # a byte at a time is slow; seven bytes split the same letters
        check = _CsvCheck()
        for start in range(0, len(content), step):
            check.feed(content[start:start + step])
        check.feed(b"", final=True)
        assert check.looks_like_csv() == expected, step


def test_a_store_that_stops_answering_fails_a_call_well_inside_the_worker_timeout():
    """A breaker stopped the store's process: botocore's own timeouts (30 s read, three
    attempts) outlasted gunicorn's 30 s worker timeout, so the worker was killed mid-request (a
    500, and the user's typing lost) before any StoreError could be shown."""
    from portal.storage import ATTEMPTS, CHECK_SECONDS, CONNECT_SECONDS, READ_SECONDS, _s3_client

    assert ATTEMPTS * (CONNECT_SECONDS + READ_SECONDS) < 25  # gunicorn's default is 30 s
    config = _s3_client().meta.config
    assert (config.read_timeout, config.retries["total_max_attempts"]) == (READ_SECONDS, ATTEMPTS)
    check = _s3_client(read_seconds=CHECK_SECONDS, attempts=1).meta.config
    assert (check.read_timeout, check.retries["total_max_attempts"]) == (CHECK_SECONDS, 1)


def test_after_a_call_times_out_the_next_ones_fail_at_once_until_the_store_answers_again():
    """A frozen store held each download about 16 s, and whoever queued behind them waited
    too (a breaker's finding): after a timeout, this process's next calls fail at once for
    PAUSE_SECONDS; a health check that gets an answer ends the pause."""
    import io as _io

    from botocore.exceptions import ReadTimeoutError

    from portal.storage import S3Store, StoreError

    class Frozen:
        calls = 0
        answering = False

        def get_object(self, **_kwargs):
            Frozen.calls += 1
            raise ReadTimeoutError(endpoint_url="http://store")

        def upload_fileobj(self, *_args, **_kwargs):
            Frozen.calls += 1
            raise ReadTimeoutError(endpoint_url="http://store")

        def head_bucket(self, **_kwargs):
            if not Frozen.answering:
                raise ReadTimeoutError(endpoint_url="http://store")
            return {}

    store = S3Store("bucket", "evidence", client=Frozen())
    with pytest.raises(StoreError):
        store.chunks("a.pdf")
    assert Frozen.calls == 1
    with pytest.raises(StoreError):
        store.put("b.pdf", _io.BytesIO(b"x"))
    with pytest.raises(StoreError):
        store.chunks("a.pdf")
    assert Frozen.calls == 1  # not asked again: failed at once
    with pytest.raises(StoreError):
        store.check()  # still frozen: the pause stands
    Frozen.answering = True
    store.check()
    with pytest.raises(StoreError):
        store.chunks("a.pdf")
    assert Frozen.calls == 2  # asked again once it answered
