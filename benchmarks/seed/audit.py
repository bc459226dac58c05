"""The audit trail of the seeded bids, chained as the portal chains it: an HMAC-SHA256 over
each event and the previous event's hash, keyed with the benchmark's AUDIT_KEY, so
``portal.services.audit.verify`` passes on the seeded database.

The canonical text is built here from pieces (the before and after JSON made once and
also stored as the columns' text), which is several times faster than the portal's
per-event ``json.dumps``; the first event of each kind and every 5,000th are checked
against the portal's own digest, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from types import SimpleNamespace

from benchmarks.seed.people import Person
from benchmarks.seed.rows import RawJSON, Rows
from portal.services.audit import _digest

AUDIT_KEY = "bench-audit-key"


# What json.dumps(value, sort_keys=True, separators=(",", ":"), default=str) makes, without
# building an encoder for every call.
_ENCODE = c_make_encoder(None, str, encode_basestring_ascii, None, ":", ",", True, False, True)
_TEXT: dict[str, str] = {}


def _compact(value: dict | None) -> str:
    """Flat dicts of text, whole numbers and nulls (most events) by hand; the rest by the
    encoder. Keys are plain identifiers, so they need no escaping."""
    if value is None:
        return "null"
    parts = []
    for key in sorted(value):
        item = value[key]
        kind = item.__class__
        if kind is str:
            parts.append(f'"{key}":{encode_basestring_ascii(item)}')
        elif kind is int:
            parts.append(f'"{key}":{item}')
        elif item is None:
            parts.append(f'"{key}":null')
        else:
            return "".join(_ENCODE(value, 0))
    return "{" + ",".join(parts) + "}"


def _text(value: str) -> str:
    """A JSON string, remembered: actions, labels and record types repeat."""
    found = _TEXT.get(value)
    if found is None:
        found = _TEXT[value] = encode_basestring_ascii(value)
    return found


class AuditLog:
    def __init__(self, key: str = AUDIT_KEY) -> None:
        self.key = key.encode()
        self.text_key = key
        self.pending: list[tuple] = []
        self.previous: str | None = None
        self.written = 0
        self.checked: set[str] = set()

    def record(self, at: datetime, actor: Person | None, action: str, record_type: str,
               record_id: int, *, before: dict | None = None, after: dict | None = None) -> None:
        # The position keeps events of the same moment in the order they were recorded.
        self.pending.append((at, len(self.pending), actor, action, record_type, record_id,
                             before, after))

    def _canonical(self, at: datetime, actor: Person | None, action: str, record_type: str,
                   record_id: str, before: str, after: str) -> bytes:
        """``json.dumps(payload, sort_keys=True, separators=(",", ":"))`` of the portal's
        payload, assembled in its sorted key order."""
        moment = at.astimezone(UTC).replace(tzinfo=None).isoformat(
            timespec="microseconds")
        previous = f'"{self.previous}"' if self.previous else "null"
        return (f'{{"action":{_text(action)},'
                f'"actor_id":{actor.id if actor else "null"},'
                f'"actor_label":{_text(actor.label if actor else "system")},'
                f'"after":{after},"before":{before},"ip_address":null,'
                f'"occurred_at":"{moment}","prev_hash":{previous},'
                f'"record_id":"{record_id}","record_type":{_text(record_type)}}}'
                ).encode()

    def flush(self, rows: Rows) -> None:
        """Give the pending events ids in time order and chain them."""
        self.pending.sort(key=lambda item: (item[0], item[1]))
        for at, _position, actor, action, record_type, record_id, before, after in self.pending:
            before_text, after_text = _compact(before), _compact(after)
            canonical = self._canonical(at, actor, action, record_type, str(record_id),
                                        before_text, after_text)
            digest = hmac.digest(self.key, canonical, hashlib.sha256).hex()
            if action not in self.checked or self.written % 5000 == 0:
                self.checked.add(action)  # the portal's own digest agrees, now and then
                self._check(at, actor, action, record_type, record_id, before, after, digest)
            rows.add("audit_events", id=rows.next_id("audit_events"), occurred_at=at,
                     actor_id=actor.id if actor else None,
                     actor_label=actor.label if actor else "system", action=action,
                     record_type=record_type, record_id=str(record_id),
                     before=None if before is None else RawJSON(before_text),
                     after=None if after is None else RawJSON(after_text), ip_address=None,
                     prev_hash=self.previous, hash=digest)
            self.previous = digest
            self.written += 1
        self.pending = []

    def _check(self, at: datetime, actor: Person | None, action: str, record_type: str,
               record_id: int, before: dict | None, after: dict | None, digest: str) -> None:
        event = SimpleNamespace(
            occurred_at=at, actor_id=actor.id if actor else None,
            actor_label=actor.label if actor else "system", action=action,
            record_type=record_type, record_id=str(record_id), before=before, after=after,
            ip_address=None, prev_hash=self.previous)
        if _digest(event, self.text_key) != digest:
            raise AssertionError("the seeded audit chain no longer matches the portal's hashing")
