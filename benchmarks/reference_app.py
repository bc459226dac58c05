"""The reference: a minimal Flask page that reads 25 rows with SQLAlchemy and renders them
with Jinja. Served like the portal (gunicorn, 2 workers) against the same database, it is
the yardstick: each page's throughput is reported as a share of this one's.

    DATABASE_URL=... gunicorn --workers 2 benchmarks.reference_app:app
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template, request
from sqlalchemy import create_engine, select

from portal.models import Bid

app = Flask(__name__, template_folder=str(Path(__file__).resolve().parent / "templates"))
_url = os.environ["DATABASE_URL"]
# The portal's pool settings, without its SQLite write-lock handling (this page only reads).
engine = (create_engine(_url, connect_args={"timeout": 30}) if _url.startswith("sqlite")
          else create_engine(_url, pool_pre_ping=True))
bids = Bid.__table__


@app.route("/reference")
def reference() -> str:
    organisation_id = request.args.get("organisation", default=1, type=int)
    statement = (select(bids.c.id, bids.c.reference, bids.c.title, bids.c.status,
                        bids.c.amount_requested_pence, bids.c.updated_at)
                 .where(bids.c.organisation_id == organisation_id)
                 .order_by(bids.c.updated_at.desc(), bids.c.id.desc()).limit(25))
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return render_template("reference.html", rows=rows)
