"""Administrators: users, their roles and organisations, and the emails not sent."""

from __future__ import annotations

from collections.abc import Iterable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from forms.admin import (
    ROLE_CHOICES,
    UNKNOWN_LANGUAGE,
    EditUserForm,
    InviteUserForm,
    OrganisationForm,
    UserSearchForm,
)
from portal import bilingual
from portal.access import requires
from portal.admin import bp
from portal.models import Role
from portal.pagination import page_number
from portal.queries import admin as queries
from portal.queries import emails as outbox
from portal.refusals import show_refusal
from portal.security import showing_saved
from portal.services import DomainError, accounts, audit
from portal.services import organisations as organisation_changes
from portal.services.policy import Action


@bp.route("/")
@requires(Action.ADMINISTER)
def home():
    form = UserSearchForm(request.args)
    query = (form.q.data or "").strip() if form.validate() else ""
    page = queries.users(query, page_number())
    return render_template("admin/home.html", form=form, page=page, query=query,
                           pagination=page.govuk_params("admin.home", q=query or None),
                           role_names=_role_names)


def _role_names(roles: Iterable[Role]) -> str:
    """A user's roles in words, in the reader's language ("Assessor, Grants manager")."""
    names = dict(ROLE_CHOICES)
    return ", ".join(sorted(str(names.get(str(role), role)) for role in roles))


@bp.route("/users/invite", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def invite():
    form = InviteUserForm()
    form.organisation.choices = queries.organisation_options()
    if form.validate_on_submit():
        organisation = queries.organisation(form.organisation.data)
        if organisation is None:
            abort(400)
        try:
            language = None if form.language.data == UNKNOWN_LANGUAGE else form.language.data
            user = accounts.invite_user(form.name.data, form.email.data, organisation,
                                        {Role(r) for r in form.roles.data}, actor=current_user,
                                        language=language)
        except DomainError as refused:
            show_refusal(form, refused, default="email")
        else:
            flash(_("Invitation sent to %(email)s", email=user.email), "success")
            return redirect(url_for("admin.home"))
    return render_template("admin/invite.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def edit_user(user_id: int):
    user = queries.user(user_id) or abort(404)
    form = EditUserForm()
    form.organisation.choices = queries.organisation_options()
    if showing_saved():
        form.organisation.data = user.organisation_id
        form.roles.data = sorted(role.value for role in user.roles)
        form.active.data = user.active
    if form.validate_on_submit():
        organisation = queries.organisation(form.organisation.data)
        if organisation is None:
            abort(400)
        try:
            accounts.update_user(user, roles={Role(r) for r in form.roles.data},
                                 organisation=organisation, active=form.active.data,
                                 actor=current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="roles")
        else:
            flash(_("Changes to %(name)s saved", name=user.name), "success")
            return redirect(url_for("admin.home"))
    return render_template("admin/edit_user.html", form=form, user=user,
                           history=audit.history("user", user.id))


@bp.route("/emails")
@requires(Action.ADMINISTER)
def emails():
    """The emails the mail server has not taken yet (failed at least once) or refused."""
    page = outbox.undelivered(page_number())
    return render_template("admin/emails.html", page=page,
                           pagination=page.govuk_params("admin.emails"))


@bp.route("/organisations")
@requires(Action.ADMINISTER)
def organisations():
    return render_template("admin/organisations.html", organisations=queries.organisations())


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def edit_organisation(organisation_id: int):
    organisation = queries.organisation(organisation_id) or abort(404)
    form = OrganisationForm()
    if showing_saved():
        form.name_cy.data = organisation.name_cy
        form.language.data = organisation.language
    if form.validate_on_submit():
        try:
            organisation_changes.update(organisation, name_cy=form.name_cy.data or "",
                                        language=form.language.data or "",
                                        actor=current_user)
        except DomainError as refused:
            show_refusal(form, refused, default="name_cy")
        else:
            flash(_("Changes to %(name)s saved", name=bilingual.text(organisation, "name")),
                  "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/edit_organisation.html", form=form, organisation=organisation,
                           history=audit.history("organisation", organisation.id))
