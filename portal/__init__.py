"""The OPCC grants bid portal."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from portal.inputs import LARGEST_ROW_ID, PortalRequest

ROOT = Path(__file__).resolve().parent.parent


class RowId(IntegerConverter):
    """``<int:…>`` in every route: 1 to 2,147,483,647, the range of an INTEGER key, written in
    ASCII digits (Werkzeug's default pattern also matches "١" and "１", which ``int`` reads as 1)
    and only as ``url_for`` writes it: no leading zeros, so ``/bids/0002`` is not a second
    address of ``/bids/2`` (a 404, as for any id that matches no route)."""

    regex = r"[1-9][0-9]*"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", LARGEST_ROW_ID)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    # PORTAL_INSTANCE_PATH moves the instance folder (database, secrets, outbox, uploads).
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or None)
    app.request_class = PortalRequest
    register_config(app, config or {})
    register_templates(app)
    register_extensions(app)
    register_blueprints(app)
    register_security(app)
    register_errors(app)
    register_cli(app)
    return app


def register_config(app: Flask, overrides: dict[str, Any]) -> None:
    from portal import config

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    app.config.update(overrides)
    if app.config["TRUSTED_PROXIES"]:
        count = app.config["TRUSTED_PROXIES"]
        # Flask documents replacing wsgi_app with middleware; mypy sees a method assigned.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def _escape_unless_plain_text(name: str | None) -> bool:
    return not (name or "").endswith(".txt")


def register_templates(app: Flask) -> None:
    from govuk_frontend_wtf.main import WTFormsHelpers

    from portal import bilingual, formatting, navigation, pagination, workflows

    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(ROOT / "templates")),
        PrefixLoader({
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }),
    ])
    # Pages are HTML-escaped; plain-text emails show what was typed (a title with "&" or
    # quotes arrives as typed, not as entities).
    app.jinja_options = {**app.jinja_options, "autoescape": _escape_unless_plain_text}
    WTFormsHelpers(app)
    formatting.init_app(app)
    bilingual.init_app(app)
    navigation.init_app(app)
    app.add_template_global(pagination.nav, "pagination_nav")
    app.add_template_global(workflows.state_tag)
    from portal.services import audit, policy

    app.add_template_filter(audit.action_label, "action_label")
    from portal import presenters

    presenters.init_app(app)  # audit events in words: the event_details filter
    # The access policy, for pages that show or hide what a person may do.
    app.add_template_global(policy.can)
    app.add_template_global(policy.reason, "access_refusal")


def register_extensions(app: Flask) -> None:
    from portal import db, extensions
    from portal.services import sending

    db.init_app(app)
    extensions.init_app(app)
    sending.init_app(app)  # each request's emails go once it has committed (issue 17)


def register_blueprints(app: Flask) -> None:
    from portal.admin import bp as admin_bp
    from portal.applicant import bp as applicant_bp
    from portal.auth import bp as auth_bp
    from portal.decisions import bp as decisions_bp
    from portal.finance import bp as finance_bp
    from portal.public import bp as public_bp
    from portal.reports import bp as reports_bp
    from portal.review import bp as review_bp

    # An id in a URL is a row's key: one beyond an INTEGER column (or 0) matches no route,
    # so it is a 404 and never reaches the database driver.
    app.url_map.converters["int"] = RowId
    for blueprint in (public_bp, auth_bp, applicant_bp, review_bp, decisions_bp, finance_bp,
                      admin_bp, reports_bp):
        app.register_blueprint(blueprint)


def register_security(app: Flask) -> None:
    from portal import security

    security.init_app(app)


def register_errors(app: Flask) -> None:
    from portal import errors

    errors.init_app(app)


def register_cli(app: Flask) -> None:
    from portal import cli

    cli.init_app(app)
