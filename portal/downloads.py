"""What the portal sends as a file: stored uploads, and every CSV and workbook it writes.

One path for each, so that every download is an attachment with a safe file name (Werkzeug
quotes it, and gives a non-ASCII name as RFC 6266's ``filename*``), and every private one is
``Cache-Control: no-store`` (a shared cache must not keep personal data; ``send_file``'s own
``no-cache`` lets it). Every CSV's text is written through ``exports.tables.csv_value`` /
``spreadsheet_text``, which keeps a formula-like cell as text (OWASP's CSV injection).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from flask import Response, abort, send_file, stream_with_context

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


def attachment(items: Iterable[Any], item_id: int, path_of: Callable[[Any], Path]) -> Response:
    """The file ``item_id`` among ``items`` (already limited to what the user may see)."""
    item = next((i for i in items if i.id == item_id), None)
    if item is None:
        abort(404)
    path = path_of(item)
    if not path.is_file():
        abort(404)
    return _as_file(send_file(path, mimetype=item.content_type, as_attachment=True,
                              download_name=item.original_name, max_age=0),
                    item.original_name, private=True)
