"""What the portal sends as a file: stored uploads, and every CSV and workbook it writes.

One path for each, so that every download is an attachment with a safe file name (Werkzeug
quotes it, and gives a non-ASCII name as RFC 6266's ``filename*``), and every private one is
``Cache-Control: no-store`` (a shared cache must not keep personal data; ``send_file``'s own
``no-cache`` lets it). Every CSV's text is written through ``exports.tables.csv_value`` /
``spreadsheet_text``, which keeps a formula-like cell as text (OWASP's CSV injection).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any
from urllib.parse import quote

from flask import Response, abort, render_template, send_file, stream_with_context

from portal.storage import MissingFile, StoreError, current_store

log = logging.getLogger(__name__)

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _disposition(filename: str) -> dict[str, str]:
    """``Content-Disposition`` parameters for ``filename`` as Werkzeug's ``send_file`` writes
    them: an ASCII name, or for any other (a Welsh "tystiolaeth ŵ.pdf") an ASCII fallback and
    RFC 6266's ``filename*`` in UTF-8. A raw ŵ in a header cannot be sent at all (the server
    failed with a 500: a breaker's Welsh evidence)."""
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
        return {"filename": simple, "filename*": "UTF-8''" + quote(filename, safe="!#$&+^`|~")}
    return {"filename": filename}


def _as_file(response: Response, filename: str, *, private: bool) -> Response:
    if "Content-Disposition" not in response.headers:  # send_file's is already right
        response.headers.set("Content-Disposition", "attachment", **_disposition(filename))
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response


def csv_file(chunks: Iterator[str], filename: str, *, private: bool = True) -> Response:
    """A streamed CSV download of ``chunks`` (from ``exports.tables.csv_chunks`` or another
    writer that passes its text through ``spreadsheet_text``) named ``filename``."""
    return _as_file(Response(stream_with_context(chunks), content_type=CSV), filename,
                    private=private)


def workbook_file(handle: IO[bytes], filename: str) -> Response:
    """An Excel workbook already written to ``handle`` (closed once sent), always private."""
    response = send_file(handle, mimetype=XLSX, as_attachment=True, max_age=0,
                         download_name=filename)
    return _as_file(response, filename, private=True)


def attachment(items: Iterable[Any], item_id: int, name_of: Callable[[Any], str]) -> Response:
    """The file ``item_id`` among ``items`` (already limited to what the user may see), streamed
    from the store (``portal.storage``) under ``name_of(item)``, with the item's content type
    and ``size_bytes`` as its length. A file missing from the store is a 404 page that says so
    (tell the grants team); a store that does not answer, a 503 page."""
    item = next((i for i in items if i.id == item_id), None)
    if item is None:
        abort(404)
    try:
        chunks = current_store().chunks(name_of(item))
    except MissingFile:
        log.error("Stored file %s (%s) is missing from the store", name_of(item),
                  item.original_name)
        return Response(render_template("errors/file_missing.html"), status=404)
    except StoreError:
        return Response(render_template("errors/store_unavailable.html"), status=503)
    response = Response(chunks, mimetype=item.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(item.size_bytes)
    return _as_file(response, item.original_name, private=True)
