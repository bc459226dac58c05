"""Reads for the partnership's pages: a round they may bid in."""

from __future__ import annotations

from portal.db import session
from portal.models import Round
from portal.services import rounds


def round_open_to(round_id: int, organisation_type: str) -> Round | None:
    """The round with this id if organisations of ``organisation_type`` (an
    ``OrganisationType`` value) may bid in it, whatever its dates (the page says whether it is
    open); None if there is no such round or it is not for them."""
    round_ = session.get(Round, round_id)
    return round_ if round_ is not None and rounds.open_to(round_, organisation_type) else None
