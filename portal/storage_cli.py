"""``flask store-orphans``: stored files with no row, and rows whose file is missing.

An object is an orphan when no row of ``evidence_files`` or ``return_evidence`` names it: a
delete that failed after its row's removal committed, or a rollback whose delete failed
(``portal.storage`` logs both). Objects younger than the grace period are spared: an upload
in flight is stored before its row commits. Rows whose object is missing are listed with the
bid or return they belong to, and removed with ``--remove-rows`` (each audited on its bid or
return, so the history says which file was lost) once a person has decided the file cannot be
restored from a backup."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import with_appcontext

from portal import storage
from portal.db import session, utcnow
from portal.inputs import whole_number
from portal.queries.storage import StoredFileRow, stored_file_rows


def _hours(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    hours = whole_number(value, digits=6)
    if hours is None:
        raise click.BadParameter("a whole number of hours in ASCII digits, e.g. 24")
    return hours


@click.command("store-orphans")
@click.option("--older-than-hours", default="24", show_default=True, callback=_hours,
              help="Only objects last modified at least this many hours ago count as orphans "
                   "(uploads in flight are stored before their row commits).")
@click.option("--remove", is_flag=True, help="Delete the orphaned objects.")
@click.option("--remove-rows", is_flag=True,
              help="Also remove the rows whose file is missing from the store (each audited, "
                   "with the file's name, on its bid or return). Without it they are listed.")
@with_appcontext
def store_orphans(older_than_hours: int, remove: bool, remove_rows: bool) -> None:
    """List stored files that no row names, and rows whose file is missing from the store."""
    store = storage.current_store()
    cutoff = utcnow() - timedelta(hours=older_than_hours)
    try:
        stored = dict(store.names())
    except storage.StoreError as exc:
        raise click.ClickException(exc.message) from exc
    rows = list(stored_file_rows())
    named = {row.stored_name for row in rows}
    orphans = sorted((name, when) for name, when in stored.items()
                     if name not in named and when <= cutoff)
    click.echo(f"{len(orphans)} stored file(s) with no row, last modified over "
               f"{older_than_hours} hour(s) ago, in {store.url}:")
    for name, when in orphans:
        click.echo(f"  {name}  {when:%Y-%m-%d %H:%M} UTC")
    if remove:
        _remove(store, [name for name, _ in orphans])
    missing = [row for row in rows if row.stored_name not in stored]
    click.echo(f"{len(missing)} row(s) whose file is missing from the store:")
    for row in missing:
        click.echo(f"  {row.owner}: {row.table} {row.row_id} “{row.original_name}” "
                   f"(stored as {row.stored_name})")
    if remove_rows and missing:
        _remove_rows(missing)


def _remove_rows(rows: list[StoredFileRow]) -> None:
    """Remove each row whose file is missing, in a transaction of its own (audited by
    ``evidence.forget_missing``, which asks the store again first)."""
    from portal.services import evidence

    removed = 0
    for row in rows:
        try:
            gone = evidence.forget_missing(row.table, row.row_id)
            session.commit()
        except storage.StoreError as exc:
            session.rollback()
            click.echo(f"  could not check {row.stored_name}: {exc.message}", err=True)
            continue
        removed += bool(gone)
    click.echo(f"Removed {removed} of {len(rows)} row(s) whose file is missing.")


def _remove(store: storage.Store, names: list[str]) -> None:
    removed = 0
    for name in names:
        try:
            store.delete(name)
        except storage.StoreError as exc:
            click.echo(f"  could not remove {name}: {exc.message}", err=True)
        else:
            removed += 1
    click.echo(f"Removed {removed} of {len(names)} stored file(s) with no row.")


def init_app(app: Flask) -> None:
    """Check ``STORAGE_URL`` (a ``ValueError`` at start for an invalid one) and add the
    command."""
    storage.init_app(app)
    app.cli.add_command(store_orphans)
