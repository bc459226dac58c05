"""Sign in and out, password reset and invitations."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_user, logout_user

from forms.auth import LanguageForm, NewPasswordForm, ResetRequestForm, SignInForm, SignOutForm
from portal.access import public, requires
from portal.auth import bp
from portal.models import User
from portal.navigation import home_endpoint
from portal.refusals import show_refusal
from portal.services import DomainError, accounts
from portal.services.policy import Action


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _start_session(user: User) -> None:
    # A fresh session on sign-in: nothing from before survives (session fixation).
    language = cookie_session.get("language")
    cookie_session.clear()
    if language:
        cookie_session["language"] = language
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
        accounts.record_sign_out(current_user)
        logout_user()
        cookie_session.clear()
        flash(_("You have signed out."), "success")
    return redirect(url_for("auth.sign_in"))


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
    if request.method == "GET":
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
