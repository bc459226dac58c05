"""Sign in and out, password reset and invitations."""

from __future__ import annotations

from urllib.parse import urlsplit

from babel import Locale
from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from forms.auth import LanguageForm, NewPasswordForm, ResetRequestForm, SignInForm, SignOutForm
from portal import security
from portal.access import public, requires
from portal.auth import bp
from portal.models import User
from portal.navigation import home_endpoint
from portal.refusals import show_refusal
from portal.security import answers_get, showing_saved
from portal.services import DomainError, accounts
from portal.services import sessions as sign_ins
from portal.services.policy import Action


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if not answers_get(parts.path):  # a POST-only route would end on a 405
        return None
    return target


def _start_session(user: User) -> None:
    """A fresh session on sign-in: nothing from before survives (session fixation) but a
    form kept for this same user when their last session ended (one kept for anyone else is
    deleted unseen). The session carries the id of its sign-in, which the server keeps until
    sign-out (``portal.services.sessions``), and the account's language, so the pages after
    the session ends (signed out, or timed out while idle) stay in it."""
    kept = cookie_session.get("kept_form")
    cookie_session.clear()
    cookie_session["language"] = "cy" if user.language == "cy" else "en"
    if isinstance(kept, str):
        if sign_ins.kept_form(kept, user) is not None:
            cookie_session["kept_form"] = kept
        else:
            sign_ins.forget_form(kept)
    cookie_session["sign_in"] = sign_ins.begin(user)
    cookie_session.permanent = True  # expires after the idle lifetime
    login_user(user)


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except accounts.SignInRefused as refused:
            form.email.errors.append(refused.message)
            status = 200
        else:
            _start_session(user)
            target = _safe_next(request.args.get("next"))
            return redirect(target or url_for(home_endpoint(user)))
    return render_template("auth/sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
@requires(Action.SIGNED_IN)
def sign_out():
    form = SignOutForm()
    if form.validate_on_submit():
        # Ended on the server: a copy of the cookie taken before now opens nothing.
        accounts.record_sign_out(current_user, cookie_session.get("sign_in"))
        # The pages after signing out stay in the language of the pages before it.
        language = "cy" if str(get_locale()) == "cy" else "en"
        logout_user()
        cookie_session.clear()
        cookie_session["language"] = language
        flash(_("You have signed out."), "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/session", methods=["GET"])
@public
def session_status():
    """How long this browser's session has left, for the idle warning's script, without
    renewing it. JSON: ``{"signed_in": bool, "seconds_left": int, "units": {"minute":
    {category: "{n} minutes"}, "second": {...}}}``: the words for a number of minutes or
    seconds in the page's language, by CLDR plural category (as ``Intl.PluralRules``)."""
    security.do_not_renew_session()
    signed_in = bool(current_user.is_authenticated)
    response = jsonify(signed_in=signed_in, seconds_left=security.seconds_left(),
                       units=_time_units() if signed_in else {})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/session/keep-alive", methods=["POST"])
@requires(Action.SIGNED_IN)
def keep_alive():
    """"Stay signed in": the session's idle lifetime starts again. JSON as ``session_status``
    with ``csrf_token`` instead of ``units`` (the CSRF token is checked for every POST)."""
    security.renew_session()
    # A fresh CSRF token (the session's secret, signed now) for the page's forms: one kept
    # open for longer than WTF_CSRF_TIME_LIMIT still saves.
    response = jsonify(signed_in=True, seconds_left=security.seconds_left(),
                       csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


def _time_units() -> dict[str, dict[str, str]]:
    samples = _plural_samples(str(get_locale()))
    return {
        "minute": {tag: ngettext("{n} minute", "{n} minutes", n)
                   for tag, n in samples.items()},
        "second": {tag: ngettext("{n} second", "{n} seconds", n)
                   for tag, n in samples.items()},
    }


def _plural_samples(locale: str) -> dict[str, int]:
    """A whole number of each CLDR plural category of ``locale`` ({"one": 1, "other": 0}…)."""
    rule = Locale.parse(locale).plural_form
    samples: dict[str, int] = {}
    for n in range(200):
        samples.setdefault(rule(n), n)
    return samples


@bp.route("/reset-password", methods=["GET", "POST"])
@public
def request_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        return render_template("auth/reset_sent.html", email=form.email.data)
    return render_template("auth/reset_request.html", form=form)


def _password_page(token: str, purpose: str, max_age_key: str, template: str,
                   action: str) -> ResponseReturnValue:
    try:
        user = accounts.user_for_token(token, purpose, current_app.config[max_age_key])
    except DomainError as refused:
        return render_template("auth/link_invalid.html", message=refused.message,
                               purpose=purpose), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.set_password(user, form.password.data, actor=user, action=action)
        except DomainError as refused:
            show_refusal(form, refused, default="password")
        else:
            flash(_("Your password has been saved. Sign in with your new password."), "success")
            return redirect(url_for("auth.sign_in"))
    return render_template(template, form=form, user=user)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    return _password_page(token, "reset", "PASSWORD_RESET_MAX_AGE", "auth/reset_password.html",
                          "user.password_reset")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    return _password_page(token, "invite", "INVITATION_MAX_AGE", "auth/accept_invitation.html",
                          "user.invitation_accepted")


@bp.route("/account/language", methods=["GET", "POST"])
@public
def language():
    form = LanguageForm()
    if showing_saved():
        form.language.data = (current_user.language if current_user.is_authenticated
                              else cookie_session.get("language", "en"))
    if form.validate_on_submit():
        if current_user.is_authenticated:
            accounts.set_language(current_user, form.language.data)
        cookie_session["language"] = form.language.data
        refresh()  # the confirmation in the language just chosen
        flash(_("Your language has been saved."), "success")
        return redirect(url_for("auth.language"))
    return render_template("auth/language.html", form=form)
