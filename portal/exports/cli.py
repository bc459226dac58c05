"""``flask export-360giving``: the 360Giving open data written to a file (or to stdout)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from portal.exports import giving360


@click.command("export-360giving")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write; '-' writes to standard output.")
@click.option("--format", "fmt", type=click.Choice(sorted(giving360.FORMATS)), default=None,
              help="json (a 360Giving package) or csv (360Giving's column titles). "
                   "Default: csv for a .csv file, json otherwise.")
@with_appcontext
def export_360giving(output: str, fmt: str | None) -> None:
    """Write every awarded grant as 360Giving open data."""
    fmt = fmt or ("csv" if output.lower().endswith(".csv") else "json")
    publisher = giving360.current_publisher(current_app.config)
    written: list[int] = [0]
    records = _counted(giving360.grants(giving360.awarded_grants(), publisher), written)
    pieces = giving360.document(fmt, records, publisher)
    if output == "-":
        sys.stdout.writelines(pieces)
        sys.stdout.flush()
    else:
        _write_atomically(Path(output), pieces)
    click.echo(f"Wrote {written[0]} grant(s) as 360Giving {fmt} to {output}.", err=True)


def _counted(records: Iterable[dict[str, Any]], written: list[int]) -> Iterator[dict[str, Any]]:
    for record in records:
        written[0] += 1
        yield record


def _write_atomically(path: Path, pieces: Iterable[str]) -> None:
    """Write beside ``path`` and rename over it only when complete, so a failed export never
    leaves half a file where the last good one was."""
    directory = path.absolute().parent
    if not directory.is_dir():
        raise click.ClickException(f"No such folder: {directory}")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.writelines(pieces)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def init_app(app: Flask) -> None:
    app.cli.add_command(export_360giving)
