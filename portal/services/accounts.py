"""Accounts: passwords, sign-in with lock-out, invitations, roles, reset links."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from zxcvbn import zxcvbn

from portal.bilingual import LANGUAGES
from portal.db import session, utcnow
from portal.inputs import email_address_problem
from portal.models import Organisation, Role, SignInThrottle, User, UserRole
from portal.services import DomainError, audit, email, limits
from portal.services import sessions as sign_ins
from portal.services.workflow import atomic

MIN_PASSWORD_LENGTH = 12
_STRONG = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)  # Argon2id, salted
_CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)  # for the test suite only


def _hasher() -> PasswordHasher:
    return _CHEAP if current_app.config.get("PASSWORD_HASH_CHEAP") else _STRONG


class SignInRefused(DomainError):
    pass


def normalise_email(address: str) -> str:
    """An address as stored and looked up: spaces either side taken off, ASCII letters in
    lower case. Anything but ASCII is left as it is (and so matches no account, every stored
    address being ASCII: ``create_user``): ``str.lower`` would fold the Kelvin sign "K" into
    "k" and find another person's account by a look-alike."""
    address = address.strip()
    return address.lower() if address.isascii() else address


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    # With no hash (no such account) verify a dummy one, so both paths take as long.
    try:
        matched = _hasher().verify(password_hash or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def _dummy_hash() -> str:
    key = "PASSWORD_DUMMY_HASH"
    if key not in current_app.extensions:
        current_app.extensions[key] = hash_password(secrets.token_hex(16))
    return current_app.extensions[key]


def password_problem(password: str, *, user_inputs: list[str] | None = None) -> str | None:
    """The reason a password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Password must be %(n)d characters or more", n=MIN_PASSWORD_LENGTH)
    if len(password) > 256:
        return _("Password must be 256 characters or fewer")
    if zxcvbn(password[:100], user_inputs=user_inputs or [])["score"] < 3:
        return _("Password is too common or easy to guess: try three or four unrelated words")
    return None


def get_user_by_email(address: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(address)))


# --- sign-in and lock-out -------------------------------------------------------------------


def _throttle_upsert_failure(email_address: str, now: datetime) -> SignInThrottle:
    """Count a failure atomically: concurrent workers never lose an increment."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SignInThrottle).values(email=email_address, failures=1,
                                              last_failure_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[SignInThrottle.email],
        set_={"failures": SignInThrottle.failures + 1, "last_failure_at": now},
    )
    session.execute(statement)
    throttle = session.get(SignInThrottle, email_address, populate_existing=True)
    assert throttle is not None
    return throttle


def authenticate(email_address: str, password: str) -> User:
    """Return the user for these credentials or raise SignInRefused.

    The message never says whether an account exists: unknown addresses are
    counted and locked exactly as known ones are.
    """
    config = current_app.config
    address = normalise_email(email_address)
    now = utcnow()
    throttle = session.get(SignInThrottle, address)
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        raise SignInRefused(locked_message())
    user = get_user_by_email(address)
    if user is not None and user.active and _verify(user.password_hash, password):
        if throttle is not None:
            session.delete(throttle)
        user.last_sign_in_at = now
        audit.record("user.signed_in", "user", user.id, actor=user)
        return user
    if user is None or not user.active:
        _verify(None, password)
    throttle = _throttle_upsert_failure(address, now)
    if throttle.failures >= config["SIGN_IN_MAX_FAILURES"]:
        throttle.locked_until = now + timedelta(minutes=config["SIGN_IN_LOCK_MINUTES"])
        throttle.failures = 0
    audit.record("user.sign_in_failed", "user", user.id if user else None, actor=None,
                 after={"email": address, "locked": throttle.locked_until is not None
                        and throttle.locked_until > now})
    session.flush()
    if throttle.locked_until is not None and throttle.locked_until > now:
        raise SignInRefused(locked_message())
    raise SignInRefused(_("Enter a correct email address and password"))


def locked_message() -> str:
    minutes = current_app.config["SIGN_IN_LOCK_MINUTES"]
    return _("There have been too many attempts to sign in. Wait %(minutes)d minutes and try "
             "again, or reset your password.", minutes=minutes)


@atomic
def record_sign_out(user: User, sign_in_id: str | None) -> None:
    """Ends the sign-in ``sign_in_id`` on the server (every copy of its cookie) and audits."""
    sign_ins.end(sign_in_id, sign_ins.SIGNED_OUT)
    audit.record("user.signed_out", "user", user.id, actor=user)


# --- signed single-use links ----------------------------------------------------------------


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"portal-{purpose}")


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"user": user.id, "stamp": user.security_stamp})


def user_for_token(token: str, purpose: str, max_age: int) -> User:
    """The user a link was made for; refused once used (the stamp changes) or expired."""
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise DomainError(_("This link has expired.")) from exc
    except BadSignature as exc:
        raise DomainError(_("This link is not valid.")) from exc
    user = session.get(User, data.get("user"))
    if user is None or user.security_stamp != data.get("stamp"):
        raise DomainError(_("This link has already been used."))
    return user


@atomic
def set_password(user: User, password: str, *, actor: User | None, action: str) -> None:
    problem = password_problem(password, user_inputs=[user.email, user.name])
    if problem:
        raise DomainError(problem, field="password")
    user.password_hash = hash_password(password)
    user.security_stamp = secrets.token_hex(16)
    sign_ins.end_all(user, sign_ins.PASSWORD_CHANGED)  # signed out on every device
    session.execute(delete(SignInThrottle).where(SignInThrottle.email == user.email))
    audit.record(action, "user", user.id, actor=actor)


@atomic
def request_password_reset(address: str) -> None:
    """Email a reset link if an active account has this address; silent otherwise, and
    silent past the limits on emails to one address and posts from one client
    (``limits.take``): the first post over a limit is audited, and no email is sent."""
    refused = limits.take(limits.PASSWORD_RESET, normalise_email(address))
    if refused is not None:
        if refused.first:  # the account's id, never an address typed for no account
            limited = get_user_by_email(address)
            audit.record("user.password_reset_limited", "user",
                         limited.id if limited is not None else None, actor=None,
                         after={"limit": refused.by})
        return
    user = get_user_by_email(address)
    if user is None or not user.active or user.password_hash is None:
        return
    token = make_token(user, "reset")  # the email's template makes the link
    audit.record("user.password_reset_requested", "user", user.id, actor=None)
    email.send_to(user, _l("Reset your password"), "password_reset", token=token,
                  minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60)


# --- users, invitations and roles -----------------------------------------------------------


def _check_roles_fit(roles: set[Role], organisation: Organisation) -> None:
    if not roles:
        raise DomainError(_("Select at least one role"), field="roles")
    is_csp = organisation.type == "csp"
    if is_csp and roles != {Role.OFFICER}:
        raise DomainError(_("Users of a partnership can only be officers"), field="roles")
    if not is_csp and Role.OFFICER in roles:
        raise DomainError(_("Officers must belong to a partnership"), field="organisation")


@atomic
def create_user(name: str, address: str, organisation: Organisation, roles: set[Role], *,
                actor: User | None, password: str | None = None, language: str = "en") -> User:
    address = normalise_email(address)
    if language not in LANGUAGES:
        raise DomainError(_("Select the language of their emails"), field="language")
    problem = email_address_problem(address)  # look-alike or undeliverable: ASCII only
    if problem:
        raise DomainError(problem, field="email")
    if get_user_by_email(address) is not None:
        raise DomainError(_("A user with this email address already exists"), field="email")
    _check_roles_fit(roles, organisation)
    user = User(name=name.strip(), email=address, organisation=organisation, active=True,
                security_stamp=secrets.token_hex(16), language=language)
    user.role_rows = [UserRole(role=role) for role in sorted(roles)]
    session.add(user)
    session.flush()
    if password is not None:
        problem = password_problem(password, user_inputs=[address, name])
        if problem:
            raise DomainError(problem, field="password")
        user.password_hash = hash_password(password)
    audit.record("user.created", "user", user.id, actor=actor, after=_snapshot(user))
    return user


@atomic
def invite_user(name: str, address: str, organisation: Organisation, roles: set[Role], *,
                actor: User, language: str | None = None) -> User:
    """Create the account and email its invitation; refused beside the email field past the
    limits on invitations to one address and from one client (``limits.take``).

    ``language`` ("en" or "cy") is the one the inviter chose for the invitee's emails: the
    invitation is written in it and kept on the account. ``None`` (not known) writes the
    invitation in Welsh and English (``email.BILINGUAL``); the account keeps English until
    its user chooses."""
    if language is not None and language not in LANGUAGES:
        raise DomainError(_("Select the language of their emails"), field="language")
    refused = limits.take(limits.INVITATION, normalise_email(address))
    if refused is not None:
        minutes = refused.minutes_left
        message = (ngettext("Too many invitations have been sent to this address. Try again "
                            "in %(num)d minute.", "Too many invitations have been sent to this "
                            "address. Try again in %(num)d minutes.", minutes)
                   if refused.by == "address" else
                   ngettext("You have sent too many invitations for now. Try again in %(num)d "
                            "minute.", "You have sent too many invitations for now. Try again "
                            "in %(num)d minutes.", minutes))
        raise DomainError(message, field="email")
    user = create_user(name, address, organisation, roles, actor=actor, language=language or "en")
    user.invited_at = utcnow()
    token = make_token(user, "invite")  # the email's template makes the link
    audit.record("user.invited", "user", user.id, actor=actor, after={"email": user.email})
    email.send(user.email, _l("You have been invited to the grants portal"), "invitation",
               locale=email.locale_of(language), user=user, token=token, inviter=actor,
               days=current_app.config["INVITATION_MAX_AGE"] // 86400)
    return user


def _snapshot(user: User) -> dict:
    return {
        "name": user.name,
        "email": user.email,
        "organisation": user.organisation.name,
        "roles": sorted(role.value for role in user.roles),
        "active": user.active,
        "language": user.language,
    }


@atomic
def update_user(user: User, *, roles: set[Role], organisation: Organisation, active: bool,
                actor: User) -> None:
    if user.id == actor.id and not active:
        raise DomainError(_("You cannot deactivate your own account"), field="active")
    if user.id == actor.id and Role.ADMIN not in roles:
        raise DomainError(_("You cannot remove your own administrator access"), field="roles")
    _check_roles_fit(roles, organisation)
    before = _snapshot(user)
    user.role_rows = [row for row in user.role_rows if row.role in roles]
    have = user.roles
    user.role_rows.extend(UserRole(role=role) for role in sorted(roles - have))
    user.organisation = organisation
    if not active and user.active:
        user.security_stamp = secrets.token_hex(16)  # signs the user out everywhere
        sign_ins.end_all(user, sign_ins.DEACTIVATED)
    user.active = active
    session.flush()
    after = _snapshot(user)
    if after != before:
        action = "user.roles_changed" if before["roles"] != after["roles"] else "user.updated"
        audit.record(action, "user", user.id, actor=actor, before=before, after=after)


@atomic
def set_language(user: User, language: str) -> None:
    if language not in LANGUAGES:
        raise DomainError(_("Select a language"), field="language")
    if user.language != language:
        before = user.language
        user.language = language
        audit.record("user.language_changed", "user", user.id, actor=user,
                     before={"language": before}, after={"language": language})
