from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, enum_column, utcnow
from portal.models.organisations import Organisation


class Role(enum.StrEnum):
    OFFICER = "officer"  # a CSP's community safety officer: writes bids and returns
    ASSESSOR = "assessor"
    MANAGER = "manager"  # the grants manager
    FINANCE = "finance"
    ADMIN = "admin"



class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    language: Mapped[str] = mapped_column(String(10), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changes whenever the password does: signed reset links die with it.
    security_stamp: Mapped[str] = mapped_column(String(64))
    invited_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[Role]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    # Flask-Login's user protocol.
    @property
    def is_active(self) -> bool:
        return self.active and self.password_hash is not None

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The stamp makes a password change sign out every other session.
        return f"{self.id}:{self.security_stamp}"

    def __repr__(self) -> str:
        return f"<User {self.email!r}>"


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role", 20), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class SignInThrottle(Base):
    """Failed sign-ins per email address, kept in the database so every worker sees them.

    Keyed by the address typed, whether or not an account has it, so the
    response never reveals which addresses have accounts.
    """

    __tablename__ = "sign_in_throttles"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


class UsedFormToken(Base):
    """A one-shot form's token, kept once the action it carried has taken effect.

    The primary key makes the second post of the same form (a double click, a refreshed
    POST, a replay) fail to insert, so it is shown the first result instead of acting again.
    """

    __tablename__ = "used_form_tokens"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The path the form was posted to: the token answers only for that form.
    posted_to: Mapped[str] = mapped_column(String(500), default="")
    # Where the first post went: the page a second post of the same form is sent to.
    result_url: Mapped[str] = mapped_column(String(500), default="")
