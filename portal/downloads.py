"""Sending stored files to those allowed to see them: always as attachments."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Response, abort, send_file


def attachment(items: Iterable[Any], item_id: int, path_of: Callable[[Any], Path]) -> Response:
    """The file ``item_id`` among ``items`` (already limited to what the user may see)."""
    item = next((i for i in items if i.id == item_id), None)
    if item is None:
        abort(404)
    path = path_of(item)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=item.content_type, as_attachment=True,
                     download_name=item.original_name, max_age=0)
