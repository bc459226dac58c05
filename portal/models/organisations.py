from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow
from portal.models.funds import WELSH_GIVEN


class OrganisationType(enum.StrEnum):
    OPCC = "opcc"
    CSP = "csp"


class Organisation(Base):
    """The OPCC itself or a partner that bids (a Community Safety Partnership).

    A CSP is not a legal body: money goes to its host ("accountable") council,
    whose org-id.guide identifier (e.g. GB-LAE-FEN) names it in open data.
    """

    __tablename__ = "organisations"
    __table_args__ = (
        # No two share a Welsh name (the service checks; this holds for two admins at once).
        Index("uq_organisations_name_cy", "name_cy", unique=True,
              postgresql_where=text(WELSH_GIVEN), sqlite_where=text(WELSH_GIVEN)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # Welsh name (issue 16), empty when not given; and the language the organisation works in,
    # "en" or "cy": its offer letters are written in it.
    name_cy: Mapped[str] = mapped_column(String(200), default="", server_default="")
    language: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    type: Mapped[OrganisationType] = mapped_column(
        enum_column(OrganisationType, "organisation_type", 20)
    )
    host_council: Mapped[str | None] = mapped_column(String(200))
    org_identifier: Mapped[str | None] = mapped_column(String(60), unique=True)
    # ONS code of the area (E22 for a CSP, E23 for a police force area), for open data.
    area_code: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Organisation {self.name!r}>"
