"""Form definitions as data (issue 15): a round's application form and a fund's return form,
each a series of versions. A version's definition is JSON read by ``portal.questions``."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_column, utcnow

if TYPE_CHECKING:
    from portal.models.funds import Fund, Round
    from portal.models.users import User


class FormKind(enum.StrEnum):
    APPLICATION = "application"  # a round's bids
    RETURN = "return"  # a fund's monitoring returns


class FormVersion(Base):
    """One version of a form. Version 1 is made with its round (or on the first bid); while
    no bid (or return) uses a version, the grants team changes it in place; once one does
    (``in_use``), a change is a new version, a draft (``published_at`` None) until the grants
    manager publishes it. A bid keeps the version it was submitted against."""

    __tablename__ = "form_versions"
    __table_args__ = (
        CheckConstraint("(round_id IS NULL) <> (fund_id IS NULL)", name="one_owner"),
        CheckConstraint("number >= 1", name="number_positive"),
        UniqueConstraint("round_id", "number"),
        UniqueConstraint("fund_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FormKind] = mapped_column(enum_column(FormKind, "form_kind", 20))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"),
                                                 index=True)
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id", ondelete="CASCADE"),
                                                index=True)
    number: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Counts the edits: a change made from an older copy of the design is refused.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # Set when a bid or return first uses it: from then on it never changes.
    in_use: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    round: Mapped[Round | None] = relationship()
    fund: Mapped[Fund | None] = relationship()
    updated_by: Mapped[User | None] = relationship()
