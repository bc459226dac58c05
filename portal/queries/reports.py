"""Reads for the reports' exports that outlive their request: a streamed body is read after
the request's teardown, so it has to say for itself that it only reads. The figures themselves
are read by ``portal.services.reporting``."""

from __future__ import annotations

from collections.abc import Iterator

from portal.db import write_intent


def as_read(chunks: Iterator[str]) -> Iterator[str]:
    """Stream ``chunks`` (e.g. CSV text) as a read: the body is sent after the request's
    teardown has reset the write intent, and on SQLite a unit of work that may write takes the
    write lock (BEGIN IMMEDIATE), which would hold up every writer for as long as the download
    lasts."""
    token = write_intent.set(False)
    try:
        yield from chunks
    finally:
        try:
            write_intent.reset(token)
        except ValueError:  # finished from another context: nothing of ours to undo there
            pass
